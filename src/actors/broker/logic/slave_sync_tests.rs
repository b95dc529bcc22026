use super::*;
use crate::actors::broker::logic::topics::TopicTableConfig;
use crate::protocol::body::{DataVersion, SubscriptionGroupConfig};

fn addrs(broker: Option<&str>, ha: Option<&str>) -> MasterAddrs {
    MasterAddrs {
        broker_addr: broker.map(str::to_string),
        ha_addr: ha.map(str::to_string),
    }
}

#[test]
fn the_master_is_learned_from_registration_answers() {
    let none = MasterAddrs::default();
    // A slave registered before its master: an empty answer changes nothing.
    assert_eq!(SlaveSync::learn(&none, &addrs(None, None)), None);
    assert_eq!(SlaveSync::learn(&none, &addrs(Some(""), Some(""))), None);
    // The master registered: both addresses are learned.
    let m = SlaveSync::learn(&none, &addrs(Some("m:10911"), Some("m:10912"))).unwrap();
    assert_eq!(m, addrs(Some("m:10911"), Some("m:10912")));
    // The same answer again: no change (no log line).
    assert_eq!(SlaveSync::learn(&m, &m.clone()), None);
    // The master moved: followed.
    let moved = SlaveSync::learn(&m, &addrs(Some("n:1"), Some("n:2"))).unwrap();
    assert_eq!(moved, addrs(Some("n:1"), Some("n:2")));
    // The master left the name server: the sync stops, the HA address is kept (RocketMQ
    // updates it only when given).
    let gone = SlaveSync::learn(&moved, &addrs(None, None)).unwrap();
    assert_eq!(gone, addrs(None, Some("n:2")));
}

#[test]
fn no_sync_while_the_master_is_unknown_or_is_this_broker() {
    let s = SlaveSync::new("127.0.0.1:2000");
    assert_eq!(s.master_to_sync(&MasterAddrs::default()), None);
    assert_eq!(s.master_to_sync(&addrs(Some(""), None)), None);
    assert_eq!(s.master_to_sync(&addrs(Some("127.0.0.1:2000"), None)), None);
    assert_eq!(
        s.master_to_sync(&addrs(Some("127.0.0.1:1000"), None))
            .as_deref(),
        Some("127.0.0.1:1000")
    );
}

fn topic_table(now: i64) -> TopicTable {
    TopicTable::new(TopicTableConfig::default(), now)
}

#[test]
fn topics_are_replaced_only_when_the_version_differs() {
    let s = SlaveSync::new("me:1");
    let mut slave = topic_table(1);
    slave.put(TopicConfig::new("OnlyOnSlave", 2), 2);
    let mut master = topic_table(5);
    master.put(TopicConfig::new("T1", 4), 6);
    master.put(TopicConfig::new("BenchmarkTest", 8), 7);
    let r = s.topics(&slave, master.wrapper(), 100).unwrap();
    assert_eq!(r.table.data_version(), master.data_version());
    assert!(r.table.contains("T1"));
    assert!(!r.table.contains("OnlyOnSlave"), "the master's table wins");
    assert_eq!(r.table.get("BenchmarkTest").unwrap().write_queue_nums, 8);
    let added: Vec<_> = r.added.iter().map(|t| t.topic_name.as_str()).collect();
    assert_eq!(added, vec!["T1"], "only topics new to the slave");
    assert!(r.refused.is_empty());
    // Same version: nothing to do.
    assert!(s.topics(&r.table, master.wrapper(), 200).is_none());
}

#[test]
fn a_master_topic_breaking_the_rules_is_left_out() {
    let s = SlaveSync::new("me:1");
    let mut w = topic_table(5).wrapper();
    w.data_version = DataVersion {
        state_version: 0,
        counter: 9,
        timestamp: 9,
    };
    w.topic_config_table
        .insert("../evil".into(), TopicConfig::new("../evil", 1));
    let r = s.topics(&topic_table(1), w, 10).unwrap();
    assert_eq!(r.refused.len(), 1);
    assert!(!r.table.contains("../evil"));
}

#[test]
fn groups_are_replaced_only_when_the_version_differs() {
    let s = SlaveSync::new("me:1");
    let mut slave = SubscriptionGroupTable::new(true, 1);
    slave.update(SubscriptionGroupConfig::new("slave_only"), 2);
    let mut master = SubscriptionGroupTable::new(true, 3);
    master.update(SubscriptionGroupConfig::new("cg_master"), 4);
    let r = s.groups(&slave, false, master.wrapper(), 10).unwrap();
    assert!(r.table.get("cg_master").is_some());
    assert!(r.table.get("slave_only").is_none());
    assert_eq!(r.table.data_version(), master.data_version());
    assert!(s.groups(&r.table, false, master.wrapper(), 11).is_none());
}

#[test]
fn the_masters_offsets_are_put_over_the_slaves() {
    let s = SlaveSync::new("me:1");
    let mut slave = ConsumerOffsetTable::new();
    slave.commit("g", "T", 0, 5).unwrap();
    slave.commit("g", "T", 1, 9).unwrap();
    slave.commit("h", "U", 0, 1).unwrap();
    let mut master = ConsumerOffsetTable::new();
    master.commit("g", "T", 0, 7).unwrap();
    master.commit("g", "V", 0, 3).unwrap();
    let merged = s.offsets(&slave, &master).unwrap();
    assert_eq!(merged.query("g", "T", 0), Some(7));
    // A whole topic@group entry is replaced, as RocketMQ's putAll does.
    assert_eq!(merged.query("g", "T", 1), None);
    assert_eq!(merged.query("g", "V", 0), Some(3));
    assert_eq!(
        merged.query("h", "U", 0),
        Some(1),
        "slave-only entries stay"
    );
    assert!(s.offsets(&merged, &master).is_none(), "nothing changes");
}

#[test]
fn delay_offsets_are_replaced_when_different() {
    let cur: BTreeMap<i32, i64> = [(1, 3), (2, 0)].into_iter().collect();
    let same = cur.clone();
    assert!(SlaveSync::delay_offsets(&cur, same).is_none());
    let newer: BTreeMap<i32, i64> = [(1, 4)].into_iter().collect();
    assert_eq!(SlaveSync::delay_offsets(&cur, newer.clone()), Some(newer));
}

#[test]
fn bodies_parse_in_the_java_forms() {
    let d = parse_delay_offsets(b"{\n\t\"offsetTable\":{1:12,3:0}\n}").unwrap();
    assert_eq!(d, [(1, 12), (3, 0)].into_iter().collect());
    assert!(parse_delay_offsets(b"{not json").is_err());
    let t = parse_topics(
        br#"{"topicConfigTable":{"T":{"topicName":"T","readQueueNums":2,"writeQueueNums":2,"perm":6}},"dataVersion":{"counter":3,"timestamp":4}}"#,
    )
    .unwrap();
    assert_eq!(t.data_version.counter, 3);
    assert_eq!(t.topic_config_table["T"].read_queue_nums, 2);
    let g = parse_groups(
        br#"{"subscriptionGroupTable":{"cg":{"groupName":"cg"}},"dataVersion":{"counter":2,"timestamp":1}}"#,
    )
    .unwrap();
    assert!(g.subscription_group_table.contains_key("cg"));
    assert!(parse_groups(br#"{"subscriptionGroupTable":5}"#).is_err());
}
