//! Round trips against literals in the 4.x format. Each literal follows the field order of
//! RocketMQ 4.9 `TraceDataEncoder.encoderFromContextBean` (fields joined by `\u{1}`, each record
//! ended by `\u{2}`):
//! Pub: type, timeStamp, regionId, groupName, topic, msgId, tags, keys, storeHost, bodyLength,
//! costTime, msgType ordinal, offsetMsgId, success.
//! SubBefore: type, timeStamp, regionId, groupName, requestId, msgId, retryTimes, keys.
//! SubAfter: type, requestId, msgId, costTime, success, keys, contextCode, timeStamp, groupName.
//! EndTransaction: type, timeStamp, regionId, groupName, topic, msgId, tags, keys, storeHost,
//! msgType, transactionId, transactionState, fromTransactionCheck.

use super::*;
use crate::client::trace::{context_code, AccessChannel, TraceBean, TraceContext, TraceType};

const PUB: &str = "Pub\u{1}1700000000000\u{1}DefaultRegion\u{1}pg\u{1}TopicTest\u{1}\
7F0000010001B4AAC2C40A6C4F6E0000\u{1}TagA\u{1}k1 k2\u{1}127.0.0.1:10911\u{1}5\u{1}3\u{1}0\u{1}\
7F00000100002A9F000000000000002A\u{1}true\u{2}";
const SUB_BEFORE: &str = "SubBefore\u{1}1700000000100\u{1}DefaultRegion\u{1}cg\u{1}REQ1\u{1}\
7F0000010001B4AAC2C40A6C4F6E0000\u{1}0\u{1}k1 k2\u{2}";
const SUB_AFTER: &str = "SubAfter\u{1}REQ1\u{1}7F0000010001B4AAC2C40A6C4F6E0000\u{1}7\u{1}\
false\u{1}k1 k2\u{1}4\u{1}1700000000107\u{1}cg\u{2}";
/// A message without tags or keys: Java writes both as `null`.
const END_TX: &str = "EndTransaction\u{1}1700000000200\u{1}DefaultRegion\u{1}tg\u{1}TopicTx\u{1}\
ID9\u{1}null\u{1}null\u{1}127.0.0.1:10911\u{1}2\u{1}TX9\u{1}COMMIT_MESSAGE\u{1}false\u{2}";

const ID: &str = "7F0000010001B4AAC2C40A6C4F6E0000";

