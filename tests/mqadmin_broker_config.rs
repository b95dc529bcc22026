//! `mqadmin updateBrokerConfig` against the real standalone broker: the keys RocketMQ 4.9 reads
//! at use time change the running broker's behaviour at once (auto-creation of topics and groups,
//! maxMessageSize, the pull transfer caps), a key read only at start is saved and reported as
//! waiting for the next start, and after a restart getBrokerConfig shows (and the broker applies)
//! the saved values.

mod common;

use std::net::TcpStream;

use actormq::protocol::codes::response_code;
use common::client::*;
use common::mqadmin::adm;
use common::{connect, rmq};

fn update(ns: &str, addr: &str, key: &str, value: &str) -> String {
    adm(
        ns,
        "updateBrokerConfig",
        &["-b", addr, "-k", key, "-v", value],
    )
    .ok()
}

fn send_code(s: &mut TcpStream, topic: &str, body: &[u8]) -> i32 {
    rmq::send(s, topic, 0, body, "", "", &[]).code
}

#[test]
fn hot_keys_change_the_running_broker() {
    let b = start_broker(&[]);
    let ns = b.namesrv_addr();
    let addr = b.broker.to_string();
    let mut s = connect(b.broker);

    // autoCreateTopicEnable: off refuses a send to a new topic at once, on allows it again.
    assert_eq!(send_code(&mut s, "HotA", b"x"), response_code::SUCCESS);
    let out = update(&ns, &addr, "autoCreateTopicEnable", "false");
    assert!(out.contains("applied: autoCreateTopicEnable"), "{out}");
    assert_eq!(
        send_code(&mut s, "HotB", b"x"),
        response_code::TOPIC_NOT_EXIST
    );
    update(&ns, &addr, "autoCreateTopicEnable", "true");
    assert_eq!(send_code(&mut s, "HotC", b"x"), response_code::SUCCESS);

    // maxMessageSize: a lowered cap refuses a bigger body with MESSAGE_ILLEGAL.
    let big = vec![b'b'; 2000];
    assert_eq!(send_code(&mut s, "HotA", &big), response_code::SUCCESS);
    update(&ns, &addr, "maxMessageSize", "1024");
    let r = rmq::send(&mut s, "HotA", 0, &big, "", "", &[]);
    assert_eq!(r.code, response_code::MESSAGE_ILLEGAL, "{:?}", r.remark);
    assert!(r.remark.unwrap_or_default().contains("1024"));
    assert_eq!(send_code(&mut s, "HotA", b"small"), response_code::SUCCESS);

    // maxTransferCountOnMessageInMemory: one pull answers at most that many messages.
    let (_, got) = rmq::pull(&mut s, "HotG", "HotA", 0, 0, "*", 0);
    assert_eq!(got.len(), 3);
    update(&ns, &addr, "maxTransferCountOnMessageInMemory", "2");
    let (_, got) = rmq::pull(&mut s, "HotG", "HotA", 0, 0, "*", 0);
    assert_eq!(got.len(), 2);

    // autoCreateSubscriptionGroup: off, an unknown group cannot pull.
    update(&ns, &addr, "autoCreateSubscriptionGroup", "false");
    let (r, _) = rmq::pull(&mut s, "HotNewGroup", "HotA", 0, 0, "*", 0);
    assert_eq!(
        r.code,
        response_code::SUBSCRIPTION_GROUP_NOT_EXIST,
        "{:?}",
        r.remark
    );
    let (r, _) = rmq::pull(&mut s, "HotG", "HotA", 0, 0, "*", 0);
    assert_eq!(r.code, response_code::SUCCESS, "{:?}", r.remark);
}

#[test]
fn start_only_keys_wait_and_everything_survives_a_restart() {
    let b = start_broker(&[]);
    let ns = b.namesrv_addr();
    let addr = b.broker.to_string();
    let out = update(&ns, &addr, "flushIntervalCommitLog", "700");
    assert!(
        out.contains("saved; flushIntervalCommitLog take effect at the next start"),
        "{out}"
    );
    update(&ns, &addr, "maxMessageSize", "1024");
    update(&ns, &addr, "autoCreateTopicEnable", "false");

    let b = b.restart(&[]);
    let ns = b.namesrv_addr();
    let addr = b.broker.to_string();
    let j = adm(&ns, "getBrokerConfig", &["-b", &addr, "--json"]).json();
    assert_eq!(j["flushIntervalCommitLog"], "700", "{j}");
    assert_eq!(j["maxMessageSize"], "1024", "{j}");
    assert_eq!(j["autoCreateTopicEnable"], "false", "{j}");
    let mut s = connect(b.broker);
    assert_eq!(
        send_code(&mut s, "AfterRestart", b"x"),
        response_code::TOPIC_NOT_EXIST
    );
    create_topic(&b, "AfterRestart", 1);
    assert_eq!(
        send_code(&mut s, "AfterRestart", &[b'b'; 2000]),
        response_code::MESSAGE_ILLEGAL
    );
}
