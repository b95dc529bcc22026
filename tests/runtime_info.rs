//! GET_BROKER_RUNTIME_INFO 28 (every RocketMQ 4.9 key, with sane values after traffic),
//! VIEW_BROKER_STATS_DATA 315 and GET_BROKER_CONSUME_STATS 317 on the real `broker` binary.

mod common;

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::time::Duration;

use actormq::protocol::body::fastjson::normalize_keys;
use common::rmq::*;
use common::{call, connect, start_broker, wait_until, BROKER};

/// The keys RocketMQ 4.9's broker answers (AdminBrokerProcessor.prepareRuntimeInfo and the
/// store's runtime info), which mqadmin, the dashboard and rocketmq-exporter read.
const ROCKETMQ_KEYS: &[&str] = &[
    "brokerVersionDesc",
    "brokerVersion",
    "msgPutTotalYesterdayMorning",
    "msgPutTotalTodayMorning",
    "msgPutTotalTodayNow",
    "msgGetTotalYesterdayMorning",
    "msgGetTotalTodayMorning",
    "msgGetTotalTodayNow",
    "sendThreadPoolQueueSize",
    "sendThreadPoolQueueCapacity",
    "pullThreadPoolQueueSize",
    "pullThreadPoolQueueCapacity",
    "queryThreadPoolQueueSize",
    "queryThreadPoolQueueCapacity",
    "EndTransactionQueueSize",
    "EndTransactionThreadPoolQueueCapacity",
    "dispatchBehindBytes",
    "pageCacheLockTimeMills",
    "sendThreadPoolQueueHeadWaitTimeMills",
    "pullThreadPoolQueueHeadWaitTimeMills",
    "queryThreadPoolQueueHeadWaitTimeMills",
    "earliestMessageTimeStamp",
    "startAcceptSendRequestTimeStamp",
    "remainTransientStoreBufferNumbs",
    "remainHowManyDataToFlush",
    "commitLogDirCapacity",
    "bootTimestamp",
    "runtime",
    "putMessageEntireTimeMax",
    "putMessageTimesTotal",
    "putMessageFailedTimes",
    "putMessageSizeTotal",
    "putMessageDistributeTime",
    "putMessageAverageSize",
    "dispatchMaxBuffer",
    "getMessageEntireTimeMax",
    "putTps",
    "getFoundTps",
    "getMissTps",
    "getTotalTps",
    "getTransferedTps",
    "putLatency99",
    "putLatency999",
    "commitLogDiskRatio",
    "consumeQueueDiskRatio",
    "commitLogMinOffset",
    "commitLogMaxOffset",
];

fn runtime_info(s: &mut TcpStream) -> BTreeMap<String, String> {
    let r = call(s, &request(28, &[]));
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    serde_json::from_value(v["table"].clone()).unwrap()
}

fn num(kv: &BTreeMap<String, String>, key: &str) -> f64 {
    kv[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key} = {:?} is not a number", kv[key]))
}

/// The first ("10 s") figure of a "tps10 tps60 tps600" value, after checking all three.
fn tps10(kv: &BTreeMap<String, String>, key: &str) -> f64 {
    let parts: Vec<f64> = kv[key].split(' ').map(|p| p.parse().unwrap()).collect();
    assert_eq!(parts.len(), 3, "{key} = {}", kv[key]);
    assert!(parts.iter().all(|p| *p >= 0.0), "{key} = {}", kv[key]);
    parts[0]
}

fn stats(s: &mut TcpStream, name: &str, key: &str) -> (i32, Option<String>, serde_json::Value) {
    let r = call(s, &request(315, &[("statsName", name), ("statsKey", key)]));
    let v = if r.code == 0 {
        serde_json::from_slice(&r.body).unwrap()
    } else {
        serde_json::Value::Null
    };
    (r.code, r.remark.clone(), v)
}

fn send_and_pull(s: &mut TcpStream) {
    assert_eq!(create_topic(s, "RT", 2).code, 0);
    for i in 0..5 {
        let r = send(s, "RT", 0, format!("r-{i}").as_bytes(), "", "", &[]);
        assert_eq!(r.code, 0, "{:?}", r.remark);
    }
    let (r, msgs) = pull(s, "RG", "RT", 0, 0, "*", 0);
    assert_eq!((r.code, msgs.len()), (0, 5));
    let (r, msgs) = pull(s, "RG", "RT", 0, 5, "*", 0);
    assert!(r.code != 0 && msgs.is_empty());
    let commit = request(
        15,
        &[
            ("consumerGroup", "RG"),
            ("topic", "RT"),
            ("queueId", "0"),
            ("commitOffset", "3"),
        ],
    );
    assert_eq!(call(s, &commit).code, 0);
}

