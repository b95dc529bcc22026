//! Pulls without the SUBSCRIPTION flag (Java push consumers without `postSubscriptionWhenPull`):
//! the real `broker` binary filters them by what the group registered through its heartbeats, and
//! refuses them with Java's codes and remarks when the group is not online, consumes by
//! broadcast against its config, did not subscribe the topic, or registered an older version.

mod common;

use std::net::TcpStream;
use std::time::Duration;

use actormq::protocol::body::heartbeat::{
    ConsumeFromWhere, ConsumeType, ConsumerData, HeartbeatData, MessageModel,
};
use actormq::protocol::body::SubscriptionGroupConfig;
use actormq::protocol::filter::build_subscription;
use actormq::protocol::headers::pull::PullMessageRequestHeader;
use actormq::protocol::message::decode_records;
use actormq::protocol::RemotingCommand;
use common::rmq::*;
use common::{call, connect, start_broker, wait_until};

const BROKER: &str = env!("CARGO_BIN_EXE_broker");

/// PULL_MESSAGE without the SUBSCRIPTION flag (no expression sent), no suspension: the code, the
/// remark and the tags of the messages returned.
fn pull_registered(
    s: &mut TcpStream,
    group: &str,
    topic: &str,
    sub_version: i64,
) -> (i32, String, Vec<String>) {
    let h = PullMessageRequestHeader {
        sys_flag: 0,
        subscription: None,
        sub_version,
        expression_type: None,
        ..pull_header(group, topic)
    };
    let r = call(
        s,
        &RemotingCommand::request_with(11, &h).with_opaque(next_opaque()),
    );
    let tags = if r.code == 0 {
        decode_records(&r.body)
            .iter()
            .map(|m| m.tags().unwrap_or_default().to_string())
            .collect()
    } else {
        Vec::new()
    };
    (r.code, r.remark.unwrap_or_default(), tags)
}

/// A consumer heartbeat with a chosen message model and subscription version.
fn heartbeat_with(
    s: &mut TcpStream,
    client_id: &str,
    group: &str,
    model: MessageModel,
    subs: &[(&str, &str, i64)],
) -> i32 {
    let hb = HeartbeatData {
        client_id: client_id.into(),
        consumer_data_set: vec![ConsumerData {
            consume_from_where: ConsumeFromWhere::ConsumeFromFirstOffset,
            consume_type: ConsumeType::ConsumePassively,
            group_name: group.into(),
            message_model: model,
            subscription_data_set: subs
                .iter()
                .map(|(t, e, v)| build_subscription(t, e, *v))
                .collect(),
            unit_mode: false,
        }],
        producer_data_set: Vec::new(),
    };
    let c = RemotingCommand::request(34)
        .with_opaque(next_opaque())
        .with_body(hb.encode());
    call(s, &c).code
}

#[test]
fn pulls_without_a_subscription_use_the_registered_one_with_javas_checks() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    for t in ["PT", "PT2"] {
        assert_eq!(create_topic(&mut s, t, 1).code, 0);
    }
    for tag in ["TagA", "TagB", "TagA"] {
        assert_eq!(send(&mut s, "PT", 0, b"m", tag, "", &[]).code, 0);
    }

    // A group that never heartbeated: SUBSCRIPTION_NOT_EXIST, Java's remark.
    let (code, remark, _) = pull_registered(&mut s, "GNever", "PT", 0);
    assert_eq!(
        (code, remark.as_str()),
        (24, "the consumer's group info not exist")
    );

    // A member that heartbeated: the pull is filtered by the registered expression.
    let mut member = connect(b.addr);
    let clustering = MessageModel::Clustering;
    assert_eq!(
        heartbeat_with(
            &mut member,
            "10.0.0.1@m",
            "GP",
            clustering,
            &[("PT", "TagA", 5)]
        ),
        0
    );
    let (code, _, tags) = pull_registered(&mut s, "GP", "PT", 5);
    assert_eq!(
        (code, tags),
        (0, vec!["TagA".to_string(), "TagA".to_string()])
    );
    // An older version in the pull is fine; a newer one is not.
    assert_eq!(pull_registered(&mut s, "GP", "PT", 1).0, 0);
    let (code, remark, _) = pull_registered(&mut s, "GP", "PT", 6);
    assert_eq!(
        (code, remark.as_str()),
        (25, "the consumer's subscription not latest")
    );
    // A topic the group did not subscribe.
    let (code, remark, _) = pull_registered(&mut s, "GP", "PT2", 0);
    assert_eq!(
        (code, remark.as_str()),
        (24, "the consumer's subscription not exist")
    );

    // A newer heartbeat is in effect as soon as it is answered.
    assert_eq!(
        heartbeat_with(
            &mut member,
            "10.0.0.1@m",
            "GP",
            clustering,
            &[("PT", "TagB", 6)]
        ),
        0
    );
    let (code, _, tags) = pull_registered(&mut s, "GP", "PT", 6);
    assert_eq!((code, tags), (0, vec!["TagB".to_string()]));

    // When the last member's connection closes, the group is no longer online.
    drop(member);
    assert!(
        wait_until(Duration::from_secs(5), || {
            pull_registered(&mut s, "GP", "PT", 0).0 == 24
        }),
        "the closed member's group is still online"
    );
    let (_, remark, _) = pull_registered(&mut s, "GP", "PT", 0);
    assert_eq!(remark, "the consumer's group info not exist");
}

#[test]
fn a_broadcasting_group_needs_consume_broadcast_enable() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    assert_eq!(create_topic(&mut s, "BT", 1).code, 0);
    assert_eq!(send(&mut s, "BT", 0, b"m", "TagA", "", &[]).code, 0);

    let mut no_broadcast = SubscriptionGroupConfig::new("GNoBroadcast");
    no_broadcast.consume_broadcast_enable = false;
    let c = RemotingCommand::request(200)
        .with_opaque(next_opaque())
        .with_body(serde_json::to_vec(&no_broadcast).unwrap());
    assert_eq!(call(&mut s, &c).code, 0);

    let broadcasting = MessageModel::Broadcasting;
    for group in ["GNoBroadcast", "GBroadcast"] {
        assert_eq!(
            heartbeat_with(&mut s, "10.0.0.2@b", group, broadcasting, &[("BT", "*", 1)]),
            0
        );
    }
    let (code, remark, _) = pull_registered(&mut s, "GNoBroadcast", "BT", 0);
    assert_eq!(
        (code, remark.as_str()),
        (
            16,
            "the consumer group[GNoBroadcast] can not consume by broadcast way"
        )
    );
    // The default config allows broadcasting.
    let (code, _, tags) = pull_registered(&mut s, "GBroadcast", "BT", 0);
    assert_eq!((code, tags), (0, vec!["TagA".to_string()]));
    // As in Java, the check applies only to pulls that rely on the registration.
    let (r, msgs) = pull(&mut s, "GNoBroadcast", "BT", 0, 0, "*", 0);
    assert_eq!((r.code, msgs.len()), (0, 1));
}
