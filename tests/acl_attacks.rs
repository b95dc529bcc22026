//! Issue 14's attacks, replayed from an anonymous connection against a standalone broker (and its
//! name server): with `aclEnable=true` each is refused with RocketMQ's answer and nothing changes;
//! with ACL off (the default) each still works as before (the state change is checked), so the
//! default is unchanged. Then the same admin requests signed by a non-admin account, and that
//! account reaching for another group's state or another topic's messages: refused.

mod common;

use std::net::TcpStream;

use actormq::protocol::message::decode_offset_msg_id;
use actormq::protocol::RemotingCommand;
use common::acl::*;
use common::rmq::request;
use common::{call, connect, start_broker, Broker, BROKER};

/// The victim's setup (signed with `APP` when ACL is on): topics, a message with a key, a
/// registered consumer of `AclG` with committed offset 5. Returns the message's commit-log offset.
fn victim_setup(b: &Broker, acl: bool) -> (TcpStream, i64) {
    let mut v = connect(b.addr);
    let admin = |c: RemotingCommand| if acl { signed(c, ADMIN) } else { c };
    let app = |c: RemotingCommand| if acl { signed(c, APP) } else { c };
    for t in ["AclT", "DoomedT"] {
        assert_eq!(call(&mut v, &admin(create_topic_cmd(t, 1))).code, 0);
    }
    let r = call(&mut v, &app(send_keyed_cmd("AclT", b"secret", "k1")));
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let (_, phys) = decode_offset_msg_id(r.ext("msgId").unwrap()).unwrap();
    let hb = serde_json::json!({"clientID": "victim@1", "producerDataSet": [],
        "consumerDataSet": [{"groupName": "AclG", "consumeType": "CONSUME_PASSIVELY",
            "messageModel": "CLUSTERING", "consumeFromWhere": "CONSUME_FROM_FIRST_OFFSET",
            "unitMode": false, "subscriptionDataSet": [{"topic": "AclT", "subString": "*",
                "tagsSet": [], "codeSet": [], "subVersion": 1, "expressionType": "TAG",
                "classFilterMode": false}]}]});
    let c = RemotingCommand::request(34)
        .with_opaque(common::rmq::next_opaque())
        .with_body(hb.to_string().into_bytes());
    assert_eq!(call(&mut v, &app(c)).code, 0);
    assert_eq!(call(&mut v, &app(offset_cmd(15, "5"))).code, 0);
    (v, phys)
}

fn offset_cmd(code: i32, offset: &str) -> RemotingCommand {
    let mut ext = vec![
        ("consumerGroup", "AclG"),
        ("topic", "AclT"),
        ("queueId", "0"),
    ];
    if code == 15 {
        ext.push(("commitOffset", offset));
    }
    request(code, &ext)
}

fn lock_cmd(client: &str, group: &str) -> RemotingCommand {
    let body = serde_json::json!({"clientId": client, "consumerGroup": group,
        "mqSet": [{"brokerName": "broker-a", "queueId": 0, "topic": "AclT"}]});
    RemotingCommand::request(41)
        .with_opaque(common::rmq::next_opaque())
        .with_body(body.to_string().into_bytes())
}

fn register_cmd(addr: &str) -> RemotingCommand {
    let body = serde_json::json!({"filterServerList": [],
        "topicConfigSerializeWrapper": {"dataVersion": {"counter": 99, "timestamp": 1},
            "topicConfigTable": {"AclT": {"topicName": "AclT", "readQueueNums": 1,
                "writeQueueNums": 1, "perm": 6}}}});
    let mut c = request(
        103,
        &[
            ("brokerName", "broker-a"),
            ("brokerAddr", addr),
            ("clusterName", "DefaultCluster"),
            ("haServerAddr", addr),
            ("brokerId", "0"),
        ],
    );
    c.body = body.to_string().into_bytes().into();
    c
}

