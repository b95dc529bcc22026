//! The admin request codes against the real standalone broker (and its embedded name server),
//! sent over TCP as mqadmin and the dashboard send them: broker and name-server config (26/25,
//! 319/318: effective properties, checks, black list, persisted across a restart, brokerPermission
//! applied at once), producers (204/328), groups (300, 207, 314), time span (303), consume-queue
//! dump (321), system topics (305/304), write permission (205/327) and the VIP channel.

mod common;

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::time::Duration;

use actormq::protocol::body::admin::{
    ProducerTableInfo, QueryConsumeQueueResponseBody, QueryConsumeTimeSpanBody,
};
use actormq::protocol::body::broker::{GroupList, ProducerConnection};
use actormq::protocol::body::{DataVersion, TopicList, TopicRouteData};
use actormq::protocol::codes::{request_code as rq, response_code as rc};
use actormq::protocol::RemotingCommand;
use common::{call, connect, rmq, wait_until, Broker, BROKER};

fn req(code: i32, ext: &[(&str, &str)]) -> RemotingCommand {
    rmq::request(code, ext)
}

fn with_body(code: i32, body: &str) -> RemotingCommand {
    req(code, &[]).with_body(body.as_bytes().to_vec())
}

fn props(body: &[u8]) -> BTreeMap<String, String> {
    String::from_utf8(body.to_vec())
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn route(ns: &mut TcpStream, topic: &str) -> Option<TopicRouteData> {
    let r = call(ns, &req(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", topic)]));
    (r.code == rc::SUCCESS).then(|| {
        let text = actormq::protocol::body::fastjson::normalize_keys(&r.body).unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

fn start(dir: &std::path::Path) -> Broker {
    common::start_broker(BROKER, dir, &[])
}

#[test]
fn broker_config_is_checked_applied_and_kept_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let b = start(dir.path());
    let mut s = connect(b.addr);
    let r = call(&mut s, &req(rq::GET_BROKER_CONFIG, &[]));
    assert_eq!(r.code, rc::SUCCESS, "{:?}", r.remark);
    let before = props(&r.body);
    assert_eq!(before["brokerPermission"], "6");
    assert!(before.contains_key("flushDiskType") && before.contains_key("listenPort"));
    let v0: DataVersion = serde_json::from_str(&r.ext_fields["version"]).unwrap();

    // Refusals name what is wrong and change nothing.
    let r = call(
        &mut s,
        &with_body(rq::UPDATE_BROKER_CONFIG, "brokerPermision=4"),
    );
    assert_eq!(r.code, rc::SYSTEM_ERROR);
    let remark = r.remark.unwrap();
    assert!(
        remark.contains("brokerPermision") && remark.contains("brokerPermission"),
        "{remark}"
    );
    let r = call(
        &mut s,
        &with_body(rq::UPDATE_BROKER_CONFIG, "diskMaxUsedSpaceRatio=5"),
    );
    assert_eq!(r.code, rc::SYSTEM_ERROR);
    assert!(r.remark.unwrap().contains("diskMaxUsedSpaceRatio"));
    let r = call(
        &mut s,
        &with_body(rq::UPDATE_BROKER_CONFIG, "storePathRootDir=/tmp/x"),
    );
    assert_eq!(r.code, rc::NO_PERMISSION);
    assert_eq!(
        r.remark.as_deref(),
        Some("Can not update config in black list.")
    );

    // brokerPermission applies at once: sends are refused and the route shows the new perm.
    rmq::create_topic(&mut s, "AdmPerm", 2);
    let r = call(
        &mut s,
        &with_body(
            rq::UPDATE_BROKER_CONFIG,
            "brokerPermission=4\nshortPollingTimeMills=500\n",
        ),
    );
    assert_eq!(r.code, rc::SUCCESS, "{:?}", r.remark);
    assert!(r.remark.unwrap().contains("shortPollingTimeMills"));
    let sent = rmq::send(&mut s, "AdmPerm", 0, b"x", "", "", &[]);
    assert_eq!(sent.code, rc::NO_PERMISSION, "{:?}", sent.remark);
    let mut ns = connect(b.namesrv);
    assert!(wait_until(Duration::from_secs(15), || {
        route(&mut ns, "AdmPerm").is_some_and(|r| r.queue_datas.iter().all(|q| q.perm == 4))
    }));
    let r = call(&mut s, &req(rq::GET_BROKER_CONFIG, &[]));
    assert_eq!(props(&r.body)["brokerPermission"], "4");
    let v1: DataVersion = serde_json::from_str(&r.ext_fields["version"]).unwrap();
    assert!(v1.counter > v0.counter);
    let saved = std::fs::read_to_string(dir.path().join("config/broker.properties")).unwrap();
    assert!(saved.contains("brokerPermission=4"), "{saved}");

    // A restart on the same store keeps the change.
    drop(s);
    drop(b);
    let b = start(dir.path());
    let mut s = connect(b.addr);
    let r = call(&mut s, &req(rq::GET_BROKER_CONFIG, &[]));
    let after = props(&r.body);
    assert_eq!(after["brokerPermission"], "4");
    assert_eq!(after["shortPollingTimeMills"], "500");
    let sent = rmq::send(&mut s, "AdmPerm", 0, b"x", "", "", &[]);
    assert_eq!(sent.code, rc::NO_PERMISSION);
}

#[test]
fn producers_groups_and_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let b = start(dir.path());
    let mut s = connect(b.addr);
    rmq::create_topic(&mut s, "AdmT", 1);
    // A client connection registering producer group PG_test and consumer group CG_adm.
    let mut client = connect(b.addr);
    assert_eq!(
        rmq::heartbeat(&mut client, "c@1", "CG_adm", "AdmT", "*").code,
        0
    );

    let r = call(
        &mut s,
        &req(
            rq::GET_PRODUCER_CONNECTION_LIST,
            &[("producerGroup", "PG_test")],
        ),
    );
    assert_eq!(r.code, rc::SUCCESS, "{:?}", r.remark);
    let pc = ProducerConnection::decode(&r.body).unwrap();
    assert_eq!(pc.connection_set.len(), 1);
    assert_eq!(pc.connection_set[0].client_id, "c@1");
    let r = call(
        &mut s,
        &req(
            rq::GET_PRODUCER_CONNECTION_LIST,
            &[("producerGroup", "nope")],
        ),
    );
    assert_eq!(r.code, rc::SYSTEM_ERROR);
    assert_eq!(
        r.remark.as_deref(),
        Some("the producer group[nope] not exist")
    );
    let r = call(&mut s, &req(rq::GET_ALL_PRODUCER_INFO, &[]));
    let all = ProducerTableInfo::decode(&r.body).unwrap();
    assert_eq!(all.data["PG_test"][0].client_id, "c@1");
    assert!(all.data["PG_test"][0].last_update_timestamp > 0);

    // Offsets for two groups: one online (subscribed), one only with offsets.
    for g in ["CG_adm", "CG_old"] {
        let r = call(
            &mut s,
            &req(
                rq::UPDATE_CONSUMER_OFFSET,
                &[
                    ("consumerGroup", g),
                    ("topic", "AdmT"),
                    ("queueId", "0"),
                    ("commitOffset", "3"),
                ],
            ),
        );
        assert_eq!(r.code, rc::SUCCESS);
    }
    let r = call(
        &mut s,
        &req(rq::QUERY_TOPIC_CONSUME_BY_WHO, &[("topic", "AdmT")]),
    );
    let groups = GroupList::decode(&r.body).unwrap().group_list;
    assert_eq!(groups, vec!["CG_adm", "CG_old"]);

    // Clone CG_old -> CG_new (offline: the source's subscriptions are not consulted).
    let r = call(
        &mut s,
        &req(
            rq::CLONE_GROUP_OFFSET,
            &[
                ("srcGroup", "CG_old"),
                ("destGroup", "CG_new"),
                ("offline", "true"),
            ],
        ),
    );
    assert_eq!(r.code, rc::SUCCESS, "{:?}", r.remark);
    let q = |s: &mut TcpStream, g: &str| {
        call(
            s,
            &req(
                rq::QUERY_CONSUMER_OFFSET,
                &[("consumerGroup", g), ("topic", "AdmT"), ("queueId", "0")],
            ),
        )
    };
    let r = q(&mut s, "CG_new");
    assert_eq!(
        (r.code, r.ext_fields.get("offset").map(String::as_str)),
        (0, Some("3"))
    );

    // Delete CG_old with its offsets: its config and offsets are gone.
    let r = call(
        &mut s,
        &req(
            rq::DELETE_SUBSCRIPTIONGROUP,
            &[("groupName", "CG_old"), ("removeOffset", "true")],
        ),
    );
    assert_eq!(r.code, rc::SUCCESS);
    let r = call(&mut s, &req(rq::GET_ALL_CONSUMER_OFFSET, &[]));
    let text = String::from_utf8_lossy(&r.body).to_string();
    assert!(
        !text.contains("CG_old") && text.contains("AdmT@CG_new"),
        "{text}"
    );
    let r = call(&mut s, &req(rq::GET_ALL_SUBSCRIPTIONGROUP_CONFIG, &[]));
    let text = String::from_utf8_lossy(&r.body).to_string();
    assert!(
        !text.contains("\"CG_old\"") && text.contains("\"CG_adm\""),
        "{text}"
    );
    let r = call(
        &mut s,
        &req(rq::QUERY_TOPIC_CONSUME_BY_WHO, &[("topic", "AdmT")]),
    );
    assert_eq!(
        GroupList::decode(&r.body).unwrap().group_list,
        vec!["CG_adm", "CG_new"]
    );
}

#[test]
fn time_span_consume_queue_and_system_topics() {
    let dir = tempfile::tempdir().unwrap();
    let b = start(dir.path());
    let mut s = connect(b.addr);
    rmq::create_topic(&mut s, "AdmQ", 1);
    for i in 0..5 {
        assert_eq!(
            rmq::send(
                &mut s,
                "AdmQ",
                0,
                format!("m{i}").as_bytes(),
                "TagA",
                "",
                &[]
            )
            .code,
            0
        );
    }
    let r = call(
        &mut s,
        &req(
            rq::UPDATE_CONSUMER_OFFSET,
            &[
                ("consumerGroup", "CG_q"),
                ("topic", "AdmQ"),
                ("queueId", "0"),
                ("commitOffset", "2"),
            ],
        ),
    );
    assert_eq!(r.code, rc::SUCCESS);
    let r = call(
        &mut s,
        &req(
            rq::QUERY_CONSUME_TIME_SPAN,
            &[("topic", "AdmQ"), ("group", "CG_q")],
        ),
    );
    assert_eq!(r.code, rc::SUCCESS, "{:?}", r.remark);
    let spans = QueryConsumeTimeSpanBody::decode(&r.body)
        .unwrap()
        .consume_time_span_set;
    assert_eq!(spans.len(), 1);
    let sp = &spans[0];
    assert!(sp.min_time_stamp > 0 && sp.min_time_stamp <= sp.consume_time_stamp);
    assert!(sp.consume_time_stamp <= sp.max_time_stamp && sp.delay_time >= 0);
    let r = call(
        &mut s,
        &req(
            rq::QUERY_CONSUME_TIME_SPAN,
            &[("topic", "Nope"), ("group", "g")],
        ),
    );
    assert_eq!(r.code, rc::TOPIC_NOT_EXIST);

    let cq = |s: &mut TcpStream, qid: &str, index: &str, group: Option<&str>| {
        let mut ext = vec![
            ("topic", "AdmQ"),
            ("queueId", qid),
            ("index", index),
            ("count", "10"),
        ];
        if let Some(g) = group {
            ext.push(("consumerGroup", g));
        }
        call(s, &req(rq::QUERY_CONSUME_QUEUE, &ext))
    };
    let r = cq(&mut s, "0", "1", Some("CG_offline"));
    assert_eq!(r.code, rc::SUCCESS, "{:?}", r.remark);
    let body = QueryConsumeQueueResponseBody::decode(&r.body).unwrap();
    assert_eq!((body.min_queue_index, body.max_queue_index), (0, 5));
    assert_eq!(body.queue_data.len(), 4);
    assert!(body
        .queue_data
        .windows(2)
        .all(|w| w[0].physic_offset < w[1].physic_offset));
    assert_eq!(
        body.filter_data.as_deref(),
        Some("CG_offline@AdmQ is not online!")
    );
    assert_eq!(
        cq(&mut s, "0", "9", None).remark.as_deref(),
        Some("Index 9 of 0@AdmQ is not exist!")
    );
    let r = cq(&mut s, "7", "0", None);
    assert_eq!(
        (r.code, r.remark.as_deref()),
        (rc::SYSTEM_ERROR, Some("7@AdmQ is not exist!"))
    );

    let r = call(&mut s, &req(rq::GET_SYSTEM_TOPIC_LIST_FROM_BROKER, &[]));
    let list: TopicList = serde_json::from_slice(&r.body).unwrap();
    assert!(list.topic_list.contains("TBW102"), "{list:?}");
    let mut ns = connect(b.namesrv);
    let r = call(&mut ns, &req(rq::GET_SYSTEM_TOPIC_LIST_FROM_NS, &[]));
    assert_eq!(r.code, rc::SUCCESS);
    let list: TopicList = serde_json::from_slice(&r.body).unwrap();
    assert!(list.topic_list.contains("DefaultCluster"), "{list:?}");
    assert!(list.broker_addr.is_some());
}

#[test]
fn name_server_write_perm_and_config() {
    let dir = tempfile::tempdir().unwrap();
    let b = start(dir.path());
    let mut s = connect(b.addr);
    rmq::create_topic(&mut s, "AdmW", 2);
    let mut ns = connect(b.namesrv);
    assert!(wait_until(Duration::from_secs(15), || route(
        &mut ns, "AdmW"
    )
    .is_some()));
    let name = route(&mut ns, "AdmW").unwrap().queue_datas[0]
        .broker_name
        .clone();
    let r = call(
        &mut ns,
        &req(rq::WIPE_WRITE_PERM_OF_BROKER, &[("brokerName", &name)]),
    );
    assert_eq!(r.code, rc::SUCCESS);
    assert_eq!(route(&mut ns, "AdmW").unwrap().queue_datas[0].perm, 4);
    let r = call(
        &mut ns,
        &req(rq::ADD_WRITE_PERM_OF_BROKER, &[("brokerName", &name)]),
    );
    assert_eq!(r.code, rc::SUCCESS, "{:?}", r.remark);
    assert!(r.ext_fields["addTopicCount"].parse::<i32>().unwrap() >= 1);
    assert_eq!(route(&mut ns, "AdmW").unwrap().queue_datas[0].perm, 6);

    let r = call(&mut ns, &req(rq::GET_NAMESRV_CONFIG, &[]));
    assert_eq!(r.code, rc::SUCCESS);
    assert_eq!(props(&r.body)["scanNotActiveBrokerInterval"], "10000");
    let r = call(
        &mut ns,
        &with_body(
            rq::UPDATE_NAMESRV_CONFIG,
            "scanNotActiveBrokerInterval=5000",
        ),
    );
    assert_eq!(r.code, rc::SUCCESS, "{:?}", r.remark);
    let r = call(&mut ns, &req(rq::GET_NAMESRV_CONFIG, &[]));
    assert_eq!(props(&r.body)["scanNotActiveBrokerInterval"], "5000");
    let r = call(
        &mut ns,
        &with_body(rq::UPDATE_NAMESRV_CONFIG, "kvConfigPath=/tmp/x"),
    );
    assert_eq!(r.code, rc::NO_PERMISSION);
    let r = call(
        &mut ns,
        &with_body(rq::UPDATE_NAMESRV_CONFIG, "scanNotActiveBrokerInterval=0"),
    );
    assert_eq!(r.code, rc::SYSTEM_ERROR);
    assert!(r.remark.unwrap().contains("scanNotActiveBrokerInterval"));
    let saved = std::fs::read_to_string(dir.path().join("config/namesrv.properties")).unwrap();
    assert_eq!(saved, "scanNotActiveBrokerInterval=5000\n");
}

#[test]
fn vip_channel_serves_the_same_requests() {
    let dir = tempfile::tempdir().unwrap();
    let b = start(dir.path());
    // After the broker line: the HA line (a master), then the VIP channel's.
    let line = (0..2)
        .map(|_| {
            b.server
                .stdout_lines
                .recv_timeout(Duration::from_secs(20))
                .expect("the HA and VIP channel lines")
        })
        .find(|l| l.starts_with("vip channel listening on "))
        .expect("a VIP channel line");
    let vip = common::listening_addr(&line);
    assert_ne!(vip, b.addr);
    let r = call(&mut connect(vip), &req(rq::GET_BROKER_CONFIG, &[]));
    assert_eq!(r.code, rc::SUCCESS);
    assert!(props(&r.body).contains_key("brokerName"));
}
