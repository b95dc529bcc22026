//! Clients signing for a broker with ACL on (`aclEnable=true`, see tests/common/acl_broker.rs
//! for the accounts): the Rust client (`ClientConfig::credentials`), PyPI `rocketmq==0.4.4` (the
//! official C++ client 1.x, `set_session_credentials(ak, sk, "ALIYUN")`) and npm
//! `ali-ons@3.12.0` (`accessKey`/`secretKey` options). Each: a round trip with the right secret
//! works; a wrong secret, an unknown access key, a topic without PUB, a group without SUB and
//! anonymous requests are refused.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use actormq::client::{
    ClientError, ConsumeFromWhere, ConsumeResult, Listener, LocalTransactionState, Message,
    MessageExt, Producer, PushConsumer, TransactionListener, TransactionProducer,
};
use actormq::protocol::codes::response_code;
use actormq::protocol::RemotingCommand;
use common::acl_broker::{
    assert_acl_refused, create_topic_as_admin, credentials, signed, start_acl_broker, Account,
    AclBroker, ACL_EXCEPTION, ACL_TOPIC, ADMIN, DENIED_GROUP, SUB_ONLY_TOPIC, USER,
};
use common::client::{consumer_config, producer_config, pull_all};
use common::real_clients::{real_clients_dir, run_client};
use common::{call, connect, rmq};
use serde_json::Value;

const WRONG_SECRET: Account = ("RocketMQ", "not-the-secret");
const UNKNOWN_KEY: Account = ("NoSuchKey", "87654321");

fn setup() -> AclBroker {
    let a = start_acl_broker(&[]);
    create_topic_as_admin(&a.b, ACL_TOPIC);
    create_topic_as_admin(&a.b, SUB_ONLY_TOPIC);
    a
}

/// A send of one message to `topic` on queue 0, as a Java producer of group `PG_raw` builds it.
fn send_request(topic: &str) -> RemotingCommand {
    let h = rmq::send_header(topic, 0);
    RemotingCommand::request_with(10, &h)
        .with_opaque(rmq::next_opaque())
        .with_body(&b"raw"[..])
}

#[test]
fn raw_requests_get_rocketmq_s_answers() {
    let a = setup();
    let mut s = connect(a.b.broker);
    let r = call(&mut s, &signed(send_request(ACL_TOPIC), USER));
    assert_eq!(r.code, response_code::SUCCESS, "{:?}", r.remark);
    for (req, what) in [
        (send_request(ACL_TOPIC), "anonymous"),
        (
            signed(send_request(ACL_TOPIC), WRONG_SECRET),
            "wrong secret",
        ),
        (signed(send_request(ACL_TOPIC), UNKNOWN_KEY), "unknown key"),
        (
            signed(send_request(SUB_ONLY_TOPIC), USER),
            "topic without PUB",
        ),
    ] {
        assert_acl_refused(&call(&mut s, &req), what);
    }
    // The remark names the access key, never the secret.
    let r = call(&mut s, &signed(send_request(ACL_TOPIC), WRONG_SECRET));
    let remark = r.remark.unwrap_or_default();
    assert!(
        remark.contains("RocketMQ") && !remark.contains("not-the-secret"),
        "{remark}"
    );
}

async fn rust_send(
    a: &AclBroker,
    account: Option<Account>,
    topic: &str,
) -> Result<(), ClientError> {
    let mut config = producer_config(&a.b, &format!("PG_rust_{}", rmq::next_opaque()));
    config.client.credentials = account.map(credentials);
    config.retry_times = 0;
    let p = Producer::start(config).await?;
    let r = p.send(Message::new(topic, &b"rust-acl"[..])).await;
    let _ = p.shutdown().await;
    r.map(drop)
}

