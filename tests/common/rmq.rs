//! Raw RocketMQ requests for broker tests: each builds the frame a real client sends, over a plain
//! blocking `TcpStream`, so the tests exercise the broker exactly as a client would.
#![allow(dead_code)]

use std::net::TcpStream;

use actormq::protocol::body::heartbeat::{
    ConsumeFromWhere, ConsumeType, ConsumerData, HeartbeatData, MessageModel, ProducerData,
};
use actormq::protocol::filter::build_subscription;
use actormq::protocol::headers::pull::PullMessageRequestHeader;
use actormq::protocol::headers::send::{SendMessageRequestHeader, SendMessageRequestHeaderV2};
use actormq::protocol::message::{decode_records, MessageExt, Properties};
use actormq::protocol::RemotingCommand;
use std::sync::atomic::{AtomicI32, Ordering};

use super::call;

static OPAQUE: AtomicI32 = AtomicI32::new(1000);

pub fn next_opaque() -> i32 {
    OPAQUE.fetch_add(1, Ordering::Relaxed)
}

pub fn create_topic(s: &mut TcpStream, topic: &str, queues: i32) -> RemotingCommand {
    call(s, &create_topic_request(topic, queues))
}

/// UPDATE_AND_CREATE_TOPIC (17) for `topic` with `queues` read/write queues, as mqadmin sends it.
pub fn create_topic_request(topic: &str, queues: i32) -> RemotingCommand {
    let mut c = RemotingCommand::request(17).with_opaque(next_opaque());
    for (k, v) in [
        ("topic", topic.to_string()),
        ("defaultTopic", "TBW102".to_string()),
        ("readQueueNums", queues.to_string()),
        ("writeQueueNums", queues.to_string()),
        ("perm", "6".to_string()),
        ("topicFilterType", "SINGLE_TAG".to_string()),
        ("topicSysFlag", "0".to_string()),
        ("order", "false".to_string()),
    ] {
        c.set_ext(k, v);
    }
    c
}

/// The header of a single send as a Java producer fills it (queue `queue`, no properties, 4
/// default queues); tests change the fields they are about.
pub fn send_header(topic: &str, queue: i32) -> SendMessageRequestHeader {
    SendMessageRequestHeader {
        producer_group: "PG_test".into(),
        topic: topic.into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id: queue,
        sys_flag: 0,
        born_timestamp: actormq::clock::now_ms(),
        flag: 0,
        properties: Some(String::new()),
        reconsume_times: Some(0),
        unit_mode: Some(false),
        batch: Some(false),
        max_reconsume_times: None,
        bname: None,
    }
}

/// The header of a pull of queue 0 from offset 0 with the subscription flag and `*`; tests change
/// the fields they are about.
pub fn pull_header(group: &str, topic: &str) -> PullMessageRequestHeader {
    PullMessageRequestHeader {
        consumer_group: group.into(),
        topic: topic.into(),
        queue_id: 0,
        queue_offset: 0,
        max_msg_nums: 32,
        sys_flag: 0x4,
        commit_offset: 0,
        suspend_timeout_millis: 0,
        subscription: Some("*".into()),
        sub_version: 0,
        expression_type: Some("TAG".into()),
        bname: None,
    }
}

/// SEND_MESSAGE_V2 with tags, keys and extra properties; returns the response.
pub fn send(
    s: &mut TcpStream,
    topic: &str,
    queue: i32,
    body: &[u8],
    tags: &str,
    keys: &str,
    extra: &[(&str, &str)],
) -> RemotingCommand {
    call(s, &send_request(topic, queue, body, tags, keys, extra))
}

/// The SEND_MESSAGE_V2 request [`send`] sends.
pub fn send_request(
    topic: &str,
    queue: i32,
    body: &[u8],
    tags: &str,
    keys: &str,
    extra: &[(&str, &str)],
) -> RemotingCommand {
    let mut props = Properties::new();
    if !tags.is_empty() {
        props.insert("TAGS", tags);
    }
    if !keys.is_empty() {
        props.insert("KEYS", keys);
    }
    props.insert("WAIT", "true");
    for (k, v) in extra {
        props.insert(k, v);
    }
    let h = SendMessageRequestHeader {
        properties: Some(props.encode()),
        ..send_header(topic, queue)
    };
    let v2: SendMessageRequestHeaderV2 = h.into();
    RemotingCommand::request_with(310, &v2)
        .with_opaque(next_opaque())
        .with_body(body.to_vec())
}

/// PULL_MESSAGE with the subscription flag (and suspend when `suspend_ms > 0`).
pub fn pull(
    s: &mut TcpStream,
    group: &str,
    topic: &str,
    queue: i32,
    offset: i64,
    expr: &str,
    suspend_ms: i64,
) -> (RemotingCommand, Vec<MessageExt>) {
    let mut sys_flag = 0x4;
    if suspend_ms > 0 {
        sys_flag |= 0x2;
    }
    let h = PullMessageRequestHeader {
        queue_id: queue,
        queue_offset: offset,
        sys_flag,
        suspend_timeout_millis: suspend_ms,
        subscription: Some(expr.into()),
        ..pull_header(group, topic)
    };
    let c = RemotingCommand::request_with(11, &h).with_opaque(next_opaque());
    let r = call(s, &c);
    let msgs = if r.code == 0 {
        decode_records(&r.body)
    } else {
        Vec::new()
    };
    (r, msgs)
}

/// Pull every message of a queue from `offset` (no suspension).
pub fn pull_all(
    s: &mut TcpStream,
    group: &str,
    topic: &str,
    queue: i32,
    expr: &str,
) -> Vec<MessageExt> {
    let mut out = Vec::new();
    let mut offset = 0;
    for _ in 0..10_000 {
        let (r, msgs) = pull(s, group, topic, queue, offset, expr, 0);
        let next: i64 = r
            .ext("nextBeginOffset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(offset);
        out.extend(msgs);
        if r.code != 0 && r.code != 20 || next == offset {
            break;
        }
        offset = next;
    }
    out
}

/// A consumer heartbeat for `group` subscribing `topic` with `expr`.
pub fn heartbeat(
    s: &mut TcpStream,
    client_id: &str,
    group: &str,
    topic: &str,
    expr: &str,
) -> RemotingCommand {
    let hb = HeartbeatData {
        client_id: client_id.into(),
        consumer_data_set: vec![ConsumerData {
            consume_from_where: ConsumeFromWhere::ConsumeFromFirstOffset,
            consume_type: ConsumeType::ConsumePassively,
            group_name: group.into(),
            message_model: MessageModel::Clustering,
            subscription_data_set: vec![build_subscription(topic, expr, 1)],
            unit_mode: false,
        }],
        producer_data_set: vec![ProducerData {
            group_name: "PG_test".into(),
        }],
    };
    let c = RemotingCommand::request(34)
        .with_opaque(next_opaque())
        .with_body(hb.encode());
    call(s, &c)
}

/// A request with `code` and ext fields.
pub fn request(code: i32, ext: &[(&str, &str)]) -> RemotingCommand {
    let mut c = RemotingCommand::request(code).with_opaque(next_opaque());
    for (k, v) in ext {
        c.set_ext(k, v);
    }
    c
}
