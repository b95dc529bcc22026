//! The admin requests a broker relays to consumer clients, with real `actormq::client` push
//! consumers on the real standalone broker: INVOKE_BROKER_TO_RESET_OFFSET (222) pushing
//! RESET_CONSUMER_CLIENT_OFFSET (220) so the consumers re-consume from the reset offsets,
//! GET_CONSUMER_RUNNING_INFO (307) and CONSUME_MESSAGE_DIRECTLY (309) answered by the client,
//! and the relay's failures (client not online, client silent, connection closed).

mod common;

use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actormq::client::*;
use actormq::protocol::body::admin::{CmResult, ConsumeMessageDirectlyResult, ConsumerRunningInfo};
use actormq::protocol::body::broker::ResetOffsetBody;
use actormq::protocol::codes::{request_code as rq, response_code as rc};
use actormq::protocol::RemotingCommand;
use common::client::*;
use common::{call, connect, rmq};

type Log = Arc<Mutex<Vec<String>>>;

fn listener(log: &Log) -> Listener {
    let log = log.clone();
    Listener::concurrent(move |msgs, _| {
        let mut l = log.lock().unwrap();
        for m in msgs {
            l.push(m.property("KEYS").unwrap_or("").to_string());
        }
        ConsumeResult::Success
    })
}

fn count(log: &Log) -> usize {
    log.lock().unwrap().len()
}

async fn consumer(b: &Standalone, group: &str, topic: &str, log: &Log) -> PushConsumer {
    let mut c = PushConsumer::new(consumer_config(b, group, &format!("i-{group}"))).unwrap();
    c.subscribe(topic, "*").await.unwrap();
    c.start(listener(log)).await.unwrap();
    c
}

async fn send_n(b: &Standalone, topic: &str, n: usize) -> Vec<SendResult> {
    let p = Producer::start(producer_config(b, &format!("pg-{topic}")))
        .await
        .unwrap();
    let mut out = Vec::new();
    for i in 0..n {
        let m = Message::new(topic, format!("b{i}")).with_keys(&format!("k{i}"));
        out.push(p.send(m).await.unwrap());
    }
    p.shutdown().await.unwrap();
    out
}

fn committed(s: &mut TcpStream, group: &str, topic: &str, queues: i32) -> i64 {
    (0..queues)
        .map(|q| {
            let r = call(
                s,
                &rmq::request(
                    rq::QUERY_CONSUMER_OFFSET,
                    &[
                        ("consumerGroup", group),
                        ("topic", topic),
                        ("queueId", &q.to_string()),
                    ],
                ),
            );
            r.ext_fields
                .get("offset")
                .and_then(|o| o.parse().ok())
                .unwrap_or(0)
        })
        .sum()
}

fn reset(s: &mut TcpStream, group: &str, topic: &str, ts: i64, force: bool) -> RemotingCommand {
    let (ts, force) = (ts.to_string(), force.to_string());
    call(
        s,
        &rmq::request(
            rq::INVOKE_BROKER_TO_RESET_OFFSET,
            &[
                ("topic", topic),
                ("group", group),
                ("timestamp", &ts),
                ("isForce", &force),
            ],
        ),
    )
}

