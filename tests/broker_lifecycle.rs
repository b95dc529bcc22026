//! The real `broker` binary across restarts and deployments: offsets and delay schedules that
//! survive a restart, SIGKILL under SYNC_FLUSH, a full disk, shipped configs, two masters.

mod common;

use std::time::{Duration, Instant};

use actormq::protocol::body::TopicRouteData;
use common::rmq::*;
use common::{call, connect, start_broker, wait_until, BROKER};

#[test]
fn consumer_offsets_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let b = start_broker(BROKER, dir.path(), &[]);
        let mut s = connect(b.addr);
        create_topic(&mut s, "OT", 2);
        for i in 0..5 {
            send(&mut s, "OT", 1, format!("{i}").as_bytes(), "", "", &[]);
        }
        // No offset yet: offset 0 is answered while the queue starts at 0 (docs/protocol.md §7.4).
        let q = [("consumerGroup", "GO"), ("topic", "OT"), ("queueId", "1")];
        let r = call(&mut s, &request(14, &q));
        assert_eq!((r.code, r.ext("offset")), (0, Some("0")));
        let r = call(
            &mut s,
            &request(
                15,
                &[
                    ("consumerGroup", "GO"),
                    ("topic", "OT"),
                    ("queueId", "1"),
                    ("commitOffset", "3"),
                ],
            ),
        );
        assert_eq!(r.code, 0);
        assert_eq!(call(&mut s, &request(14, &q)).ext("offset"), Some("3"));
        // Graceful stop: SIGTERM, then wait (bounded) for the exit.
        let mut b = b;
        unsafe { libc::kill(b.server.child.id() as i32, libc::SIGTERM) };
        let start = Instant::now();
        while b.server.child.try_wait().unwrap().is_none()
            && start.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            b.server.child.try_wait().unwrap().is_some(),
            "broker did not stop on SIGTERM"
        );
    }
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    let r = call(
        &mut s,
        &request(
            14,
            &[("consumerGroup", "GO"), ("topic", "OT"), ("queueId", "1")],
        ),
    );
    assert_eq!((r.code, r.ext("offset")), (0, Some("3")));
    assert_eq!(pull_all(&mut s, "GO", "OT", 1, "*").len(), 5);
    // The topic is still known after the restart (topics.json).
    assert_eq!(
        send(&mut s, "OT", 1, b"after", "", "", &[]).ext("queueOffset"),
        Some("5")
    );
}

#[test]
fn sync_flush_acknowledged_messages_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let n = 300;
    {
        let mut b = start_broker(BROKER, dir.path(), &["flushDiskType=SYNC_FLUSH"]);
        let mut s = connect(b.addr);
        create_topic(&mut s, "KT", 1);
        for i in 0..n {
            let r = send(
                &mut s,
                "KT",
                0,
                format!("durable-{i}").as_bytes(),
                "",
                "",
                &[],
            );
            assert_eq!(r.code, 0, "{:?}", r.remark);
        }
        b.server.child.kill().unwrap();
        b.server.child.wait().unwrap();
    }
    let b = start_broker(BROKER, dir.path(), &["flushDiskType=SYNC_FLUSH"]);
    let mut s = connect(b.addr);
    let msgs = pull_all(&mut s, "GK", "KT", 0, "*");
    assert_eq!(msgs.len(), n);
    for (i, m) in msgs.iter().enumerate() {
        assert_eq!(&m.body[..], format!("durable-{i}").as_bytes());
        assert!(m.crc_ok());
    }
}

