//! Producer fault handling against real brokers: a dead first name server is skipped, and with two
//! brokers serving a topic, a frozen broker (SIGSTOP: connections open, no answers) costs at most
//! one failed send; latency-based avoidance keeps every later send on the healthy broker.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use actormq::client::*;
use common::client::*;
use common::freeze;

#[tokio::test]
async fn dead_name_server_is_skipped() {
    let b = start_broker(&[]);
    create_topic(&b, "FNs", 2);
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead); // nothing listens there now: connection refused
    let mut cfg = producer_config(&b, "pg-ns");
    cfg.client.namesrv_addr = format!("{dead_addr};{}", b.namesrv);
    cfg.client.instance_name = "ns-failover".into();
    let p = Producer::start(cfg).await.unwrap();
    let r = p.send(Message::new("FNs", "x")).await.unwrap();
    assert_eq!(r.status, SendStatus::SendOk);
}

#[tokio::test]
async fn frozen_broker_is_avoided_after_one_failure() {
    let a = start_broker(&[]);
    let bb = start_joined_broker(&a, "broker-b");
    create_topic_on(&a, "FTwo", 2, 1);
    {
        // The same topic on broker-b.
        let h = actormq::protocol::headers::CreateTopicRequestHeader {
            topic: "FTwo".into(),
            default_topic: "TBW102".into(),
            read_queue_nums: 2,
            write_queue_nums: 2,
            perm: 6,
            topic_filter_type: "SINGLE_TAG".into(),
            ..Default::default()
        };
        let mut s = std::net::TcpStream::connect(bb.broker).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let cmd = actormq::protocol::RemotingCommand::request_with(17, &h).with_opaque(1);
        let mut buf = bytes::BytesMut::new();
        actormq::protocol::frame::encode(&cmd, &mut buf);
        std::io::Write::write_all(&mut s, &buf).unwrap();
        let mut len = [0u8; 4];
        std::io::Read::read_exact(&mut s, &mut len).unwrap();
    }
    create_topic_on(&a, "FTwo", 2, 2);
    let mut cfg = producer_config(&a, "pg-two");
    cfg.send_timeout = Duration::from_millis(1500);
    let p = Producer::start(cfg).await.unwrap();
    let mut brokers = BTreeSet::new();
    for _ in 0..8 {
        brokers.insert(
            p.send(Message::new("FTwo", "x"))
                .await
                .unwrap()
                .queue
                .broker_name,
        );
    }
    assert_eq!(brokers.len(), 2, "round robin uses both brokers");

    freeze(bb.child.id());
    let t0 = Instant::now();
    let mut failures = 0;
    let mut used = BTreeSet::new();
    for _ in 0..20 {
        match p.send(Message::new("FTwo", "y")).await {
            Ok(r) => {
                used.insert(r.queue.broker_name);
            }
            Err(ClientError::Timeout { .. }) => failures += 1,
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    let took = t0.elapsed();
    unsafe { libc::kill(bb.child.id() as i32, libc::SIGCONT) };
    assert!(
        failures <= 1,
        "{failures} sends failed: the frozen broker was not avoided"
    );
    assert_eq!(used, BTreeSet::from(["broker-a".to_string()]));
    assert!(took < Duration::from_secs(5), "20 sends took {took:?}");
}
