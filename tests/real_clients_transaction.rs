//! The real PyPI `rocketmq-client-python==2.0.0` (official C++ client 2.1 underneath, library
//! from `rocketmq-python-cvs==2.1.0.3`) and its `TransactionMQProducer` against the standalone
//! broker, unmodified: a committed message is consumed, a rolled-back one never, an unknown one is
//! checked back (its check callback answers COMMIT) and then consumed, each exactly once.
//!
//! `scripts/install-real-clients.sh` installs it into `target/real-clients/venv-tx`; the test runs
//! the script if needed and fails, with the command to run, if the client is not there.

mod common;

use std::process::Command;
use std::time::Duration;

use common::client::*;
use common::real_clients::{real_clients_dir, run_client};

/// Run the Python script (bounded); its JSON summary line, asserting it exited 0.
fn run_python(b: &Standalone, topic: &str, wait_secs: u32) -> serde_json::Value {
    let dir = real_clients_dir();
    let python = dir.join("venv-tx/bin/python");
    assert!(
        python.exists(),
        "{} missing: run `bash scripts/install-real-clients.sh`",
        python.display()
    );
    let mut cmd = Command::new(python);
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/python_transaction.py"
    ))
    .args([&b.namesrv_addr(), topic, "PG_py_tx", &wait_secs.to_string()]);
    run_client(cmd, Duration::from_secs(u64::from(wait_secs) + 60))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_2x_transaction_producer_commit_rollback_and_check_back() {
    // The C++ producer heartbeats every 30 s: with the test harness's 3 s channel expiry its
    // connection was closed 3 s after it started, and a check-back that came later (a loaded
    // machine) found no producer to ask, 15 times, and gave the message up. The default expiry
    // (120 s) is what a deployment has.
    let b = start_broker(&[
        "transactionTimeOut=1000",
        "transactionCheckInterval=500",
        "clientChannelExpiredTime=120000",
    ]);
    let topic = "PyTxTopic";
    create_topic(&b, topic, 4);
    let summary = {
        let b = &b;
        tokio::task::block_in_place(|| run_python(b, topic, 40))
    };
    for s in summary["sends"].as_array().unwrap() {
        assert_eq!(s["status"], "OK", "{summary}"); // the 2.x SendStatus.OK
    }
    assert_eq!(
        summary["executed"],
        serde_json::json!(["commit", "rollback", "unknown"])
    );
    let checked: Vec<&str> = summary["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(checked.contains(&"unknown"), "{summary}");
    assert!(checked.iter().all(|c| *c == "unknown"), "{summary}");
    let got = pull_topic(&b, topic, 2, Duration::from_secs(20)).await;
    let mut bodies: Vec<String> = got
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["commit", "unknown"]);
    for m in &got {
        assert_eq!(m.tags(), Some("TagTx"));
    }
    // Nothing else later (no double commit, rollback stays hidden).
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        pull_topic(&b, topic, 3, Duration::from_secs(1)).await.len(),
        2
    );
}
