//! The real `mqadmin` binary against the real standalone broker: message commands (query by
//! key/id/unique key/offset, printMsg, consumeMessage, sendMessage, trace) and group commands
//! (subscription groups, progress, connections, consume-directly, reset by time online and
//! offline, clone offsets, statsAll) with a live Rust producer and push consumer. Every run of
//! the binary and every wait is bounded.

mod common;

use std::time::Duration;

use actormq::client::*;
use actormq::protocol::codes::request_code;
use actormq::protocol::RemotingCommand;
use common::client::*;
use common::mqadmin::{adm, header};

#[test]
fn message_commands() {
    let b = start_broker(&["traceTopicEnable=true"]);
    let ns = b.namesrv_addr();
    let ns = ns.as_str();
    create_topic(&b, "AdmM", 2);
    let sent = adm(
        ns,
        "sendMessage",
        &[
            "-t", "AdmM", "-p", "body-1", "-k", "key1", "-c", "TagA", "--json",
        ],
    )
    .json();
    let uniq = sent["msgId"].as_str().unwrap().to_string();
    let offset_id = sent["offsetMsgId"].as_str().unwrap().to_string();
    let (broker, qid) = (
        sent["brokerName"].as_str().unwrap().to_string(),
        sent["queueId"].to_string(),
    );
    let traced = adm(
        ns,
        "sendMessage",
        &["-t", "AdmM", "-p", "body-2", "-m", "true", "--json"],
    )
    .json();

    // The key index is written after the send returns: wait (bounded) until it answers.
    let mut by_key = String::new();
    assert!(
        common::wait_until(Duration::from_secs(10), || {
            by_key = adm(ns, "queryMsgByKey", &["-t", "AdmM", "-k", "key1"]).ok();
            by_key.contains(&uniq)
        }),
        "{by_key}"
    );
    assert_eq!(header(&by_key), ["#Message ID", "#QID", "#Offset"]);
    let j = adm(ns, "queryMsgByKey", &["-t", "AdmM", "-k", "key1", "--json"]).json();
    assert_eq!(j[0]["body"], "body-1");

    let detail = adm(ns, "queryMsgById", &["-i", &offset_id]).ok();
    for field in [
        "OffsetID:",
        "Topic:",
        "Tags:",
        "Keys:",
        "Queue ID:",
        "Queue Offset:",
        "CommitLog Offset:",
        "Reconsume Times:",
        "Born Timestamp:",
        "Store Timestamp:",
        "Born Host:",
        "Store Host:",
        "System Flag:",
        "Properties:",
        "Message Body Path:",
    ] {
        assert!(
            detail.lines().any(|l| l.starts_with(field)),
            "{field}: {detail}"
        );
    }
    assert!(
        detail.contains("[TagA]")
            && detail.contains("[key1]")
            && detail.contains("WARN: No Consumer")
    );
    let j = adm(ns, "queryMsgById", &["-i", &offset_id, "--json"]).json();
    assert_eq!(j[0]["msgId"], uniq.as_str());

    resend_by_id(&b);
    let u = adm(
        ns,
        "queryMsgByUniqueKey",
        &["-i", &uniq, "-t", "AdmM", "--json"],
    )
    .json();
    assert_eq!(u[0]["offsetMsgId"], offset_id.as_str());
    assert!(adm(ns, "queryMsgByUniqueKey", &["-i", &uniq, "-t", "AdmM"])
        .ok()
        .contains(&offset_id));
    let o = adm(
        ns,
        "queryMsgByOffset",
        &["-t", "AdmM", "-b", &broker, "-i", &qid, "-o", "0", "--json"],
    )
    .json();
    assert_eq!(o["topic"], "AdmM");
    adm(
        ns,
        "queryMsgByOffset",
        &["-t", "AdmM", "-b", "nobroker", "-i", "0", "-o", "0"],
    )
    .fails_with("nobroker");

    let printed = adm(ns, "printMsg", &["-t", "AdmM"]).ok();
    assert!(
        printed.contains("minOffset=0") && printed.contains("BODY: body-1"),
        "{printed}"
    );
    let only_b = adm(ns, "printMsg", &["-t", "AdmM", "-s", "TagB", "--json"]).json();
    assert_eq!(only_b.as_array().unwrap().len(), 0, "{only_b}");
    let no_body = adm(ns, "printMsg", &["-t", "AdmM", "-d", "false"]).ok();
    assert!(no_body.contains("NOT PRINT BODY") && !no_body.contains("body-1"));
    let consumed = adm(ns, "consumeMessage", &["-t", "AdmM", "-c", "1"]).ok();
    assert!(
        consumed.contains("Consume ok") && consumed.matches("MSGID:").count() == 1,
        "{consumed}"
    );
    let all = adm(ns, "consumeMessage", &["-t", "AdmM", "--json"]).json();
    assert_eq!(all.as_array().unwrap().len(), 2);
    let one = adm(
        ns,
        "consumeMessage",
        &["-t", "AdmM", "-b", &broker, "-i", &qid, "-o", "0", "--json"],
    )
    .json();
    assert_eq!(one[0]["msgId"], uniq.as_str(), "{one}");
    adm(ns, "consumeMessage", &["-t", "AdmM", "-i", "0"]).fails_usage();
    // A store-time window ending at the epoch holds nothing; one from the epoch holds both.
    let none = adm(ns, "printMsg", &["-t", "AdmM", "-e", "1", "--json"]).json();
    assert_eq!(none.as_array().unwrap().len(), 0, "{none}");
    let window = adm(
        ns,
        "printMsg",
        &["-t", "AdmM", "-b", "1970-01-01#00:00:00:000", "--json"],
    )
    .json();
    assert_eq!(window.as_array().unwrap().len(), 2, "{window}");
    // An end time equal to the last store time includes that message (the broker answers the
    // time with the message stored nearest it; Apache's tools read through it), and an end
    // just before it leaves it out.
    let stored: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["storeTimestamp"].as_i64().unwrap())
        .collect();
    let last = *stored.iter().max().unwrap();
    let until_last = last.to_string();
    for cmd in ["printMsg", "consumeMessage"] {
        let through = adm(ns, cmd, &["-t", "AdmM", "-e", &until_last, "--json"]).json();
        assert_eq!(through.as_array().unwrap().len(), 2, "{cmd}: {through}");
    }
    let before_last = (last - 1).to_string();
    let earlier = stored.iter().filter(|&&t| t < last).count();
    let cut = adm(
        ns,
        "printMsg",
        &["-t", "AdmM", "-e", &before_last, "--json"],
    )
    .json();
    assert_eq!(cut.as_array().unwrap().len(), earlier, "{cut}");
    let every = adm(
        ns,
        "queryMsgByUniqueKey",
        &["-i", &uniq, "-t", "AdmM", "-a", "--json"],
    )
    .json();
    assert_eq!(every.as_array().unwrap().len(), 1, "{every}");

    // The producer's Pub trace record reaches the trace topic in the background.
    let id = traced["msgId"].as_str().unwrap();
    let mut trace = String::new();
    assert!(
        common::wait_until(Duration::from_secs(15), || {
            trace = adm(ns, "queryMsgTraceById", &["-i", id]).ok();
            trace.contains("Pub")
        }),
        "{trace}"
    );
    assert_eq!(
        header(&trace),
        [
            "#Type",
            "#ProducerGroup",
            "#ClientHost",
            "#SendTime",
            "#CostTimes",
            "#Status"
        ]
    );
    assert!(
        trace.contains("DEFAULT_PRODUCER") && trace.contains("success"),
        "{trace}"
    );
    let t = adm(ns, "queryMsgTraceById", &["-i", id, "--json"]).json();
    assert_eq!(t[0]["msgType"], "Pub");
    // 4.x Pub records carry no client host: the host that wrote the trace message is shown.
    assert_eq!(t[0]["clientHost"], "127.0.0.1", "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_and_offset_commands() {
    let b = start_broker(&[]);
    let ns = b.namesrv_addr();
    let ns = ns.as_str();
    create_topic(&b, "AdmG", 2);
    let out = adm(
        ns,
        "updateSubGroup",
        &["-c", "DefaultCluster", "-g", "AdmCG", "-r", "3"],
    )
    .ok();
    assert!(
        out.contains("create subscription group to") && out.contains("retryMaxTimes=3"),
        "{out}"
    );

    let p = Producer::start(producer_config(&b, "AdmPG")).await.unwrap();
    for i in 0..10 {
        p.send(Message::new("AdmG", format!("m{i}")).with_tags("T"))
            .await
            .unwrap();
    }
    let mut c = PushConsumer::new(consumer_config(&b, "AdmCG", "adm-c1")).unwrap();
    c.subscribe("AdmG", "*").await.unwrap();
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let s2 = seen.clone();
    c.start(Listener::concurrent(move |m, _| {
        s2.fetch_add(m.len(), std::sync::atomic::Ordering::Relaxed);
        ConsumeResult::Success
    }))
    .await
    .unwrap();
    let mut out = String::new();
    assert!(
        common::wait_until(Duration::from_secs(20), || {
            // CONSUMER_NOT_ONLINE until the consumer committed its first offsets.
            out = adm(ns, "consumerProgress", &["-g", "AdmCG"]).out;
            out.contains("Diff Total: 0")
                && out.lines().filter(|l| l.starts_with("AdmG ")).count() == 2
        }),
        "{out}"
    );
    assert_eq!(
        header(&out),
        [
            "#Topic",
            "#Broker Name",
            "#QID",
            "#Broker Offset",
            "#Consumer Offset",
            "#Diff",
            "#LastTime"
        ]
    );
    assert!(out.contains("Consume TPS:"));
    let j = adm(ns, "consumerProgress", &["-g", "AdmCG", "--json"]).json();
    assert_eq!(j["diffTotal"], 0);
    let with_ip = adm(ns, "consumerProgress", &["-g", "AdmCG", "-s", "true"]).ok();
    assert!(
        header(&with_ip).contains(&"#Client IP".to_string()),
        "{with_ip}"
    );
    assert!(
        with_ip
            .lines()
            .filter(|l| l.starts_with("AdmG "))
            .all(|l| l.contains("127.0.0.1")),
        "{with_ip}"
    );
    let groups = adm(ns, "consumerProgress", &[]).ok();
    assert_eq!(
        header(&groups),
        [
            "#Group",
            "#Count",
            "#Version",
            "#Type",
            "#Model",
            "#TPS",
            "#Diff Total"
        ]
    );
    assert!(
        groups
            .lines()
            .any(|l| l.starts_with("AdmCG ") && l.contains("PUSH") && l.contains("CLUSTERING")),
        "{groups}"
    );

    let conn = adm(ns, "consumerConnection", &["-g", "AdmCG"]).ok();
    assert_eq!(
        header(&conn),
        ["#ClientId", "#ClientAddr", "#Language", "#Version"]
    );
    assert!(
        conn.contains(c.client_id()) && conn.contains("ConsumeType: CONSUME_PASSIVELY"),
        "{conn}"
    );
    assert!(conn.contains("MessageModel: CLUSTERING") && conn.contains("AdmG"));
    let prod = adm(ns, "producerConnection", &["-g", "AdmPG", "-t", "AdmG"]).ok();
    assert!(
        prod.starts_with("0001  ") && prod.contains(p.client_id()),
        "{prod}"
    );
    let pj = adm(
        ns,
        "producerConnection",
        &["-g", "AdmPG", "-t", "AdmG", "--json"],
    )
    .json();
    assert_eq!(pj["connectionSet"].as_array().unwrap().len(), 1);

    // Resend one message to the online consumer (CONSUME_MESSAGE_DIRECTLY through the broker).
    let msgs = adm(ns, "consumeMessage", &["-t", "AdmG", "-c", "1", "--json"]).json();
    let oid = msgs[0]["offsetMsgId"].as_str().unwrap();
    let before = seen.load(std::sync::atomic::Ordering::Relaxed);
    let direct = adm(
        ns,
        "queryMsgById",
        &["-i", oid, "-g", "AdmCG", "-d", c.client_id()],
    )
    .ok();
    assert!(direct.contains("consumeResult=CR_SUCCESS"), "{direct}");
    assert_eq!(seen.load(std::sync::atomic::Ordering::Relaxed), before + 1);
    let track = adm(ns, "queryMsgById", &["-i", oid]).ok();
    assert!(
        track.contains("MessageTrack [consumerGroup=AdmCG, trackType=CONSUMED"),
        "{track}"
    );

    // Online reset: the broker pushes offsets to the consumer.
    let out = adm(
        ns,
        "resetOffsetByTime",
        &["-g", "AdmCG", "-t", "AdmG", "-s", "0"],
    )
    .ok();
    assert!(
        out.contains("rollback consumer offset by specified group[AdmCG], topic[AdmG]"),
        "{out}"
    );
    assert_eq!(
        out.lines()
            .nth(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["#brokerName", "#queueId", "#offset"])
    );
    c.shutdown().await.unwrap();
    let stats = adm(ns, "statsAll", &["-t", "AdmG"]).ok();
    assert_eq!(
        header(&stats),
        [
            "#Topic",
            "#Consumer Group",
            "#Accumulation",
            "#InTPS",
            "#OutTPS",
            "#InMsg24Hour",
            "#OutMsg24Hour"
        ]
    );
    assert!(
        stats
            .lines()
            .any(|l| l.starts_with("AdmG ") && l.contains("AdmCG")),
        "{stats}"
    );

    // No consumer online: RocketMQ's fallback writes the offsets itself.
    let mut off = String::new();
    assert!(
        common::wait_until(Duration::from_secs(20), || {
            off = adm(
                ns,
                "resetOffsetByTime",
                &["-g", "AdmCG", "-t", "AdmG", "-s", "now"],
            )
            .ok();
            off.contains("#rollbackOffset")
        }),
        "{off}"
    );
    assert!(off.contains("by specified consumerGroup[AdmCG]"), "{off}");
    let j = adm(ns, "consumerProgress", &["-g", "AdmCG", "--json"]).json();
    assert_eq!(j["diffTotal"], 0, "reset to now: {j}");
    adm(
        ns,
        "resetOffsetByTime",
        &["-g", "AdmCG", "-t", "AdmG", "-s", "0"],
    )
    .ok();
    let j = adm(ns, "consumerProgress", &["-g", "AdmCG", "--json"]).json();
    assert_eq!(j["diffTotal"], 10, "reset to the start: {j}");

    let out = adm(
        ns,
        "cloneGroupOffset",
        &["-s", "AdmCG", "-d", "AdmCG2", "-t", "AdmG"],
    )
    .ok();
    assert!(out
        .contains("clone group offset success. srcGroup[AdmCG], destGroup=[AdmCG2], topic[AdmG]"));
    let out = adm(
        ns,
        "deleteSubGroup",
        &["-b", &b.broker.to_string(), "-g", "AdmCG2"],
    )
    .ok();
    assert!(
        out.contains("delete subscription group [AdmCG2] from broker"),
        "{out}"
    );
    adm(ns, "consumerConnection", &["-g", "AdmCG"]).fails_with("CONSUMER_NOT_ONLINE");
    adm(
        ns,
        "resetOffsetByTime",
        &["-g", "AdmCG", "-t", "AdmG", "-s", "tomorrow"],
    )
    .fails_with("tomorrow");
    p.shutdown().await.unwrap();
}

