//! Tests of the client registry (a separate file to keep `client_table.rs` readable).

use super::*;

fn client(conn: ConnId, id: &str) -> ClientInfo {
    ClientInfo {
        conn,
        client_id: id.to_string(),
        addr: format!("10.0.0.{conn}:4000"),
        language: LanguageCode::Java,
        version: 409,
    }
}

const LIMITS: HeartbeatLimits = HeartbeatLimits {
    max_groups_per_client: 3,
    max_subscriptions_per_group: 2,
};

fn groups_hb(client_id: &str, names: &[&str]) -> HeartbeatData {
    HeartbeatData {
        client_id: client_id.into(),
        consumer_data_set: names
            .iter()
            .map(|g| consumer(g, vec![sub("T", "*", 1)]))
            .collect(),
        producer_data_set: Vec::new(),
    }
}

fn sub(topic: &str, expr: &str, version: i64) -> SubscriptionData {
    SubscriptionData {
        sub_string: expr.to_string(),
        sub_version: version,
        topic: topic.to_string(),
        ..Default::default()
    }
}

fn consumer(group: &str, subs: Vec<SubscriptionData>) -> ConsumerData {
    ConsumerData {
        group_name: group.to_string(),
        subscription_data_set: subs,
        ..Default::default()
    }
}

#[test]
fn first_registration_and_new_client_ids_change_membership() {
    let mut t = ClientTable::new();
    let data = consumer("g", vec![sub("T", "*", 1)]);
    assert!(t.register_consumer(&client(1, "c1"), &data, 0));
    assert!(
        !t.register_consumer(&client(1, "c1"), &data, 10),
        "a plain refresh"
    );
    assert!(
        t.register_consumer(&client(2, "c2"), &data, 10),
        "a new client id"
    );
    // The same client id over a second connection is not a new member.
    assert!(!t.register_consumer(&client(3, "c2"), &data, 10));
    assert_eq!(t.consumer_ids("g"), vec!["c1", "c2"]);
    assert_eq!(t.connections_of("g"), vec![1, 2, 3]);
    assert!(t.consumer_ids("nope").is_empty());
    assert!(t.connections_of("nope").is_empty());
}

#[test]
fn subscription_topic_changes_count_but_newer_versions_only_replace() {
    let mut t = ClientTable::new();
    let c = client(1, "c1");
    t.register_consumer(&c, &consumer("g", vec![sub("T", "a", 5)]), 0);
    // Newer version: replaced, not a membership change.
    assert!(!t.register_consumer(&c, &consumer("g", vec![sub("T", "b", 6)]), 1));
    assert_eq!(
        t.snapshot()
            .pull_subscription("g", "T", 0, true)
            .ok()
            .unwrap()
            .sub_string,
        "b"
    );
    // Older or equal version: kept.
    assert!(!t.register_consumer(&c, &consumer("g", vec![sub("T", "old", 6)]), 2));
    assert!(!t.register_consumer(&c, &consumer("g", vec![sub("T", "older", 3)]), 2));
    assert_eq!(
        t.snapshot()
            .pull_subscription("g", "T", 0, true)
            .ok()
            .unwrap()
            .sub_string,
        "b"
    );
    // A topic added, then one dropped: both are changes.
    assert!(t.register_consumer(
        &c,
        &consumer("g", vec![sub("T", "b", 6), sub("U", "*", 1)]),
        3
    ));
    assert!(t.register_consumer(&c, &consumer("g", vec![sub("U", "*", 1)]), 4));
    assert!(t
        .snapshot()
        .pull_subscription("g", "T", 0, true)
        .ok()
        .is_none());
    assert_eq!(t.groups_subscribing("U"), vec!["g"]);
    assert!(t.groups_subscribing("T").is_empty());
}