fn assert_client_refused(r: Result<(), ClientError>, what: &str) {
    match r {
        Err(ClientError::Broker { code, remark, .. }) => {
            assert_eq!(code, response_code::SYSTEM_ERROR, "{what}: {remark}");
            assert!(remark.starts_with(ACL_EXCEPTION), "{what}: {remark}");
        }
        other => panic!("{what}: expected an ACL refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_client_signs_and_is_refused_without_rights() {
    let a = setup();
    for _ in 0..5 {
        rust_send(&a, Some(USER), ACL_TOPIC).await.unwrap();
    }
    let mut c = consumer_config(&a.b, "RustAclGroup", "rust-acl-consumer");
    c.client = c.client.with_credentials(credentials(USER));
    let got = pull_all(c, ACL_TOPIC, 5, Duration::from_secs(15))
        .await
        .unwrap();
    assert_eq!(got.len(), 5);
    assert!(got.iter().all(|m| &m.body[..] == b"rust-acl"));

    assert_client_refused(
        rust_send(&a, Some(WRONG_SECRET), ACL_TOPIC).await,
        "wrong secret",
    );
    assert_client_refused(
        rust_send(&a, Some(UNKNOWN_KEY), ACL_TOPIC).await,
        "unknown key",
    );
    assert_client_refused(rust_send(&a, Some(USER), SUB_ONLY_TOPIC).await, "no PUB");
    assert_client_refused(rust_send(&a, None, ACL_TOPIC).await, "anonymous");
    let mut c = consumer_config(&a.b, DENIED_GROUP, "rust-acl-denied");
    c.client.credentials = Some(credentials(USER));
    match pull_all(c, ACL_TOPIC, 1, Duration::from_secs(5)).await {
        Err(ClientError::Broker { code, remark, .. }) => {
            assert_eq!(code, response_code::SYSTEM_ERROR, "{remark}");
            assert!(remark.starts_with(ACL_EXCEPTION), "{remark}");
        }
        other => panic!("group without SUB: expected a refusal, got {other:?}"),
    }
}

struct Commit;

impl TransactionListener for Commit {
    fn execute_local(
        &self,
        _: &Message,
        _: &(dyn std::any::Any + Send + Sync),
    ) -> LocalTransactionState {
        LocalTransactionState::Commit
    }
    fn check_local(&self, _: &MessageExt) -> LocalTransactionState {
        LocalTransactionState::Commit
    }
}

/// The transaction producer (half message, END_TRANSACTION) and the push consumer (heartbeat,
/// rebalance, pulls, offsets) sign with the account of their `ClientConfig`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_transaction_producer_and_push_consumer_sign() {
    let a = setup();
    let mut pc = producer_config(&a.b, "PG_rust_tx");
    pc.client.credentials = Some(credentials(USER));
    let p = TransactionProducer::start(pc, Commit).await.unwrap();
    for i in 0..3 {
        let m = Message::new(ACL_TOPIC, format!("tx-{i}"));
        let r = p.send_in_transaction(m, ()).await.unwrap();
        assert_eq!(r.local_state, LocalTransactionState::Commit);
    }
    p.shutdown().await.unwrap();

    let mut cc = consumer_config(&a.b, "RustPushGroup", "rust-acl-push");
    cc.client.credentials = Some(credentials(USER));
    cc.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let got = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
    let mut c = PushConsumer::new(cc).unwrap();
    c.subscribe(ACL_TOPIC, "*").await.unwrap();
    let sink = got.clone();
    c.start(Listener::concurrent(move |msgs, _| {
        sink.lock().extend(msgs.iter().map(|m| m.body.clone()));
        ConsumeResult::Success
    }))
    .await
    .unwrap();
    let all = common::client::wait_for(Duration::from_secs(30), || got.lock().len() >= 3).await;
    c.shutdown().await.unwrap();
    let mut bodies: Vec<String> = got
        .lock()
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    bodies.sort();
    assert!(all, "{bodies:?}");
    assert_eq!(bodies, ["tx-0", "tx-1", "tx-2"]);
}

/// Run a real client's ACL script: `produce` (args: count) or `consume` (count, group, wait).
fn real_client(kind: &str, dir: &Path, ns: &str, account: Option<Account>, args: &[&str]) -> Value {
    let (ak, sk) = account.unwrap_or(("", ""));
    let (mode, rest) = args.split_first().unwrap();
    let mut cmd = if kind == "python" {
        let mut c = Command::new(dir.join("venv/bin/python"));
        c.arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/clients/python_acl.py"
        ));
        c
    } else {
        let script = dir.join("node/node_acl.js");
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/node_acl.js"),
            &script,
        )
        .unwrap();
        let mut c = Command::new("node");
        c.current_dir(dir.join("node")).arg(script);
        c
    };
    let topic = if *mode == "produce-sub-only" {
        SUB_ONLY_TOPIC
    } else {
        ACL_TOPIC
    };
    let mode = if mode.starts_with("produce") {
        "produce"
    } else {
        "consume"
    };
    cmd.args([mode, ns, topic, ak, sk]).args(rest);
    run_client(cmd, Duration::from_secs(90))
}

fn round_trip(kind: &str, group: &str) {
    let dir = real_clients_dir();
    let a = setup();
    let ns = a.b.namesrv_addr();
    let r = real_client(kind, &dir, &ns, Some(USER), &["produce", "20"]);
    assert_eq!(r["sent"], 20, "{r}");
    let r = real_client(kind, &dir, &ns, Some(USER), &["consume", "20", group, "40"]);
    assert_eq!(r["received"], 20, "{r}");
    assert_eq!(r["bodies"][0], "acl-body-0", "{r}");
}