#[test]
fn runtime_info_has_every_rocketmq_key_with_sane_values() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    send_and_pull(&mut s);
    // The rates are sampled once a second: wait (bounded) until they show the traffic.
    let mut kv = BTreeMap::new();
    let moved = wait_until(Duration::from_secs(15), || {
        kv = runtime_info(&mut s);
        tps10(&kv, "putTps") > 0.0 && tps10(&kv, "getFoundTps") > 0.0
    });
    assert!(moved, "rates never moved: {kv:?}");
    for key in ROCKETMQ_KEYS {
        assert!(kv.contains_key(*key), "missing {key}: {kv:?}");
    }
    assert_eq!(kv["brokerVersionDesc"], "V4_9_8");
    assert_eq!(num(&kv, "msgPutTotalTodayNow"), 5.0);
    assert_eq!(num(&kv, "msgGetTotalTodayNow"), 5.0);
    assert_eq!(num(&kv, "putMessageTimesTotal"), 5.0);
    assert!(num(&kv, "putMessageSizeTotal") > 0.0);
    let avg = num(&kv, "putMessageAverageSize");
    assert_eq!(avg, num(&kv, "putMessageSizeTotal") / 5.0);
    assert_eq!(num(&kv, "putMessageFailedTimes"), 0.0);
    assert!(tps10(&kv, "getMissTps") > 0.0);
    assert!(tps10(&kv, "getTotalTps") >= tps10(&kv, "getFoundTps"));
    assert!(tps10(&kv, "getTransferedTps") > 0.0);
    let (p99, p999) = (num(&kv, "putLatency99"), num(&kv, "putLatency999"));
    assert!(0.0 <= p99 && p99 <= p999, "{p99} {p999}");
    for ratio in ["commitLogDiskRatio", "consumeQueueDiskRatio"] {
        let r = num(&kv, ratio);
        assert!((0.0..=1.0).contains(&r), "{ratio} = {r}");
    }
    let boot = num(&kv, "bootTimestamp");
    let earliest = num(&kv, "earliestMessageTimeStamp");
    assert!(earliest >= boot, "{earliest} {boot}");
    assert!(num(&kv, "commitLogMaxOffset") > num(&kv, "commitLogMinOffset"));
    assert!(
        kv["runtime"].starts_with("[ 0 days, 0 hours, "),
        "{}",
        kv["runtime"]
    );
    let cap = &kv["commitLogDirCapacity"];
    assert!(
        cap.starts_with("Total : ") && cap.contains(", Free : ") && cap.ends_with('.'),
        "{cap}"
    );
    assert!(
        kv["remainHowManyDataToFlush"].ends_with('B'),
        "{}",
        kv["remainHowManyDataToFlush"]
    );
    assert!(kv["putMessageDistributeTime"].starts_with("[<=0ms]:"));
    assert_eq!(num(&kv, "remainTransientStoreBufferNumbs"), i32::MAX as f64);
    assert!(kv.contains_key("scheduleMessageOffset_1"), "{kv:?}");
    // actormq's own keys are still there.
    for key in [
        "brokerName",
        "brokerRole",
        "flushDiskType",
        "busyRejections",
        "haSlaveCount",
    ] {
        assert!(kv.contains_key(key), "missing {key}");
    }
}

#[test]
fn stats_data_and_broker_consume_stats() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    send_and_pull(&mut s);

    let (code, _, v) = stats(&mut s, "TOPIC_PUT_NUMS", "RT");
    assert_eq!(code, 0);
    for w in ["statsMinute", "statsHour", "statsDay"] {
        assert_eq!(v[w]["sum"], 5, "{v}");
        assert_eq!(v[w]["avgpt"], 1.0, "{v}");
        assert!(v[w]["tps"].as_f64().unwrap() > 0.0, "{v}");
    }
    let (_, _, v) = stats(&mut s, "TOPIC_PUT_SIZE", "RT");
    assert!(v["statsDay"]["sum"].as_u64().unwrap() > 0);
    let (_, _, v) = stats(&mut s, "GROUP_GET_NUMS", "RT@RG");
    assert_eq!(v["statsDay"]["sum"], 5);
    let (_, _, v) = stats(&mut s, "BROKER_PUT_NUMS", "DefaultCluster");
    assert_eq!(v["statsDay"]["sum"], 5);
    let (_, _, v) = stats(&mut s, "BROKER_GET_NUMS", "DefaultCluster");
    assert_eq!(v["statsDay"]["sum"], 5);
    let (code, remark, _) = stats(&mut s, "TOPIC_PUT_NUMS", "nope");
    assert_eq!(code, 1);
    assert_eq!(
        remark.as_deref(),
        Some("The stats <TOPIC_PUT_NUMS> <nope> not exist")
    );
    let (code, _, _) = stats(&mut s, "SNDBCK_PUT_NUMS", "RT@RG");
    assert_eq!(code, 1, "no message was sent back");

    let r = call(&mut s, &request(317, &[("isOrder", "false")]));
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let v: serde_json::Value = serde_json::from_str(&normalize_keys(&r.body).unwrap()).unwrap();
    assert_eq!(
        v["brokerAddr"].as_str().unwrap().rsplit(':').next(),
        Some(b.addr.port().to_string().as_str())
    );
    let list = v["consumeStatsList"].as_array().unwrap();
    let rg = list
        .iter()
        .find_map(|m| m.get("RG"))
        .expect("group RG listed");
    assert_eq!(rg.as_array().unwrap().len(), 1, "{rg}");
    assert_eq!(rg[0]["offsetTable"].as_object().unwrap().len(), 2);
    assert_eq!(v["totalDiff"], 2);
    // Only ordered topics with isOrder=true; RT is not one.
    let r = call(&mut s, &request(317, &[("isOrder", "true")]));
    let v: serde_json::Value = serde_json::from_str(&normalize_keys(&r.body).unwrap()).unwrap();
    let rg = v["consumeStatsList"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|m| m.get("RG"))
        .cloned();
    assert_eq!(rg, Some(serde_json::json!([])));
    assert_eq!(v["totalDiff"], 0);
    // The header is required, as in Java.
    let r = call(&mut s, &request(317, &[]));
    assert_eq!(r.code, 1);
    assert!(r.remark.unwrap_or_default().contains("isOrder"));
}