/// `queryMsgById -s true`: the stored message is sent again to its topic (a new message, same
/// body, tags and keys); `-s false` does nothing. Its own topic, so the other counts hold.
fn resend_by_id(b: &common::client::Standalone) {
    let ns = b.namesrv_addr();
    let ns = ns.as_str();
    create_topic(b, "AdmR", 1);
    let sent = adm(
        ns,
        "sendMessage",
        &[
            "-t", "AdmR", "-p", "again", "-k", "rk", "-c", "TagR", "--json",
        ],
    )
    .json();
    let offset_id = sent["offsetMsgId"].as_str().unwrap().to_string();
    let r = adm(
        ns,
        "queryMsgById",
        &["-i", &offset_id, "-s", "true", "--json"],
    )
    .json();
    assert_eq!(r[0]["originalMsgId"], offset_id.as_str());
    assert_eq!(r[0]["sendStatus"], "SEND_OK");
    assert_eq!(r[0]["topic"], "AdmR");
    let copy_id = r[0]["offsetMsgId"].as_str().unwrap().to_string();
    assert_ne!(copy_id, offset_id);
    let copy = adm(ns, "queryMsgById", &["-i", &copy_id, "--json"]).json();
    assert_eq!(copy[0]["body"], "again");
    assert_eq!(copy[0]["tags"], "TagR");
    assert_eq!(copy[0]["keys"], "rk");
    let text = adm(ns, "queryMsgById", &["-i", &offset_id, "-s", "true"]).ok();
    assert!(
        text.starts_with(&format!("prepare resend msg. originalMsgId={offset_id}"))
            && text.contains("SendResult [sendStatus=SEND_OK"),
        "{text}"
    );
    assert_eq!(
        adm(ns, "queryMsgById", &["-i", &offset_id, "-s", "false"]).ok(),
        ""
    );
    let all = adm(ns, "consumeMessage", &["-t", "AdmR", "--json"]).json();
    assert_eq!(all.as_array().unwrap().len(), 3, "{all}");

    // consumeMessage -g: the pulls are made as that group (the broker creates its subscription
    // group on the first pull, as RocketMQ's does); nothing is committed.
    let as_group = adm(
        ns,
        "consumeMessage",
        &["-t", "AdmR", "-g", "AdmPuller", "--json"],
    )
    .json();
    assert_eq!(as_group.as_array().unwrap().len(), 3, "{as_group}");
    let mut s = common::connect(b.broker);
    let req = RemotingCommand::request(request_code::GET_ALL_SUBSCRIPTIONGROUP_CONFIG);
    let groups = common::call(&mut s, &req);
    let body = String::from_utf8_lossy(&groups.body).to_string();
    assert!(body.contains("\"AdmPuller\""), "{body}");
}