#[test]
fn group_settings_follow_the_latest_heartbeat() {
    let mut t = ClientTable::new();
    let mut d = consumer("g", vec![]);
    d.consume_type = ConsumeType::ConsumeActively;
    d.message_model = MessageModel::Broadcasting;
    d.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    t.register_consumer(&client(1, "c1"), &d, 0);
    let g = t.consumer_group("g").unwrap();
    assert_eq!(g.consume_type(), ConsumeType::ConsumeActively);
    assert_eq!(g.message_model(), MessageModel::Broadcasting);
    assert_eq!(
        g.consume_from_where(),
        ConsumeFromWhere::ConsumeFromFirstOffset
    );
}

#[test]
fn unregister_removes_by_connection_or_client_id() {
    let mut t = ClientTable::new();
    let d = consumer("g", vec![sub("T", "*", 1)]);
    t.register_consumer(&client(1, "c1"), &d, 0);
    t.register_consumer(&client(2, "c2"), &d, 0);
    t.register_consumer(&client(3, "c2"), &d, 0);
    t.register_producer(&client(1, "c1"), "pg", 0);
    // c2 unregisters over connection 2: its connection 3 entry goes too.
    assert_eq!(t.unregister("c2", Some("pg"), Some("g"), 2), vec!["g"]);
    assert_eq!(t.consumer_ids("g"), vec!["c1"]);
    assert_eq!(t.connections_of("g"), vec![1]);
    assert!(
        t.producer_connection_for_group("pg").is_some(),
        "c1 still produces"
    );
    // Unknown client: nothing changes.
    assert!(t.unregister("cx", None, Some("g"), 9).is_empty());
    assert!(t.unregister("c1", Some("pg"), Some("g"), 1) == vec!["g"]);
    assert!(t.consumer_group("g").is_none(), "an empty group disappears");
    assert!(t.producer_connection_for_group("pg").is_none());
    assert!(t.unregister("c1", None, Some("g"), 1).is_empty());
}

#[test]
fn connection_close_drops_all_entries_of_that_connection() {
    let mut t = ClientTable::new();
    let c = client(7, "c7");
    t.register_consumer(&c, &consumer("g1", vec![]), 0);
    t.register_consumer(&c, &consumer("g2", vec![]), 0);
    t.register_consumer(&client(8, "c8"), &consumer("g2", vec![]), 0);
    t.register_consumer(&client(9, "c7"), &consumer("g3", vec![]), 0);
    t.register_consumer(&client(7, "c7"), &consumer("g3", vec![]), 0);
    t.register_producer(&c, "pg", 0);
    let changed = t.connection_closed(7);
    // g3 still has c7 over connection 9, so its membership is unchanged.
    assert_eq!(changed, vec!["g1", "g2"]);
    assert!(t.consumer_group("g1").is_none());
    assert_eq!(t.consumer_ids("g2"), vec!["c8"]);
    assert_eq!(t.connections_of("g3"), vec![9]);
    assert!(t.producer_connection("pg").is_none());
    assert!(t.connection_closed(7).is_empty());
}

#[test]
fn expiry_boundary_is_strictly_greater() {
    let mut t = ClientTable::new();
    t.register_consumer(&client(1, "c1"), &consumer("g", vec![]), 0);
    t.register_consumer(&client(2, "c2"), &consumer("g", vec![]), 50);
    t.register_producer(&client(3, "p3"), "pg", 0);
    // Exactly 120 s old: alive.
    let e = t.scan_expired(120_000, 120_000);
    assert_eq!(e, Expired::default());
    // One ms later c1 and p3 are gone; c2 (heard at 50) is not.
    let e = t.scan_expired(120_001, 120_000);
    assert_eq!(e.conns, BTreeSet::from([1, 3]));
    assert_eq!(e.changed_groups, vec!["g"]);
    assert_eq!(t.consumer_ids("g"), vec!["c2"]);
    assert!(t.producer_connection_for_group("pg").is_none());
    // A refreshed entry survives a later scan.
    t.register_consumer(&client(2, "c2"), &consumer("g", vec![]), 200_000);
    assert_eq!(t.scan_expired(300_000, 120_000), Expired::default());
    let e = t.scan_expired(320_001, 120_000);
    assert_eq!(e.changed_groups, vec!["g"]);
    assert!(t.consumer_groups().is_empty());
}

