//! End to end: a real standalone broker (debug build, port 0, temp dir), then `mqbench producer`
//! for a few seconds and `mqbench consumer` from the first offsets; the consumer must see every
//! message the producer had acknowledged. Every wait is bounded.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run mqbench with `args`, kill it after `limit`, and parse its JSON summary (stdout).
fn mqbench(args: &[&str], limit: Duration) -> serde_json::Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mqbench"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mqbench");
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait mqbench") {
            break s;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("mqbench {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "mqbench {args:?} failed: {status}\n{err}");
    assert!(
        err.contains("tps"),
        "no per-second progress line on stderr: {err}"
    );
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("bad JSON ({e}): {out}"))
}

#[test]
fn producer_then_consumer_through_the_name_server() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap().to_string();
    // The first line of a standalone broker is its name server's address.
    let broker = common::start(
        common::BROKER,
        &[
            "--set",
            "standalone=true",
            "--set",
            "listenAddr=127.0.0.1",
            "--set",
            "listenPort=0",
            "--set",
            "namesrvListenPort=0",
            "--set",
            &format!("storePathRootDir={store}"),
            "--set",
            "mappedFileSizeCommitLog=67108864",
        ],
    );
    let ns = broker.addr.to_string();

    let p = mqbench(
        &[
            "producer",
            "--namesrv",
            &ns,
            "-t",
            "MqbenchIt",
            "-q",
            "2",
            "-w",
            "8",
            "--duration",
            "3",
            "--timeout-ms",
            "15000",
            "--tag",
            "TagA",
            "-k",
            "--json",
        ],
        Duration::from_secs(25),
    );
    assert_eq!(p["mode"], "producer");
    let sent = p["sent"].as_u64().unwrap();
    assert!(sent > 0, "{p}");
    // Failures are allowed (the broker may answer SYSTEM_BUSY while it prepares its first
    // CommitLog file); what was acknowledged must all be consumed.
    assert_eq!(
        p["failed"].as_u64().unwrap(),
        p["errors"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        "{p}"
    );
    assert!(p["rt_us"]["p99_us"].as_u64().unwrap() >= p["rt_us"]["p50_us"].as_u64().unwrap());
    assert!(!p["per_second"].as_array().unwrap().is_empty());

    let c = mqbench(
        &[
            "consumer",
            "--namesrv",
            &ns,
            "-t",
            "MqbenchIt",
            "--from",
            "first",
            "--count",
            &sent.to_string(),
            "--duration",
            "20",
            "--filter",
            "TagA",
            "--json",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(c["mode"], "consumer");
    assert_eq!(c["queues"], 2, "{c}");
    assert_eq!(c["consumed"].as_u64().unwrap(), sent, "{c}");
    assert_eq!(c["born_to_consume_us"]["count"].as_u64().unwrap(), sent);
    drop(broker);
}