fn refusals(kind: &str) {
    let dir = real_clients_dir();
    let a = setup();
    let ns = a.b.namesrv_addr();
    for (account, mode, what) in [
        (Some(WRONG_SECRET), "produce", "wrong secret"),
        (Some(UNKNOWN_KEY), "produce", "unknown key"),
        (None, "produce", "anonymous"),
        (Some(USER), "produce-sub-only", "topic without PUB"),
    ] {
        let r = real_client(kind, &dir, &ns, account, &[mode, "1"]);
        assert_eq!(r["sent"], 0, "{what}: {r}");
        assert!(r["error"].is_string(), "{what}: {r}");
    }
    // Messages are there (sent as USER), but a group without SUB gets none of them.
    let r = real_client(kind, &dir, &ns, Some(USER), &["produce", "3"]);
    assert_eq!(r["sent"], 3, "{r}");
    let r = real_client(
        kind,
        &dir,
        &ns,
        Some(USER),
        &["consume", "3", DENIED_GROUP, "8"],
    );
    assert_eq!(r["received"], 0, "group without SUB: {r}");
    // The same messages reach an allowed group: the refusal above was the ACL's doing.
    let r = real_client(
        kind,
        &dir,
        &ns,
        Some(USER),
        &["consume", "3", "AllowedGroup", "40"],
    );
    assert_eq!(r["received"], 3, "{r}");
}

#[test]
fn python_cpp_client_signs_round_trip() {
    round_trip("python", "PyAclGroup");
}

#[test]
fn python_cpp_client_refused_without_rights() {
    refusals("python");
}

#[test]
fn node_ali_ons_client_signs_round_trip() {
    round_trip("node", "NodeAclGroup");
}

#[test]
fn node_ali_ons_client_refused_without_rights() {
    refusals("node");
}

/// The admin account may create topics; the user account may not (an admin code).
#[test]
fn admin_codes_need_the_admin_account() {
    let a = setup();
    let mut s = connect(a.b.broker);
    let r = call(
        &mut s,
        &signed(rmq::create_topic_request("UserTopic", 4), USER),
    );
    assert_acl_refused(&r, "user creates a topic");
    let r = call(
        &mut s,
        &signed(rmq::create_topic_request("AdminTopic", 4), ADMIN),
    );
    assert_eq!(r.code, response_code::SUCCESS, "{:?}", r.remark);
}

/// `mqbench producer` (and a run of `consumer`) with `account`'s keys; its JSON summary.
fn mqbench(a: &AclBroker, mode: &str, account: Option<Account>) -> Value {
    let ns = a.b.namesrv_addr();
    let mut args = vec![mode, "-n", &ns, "-t", ACL_TOPIC, "--count", "100"];
    args.extend([
        "--duration",
        "20",
        "--json",
        "--quiet",
        "--timeout-ms",
        "5000",
    ]);
    if mode == "producer" {
        args.extend(["--no-create-topic", "-w", "4"]);
    } else {
        args.extend(["-g", "BenchAclGroup", "--from", "first"]);
    }
    if let Some((ak, sk)) = account {
        args.extend(["--access-key", ak, "--secret-key", sk]);
    }
    let (code, out, err) = common::run_to_exit(
        env!("CARGO_BIN_EXE_mqbench"),
        &args,
        Duration::from_secs(60),
    );
    assert_eq!(code, Some(0), "{err}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"))
}

#[test]
fn mqbench_signs_with_access_and_secret_key() {
    let a = setup();
    let p = mqbench(&a, "producer", Some(USER));
    assert_eq!(
        (p["sent"].as_u64(), p["failed"].as_u64()),
        (Some(100), Some(0)),
        "{p}"
    );
    let c = mqbench(&a, "consumer", Some(USER));
    assert_eq!(c["consumed"], 100, "{c}");
    // Without keys every send is refused with SYSTEM_ERROR (code 1).
    let p = mqbench(&a, "producer", None);
    assert_eq!(p["sent"], 0, "{p}");
    assert!(p["errors"].to_string().contains("code 1"), "{p}");
}

#[test]
fn mqclient_consume_signs_with_access_and_secret_key() {
    let a = setup();
    let p = mqbench(&a, "producer", Some(USER));
    assert_eq!(p["sent"].as_u64(), Some(100), "{p}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mqclient-consume"))
        .args(["--namesrv", &a.b.namesrv_addr(), "--group", "CliAclGroup"])
        .args([
            "--topic",
            ACL_TOPIC,
            "--from-first",
            "--fast",
            "--secs",
            "60",
        ])
        .args(["--access-key", USER.0, "--secret-key", USER.1])
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn mqclient-consume");
    let lines = common::line_channel(child.stdout.take().unwrap());
    let mut got = 0;
    let start = std::time::Instant::now();
    while got < 100 {
        let left = Duration::from_secs(40).checked_sub(start.elapsed());
        let Some(line) = left.and_then(|l| lines.recv_timeout(l).ok()) else {
            break;
        };
        got += usize::from(line.starts_with("MSG "));
    }
    drop(child.stdin.take()); // closing stdin stops it cleanly
    let status = child.wait().unwrap();
    assert_eq!(got, 100, "messages received with the USER account");
    assert!(status.success(), "{status:?}");
}