#[test]
fn heartbeat_registers_everything_and_reports_changed_groups() {
    let mut t = ClientTable::new();
    let hb = HeartbeatData {
        client_id: "c1".into(),
        consumer_data_set: vec![
            consumer("g1", vec![sub("T", "*", 1)]),
            consumer("g2", vec![]),
        ],
        producer_data_set: vec![crate::protocol::body::ProducerData {
            group_name: "pg".into(),
        }],
    };
    let mut with_blank = hb.clone();
    with_blank.consumer_data_set.push(consumer(" ", vec![]));
    with_blank
        .producer_data_set
        .push(crate::protocol::body::ProducerData {
            group_name: String::new(),
        });
    assert_eq!(
        t.heartbeat(&client(1, "c1"), &with_blank, 0, &LIMITS),
        Ok(vec!["g1".to_string(), "g2".to_string()])
    );
    assert_eq!(
        t.consumer_groups(),
        vec!["g1", "g2"],
        "blank group names are skipped"
    );
    assert!(t.producer_connection("").is_none());
    assert_eq!(t.heartbeat(&client(1, "c1"), &hb, 1, &LIMITS), Ok(vec![]));
    assert_eq!(t.producer_connection_for_group("pg"), Some(1));
}

#[test]
fn producer_connection_prefers_the_freshest() {
    let mut t = ClientTable::new();
    t.register_producer(&client(1, "a"), "pg", 100);
    t.register_producer(&client(2, "b"), "pg", 200);
    assert_eq!(t.producer_connection_for_group("pg"), Some(2));
    t.register_producer(&client(1, "a"), "pg", 300);
    assert_eq!(t.producer_connection_for_group("pg"), Some(1));
    assert_eq!(t.producer_connection_for_group("other"), None);
}

#[test]
fn admin_views() {
    let mut t = ClientTable::new();
    let mut cpp = client(4, "c4");
    cpp.language = LanguageCode::Cpp;
    cpp.version = 333;
    t.register_consumer(&cpp, &consumer("g", vec![sub("T", "a||b", 9)]), 0);
    t.register_producer(&cpp, "pg", 0);
    let cc = t.consumer_connection("g").unwrap();
    assert_eq!(cc.connection_set.len(), 1);
    let conn = &cc.connection_set[0];
    assert_eq!(
        (
            conn.client_addr.as_str(),
            conn.client_id.as_str(),
            conn.language.as_str(),
            conn.version
        ),
        ("10.0.0.4:4000", "c4", "CPP", 333)
    );
    assert_eq!(cc.subscription_table["T"].sub_version, 9);
    assert_eq!(cc.consume_type, ConsumeType::ConsumePassively);
    assert!(t.consumer_connection("none").is_none());
    assert_eq!(
        t.producer_connection("pg").unwrap().connection_set[0].client_id,
        "c4"
    );
    assert_eq!(t.consumer_conn("g", "c4"), Some(4));
    assert_eq!(t.consumer_conn("g", "zz"), None);
}