#[test]
fn shipped_broker_configs_load() {
    for file in [
        "conf/standalone.toml",
        "conf/broker.toml",
        "conf/2m-noslave/broker-a.properties",
        "conf/2m-noslave/broker-b.properties",
    ] {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + file;
        let out = std::process::Command::new(BROKER)
            .args(["-c", &path, "--print-config"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cfg: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(cfg["brokerClusterName"], "DefaultCluster", "{file}");
    }
    let out = std::process::Command::new(BROKER)
        .args(["--set", "brokerNam=x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("brokerNam"));
}

#[test]
fn a_full_disk_refuses_sends_with_the_reason_and_keeps_serving_reads() {
    let dir = tempfile::tempdir().unwrap();
    // The lowest hard watermark the config accepts is 10 %: a disk used more than that is "full".
    // On a nearly empty disk, reserve space (fallocate, no writes) until it is 12 % used; the
    // ballast goes with the temp dir.
    let usage = actormq::storage::retention::disk_usage_percent(dir.path()).unwrap();
    if usage < 11.0 {
        ballast(&dir.path().join("ballast"), 12.0 - usage);
    }
    let b = start_broker(
        BROKER,
        dir.path(),
        &["diskSpaceWarningLevelRatio=10", "cleanResourceInterval=100"],
    );
    let mut s = connect(b.addr);
    create_topic(&mut s, "FullT", 1);
    let mut r = send(&mut s, "FullT", 0, b"x", "", "", &[]);
    assert!(wait_until(Duration::from_secs(5), || {
        r = send(&mut s, "FullT", 0, b"x", "", "", &[]);
        r.code == 14
    }));
    let remark = r.remark.unwrap();
    assert!(
        remark.contains(&dir.path().display().to_string()) && remark.contains('%'),
        "{remark}"
    );
    // Reads still work.
    let (p, _) = pull(&mut s, "G", "FullT", 0, 0, "*", 0);
    assert!(matches!(p.code, 0 | 19), "{}", p.code);
}

#[test]
fn delayed_messages_keep_their_schedule_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sets = ["messageDelayLevel=1s 3s"];
    let sent = Instant::now();
    {
        let mut b = start_broker(BROKER, dir.path(), &sets);
        let mut s = connect(b.addr);
        create_topic(&mut s, "DR", 1);
        assert_eq!(
            send(&mut s, "DR", 0, b"early", "", "", &[("DELAY", "1")]).code,
            0
        );
        assert_eq!(
            send(&mut s, "DR", 0, b"late", "", "", &[("DELAY", "2")]).code,
            0
        );
        assert!(wait_until(Duration::from_secs(4), || pull_all(
            &mut s, "G", "DR", 0, "*"
        )
        .len()
            == 1));
        unsafe { libc::kill(b.server.child.id() as i32, libc::SIGTERM) };
        let start = Instant::now();
        while b.server.child.try_wait().unwrap().is_none()
            && start.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let b = start_broker(BROKER, dir.path(), &sets);
    let mut s = connect(b.addr);
    let mut got = Vec::new();
    assert!(wait_until(Duration::from_secs(6), || {
        got = pull_all(&mut s, "G", "DR", 0, "*");
        got.len() >= 2
    }));
    assert!(sent.elapsed() >= Duration::from_millis(2900));
    // Give the schedule a moment to (wrongly) deliver again; each is delivered exactly once.
    std::thread::sleep(Duration::from_millis(600));
    let bodies: Vec<Vec<u8>> = pull_all(&mut s, "G", "DR", 0, "*")
        .iter()
        .map(|m| m.body.to_vec())
        .collect();
    assert_eq!(bodies, vec![b"early".to_vec(), b"late".to_vec()]);
}

#[test]
fn two_masters_share_one_name_server() {
    let ns = common::start(
        common::NAMESRV,
        &["--set", "listenPort=0", "--set", "listenAddr=127.0.0.1"],
    );
    let ns_addr = ns.addr.to_string();
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut brokers = Vec::new();
    for (name, dir) in [("broker-a", &da), ("broker-b", &db)] {
        let args = [
            "listenAddr=127.0.0.1".to_string(),
            "listenPort=0".into(),
            "mappedFileSizeCommitLog=8388608".into(),
            format!("brokerName={name}"),
            format!("namesrvAddr={ns_addr}"),
            format!("storePathRootDir={}", dir.path().display()),
        ];
        let args: Vec<String> = args
            .into_iter()
            .flat_map(|a| ["--set".to_string(), a])
            .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        brokers.push(common::start(BROKER, &refs));
    }
    for b in &brokers {
        let mut s = connect(b.addr);
        assert_eq!(create_topic(&mut s, "Shared", 4).code, 0);
    }
    let mut ns_conn = connect(ns.addr);
    let mut route = TopicRouteData::default();
    assert!(wait_until(Duration::from_secs(5), || {
        let r = call(&mut ns_conn, &request(105, &[("topic", "Shared")]));
        if r.code == 0 {
            route = serde_json::from_slice(&r.body).unwrap();
        }
        route.broker_datas.len() == 2
    }));
    let names: Vec<&str> = route
        .queue_datas
        .iter()
        .map(|q| q.broker_name.as_str())
        .collect();
    assert_eq!(names, vec!["broker-a", "broker-b"]);
    // A broker that stops is dropped from the route (its connection closes, it unregistered).
    drop(brokers.pop());
    assert!(wait_until(Duration::from_secs(5), || {
        let r = call(&mut ns_conn, &request(105, &[("topic", "Shared")]));
        serde_json::from_slice::<TopicRouteData>(&r.body)
            .map(|t| t.broker_datas.len() == 1)
            .unwrap_or(false)
    }));
}

/// Allocate a file taking `percent` % of the disk holding `path`.
fn ballast(path: &std::path::Path, percent: f64) {
    use std::os::unix::io::AsRawFd;
    let f = std::fs::File::create(path).unwrap();
    // SAFETY: statvfs/fallocate on a path and a descriptor we own.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let c = std::ffi::CString::new(path.parent().unwrap().as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
    let total = st.f_blocks as f64 * st.f_frsize as f64;
    let len = (total * percent / 100.0) as libc::off_t;
    let rc = unsafe { libc::fallocate(f.as_raw_fd(), 0, 0, len) };
    assert_eq!(
        rc, 0,
        "cannot reserve {len} bytes to fill the test disk past 10 %"
    );
}
