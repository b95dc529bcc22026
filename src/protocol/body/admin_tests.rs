//! Round trips and Java shapes of the admin bodies.

use super::*;

fn mq(t: &str, b: &str, q: i32) -> MessageQueue {
    MessageQueue::new(t, b, q)
}

#[test]
fn properties_text_and_parse_round_trip() {
    let m: BTreeMap<String, String> = [("a", "1"), ("brokerName", "b")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let text = properties_text(&m);
    assert_eq!(text, "a=1\nbrokerName=b\n");
    let back: BTreeMap<String, String> = parse_properties(text.as_bytes())
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(back, m);
    assert!(parse_properties(b"\xff=1").is_err());
}

#[test]
fn producer_table_has_java_keys() {
    let mut t = ProducerTableInfo::default();
    t.data.insert(
        "pg".into(),
        vec![ProducerInfo {
            client_id: "c@1".into(),
            language: "JAVA".into(),
            last_update_timestamp: 5,
            remote_ip: "127.0.0.1:5000".into(),
            version: 409,
        }],
    );
    let j = String::from_utf8(t.encode()).unwrap();
    assert_eq!(
        j,
        r#"{"data":{"pg":[{"clientId":"c@1","language":"JAVA","lastUpdateTimestamp":5,"remoteIP":"127.0.0.1:5000","version":409}]}}"#
    );
    assert_eq!(ProducerTableInfo::decode(j.as_bytes()).unwrap(), t);
}

#[test]
fn time_format_matches_java_pattern() {
    assert_eq!(format_time_ms(0), "1970-01-01#00:00:00:000");
    assert_eq!(format_time_ms(1_700_000_000_123), "2023-11-14#22:13:20:123");
    assert_eq!(format_time_ms(951_782_400_000), "2000-02-29#00:00:00:000");
}

#[test]
fn time_span_and_consume_queue_round_trip() {
    let b = QueryConsumeTimeSpanBody {
        consume_time_span_set: vec![QueueTimeSpan::new(mq("t", "b", 0), 1, 2, 3, 4)],
    };
    let j = String::from_utf8(b.encode()).unwrap();
    assert!(
        j.starts_with(r#"{"consumeTimeSpanSet":[{"consumeTimeStamp":3,"consumeTimeStampStr":"1970-01-01#00:00:00:003","delayTime":4"#),
        "{j}"
    );
    assert_eq!(QueryConsumeTimeSpanBody::decode(j.as_bytes()).unwrap(), b);

    let q = QueryConsumeQueueResponseBody {
        filter_data: None,
        max_queue_index: 10,
        min_queue_index: 0,
        queue_data: vec![ConsumeQueueData {
            eval: true,
            physic_offset: 100,
            physic_size: 200,
            tags_code: 7,
            ..Default::default()
        }],
        subscription_data: None,
    };
    let j = String::from_utf8(q.encode()).unwrap();
    assert_eq!(
        j,
        r#"{"maxQueueIndex":10,"minQueueIndex":0,"queueData":[{"eval":true,"physicOffset":100,"physicSize":200,"tagsCode":7}]}"#
    );
    assert_eq!(
        QueryConsumeQueueResponseBody::decode(j.as_bytes()).unwrap(),
        q
    );
}

#[test]
fn running_info_uses_object_keys_and_round_trips() {
    let mut info = ConsumerRunningInfo::default();
    info.properties.insert(
        ConsumerRunningInfo::PROP_CONSUME_TYPE.into(),
        "CONSUME_PASSIVELY".into(),
    );
    info.mq_table.insert(
        mq("t", "b", 1),
        ProcessQueueInfo {
            commit_offset: 9,
            ..Default::default()
        },
    );
    info.status_table.insert(
        "t".into(),
        ConsumeStatus {
            pull_tps: 1.5,
            ..Default::default()
        },
    );
    let j = info.to_fastjson();
    assert!(
        j.starts_with(
            r#"{"mqTable":{{"brokerName":"b","queueId":1,"topic":"t"}:{"cachedMsgCount":0"#
        ),
        "{j}"
    );
    assert!(j.contains(r#""statusTable":{"t":{"consumeFailedMsgs":0,"consumeFailedTPS":0.0,"consumeOKTPS":0.0,"consumeRT":0.0,"pullRT":0.0,"pullTPS":1.5}}"#), "{j}");
    assert_eq!(
        ConsumerRunningInfo::from_fastjson(j.as_bytes()).unwrap(),
        info
    );
    // Java may write non-string property values and a jstack.
    let java = r#"{"jstack":"x","properties":{"PROP_CONSUMER_START_TIMESTAMP":17,"n":null},"subscriptionSet":[]}"#;
    let got = ConsumerRunningInfo::from_fastjson(java.as_bytes()).unwrap();
    assert_eq!(got.jstack.as_deref(), Some("x"));
    assert_eq!(got.properties["PROP_CONSUMER_START_TIMESTAMP"], "17");
    assert_eq!(got.properties["n"], "");
    assert!(ConsumerRunningInfo::from_fastjson(b"{\"mqTable\":{1:{}}}").is_err());
}

#[test]
fn consume_directly_result_shape_and_defaults() {
    let r = ConsumeMessageDirectlyResult {
        consume_result: CmResult::CrLater,
        spent_time_mills: 3,
        ..Default::default()
    };
    let j = String::from_utf8(r.encode()).unwrap();
    assert_eq!(
        j,
        r#"{"autoCommit":true,"consumeResult":"CR_LATER","order":false,"spentTimeMills":3}"#
    );
    assert_eq!(
        ConsumeMessageDirectlyResult::decode(j.as_bytes()).unwrap(),
        r
    );
    let d = ConsumeMessageDirectlyResult::decode(b"{}").unwrap();
    assert!(d.auto_commit);
    assert!(ConsumeMessageDirectlyResult::decode(br#"{"consumeResult":"NOPE"}"#).is_err());
}