#[tokio::test]
async fn reset_offset_makes_online_consumers_consume_again() {
    let b = start_broker(&[]);
    create_topic(&b, "RstT", 2);
    send_n(&b, "RstT", 10).await;
    let log: Log = Default::default();
    let c = consumer(&b, "CG_rst", "RstT", &log).await;
    assert!(wait_for(Duration::from_secs(20), || count(&log) >= 10).await);
    let mut s = connect(b.broker);
    assert!(
        wait_for(Duration::from_secs(10), || committed(
            &mut s, "CG_rst", "RstT", 2
        ) == 10)
        .await,
        "offsets committed"
    );

    // Not forced, to the max offset: never moves a group forward, so the committed offsets.
    let r = reset(&mut s, "CG_rst", "RstT", -1, false);
    assert_eq!(r.code, rc::SUCCESS, "{:?}", r.remark);
    let body = ResetOffsetBody::from_fastjson(&r.body).unwrap();
    assert_eq!(body.offset_table.values().sum::<i64>(), 10);

    // Forced back to the start (a time before every message): all ten come again.
    let r = reset(&mut s, "CG_rst", "RstT", 1, true);
    assert_eq!(r.code, rc::SUCCESS, "{:?}", r.remark);
    assert!(
        r.body.starts_with(br#"{"offsetTable":{{"brokerName":"#),
        "MessageQueue object keys"
    );
    let body = ResetOffsetBody::from_fastjson(&r.body).unwrap();
    assert_eq!(body.offset_table.len(), 2);
    assert!(body.offset_table.values().all(|&o| o == 0), "{body:?}");
    assert!(
        wait_for(Duration::from_secs(20), || count(&log) >= 20).await,
        "re-consumed after the reset: {}",
        count(&log)
    );
    let mut keys = log.lock().unwrap()[10..].to_vec();
    keys.sort();
    let mut want: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
    want.sort();
    assert_eq!(keys, want);
    assert!(
        wait_for(Duration::from_secs(10), || committed(
            &mut s, "CG_rst", "RstT", 2
        ) == 10)
        .await
    );

    // No consumer online: CONSUMER_NOT_ONLINE (mqadmin then commits the offsets itself).
    c.shutdown().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let r = loop {
        let r = reset(&mut s, "CG_rst", "RstT", 1, true);
        if r.code != rc::SUCCESS || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(r.code, rc::CONSUMER_NOT_ONLINE, "{:?}", r.remark);
    assert_eq!(
        reset(&mut s, "CG_rst", "NoSuchTopic", 1, true).code,
        rc::SYSTEM_ERROR
    );
}

#[tokio::test]
async fn running_info_and_consume_directly_are_answered_by_the_client() {
    let b = start_broker(&[]);
    create_topic(&b, "RunT", 1);
    let log: Log = Default::default();
    let c = consumer(&b, "CG_run", "RunT", &log).await;
    let sent = send_n(&b, "RunT", 1).await;
    assert!(wait_for(Duration::from_secs(20), || count(&log) >= 1).await);
    let mut s = connect(b.broker);
    let cid = c.client_id().to_string();

    let r = call(
        &mut s,
        &rmq::request(
            rq::GET_CONSUMER_RUNNING_INFO,
            &[("consumerGroup", "CG_run"), ("clientId", &cid)],
        ),
    );
    assert_eq!(r.code, rc::SUCCESS, "{:?}", r.remark);
    let info = ConsumerRunningInfo::from_fastjson(&r.body).unwrap();
    assert_eq!(
        info.properties[ConsumerRunningInfo::PROP_CONSUME_TYPE],
        "CONSUME_PASSIVELY"
    );
    assert!(info.subscription_set.iter().any(|s| s.topic == "RunT"));
    let (mq, pq) = info
        .mq_table
        .iter()
        .find(|(q, _)| q.topic == "RunT")
        .expect("RunT queue");
    assert_eq!(mq.queue_id, 0);
    assert!(!pq.droped);

    let msg_id = sent[0].offset_msg_id.clone();
    let r = call(
        &mut s,
        &rmq::request(
            rq::CONSUME_MESSAGE_DIRECTLY,
            &[
                ("consumerGroup", "CG_run"),
                ("clientId", &cid),
                ("msgId", &msg_id),
            ],
        ),
    );
    assert_eq!(r.code, rc::SUCCESS, "{:?}", r.remark);
    let result = ConsumeMessageDirectlyResult::decode(&r.body).unwrap();
    assert_eq!(result.consume_result, CmResult::CrSuccess);
    assert_eq!(log.lock().unwrap().as_slice(), ["k0", "k0"]);

    let r = call(
        &mut s,
        &rmq::request(
            rq::GET_CONSUMER_RUNNING_INFO,
            &[("consumerGroup", "CG_run"), ("clientId", "x@y")],
        ),
    );
    assert_eq!(r.code, rc::SYSTEM_ERROR);
    assert_eq!(
        r.remark.as_deref(),
        Some("The Consumer <CG_run> <x@y> not online")
    );
    let r = call(
        &mut s,
        &rmq::request(
            rq::CONSUME_MESSAGE_DIRECTLY,
            &[
                ("consumerGroup", "CG_run"),
                ("clientId", &cid),
                ("msgId", "zz"),
            ],
        ),
    );
    assert_eq!(r.code, rc::SYSTEM_ERROR);
    c.shutdown().await.unwrap();
}

#[test]
fn a_silent_or_closed_client_gets_a_clear_error() {
    let b = start_broker(&[]);
    let mut s = connect(b.broker);
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    rmq::create_topic(&mut s, "SilT", 1);
    let ask = |client: &str| {
        rmq::request(
            rq::GET_CONSUMER_RUNNING_INFO,
            &[("consumerGroup", "CG_sil"), ("clientId", client)],
        )
    };

    // A client that heartbeats (so it is not expired) but never answers: CONSUME_MSG_TIMEOUT
    // once the relay's timeout passes (Java's code).
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let beat = {
        let (stop, addr) = (stop.clone(), b.broker);
        std::thread::spawn(move || {
            let mut silent = connect(addr);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // `call` skips the relayed request frames: they are never answered.
                assert_eq!(
                    rmq::heartbeat(&mut silent, "silent@1", "CG_sil", "SilT", "*").code,
                    0
                );
                std::thread::sleep(Duration::from_millis(500));
            }
        })
    };
    let mut probe = connect(b.broker);
    assert!(common::wait_until(Duration::from_secs(10), || {
        let r = call(
            &mut probe,
            &rmq::request(
                rq::GET_CONSUMER_LIST_BY_GROUP,
                &[("consumerGroup", "CG_sil")],
            ),
        );
        r.code == rc::SUCCESS
    }));
    let started = Instant::now();
    let r = call(&mut s, &ask("silent@1"));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    beat.join().unwrap();
    assert_eq!(r.code, rc::CONSUME_MSG_TIMEOUT);
    assert!(
        r.remark.as_deref().unwrap().contains("no answer within"),
        "{:?}",
        r.remark
    );
    assert!(started.elapsed() >= Duration::from_secs(9));

    // A client whose connection closes while the broker waits: SYSTEM_ERROR at once.
    let mut closing = connect(b.broker);
    assert_eq!(
        rmq::heartbeat(&mut closing, "closing@1", "CG_sil", "SilT", "*").code,
        0
    );
    let admin = std::thread::spawn(move || {
        let r = call(&mut s, &ask("closing@1"));
        (r, Instant::now())
    });
    // Wait for the relayed request on the client's connection, then close it.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let frame = common::read_frame_bytes(&mut closing).expect("a frame for the client");
        let cmd = actormq::protocol::frame::parse(bytes::Bytes::from(frame)).unwrap();
        if cmd.code == rq::GET_CONSUMER_RUNNING_INFO && !cmd.is_response() {
            break;
        }
        assert!(Instant::now() < deadline);
    }
    let closed_at = Instant::now();
    drop(closing);
    let (r, answered_at) = admin.join().unwrap();
    assert_eq!(r.code, rc::SYSTEM_ERROR);
    assert!(
        r.remark.as_deref().unwrap().contains("closed"),
        "{:?}",
        r.remark
    );
    assert!(answered_at.duration_since(closed_at) < Duration::from_secs(5));
}