#[test]
fn pull_subscription_checks() {
    use crate::protocol::codes::response_code;
    let mut t = ClientTable::new();
    assert_eq!(
        t.snapshot().pull_subscription("g", "T", 0, true),
        Err(PullSubscriptionError::GroupNotOnline)
    );
    t.register_consumer(
        &client(1, "c1"),
        &consumer("g", vec![sub("T", "a", 100)]),
        0,
    );
    assert_eq!(
        t.snapshot()
            .pull_subscription("g", "T", 100, true)
            .unwrap()
            .sub_string,
        "a"
    );
    assert_eq!(
        t.snapshot()
            .pull_subscription("g", "T", 99, true)
            .unwrap()
            .sub_version,
        100
    );
    assert_eq!(
        t.snapshot().pull_subscription("g", "T", 101, true),
        Err(PullSubscriptionError::NotLatest)
    );
    assert_eq!(
        t.snapshot().pull_subscription("g", "U", 0, true),
        Err(PullSubscriptionError::NotSubscribed)
    );
    let mut b = consumer("g", vec![sub("T", "a", 100)]);
    b.message_model = MessageModel::Broadcasting;
    t.register_consumer(&client(1, "c1"), &b, 1);
    assert!(t.snapshot().pull_subscription("g", "T", 0, true).is_ok());
    let e = t
        .snapshot()
        .pull_subscription("g", "T", 0, false)
        .unwrap_err();
    assert_eq!(e, PullSubscriptionError::BroadcastForbidden("g".into()));
    let e = crate::error::ServiceError::from(e);
    assert_eq!(e.code(), response_code::NO_PERMISSION);
    // The published snapshot answers exactly as the table does.
    let snap = t.snapshot();
    for (group, topic, version, broadcast) in [
        ("g", "T", 0, true),
        ("g", "T", 0, false),
        ("g", "T", 101, true),
        ("g", "U", 0, true),
        ("x", "T", 0, true),
    ] {
        assert_eq!(
            snap.pull_subscription(group, topic, version, broadcast),
            t.snapshot()
                .pull_subscription(group, topic, version, broadcast),
            "{group} {topic} {version} {broadcast}"
        );
    }
}

#[test]
fn a_snapshot_is_made_only_when_subscriptions_change() {
    let mut t = ClientTable::new();
    assert!(t.snapshot_if_changed().is_none());
    let c1 = client(1, "c1");
    t.register_consumer(&c1, &consumer("g", vec![sub("T", "a", 1)]), 0);
    let s1 = t.snapshot_if_changed().expect("a new group");
    assert_eq!(s1.len(), 1);
    assert!(t.snapshot_if_changed().is_none());

    // A refresh, or a second member with the same subscriptions: no new snapshot.
    t.register_consumer(&c1, &consumer("g", vec![sub("T", "a", 1)]), 10);
    t.register_consumer(&client(2, "c2"), &consumer("g", vec![sub("T", "a", 1)]), 10);
    assert!(t.snapshot_if_changed().is_none());

    // A newer subVersion: a new snapshot; the old one still answers as before.
    t.register_consumer(&c1, &consumer("g", vec![sub("T", "b", 2)]), 20);
    let s2 = t.snapshot_if_changed().expect("newer subscription");
    assert_eq!(
        s2.pull_subscription("g", "T", 2, true).unwrap().sub_string,
        "b"
    );
    assert_eq!(
        s1.pull_subscription("g", "T", 0, true).unwrap().sub_string,
        "a"
    );
    assert_eq!(
        s1.pull_subscription("g", "T", 2, true),
        Err(PullSubscriptionError::NotLatest)
    );

    // The message model is part of it.
    let mut b = consumer("g", vec![sub("T", "b", 2)]);
    b.message_model = MessageModel::Broadcasting;
    t.register_consumer(&c1, &b, 30);
    let s3 = t.snapshot_if_changed().expect("model changed");
    assert_eq!(
        s3.group("g").unwrap().message_model(),
        MessageModel::Broadcasting
    );

    // The group goes when its last member goes; another group's snapshot is shared, not copied.
    t.register_consumer(&client(3, "c3"), &consumer("h", vec![sub("U", "*", 1)]), 30);
    let s4 = t.snapshot_if_changed().unwrap();
    assert_eq!(t.connection_closed(1), ["g"]);
    assert!(t.snapshot_if_changed().is_none(), "c2 is still in g");
    t.connection_closed(2);
    let s5 = t.snapshot_if_changed().expect("g went");
    assert!(s5.group("g").is_none());
    assert_eq!(
        s5.pull_subscription("g", "T", 0, true),
        Err(PullSubscriptionError::GroupNotOnline)
    );
    assert!(std::ptr::eq(s4.group("h").unwrap(), s5.group("h").unwrap()));
    t.scan_expired(1_000_000, 10);
    assert!(t.snapshot_if_changed().unwrap().is_empty());
}

