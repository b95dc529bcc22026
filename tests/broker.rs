//! The real `broker` binary (standalone: with its embedded name server) on port 0 with a temp
//! store, driven with raw RocketMQ requests over TCP.

mod common;

use std::time::{Duration, Instant};

use actormq::protocol::body::TopicRouteData;
use actormq::protocol::message::decode_offset_msg_id;
use common::rmq::*;
use common::{call, connect, read_frame_bytes, start_broker, wait_until, BROKER};

#[test]
fn send_pull_view_query_and_route() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    assert_eq!(create_topic(&mut s, "T1", 4).code, 0);

    let mut ids = Vec::new();
    for i in 0..10 {
        let r = send(
            &mut s,
            "T1",
            1,
            format!("body-{i}").as_bytes(),
            "TagA",
            &format!("key-{i} other"),
            &[],
        );
        assert_eq!(r.code, 0, "{:?}", r.remark);
        assert_eq!(r.ext("queueId"), Some("1"));
        assert_eq!(r.ext("queueOffset"), Some(i.to_string().as_str()));
        assert_eq!(r.ext("MSG_REGION"), Some("DefaultRegion"));
        assert_eq!(r.ext("TRACE_ON"), Some("true"));
        ids.push(r.ext("msgId").unwrap().to_string());
    }
    let msgs = pull_all(&mut s, "G1", "T1", 1, "*");
    assert_eq!(msgs.len(), 10);
    for (i, m) in msgs.iter().enumerate() {
        assert_eq!(&m.body[..], format!("body-{i}").as_bytes());
        assert_eq!(m.tags(), Some("TagA"));
        assert_eq!(m.property("KEYS"), Some(format!("key-{i} other").as_str()));
        assert_eq!(m.property("CLUSTER"), Some("DefaultCluster"));
        assert_eq!(m.property("WAIT"), None, "WAIT is honoured, not stored");
        assert_eq!(m.queue_offset, i as i64);
        assert!(m.crc_ok());
        // The offset msg id names this broker's address and the record's physical offset.
        let (host, phys) = decode_offset_msg_id(&ids[i]).unwrap();
        assert_eq!(host, b.addr);
        assert_eq!(phys, m.commit_log_offset);
        assert_eq!(m.offset_msg_id(), ids[i]);
    }
    // VIEW_MESSAGE_BY_ID returns the same record.
    let (_, phys) = decode_offset_msg_id(&ids[3]).unwrap();
    let r = call(&mut s, &request(33, &[("offset", &phys.to_string())]));
    assert_eq!(r.code, 0);
    assert_eq!(
        &actormq::protocol::message::decode_record(&r.body)
            .unwrap()
            .body[..],
        b"body-3"
    );
    // QUERY_MESSAGE by key (the index is written by the dispatcher: allow it a moment).
    let mut found = 0;
    wait_until(Duration::from_secs(3), || {
        let r = call(
            &mut s,
            &request(
                12,
                &[
                    ("topic", "T1"),
                    ("key", "key-7"),
                    ("maxNum", "32"),
                    ("beginTimestamp", "0"),
                    ("endTimestamp", "9999999999999"),
                ],
            ),
        );
        found = actormq::protocol::message::decode_records(&r.body).len();
        r.code == 0
    });
    assert_eq!(found, 1);
    // Queue offsets.
    let r = call(&mut s, &request(30, &[("topic", "T1"), ("queueId", "1")]));
    assert_eq!(r.ext("offset"), Some("10"));
    let r = call(&mut s, &request(31, &[("topic", "T1"), ("queueId", "1")]));
    assert_eq!(r.ext("offset"), Some("0"));
    let r = call(&mut s, &request(32, &[("topic", "T1"), ("queueId", "1")]));
    assert_eq!(r.code, 0);
    let first_ts: i64 = r.ext("timestamp").unwrap().parse().unwrap();
    let r = call(
        &mut s,
        &request(
            29,
            &[
                ("topic", "T1"),
                ("queueId", "1"),
                ("timestamp", &first_ts.to_string()),
            ],
        ),
    );
    assert_eq!(r.ext("offset"), Some("0"));

    // The embedded name server routes the topic to this broker.
    let mut ns = connect(b.namesrv);
    let mut route = None;
    wait_until(Duration::from_secs(5), || {
        let r = call(&mut ns, &request(105, &[("topic", "T1")]));
        if r.code == 0 {
            route = Some(serde_json::from_slice::<TopicRouteData>(&r.body).unwrap());
        }
        r.code == 0
    });
    let route = route.expect("route registered");
    assert_eq!(route.broker_datas[0].broker_addrs[&0], b.addr.to_string());
    assert_eq!(route.queue_datas[0].write_queue_nums, 4);
}