/// Whether the broker pushed RESET_CONSUMER_CLIENT_OFFSET (220) to the victim's connection.
fn reset_pushed(v: &mut TcpStream) -> bool {
    for _ in 0..10 {
        let Ok(bytes) = common::read_frame_bytes(v) else {
            return false;
        };
        let c = actormq::protocol::frame::parse(bytes.into()).unwrap();
        if !c.is_response() && c.code == 220 {
            return true;
        }
    }
    false
}

/// The anonymous attacks (see the module doc). `refused` checks one answer: denied with ACL on,
/// accepted with it off.
fn attacks(b: &Broker, acl: bool) {
    let (mut v, phys) = victim_setup(b, acl);
    let vsign = |c: RemotingCommand| if acl { signed(c, ADMIN) } else { c };
    let mut a = connect(b.addr);
    let mut attempt = |c: RemotingCommand| {
        let r = call(&mut a, &c);
        if acl {
            assert_denied(&r, "No accessKey is configured");
        } else {
            assert_eq!(r.code, 0, "code {}: {:?}", c.code, r.remark);
        }
        r
    };
    let topics = |v: &mut TcpStream| {
        let r = call(v, &vsign(request(21, &[])));
        String::from_utf8_lossy(&r.body).to_string()
    };
    attempt(create_topic_cmd("EvilT", 1));
    attempt(request(215, &[("topic", "DoomedT")]));
    let t = topics(&mut v);
    assert_eq!(t.contains("\"EvilT\""), !acl, "topic created");
    assert_eq!(t.contains("\"DoomedT\""), acl, "topic deleted");

    let committed = |v: &mut TcpStream| {
        call(v, &vsign(offset_cmd(14, "")))
            .ext("offset")
            .map(str::to_string)
    };
    let reset = [
        ("topic", "AclT"),
        ("group", "AclG"),
        ("timestamp", "0"),
        ("isForce", "true"),
    ];
    attempt(request(222, &reset));
    if !acl {
        assert!(
            reset_pushed(&mut v),
            "the victim was told to reset its offsets"
        );
    }
    assert_eq!(committed(&mut v).as_deref(), Some("5"));
    attempt(offset_cmd(15, "9999"));
    assert_eq!(
        committed(&mut v).as_deref(),
        Some(if acl { "5" } else { "9999" })
    );

    let r = attempt(request(33, &[("offset", &phys.to_string())]));
    assert_eq!(r.body.is_empty(), acl, "message body revealed");
    let now = actormq::clock::now_ms().to_string();
    let q = [
        ("topic", "AclT"),
        ("key", "k1"),
        ("maxNum", "32"),
        ("beginTimestamp", "0"),
        ("endTimestamp", &now),
    ];
    let r = attempt(request(12, &q));
    assert_eq!(r.body.is_empty(), acl, "message body revealed");

    attempt(request(
        35,
        &[("clientID", "victim@1"), ("consumerGroup", "AclG")],
    ));
    let r = call(&mut v, &vsign(request(38, &[("consumerGroup", "AclG")])));
    let listed = String::from_utf8_lossy(&r.body).contains("victim@1");
    assert_eq!(listed, acl, "victim still in its group");

    let r = attempt(lock_cmd("evil@1", "AclG"));
    if !acl {
        assert!(
            String::from_utf8_lossy(&r.body).contains("\"queueId\":0"),
            "attacker got the queue"
        );
    }
    let r = call(&mut v, &vsign(lock_cmd("victim@1", "AclG")));
    let victim_locked = String::from_utf8_lossy(&r.body).contains("\"queueId\":0");
    assert_eq!(victim_locked, acl, "victim's lock");

    namesrv_attacks(b, acl);
}

