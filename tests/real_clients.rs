//! Real third-party RocketMQ clients against the standalone broker, unmodified:
//! PyPI `rocketmq==0.4.4` (the official C++ client library inside) with its PullConsumer and its
//! PushConsumer, and npm `ali-ons@3.12.0` (pure JavaScript) with its push consumer. Each sends
//! 1,000 messages and checks every one arrives with its body, tags and keys intact.
//!
//! `scripts/install-real-clients.sh` installs them into `target/real-clients/`; the first test
//! here runs it if needed, and fails with the command to run if the install fails.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::real_clients::{real_clients_dir, run_client};
use common::rmq::create_topic;
use common::{connect, start_broker, BROKER};

const COUNT: &str = "1000";

fn python(dir: &Path, namesrv: &str, topic: &str, mode: &str) -> serde_json::Value {
    let mut cmd = Command::new(dir.join("venv/bin/python"));
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/python_client.py"
    ))
    .args([namesrv, topic, COUNT, mode]);
    run_client(cmd, Duration::from_secs(120))
}

#[test]
fn python_cpp_client_pull_consumer() {
    let dir = real_clients_dir();
    let tmp = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, tmp.path(), &[]);
    let r = python(&dir, &b.namesrv.to_string(), "PyPullTopic", "pull");
    assert_eq!(r["received"], 1000);
    assert_eq!(r["missing"], serde_json::json!([]));
}

#[test]
fn python_cpp_client_push_consumer() {
    let dir = real_clients_dir();
    let tmp = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, tmp.path(), &[]);
    let r = python(&dir, &b.namesrv.to_string(), "PyPushTopic", "push");
    assert_eq!(r["received"], 1000);
    assert_eq!(r["missing"], serde_json::json!([]));
}

#[test]
fn node_ali_ons_client_push_consumer() {
    let dir = real_clients_dir();
    let tmp = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, tmp.path(), &[]);
    // ali-ons does not fall back to TBW102: create the topic first, as its users do.
    let mut s = connect(b.addr);
    assert_eq!(create_topic(&mut s, "NodeTopic", 4).code, 0);
    let script = dir.join("node/node_client.js");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/node_client.js"),
        &script,
    )
    .unwrap();
    let mut cmd = Command::new("node");
    cmd.current_dir(dir.join("node")).arg(&script).args([
        &b.namesrv.to_string(),
        "NodeTopic",
        COUNT,
    ]);
    let r = run_client(cmd, Duration::from_secs(120));
    assert_eq!(r["received"], 1000);
    assert_eq!(r["missing"], serde_json::json!([]));
}