#[test]
fn auto_created_topic_gets_four_queues_and_is_routed() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    let r = send(&mut s, "AutoT", 0, b"x", "", "", &[]);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let mut ns = connect(b.namesrv);
    assert!(wait_until(Duration::from_secs(5), || {
        let r = call(&mut ns, &request(105, &[("topic", "AutoT")]));
        r.code == 0
            && serde_json::from_slice::<TopicRouteData>(&r.body)
                .unwrap()
                .queue_datas[0]
                .read_queue_nums
                == 4
    }));
}

#[test]
fn tag_filtering_at_the_broker() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    create_topic(&mut s, "TF", 1);
    for i in 0..30 {
        let tag = ["TagA", "TagB", "TagC"][i % 3];
        assert_eq!(
            send(&mut s, "TF", 0, format!("{i}").as_bytes(), tag, "", &[]).code,
            0
        );
    }
    let msgs = pull_all(&mut s, "GF", "TF", 0, "TagA || TagC");
    assert_eq!(msgs.len(), 20);
    assert!(msgs
        .iter()
        .all(|m| matches!(m.tags(), Some("TagA") | Some("TagC"))));
    let msgs = pull_all(&mut s, "GF", "TF", 0, "TagB");
    assert_eq!(msgs.len(), 10);
    let msgs = pull_all(&mut s, "GF", "TF", 0, "NoSuchTag");
    assert!(msgs.is_empty());
}

#[test]
fn long_poll_wakes_on_arrival() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    create_topic(&mut s, "LP", 1);
    let addr = b.addr;
    let waiter = std::thread::spawn(move || {
        let mut c = connect(addr);
        let start = Instant::now();
        let (r, msgs) = pull(&mut c, "GL", "LP", 0, 0, "*", 10_000);
        (r.code, msgs.len(), start.elapsed())
    });
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(send(&mut s, "LP", 0, b"wake", "", "", &[]).code, 0);
    let (code, n, took) = waiter.join().unwrap();
    assert_eq!((code, n), (0, 1));
    assert!(
        took >= Duration::from_millis(350),
        "answered before the message existed: {took:?}"
    );
    assert!(
        took < Duration::from_secs(3),
        "not woken by the arrival: {took:?}"
    );

    // Without a message the hold ends at its timeout with PULL_NOT_FOUND.
    let start = Instant::now();
    let (r, _) = pull(&mut s, "GL", "LP", 0, 1, "*", 500);
    assert_eq!(r.code, 19);
    assert!(start.elapsed() >= Duration::from_millis(450));
}

#[test]
fn pull_status_codes() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    create_topic(&mut s, "PS", 1);
    // Empty queue: offset 0 -> NOT_FOUND; offset 5 -> OFFSET_MOVED to 0.
    let (r, _) = pull(&mut s, "G", "PS", 0, 0, "*", 0);
    assert_eq!(r.code, 19);
    let (r, _) = pull(&mut s, "G", "PS", 0, 5, "*", 0);
    assert_eq!((r.code, r.ext("nextBeginOffset")), (21, Some("0")));
    send(&mut s, "PS", 0, b"a", "TagA", "", &[]);
    send(&mut s, "PS", 0, b"b", "TagA", "", &[]);
    // Past the end -> OFFSET_MOVED to max; at the end -> NOT_FOUND; no match -> RETRY_IMMEDIATELY.
    let (r, _) = pull(&mut s, "G", "PS", 0, 9, "*", 0);
    assert_eq!((r.code, r.ext("nextBeginOffset")), (21, Some("2")));
    let (r, _) = pull(&mut s, "G", "PS", 0, 2, "*", 0);
    assert_eq!(r.code, 19);
    let (r, _) = pull(&mut s, "G", "PS", 0, 0, "TagZ", 0);
    assert_eq!((r.code, r.ext("nextBeginOffset")), (20, Some("2")));
    assert_eq!(r.ext("suggestWhichBrokerId"), Some("0"));
    // Queue id out of range.
    let (r, _) = pull(&mut s, "G", "PS", 3, 0, "*", 0);
    assert_eq!(r.code, 1);
}

