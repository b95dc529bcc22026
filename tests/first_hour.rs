//! A newcomer's first hour (issue 10, part 2): what the binaries print when something is wrong,
//! and what they do not print when nothing is. Each test runs the real binaries.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use actormq::protocol::headers::pull::PullMessageRequestHeader;
use actormq::protocol::RemotingCommand;
use common::rmq::{create_topic, next_opaque, pull_header, send};
use common::{
    connect, read_frame_bytes, run_to_exit, start, start_broker, stderr_so_far, terminate, BROKER,
    NAMESRV,
};

const LIMIT: Duration = Duration::from_secs(20);

fn sets(pairs: &[String]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|p| ["--set".to_string(), p.clone()])
        .collect()
}

fn standalone_args(dir: &std::path::Path, port: u16) -> Vec<String> {
    sets(&[
        "standalone=true".into(),
        "listenAddr=127.0.0.1".into(),
        format!("listenPort={port}"),
        "namesrvListenPort=0".into(),
        "mappedFileSizeCommitLog=8388608".into(),
        format!("storePathRootDir={}", dir.display()),
    ])
}

fn run_broker(args: &[String]) -> (Option<i32>, String, String) {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run_to_exit(BROKER, &refs, LIMIT)
}

#[test]
fn a_taken_port_is_named_and_nothing_claims_to_be_ready() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run_broker(&standalone_args(dir.path(), port));
    assert_eq!(code, Some(1), "stderr: {err}");
    assert!(out.is_empty(), "no ready line may be printed: {out}");
    assert!(
        err.contains(&format!("cannot bind 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // The name server alone says which address it could not bind.
    let (code, out, err) = run_to_exit(
        NAMESRV,
        &[
            "--set",
            &format!("listenPort={port}"),
            "--set",
            "kvConfigPath=",
        ],
        LIMIT,
    );
    assert_eq!(code, Some(1));
    assert!(out.is_empty(), "{out}");
    assert!(err.contains(&format!(":{port}")), "{err}");
}

#[test]
fn data_dir_problems_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let (code, out, err) = run_broker(&standalone_args(dir.path(), 0));
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "no ready line for the second broker: {out}");
    let expect = format!(
        "data dir {} is in use by another broker (pid {})",
        dir.path().display(),
        b.server.child.id()
    );
    assert!(err.contains(&expect), "{err}");

    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let (code, out, err) = run_broker(&standalone_args(&file, 0));
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains(&format!("data dir {} is not a directory", file.display())),
        "{err}"
    );
}

#[test]
fn features_we_lack_and_bad_values_are_errors_naming_the_key() {
    let cases: &[(&str, &str)] = &[
        ("brokerRole=FOO", "'brokerRole'"),
        ("brokerRole=SLAVE", "'brokerId' = '0'"),
        ("haMasterAddress=nohost", "'haMasterAddress'"),
        ("brokerId=1", "'brokerId' = '1'"),
        (
            "enablePropertyFilter=true",
            "'enablePropertyFilter' = 'true'",
        ),
        ("namesrvAddr=localhost", "'namesrvAddr'"),
        ("brokerNmae=x", "did you mean 'brokerName'"),
    ];
    for (set, expect) in cases {
        let (code, out, err) = run_to_exit(BROKER, &["--set", set], LIMIT);
        assert_eq!(code, Some(2), "{set}: {err}");
        assert!(out.is_empty(), "{set}: {out}");
        assert!(err.contains(expect), "{set}: {err}");
    }
    // The "off" value of a missing feature is fine.
    let (code, out, _) = run_to_exit(
        BROKER,
        &["--set", "enablePropertyFilter=false", "--print-config"],
        LIMIT,
    );
    assert_eq!(code, Some(0));
    assert!(out.contains("brokerName"));
}

#[test]
fn a_clean_restart_logs_no_warning_and_logs_have_no_colour_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    assert_eq!(create_topic(&mut s, "RestartT", 1).code, 0);
    assert_eq!(send(&mut s, "RestartT", 0, b"m", "", "", &[]).code, 0);
    drop(s);
    terminate(&mut b.server, LIMIT);
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    assert_eq!(send(&mut s, "RestartT", 0, b"m2", "", "", &[]).code, 0);
    let lines = stderr_so_far(&b.server, Duration::from_millis(300));
    assert!(lines.iter().any(|l| l.contains("effective config")));
    let warns: Vec<&String> = lines.iter().filter(|l| l.contains("WARN")).collect();
    assert!(warns.is_empty(), "a clean restart warns: {warns:?}");
    assert!(
        lines.iter().all(|l| !l.contains('\x1b')),
        "colour codes in piped logs"
    );
}

#[test]
fn shutdown_answers_parked_pulls_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    assert_eq!(create_topic(&mut s, "ParkT", 1).code, 0);
    // A long-polling pull (30 s) that parks: nothing to read.
    let h = PullMessageRequestHeader {
        sys_flag: 0x4 | 0x2,
        suspend_timeout_millis: 30_000,
        ..pull_header("ParkG", "ParkT")
    };
    let pull = RemotingCommand::request_with(11, &h).with_opaque(next_opaque());
    common::send(&mut s, &pull);
    std::thread::sleep(Duration::from_millis(300)); // let it park (not a wait for a result)
    let took = terminate(&mut b.server, LIMIT);
    assert!(
        took < Duration::from_secs(3),
        "shutdown took {took:?} with a parked pull"
    );
    let reply = read_frame_bytes(&mut s).expect("the parked pull is answered");
    assert!(!reply.is_empty());
    let lines = stderr_so_far(&b.server, Duration::from_millis(300));
    assert!(
        lines.iter().all(|l| !l.contains("still in flight")),
        "{lines:?}"
    );
}

#[test]
fn broker_takes_dash_n_and_the_name_server_logs_its_registration() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start(
        NAMESRV,
        &["--set", "listenPort=0", "--set", "kvConfigPath="],
    );
    let ns_addr = format!("127.0.0.1:{}", ns.addr.port());
    let mut args = vec!["-n".to_string(), ns_addr];
    args.extend(sets(&[
        "listenAddr=127.0.0.1".into(),
        "listenPort=0".into(),
        "mappedFileSizeCommitLog=8388608".into(),
        format!("storePathRootDir={}", dir.path().display()),
    ]));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let _b = start(BROKER, &refs);
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + LIMIT;
    while std::time::Instant::now() < deadline
        && !seen
            .iter()
            .any(|l: &String| l.contains("broker registered"))
    {
        if let Ok(l) = ns.stderr_lines.recv_timeout(Duration::from_millis(200)) {
            seen.push(l);
        }
    }
    let line = seen
        .iter()
        .find(|l| l.contains("broker registered"))
        .unwrap_or_else(|| panic!("no INFO registration line: {seen:?}"));
    assert!(line.contains("INFO") && line.contains("broker-a"), "{line}");
}