/// The name-server attacks: WIPE write perm, DELETE_TOPIC_IN_NAMESRV, REGISTER_BROKER as
/// broker-a at another address.
fn namesrv_attacks(b: &Broker, acl: bool) {
    let (mut n, mut reader) = (connect(b.namesrv), connect(b.namesrv));
    let route = |n: &mut TcpStream| call(n, &request(105, &[("topic", "AclT")]));
    // The broker registered AclT when it was created (signed with its keys when ACL is on).
    assert!(common::wait_until(
        std::time::Duration::from_secs(10),
        || route(&mut reader).code == 0
    ));
    let mut attempt = |c: RemotingCommand| {
        let r = call(&mut n, &c);
        if acl {
            assert_denied(&r, "No accessKey is configured");
        } else {
            assert_eq!(r.code, 0, "code {}: {:?}", c.code, r.remark);
        }
    };
    attempt(request(205, &[("brokerName", "broker-a")]));
    let r = route(&mut reader);
    assert_eq!(r.code, 0, "route reads stay open");
    assert_eq!(
        String::from_utf8_lossy(&r.body).contains("\"perm\":6"),
        acl,
        "write perm kept"
    );
    attempt(register_cmd("10.66.0.1:10911"));
    let r = route(&mut reader);
    assert_eq!(
        String::from_utf8_lossy(&r.body).contains("10.66.0.1"),
        !acl,
        "broker-a moved"
    );
    attempt(request(216, &[("topic", "AclT")]));
    assert_eq!(route(&mut reader).code == 0, acl, "route deleted");
}

#[test]
fn with_acl_on_every_attack_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (b, _) = start_acl_broker(dir.path(), ACL_FILE);
    attacks(&b, true);
}

#[test]
fn with_acl_off_the_same_requests_behave_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    attacks(&b, false);
}

#[test]
fn a_signed_non_admin_account_is_refused_admin_and_other_parties_state() {
    let dir = tempfile::tempdir().unwrap();
    let (b, _) = start_acl_broker(dir.path(), ACL_FILE);
    let mut s = connect(b.addr);
    assert_eq!(
        call_as(&mut s, create_topic_cmd("SecretT", 1), ADMIN).code,
        0
    );
    let r = call_as(&mut s, send_cmd("SecretT", b"not for app"), ADMIN);
    let (_, phys) = decode_offset_msg_id(r.ext("msgId").unwrap()).unwrap();
    let need_admin = |code: i32| {
        format!("Need admin permission for request code={code}, but accessKey=appUser1 is not")
    };
    for c in [
        create_topic_cmd("EvilT", 1),
        request(215, &[("topic", "SecretT")]),
        request(
            222,
            &[
                ("topic", "SecretT"),
                ("group", "AclG"),
                ("timestamp", "0"),
                ("isForce", "true"),
            ],
        ),
        request(203, &[("consumerGroup", "AclG")]),
        request(25, &[]),
    ] {
        let code = c.code;
        assert_denied(&call_as(&mut s, c, APP), &need_admin(code));
    }
    let other = [
        ("consumerGroup", "OtherG"),
        ("topic", "AclT"),
        ("queueId", "0"),
        ("commitOffset", "9"),
    ];
    assert_denied(&call_as(&mut s, request(15, &other), APP), "group:OtherG");
    let unreg = [("clientID", "victim@1"), ("consumerGroup", "OtherG")];
    assert_denied(&call_as(&mut s, request(35, &unreg), APP), "group:OtherG");
    assert_denied(
        &call_as(&mut s, lock_cmd("evil@1", "OtherG"), APP),
        "group:OtherG",
    );
    // Sending another topic's message back into one's own group's retry topic would reveal it.
    let back = [
        ("offset", phys.to_string()),
        ("group", "AclG".into()),
        ("delayLevel", "0".into()),
        ("originMsgId", "x".into()),
        ("originTopic", "AclT".into()),
    ];
    let back: Vec<(&str, &str)> = back.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_denied(&call_as(&mut s, request(36, &back), APP), "topic:SecretT");
    // The message's topic is known once it is read: still refused, nothing revealed.
    let r = call_as(&mut s, request(33, &[("offset", &phys.to_string())]), APP);
    assert_denied(&r, "topic:SecretT");
    assert!(r.body.is_empty());
    let mut n = connect(b.namesrv);
    for c in [
        request(205, &[("brokerName", "broker-a")]),
        register_cmd("10.66.0.1:10911"),
    ] {
        let code = c.code;
        assert_denied(&call_as(&mut n, c, APP), &need_admin(code));
    }
}