#[test]
fn delayed_message_is_delivered_on_time() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &["messageDelayLevel=1s 2s 3s"]);
    let mut s = connect(b.addr);
    create_topic(&mut s, "DT", 1);
    let sent = Instant::now();
    let r = send(&mut s, "DT", 0, b"later", "TagD", "", &[("DELAY", "2")]);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    assert!(
        pull_all(&mut s, "GD", "DT", 0, "*").is_empty(),
        "delivered before its time"
    );
    let mut got = Vec::new();
    assert!(wait_until(Duration::from_secs(6), || {
        got = pull_all(&mut s, "GD", "DT", 0, "*");
        !got.is_empty()
    }));
    let took = sent.elapsed();
    assert!(took >= Duration::from_millis(1900), "too early: {took:?}");
    assert!(took < Duration::from_millis(3500), "too late: {took:?}");
    assert_eq!(&got[0].body[..], b"later");
    assert_eq!(got[0].tags(), Some("TagD"));
    assert_eq!(got[0].property("DELAY"), None);
    assert_eq!(got[0].property("REAL_TOPIC"), Some("DT"));
}

#[test]
fn send_back_retries_then_dead_letters() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &["messageDelayLevel=1s 1s 1s 1s"]);
    let mut s = connect(b.addr);
    create_topic(&mut s, "RT", 1);
    assert_eq!(heartbeat(&mut s, "127.0.0.1@c1", "GR", "RT", "*").code, 0);
    send(&mut s, "RT", 0, b"fails", "T", "k1", &[]);
    let m = pull_all(&mut s, "GR", "RT", 0, "*").remove(0);
    let back = |s: &mut std::net::TcpStream, offset: i64| {
        call(
            s,
            &request(
                36,
                &[
                    ("offset", &offset.to_string()),
                    ("group", "GR"),
                    ("delayLevel", "0"),
                    ("maxReconsumeTimes", "2"),
                ],
            ),
        )
    };
    // First failure: to %RETRY%GR after the delay, reconsume count 1.
    assert_eq!(back(&mut s, m.commit_log_offset).code, 0);
    let mut retried = Vec::new();
    assert!(wait_until(Duration::from_secs(5), || {
        retried = pull_all(&mut s, "GR", "%RETRY%GR", 0, "*");
        !retried.is_empty()
    }));
    let r1 = &retried[0];
    assert_eq!((r1.reconsume_times, &r1.body[..]), (1, &b"fails"[..]));
    assert_eq!(r1.property("RETRY_TOPIC"), Some("RT"));
    assert_eq!(
        r1.property("ORIGIN_MESSAGE_ID"),
        Some(m.offset_msg_id().as_str())
    );
    // Second failure: reconsume 1 < 2, retried again; third: 2 >= 2 -> DLQ.
    assert_eq!(back(&mut s, r1.commit_log_offset).code, 0);
    assert!(wait_until(Duration::from_secs(5), || {
        retried = pull_all(&mut s, "GR", "%RETRY%GR", 0, "*");
        retried.len() == 2
    }));
    assert_eq!(back(&mut s, retried[1].commit_log_offset).code, 0);
    let mut dead = Vec::new();
    assert!(wait_until(Duration::from_secs(3), || {
        dead = pull_all(&mut s, "GR", "%DLQ%GR", 0, "*");
        !dead.is_empty()
    }));
    assert_eq!(dead[0].reconsume_times, 3);
    assert_eq!(&dead[0].body[..], b"fails");
    assert_eq!(dead[0].property("RETRY_TOPIC"), Some("RT"));
}

/// Read frames from `s` until one has `code` (bounded by the read timeout).
fn wait_for_request(
    s: &mut std::net::TcpStream,
    code: i32,
) -> Option<actormq::protocol::RemotingCommand> {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for _ in 0..50 {
        let bytes = read_frame_bytes(s).ok()?;
        let c = actormq::protocol::frame::parse(bytes::Bytes::from(bytes)).ok()?;
        if c.code == code && !c.is_response() {
            return Some(c);
        }
    }
    None
}