#[test]
fn a_connection_cannot_pass_the_group_bound_over_several_heartbeats() {
    let mut t = ClientTable::new();
    let c = client(1, "c1");
    assert!(t
        .heartbeat(&c, &groups_hb("c1", &["a", "b"]), 0, &LIMITS)
        .is_ok());
    // Same groups again plus one new: 3, at the bound.
    assert!(t
        .heartbeat(&c, &groups_hb("c1", &["a", "c"]), 1, &LIMITS)
        .is_ok());
    assert_eq!(t.groups_of(1), (3, 0));
    // A fourth group would pass it: refused, and nothing changes.
    let e = t.heartbeat(&c, &groups_hb("c1", &["d"]), 2, &LIMITS);
    assert_eq!(
        e,
        Err(HeartbeatError::TooManyGroups {
            client: "c1".into(),
            kind: "consumer",
            groups: 4,
            limit: 3
        })
    );
    assert!(t.consumer_group("d").is_none());
    // Another connection has its own budget.
    assert!(t
        .heartbeat(&client(2, "c2"), &groups_hb("c2", &["d"]), 2, &LIMITS)
        .is_ok());
    // Leaving a group frees its place.
    t.unregister("c1", None, Some("a"), 1);
    assert_eq!(t.groups_of(1), (2, 0));
    assert!(t
        .heartbeat(&c, &groups_hb("c1", &["d"]), 3, &LIMITS)
        .is_ok());
}

#[test]
fn the_connection_index_follows_every_removal() {
    let mut t = ClientTable::new();
    let c = client(1, "c1");
    t.register_consumer(&c, &consumer("g1", vec![]), 0);
    t.register_consumer(&c, &consumer("g2", vec![]), 100);
    t.register_producer(&c, "pg", 0);
    assert_eq!(t.groups_of(1), (2, 1));
    t.scan_expired(120_001, 120_000);
    assert_eq!(t.groups_of(1), (1, 0), "g1 and pg expired");
    t.connection_closed(1);
    assert_eq!(t.groups_of(1), (0, 0));
    assert!(t.by_conn.is_empty());
}

#[test]
fn one_heartbeat_with_many_groups_is_handled_in_linear_time() {
    let limits = HeartbeatLimits {
        max_groups_per_client: 100_000,
        max_subscriptions_per_group: 10,
    };
    let names: Vec<String> = (0..20_000).map(|i| format!("G{i:06}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let hb = groups_hb("c1", &refs);
    let mut t = ClientTable::new();
    let start = std::time::Instant::now();
    let changed = t.heartbeat(&client(1, "c1"), &hb, 0, &limits).unwrap();
    assert_eq!(changed.len(), 20_000, "each changed group reported once");
    assert_eq!(t.heartbeat(&client(1, "c1"), &hb, 1, &limits), Ok(vec![]));
    assert_eq!(t.connection_closed(1).len(), 20_000);
    // Quadratic handling of 20 000 groups takes minutes in a debug build; linear, well under.
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn producer_connections_count_once_per_connection() {
    let mut t = ClientTable::new();
    t.register_producer(&client(1, "p1"), "pg1", 0);
    t.register_producer(&client(1, "p1"), "pg2", 0);
    let mut cpp = client(2, "p2");
    cpp.language = LanguageCode::Cpp;
    t.register_producer(&cpp, "pg1", 0);
    let counts = t.producer_connection_counts();
    assert_eq!(counts.get(&("JAVA".to_string(), 409)), Some(&1));
    assert_eq!(counts.get(&("CPP".to_string(), 409)), Some(&1));
    t.connection_closed(1);
    assert_eq!(t.producer_connection_counts().len(), 1);
}