fn pub_ctx() -> TraceContext {
    TraceContext {
        trace_type: TraceType::Pub,
        time_stamp: 1_700_000_000_000,
        region_id: "DefaultRegion".into(),
        group_name: "pg".into(),
        cost_time: 3,
        success: true,
        beans: vec![TraceBean {
            topic: "TopicTest".into(),
            msg_id: ID.into(),
            offset_msg_id: "7F00000100002A9F000000000000002A".into(),
            tags: "TagA".into(),
            keys: "k1 k2".into(),
            store_host: "127.0.0.1:10911".into(),
            body_length: 5,
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn sub_ctx(ty: TraceType) -> TraceContext {
    let mut c = TraceContext {
        trace_type: ty,
        group_name: "cg".into(),
        request_id: "REQ1".into(),
        beans: vec![TraceBean {
            msg_id: ID.into(),
            keys: "k1 k2".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    if ty == TraceType::SubBefore {
        c.time_stamp = 1_700_000_000_100;
        c.region_id = "DefaultRegion".into();
        c.success = true;
    } else {
        c.time_stamp = 1_700_000_000_107;
        c.cost_time = 7;
        c.context_code = context_code::FAILED;
    }
    c
}

#[test]
fn pub_encodes_to_the_java_layout_and_back() {
    assert_eq!(encode_context(&pub_ctx()), PUB);
    assert_eq!(decode(PUB), vec![pub_ctx()]);
    assert_eq!(transfer_keys(&pub_ctx()), vec![ID, "k1", "k2"]);
}

#[test]
fn sub_before_and_after_encode_to_the_java_layout_and_back() {
    let before = sub_ctx(TraceType::SubBefore);
    let after = sub_ctx(TraceType::SubAfter);
    assert_eq!(encode_context(&before), SUB_BEFORE);
    assert_eq!(encode_context(&after), SUB_AFTER);
    let both = format!("{SUB_BEFORE}{SUB_AFTER}");
    assert_eq!(decode(&both), vec![before, after]);
}

#[test]
fn end_transaction_encodes_to_the_java_layout_and_back() {
    let mut c = end_transaction_context(
        "tg",
        "DefaultRegion",
        "TopicTx",
        "ID9",
        "",
        "",
        "127.0.0.1:10911",
        "TX9",
        "COMMIT_MESSAGE",
        false,
    );
    c.time_stamp = 1_700_000_000_200;
    assert_eq!(encode_context(&c), END_TX);
    assert_eq!(decode(END_TX), vec![c]);
}

#[test]
fn absent_tags_and_keys_are_written_null_and_never_become_keys() {
    let mut c = pub_ctx();
    c.beans[0].tags.clear();
    c.beans[0].keys.clear();
    let mut buf = RecordBuf::default();
    buf.push_pub(&PubFields::of(&c));
    let text = buf.text(0, 1);
    let msg_id = c.bean().msg_id.clone();
    assert!(
        text.contains(&format!("{msg_id}\u{1}null\u{1}null\u{1}")),
        "{text:?}"
    );
    assert_eq!(buf.keys(0, 1).collect::<Vec<_>>(), vec![msg_id.as_str()]);
    assert_eq!(decode(text), vec![c]);
}

#[test]
fn decoder_accepts_java_variants_and_skips_junk() {
    // Pub without offsetMsgId (13 fields) and with clientHost (15 fields).
    let short =
        "Pub\u{1}1\u{1}r\u{1}g\u{1}T\u{1}M\u{1}t\u{1}k\u{1}h\u{1}1\u{1}2\u{1}0\u{1}false\u{2}";
    let d = decode(short);
    assert_eq!(d.len(), 1);
    assert!(!d[0].success);
    assert_eq!(d[0].bean().offset_msg_id, "");
    let long = "Pub\u{1}1\u{1}r\u{1}g\u{1}T\u{1}M\u{1}t\u{1}k\u{1}h\u{1}1\u{1}2\u{1}0\u{1}O\u{1}true\u{1}c:1\u{2}";
    let d = decode(long);
    assert_eq!(d[0].bean().client_host, "c:1");
    assert!(d[0].success);
    // SubAfter of the CLOUD channel: no timeStamp / groupName, trailing separator.
    let cloud = "SubAfter\u{1}R\u{1}M\u{1}5\u{1}true\u{1}k\u{1}0\u{1}\u{2}";
    let d = decode(cloud);
    assert_eq!((d[0].cost_time, d[0].success), (5, true));
    assert_eq!(d[0].access_channel, AccessChannel::Cloud);
    assert!(decode("Nope\u{1}x\u{2}Pub\u{1}1\u{2}\u{2}").is_empty());
}

#[test]
fn a_record_buffer_holds_the_same_text_and_keys_as_the_contexts() {
    let cs = [
        pub_ctx(),
        sub_ctx(TraceType::SubBefore),
        sub_ctx(TraceType::SubAfter),
    ];
    let mut b = RecordBuf::default();
    for c in &cs {
        b.push_context(c);
    }
    assert_eq!(b.len(), 3);
    for (i, c) in cs.iter().enumerate() {
        assert_eq!(b.text(i, i + 1), encode_context(c));
        assert_eq!(b.keys(i, i + 1).collect::<Vec<_>>(), transfer_keys(c));
    }
    let all: String = cs.iter().map(encode_context).collect();
    assert_eq!(b.text(0, 3), all);
    let c = pub_ctx();
    let mut direct = RecordBuf::default();
    direct.push_pub(&PubFields::of(&c));
    let mut via_context = RecordBuf::default();
    via_context.push_context(&c);
    assert_eq!(direct, via_context);
    assert_eq!(PubFields::of(&c).to_context(), c);
    b.clear();
    assert!(b.is_empty());
    assert_eq!(b.text(0, 0), "");
}

/// RocketMQ 4.9 `encoderFromContextBean`, SubAfter on `AccessChannel.CLOUD`: the fields up to
/// contextCode, each followed by `\u{1}`, and nothing after (no timeStamp, groupName or `\u{2}`).
const SUB_AFTER_CLOUD: &str = "SubAfter\u{1}REQ1\u{1}7F0000010001B4AAC2C40A6C4F6E0000\u{1}7\u{1}\
false\u{1}k1 k2\u{1}4\u{1}";

fn cloud(mut c: TraceContext) -> TraceContext {
    c.access_channel = AccessChannel::Cloud;
    c
}

#[test]
fn cloud_sub_after_encodes_to_the_java_cloud_layout() {
    let after = cloud(sub_ctx(TraceType::SubAfter));
    assert_eq!(encode_context(&after), SUB_AFTER_CLOUD);
    // The other types do not depend on the channel.
    let before = sub_ctx(TraceType::SubBefore);
    assert_eq!(encode_context(&cloud(before.clone())), SUB_BEFORE);
    assert_eq!(encode_context(&cloud(pub_ctx())), PUB);
    // Decoded: no timeStamp / groupName on the wire, so none comes back.
    let back = decode(SUB_AFTER_CLOUD);
    let want = TraceContext {
        time_stamp: 0,
        group_name: String::new(),
        ..after.clone()
    };
    assert_eq!(back, vec![want.clone()]);
    assert_eq!(transfer_keys(&after), vec![ID, "k1", "k2"]);
}

#[test]
fn records_after_an_unterminated_cloud_sub_after_are_still_decoded() {
    // A cloud consumer's trace message: SubBefore, its SubAfter, then the next pair; each
    // cloud SubAfter runs straight into the record after it.
    let mut b2 = sub_ctx(TraceType::SubBefore);
    b2.request_id = "REQ2".into();
    let mut a2 = cloud(sub_ctx(TraceType::SubAfter));
    a2.request_id = "REQ2".into();
    a2.success = true;
    let a1 = cloud(sub_ctx(TraceType::SubAfter));
    let body: String = [
        sub_ctx(TraceType::SubBefore),
        a1.clone(),
        b2.clone(),
        a2.clone(),
    ]
    .iter()
    .map(encode_context)
    .collect();
    let d = decode(&body);
    let types: Vec<_> = d
        .iter()
        .map(|c| (c.trace_type, c.request_id.as_str()))
        .collect();
    assert_eq!(
        types,
        vec![
            (TraceType::SubBefore, "REQ1"),
            (TraceType::SubAfter, "REQ1"),
            (TraceType::SubBefore, "REQ2"),
            (TraceType::SubAfter, "REQ2"),
        ]
    );
    assert_eq!(d[2], b2);
    assert!(d[3].success && d[3].access_channel == AccessChannel::Cloud);
    assert_eq!(d[1].context_code, context_code::FAILED);
    // Two cloud SubAfter records back to back.
    let two = format!("{}{}", encode_context(&a1), encode_context(&a2));
    assert_eq!(decode(&two).len(), 2);
    // A local SubAfter is not mistaken for a cloud one.
    assert_eq!(decode(SUB_AFTER)[0].access_channel, AccessChannel::Local);
}

#[test]
fn a_record_buffer_keeps_each_records_region() {
    let mut b = RecordBuf::default();
    for region in ["R1", "R1", "R2", "R1"] {
        let mut c = pub_ctx();
        c.region_id = region.into();
        b.push_context(&c);
    }
    assert_eq!(
        b.region_runs(0, 4),
        vec![(0, 2, "R1"), (2, 3, "R2"), (3, 4, "R1")]
    );
    assert_eq!(b.region_runs(1, 3), vec![(1, 2, "R1"), (2, 3, "R2")]);
    assert!(b.region_runs(2, 2).is_empty());
    b.clear();
    assert!(b.region_runs(0, 0).is_empty());
    b.push_context(&pub_ctx());
    assert_eq!(b.region_runs(0, 1), vec![(0, 1, "DefaultRegion")]);
}

#[test]
fn the_trace_topic_depends_on_the_channel() {
    use crate::client::trace::{cloud_trace_topic, trace_topic_for, TRACE_TOPIC};
    assert_eq!(cloud_trace_topic("cn-hz"), "rmq_sys_TRACE_DATA_cn-hz");
    assert_eq!(
        trace_topic_for(AccessChannel::Local, TRACE_TOPIC, "cn-hz"),
        TRACE_TOPIC
    );
    assert_eq!(
        trace_topic_for(AccessChannel::Cloud, TRACE_TOPIC, "DefaultRegion"),
        "rmq_sys_TRACE_DATA_DefaultRegion"
    );
}