#[test]
fn group_changes_notify_members_and_silent_clients_expire() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(
        BROKER,
        dir.path(),
        &["clientScanInterval=200", "clientChannelExpiredTime=1500"],
    );
    let mut a = connect(b.addr);
    let mut c = connect(b.addr);
    create_topic(&mut a, "NT", 4);
    assert_eq!(heartbeat(&mut a, "10.0.0.1@a", "GN", "NT", "*").code, 0);
    assert_eq!(heartbeat(&mut c, "10.0.0.2@c", "GN", "NT", "*").code, 0);
    // a is told that c joined.
    let n = wait_for_request(&mut a, 40).expect("NOTIFY_CONSUMER_IDS_CHANGED after a join");
    assert_eq!(n.ext("consumerGroup"), Some("GN"));
    assert!(n.is_oneway());
    let r = call(&mut a, &request(38, &[("consumerGroup", "GN")]));
    let list: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        list["consumerIdList"],
        serde_json::json!(["10.0.0.1@a", "10.0.0.2@c"])
    );

    // c goes silent while a keeps heartbeating: c expires, a is told, c's connection is closed.
    let start = Instant::now();
    let mut notified = false;
    while start.elapsed() < Duration::from_secs(6) {
        heartbeat(&mut a, "10.0.0.1@a", "GN", "NT", "*");
        let r = call(&mut a, &request(38, &[("consumerGroup", "GN")]));
        let list: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        if list["consumerIdList"] == serde_json::json!(["10.0.0.1@a"]) {
            notified = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(notified, "silent client not expired");
    c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut buf = [0u8; 1024];
    let closed = loop {
        match std::io::Read::read(&mut c, &mut buf) {
            Ok(0) => break true,
            Ok(_) => continue,
            Err(e) => break e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    };
    assert!(closed, "expired client's connection left open");

    // A member whose connection closes leaves at once.
    let mut d = connect(b.addr);
    heartbeat(&mut d, "10.0.0.3@d", "GN", "NT", "*");
    drop(d);
    assert!(wait_until(Duration::from_secs(3), || {
        let r = call(&mut a, &request(38, &[("consumerGroup", "GN")]));
        serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["consumerIdList"]
            == serde_json::json!(["10.0.0.1@a"])
    }));
}

#[test]
fn production_mode_errors_are_answered_and_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(
        BROKER,
        dir.path(),
        &[
            "autoCreateTopicEnable=false",
            "autoCreateSubscriptionGroup=false",
        ],
    );
    let mut s = connect(b.addr);
    let r = send(&mut s, "Unknown", 0, b"x", "", "", &[]);
    assert_eq!(r.code, 17, "{:?}", r.remark);
    assert!(r.remark.unwrap().contains("Unknown"));
    create_topic(&mut s, "Known", 2);
    let (r, _) = pull(&mut s, "NoSuchGroup", "Known", 0, 0, "*", 0);
    assert_eq!(r.code, 26);
    // Illegal topic name, forbidden system topic, queue out of range.
    assert_eq!(send(&mut s, "bad topic!", 0, b"x", "", "", &[]).code, 1);
    assert_eq!(
        send(&mut s, "SCHEDULE_TOPIC_XXXX", 0, b"x", "", "", &[]).code,
        16
    );
    assert_eq!(send(&mut s, "Known", 7, b"x", "", "", &[]).code, 1);
    // Malformed heartbeat body, missing header field, unknown code.
    let hb = actormq::protocol::RemotingCommand::request(34)
        .with_opaque(next_opaque())
        .with_body(&b"{not json"[..]);
    assert_eq!(call(&mut s, &hb).code, 1);
    let r = call(&mut s, &request(14, &[("topic", "Known")]));
    assert_eq!(r.code, 1);
    assert!(r.remark.unwrap().contains("consumerGroup"));
    assert_eq!(call(&mut s, &request(7777, &[])).code, 3);
    // Oversized body: MESSAGE_ILLEGAL.
    let big = vec![b'x'; 4 * 1024 * 1024 + 1];
    let r = send(&mut s, "Known", 0, &big, "", "", &[]);
    assert_eq!(r.code, 13, "{:?}", r.remark);
    // Still serving.
    assert_eq!(send(&mut s, "Known", 0, b"ok", "", "", &[]).code, 0);
    assert_eq!(pull_all(&mut s, "TOOLS_CONSUMER", "Known", 0, "*").len(), 1);
}

#[test]
fn admin_requests() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    create_topic(&mut s, "AT", 2);
    for i in 0..3 {
        send(&mut s, "AT", 1, format!("{i}").as_bytes(), "", "", &[]);
    }
    heartbeat(&mut s, "127.0.0.1@adm", "GA", "AT", "*");
    call(
        &mut s,
        &request(
            15,
            &[
                ("consumerGroup", "GA"),
                ("topic", "AT"),
                ("queueId", "1"),
                ("commitOffset", "2"),
            ],
        ),
    );
    // GET_ALL_TOPIC_CONFIG.
    let r = call(&mut s, &request(21, &[]));
    let all: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(all["topicConfigTable"]["AT"]["readQueueNums"], 2);
    assert!(all["topicConfigTable"]["%RETRY%GA"].is_object());
    // GET_TOPIC_STATS_INFO: fastjson object keys (MessageQueue as key).
    let r = call(&mut s, &request(202, &[("topic", "AT")]));
    let text = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(
        text.contains(r#"{"brokerName":"broker-a","queueId":1,"topic":"AT"}:{"#),
        "{text}"
    );
    assert!(text.contains(r#""maxOffset":3"#), "{text}");
    // GET_CONSUMER_CONNECTION_LIST.
    let r = call(&mut s, &request(203, &[("consumerGroup", "GA")]));
    let cc: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(cc["connectionSet"][0]["clientId"], "127.0.0.1@adm");
    assert_eq!(cc["messageModel"], "CLUSTERING");
    // GET_CONSUME_STATS: broker offset 3, consumer offset 2 on queue 1.
    let r = call(
        &mut s,
        &request(208, &[("consumerGroup", "GA"), ("topic", "AT")]),
    );
    let text = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(
        text.contains(r#""brokerOffset":3,"consumerOffset":2"#),
        "{text}"
    );
    // GET_BROKER_RUNTIME_INFO.
    let r = call(&mut s, &request(28, &[]));
    let kv: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(kv["table"]["msgPutTotalTodayNow"], "3");
    // UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, then the group is used as configured.
    let body = serde_json::json!({"groupName": "GX", "consumeEnable": false}).to_string();
    let c = actormq::protocol::RemotingCommand::request(200)
        .with_opaque(next_opaque())
        .with_body(body.into_bytes());
    assert_eq!(call(&mut s, &c).code, 0);
    let (r, _) = pull(&mut s, "GX", "AT", 1, 0, "*", 0);
    assert_eq!(r.code, 16, "a group with consumeEnable=false may not pull");
    // LOCK_BATCH_MQ / UNLOCK_BATCH_MQ.
    let lock = |s: &mut std::net::TcpStream, code: i32, client: &str| {
        let body = serde_json::json!({"clientId": client, "consumerGroup": "GA",
            "mqSet": [{"brokerName": "broker-a", "queueId": 0, "topic": "AT"}]});
        let c = actormq::protocol::RemotingCommand::request(code)
            .with_opaque(next_opaque())
            .with_body(body.to_string().into_bytes());
        call(s, &c)
    };
    let r = lock(&mut s, 41, "c1");
    let granted: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(granted["lockOKMQSet"].as_array().unwrap().len(), 1);
    let r = lock(&mut s, 41, "c2");
    let granted: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        granted["lockOKMQSet"].as_array().unwrap().len(),
        0,
        "held by c1"
    );
    assert_eq!(lock(&mut s, 42, "c1").code, 0);
    let r = lock(&mut s, 41, "c2");
    let granted: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(granted["lockOKMQSet"].as_array().unwrap().len(), 1);
}

/// Conditions with their own typed error answer RocketMQ's codes: a topic without PERM_WRITE is
/// NO_PERMISSION, a batch to a retry topic MESSAGE_ILLEGAL, an offline group's connection list
/// CONSUMER_NOT_ONLINE, and the earliest store time of an empty queue SUCCESS with -1.
#[test]
fn typed_errors_answer_rocketmqs_codes() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    let mut ro = request(17, &[("topic", "RO"), ("defaultTopic", "TBW102")]);
    for (k, v) in [
        ("readQueueNums", "2"),
        ("writeQueueNums", "2"),
        ("perm", "4"),
        ("topicFilterType", "SINGLE_TAG"),
    ] {
        ro.set_ext(k, v);
    }
    assert_eq!(call(&mut s, &ro).code, 0);
    let r = send(&mut s, "RO", 0, b"x", "", "", &[]);
    assert_eq!(r.code, 16, "{:?}", r.remark);
    assert_eq!(
        r.remark.as_deref(),
        Some("the topic[RO] sending message is forbidden")
    );
    // SEND_MESSAGE_V2 with batch=true is a batch.
    let h = actormq::protocol::headers::send::SendMessageRequestHeader {
        producer_group: "PG_test".into(),
        topic: "%RETRY%GB".into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id: 0,
        born_timestamp: actormq::clock::now_ms(),
        batch: Some(true),
        ..Default::default()
    };
    let v2: actormq::protocol::headers::send::SendMessageRequestHeaderV2 = h.into();
    let batch = actormq::protocol::RemotingCommand::request_with(310, &v2)
        .with_opaque(next_opaque())
        .with_body(b"not decoded".to_vec());
    let r = call(&mut s, &batch);
    assert_eq!(r.code, 13, "{:?}", r.remark);
    assert!(r.remark.unwrap().contains("%RETRY%GB"));
    let r = call(&mut s, &request(203, &[("consumerGroup", "Nobody")]));
    assert_eq!(r.code, 206, "{:?}", r.remark);
    create_topic(&mut s, "Empty", 1);
    let r = call(
        &mut s,
        &request(32, &[("topic", "Empty"), ("queueId", "0")]),
    );
    assert_eq!((r.code, r.ext("timestamp")), (0, Some("-1")));
}
