//! Tests of the topic table (a separate file to keep `topics.rs` readable).

use super::*;
use crate::protocol::codes::response_code;

/// The code `crate::error` answers a refusal with.
fn code(e: &TopicError) -> i32 {
    crate::error::ServiceError::from(e.clone()).code()
}

fn table() -> TopicTable {
    TopicTable::new(TopicTableConfig::default(), 1000)
}

#[test]
fn builtins_match_java() {
    let t = table();
    let q = |n: &str| {
        let c = t.get(n).unwrap_or_else(|| panic!("{n} missing"));
        (c.read_queue_nums, c.write_queue_nums, c.perm)
    };
    assert_eq!(q("SELF_TEST_TOPIC"), (1, 1, 6));
    assert_eq!(q("TBW102"), (8, 8, 7));
    assert_eq!(q("BenchmarkTest"), (1024, 1024, 6));
    assert_eq!(q("DefaultCluster"), (16, 16, 7));
    assert_eq!(q("broker-a"), (1, 1, 7));
    assert_eq!(q("OFFSET_MOVED_EVENT"), (1, 1, 6));
    assert_eq!(q("SCHEDULE_TOPIC_XXXX"), (18, 18, 6));
    assert_eq!(q("DefaultCluster_REPLY_TOPIC"), (1, 1, 6));
    assert!(t.get("RMQ_SYS_TRACE_TOPIC").is_none());
    assert_eq!(t.len(), 8);
    assert_eq!(
        t.data_version(),
        DataVersion {
            state_version: 0,
            counter: 0,
            timestamp: 1000
        }
    );

    let t2 = TopicTable::new(
        TopicTableConfig {
            auto_create_topic_enable: false,
            cluster_topic_enable: false,
            broker_topic_enable: false,
            trace_topic_enable: true,
            ..Default::default()
        },
        0,
    );
    assert!(t2.get("TBW102").is_none());
    assert_eq!(t2.get("DefaultCluster").unwrap().perm, perm::INHERIT);
    assert_eq!(t2.get("broker-a").unwrap().perm, perm::INHERIT);
    assert!(t2.get("RMQ_SYS_TRACE_TOPIC").is_some());
}

#[test]
fn name_validation() {
    assert_eq!(validate_name("Topic_1-%|x"), Ok(()));
    for blank in ["", "   "] {
        assert!(matches!(
            validate_name(blank),
            Err(TopicError::Invalid(InvalidInput::BlankName(_)))
        ));
    }
    for bad in ["a b", "a.b", "tö", "../../x"] {
        let e = validate_name(bad).unwrap_err();
        assert!(matches!(
            e,
            TopicError::Invalid(InvalidInput::IllegalChars { .. })
        ));
        assert!(e.to_string().contains("^[%|a-zA-Z0-9_-]+$"), "{e}");
        assert_eq!(code(&e), response_code::SYSTEM_ERROR);
    }
    assert_eq!(validate_name(&"a".repeat(127)), Ok(()));
    let e = validate_name(&"a".repeat(128)).unwrap_err();
    assert!(matches!(
        e,
        TopicError::Invalid(InvalidInput::NameTooLong { .. })
    ));
    assert_eq!(code(&e), response_code::SYSTEM_ERROR);
}

#[test]
fn admin_queue_counts_and_perm_are_bounded() {
    let mut t = table();
    let mut c = TopicConfig::new("BigQ", 1024);
    c.write_queue_nums = i32::MAX;
    let e = t.update(c, 1).unwrap_err();
    assert_eq!(code(&e), response_code::SYSTEM_ERROR);
    assert!(e.to_string().contains("writeQueueNums 2147483647"), "{e}");
    assert!(e.to_string().contains("1024"), "{e}");
    for (r, w) in [(1025, 8), (0, 8), (8, 0), (8, 100_000)] {
        let mut c = TopicConfig::new("BigQ", 1);
        (c.read_queue_nums, c.write_queue_nums) = (r, w);
        assert!(t.update(c, 1).is_err(), "{r}/{w}");
    }
    for p in [-1, 8, 255] {
        let c = TopicConfig {
            perm: p,
            ..TopicConfig::new("BigQ", 4)
        };
        let e = t.update(c, 1).unwrap_err();
        assert!(e.to_string().contains(&format!("perm {p}")), "{e}");
    }
    assert!(!t.contains("BigQ"));
    assert!(t.update(TopicConfig::new("BigQ", 1024), 1).is_ok());
}

#[test]
fn send_and_create_checks() {
    let t = table();
    for forbidden in NOT_ALLOWED_SEND {
        let e = t.check_send(forbidden).unwrap_err();
        assert_eq!(code(&e), response_code::NO_PERMISSION, "{forbidden}");
    }
    // TBW102 and the benchmark topic are system topics but may be sent to.
    assert_eq!(t.check_send("TBW102"), Ok(()));
    assert_eq!(t.check_send("BenchmarkTest"), Ok(()));
    assert_eq!(t.check_send("%RETRY%g"), Ok(()));
    assert!(t.check_send("bad topic").is_err());

    for sys in [
        "TBW102",
        "SCHEDULE_TOPIC_XXXX",
        "broker-a",
        "rmq_sys_foo",
        "RMQ_SYS_TRANS_HALF_TOPIC",
        "DefaultCluster_REPLY_TOPIC",
    ] {
        assert_eq!(
            t.check_creatable(sys),
            Err(TopicError::SystemTopic(sys.into())),
            "{sys}"
        );
    }
    assert_eq!(
        t.check_creatable("DefaultCluster"),
        Err(TopicError::ConflictsWithCluster("DefaultCluster".into()))
    );
    assert_eq!(t.check_creatable("TopicTest"), Ok(()));
    assert!(t.is_system_topic("rmq_sys_x") && !t.is_system_topic("TopicTest"));
}

#[test]
fn update_delete_bump_the_version() {
    let mut t = table();
    assert_eq!(t.update(TopicConfig::new("T", 4), 2000), Ok(None));
    assert_eq!(
        t.data_version(),
        DataVersion {
            state_version: 0,
            counter: 1,
            timestamp: 2000
        }
    );
    let old = t.update(TopicConfig::new("T", 8), 3000).unwrap().unwrap();
    assert_eq!(old.read_queue_nums, 4);
    assert_eq!(t.get("T").unwrap().read_queue_nums, 8);
    assert_eq!(t.data_version().counter, 2);
    assert!(t.update(TopicConfig::new("TBW102", 1), 3000).is_err());
    assert_eq!(
        t.data_version().counter,
        2,
        "a refused update does not bump"
    );
    assert!(t.delete("T", 4000).is_some());
    assert_eq!(
        t.data_version(),
        DataVersion {
            state_version: 0,
            counter: 3,
            timestamp: 4000
        }
    );
    assert!(t.delete("T", 5000).is_none());
    assert_eq!(
        t.data_version().counter,
        3,
        "deleting nothing does not bump"
    );
}

#[test]
fn auto_create_from_template() {
    let mut t = table();
    let (c, created) = t.create_on_send("New", "TBW102", 4, 0, 2000).unwrap();
    assert!(created);
    assert_eq!((c.read_queue_nums, c.write_queue_nums, c.perm), (4, 4, 6));
    assert_eq!(t.data_version().counter, 1);
    let (again, created) = t.create_on_send("New", "TBW102", 4, 0, 3000).unwrap();
    assert!(!created);
    assert_eq!(again, c);
    assert_eq!(t.data_version().counter, 1);
    // Clamped to the template's write queues; a count below 1 (or past the limit) is refused and
    // no topic without queues is ever created.
    let (c, _) = t.create_on_send("Big", "TBW102", 64, 1, 3000).unwrap();
    assert_eq!((c.read_queue_nums, c.topic_sys_flag), (8, 1));
    let (c, _) = t
        .create_on_send("Huge", "TBW102", i32::MAX, 0, 3000)
        .unwrap();
    assert_eq!(c.write_queue_nums, 8);
    for d in [0, -1, i32::MIN] {
        let e = t.create_on_send("Neg", "TBW102", d, 0, 3000).unwrap_err();
        assert_eq!(code(&e), response_code::SYSTEM_ERROR);
        assert!(e.to_string().contains("defaultTopicQueueNums"), "{e}");
    }
    assert!(!t.contains("Neg"));
    t.put(topic_with("Drained", 0, 7), 3000);
    let e = t.create_on_send("Neg", "Drained", 4, 0, 3000).unwrap_err();
    assert_eq!(code(&e), response_code::TOPIC_NOT_EXIST);
    assert!(!t.contains("Neg"));
    // A template without INHERIT, a missing template, or an illegal name: not created.
    let e = t
        .create_on_send("X", "SELF_TEST_TOPIC", 4, 0, 3000)
        .unwrap_err();
    assert_eq!(code(&e), response_code::TOPIC_NOT_EXIST);
    assert_eq!(e.to_string(), "topic[X] not exist, apply first please!");
    assert!(t.create_on_send("X", "Nope", 4, 0, 3000).is_err());
    assert!(t.create_on_send("a b", "TBW102", 4, 0, 3000).is_err());
    assert!(!t.contains("X"));
    // A cluster topic (perm 7) is a valid template too, like in Java.
    assert!(
        t.create_on_send("ViaCluster", "DefaultCluster", 4, 0, 3000)
            .unwrap()
            .1
    );
}

#[test]
fn tbw102_loaded_but_auto_create_disabled_is_no_template() {
    let mut t = TopicTable::new(
        TopicTableConfig {
            auto_create_topic_enable: false,
            ..Default::default()
        },
        0,
    );
    t.put(topic_with("TBW102", 8, 7), 1);
    assert!(t.create_on_send("New", "TBW102", 4, 0, 2).is_err());
}

#[test]
fn retry_and_dlq_topics() {
    let mut t = table();
    let (r, created) = t.ensure_retry_topic("g", 1, 0, 10).unwrap();
    assert!(created);
    assert_eq!(r.topic_name, "%RETRY%g");
    assert_eq!((r.read_queue_nums, r.write_queue_nums, r.perm), (1, 1, 6));
    assert!(!t.ensure_retry_topic("g", 3, 0, 11).unwrap().1);
    let (d, created) = t.ensure_dlq_topic("g", 12).unwrap();
    assert!(created);
    assert_eq!(
        (d.topic_name.as_str(), d.read_queue_nums, d.perm),
        ("%DLQ%g", 1, 6)
    );
    // The retry topic's count and name obey the same rules as any topic.
    for n in [0, -1, 1025, i32::MAX] {
        let e = t.ensure_retry_topic("BigRetryG", n, 0, 13).unwrap_err();
        assert!(e.to_string().contains("retryQueueNums"), "{e}");
    }
    assert!(t.ensure_retry_topic("../../../escaped", 1, 0, 13).is_err());
    assert!(t.ensure_dlq_topic("../../../escaped", 13).is_err());
    assert!(t.ensure_retry_topic(&"g".repeat(200), 1, 0, 13).is_err());
    assert_eq!(t.data_version().counter, 2);
    assert!(is_retry_topic("%RETRY%g") && !is_retry_topic("%DLQ%g"));
}

#[test]
fn wrapper_and_load() {
    let mut t = table();
    t.update(TopicConfig::new("T", 4), 2000).unwrap();
    let w = t.wrapper();
    assert_eq!(w.topic_config_table.len(), 9);
    let json = serde_json::to_string(&w).unwrap();

    let mut fresh = table();
    let mut loaded: TopicConfigSerializeWrapper = serde_json::from_str(&json).unwrap();
    // The file changed a built-in: the stored entry wins.
    loaded
        .topic_config_table
        .insert("TBW102".into(), topic_with("TBW102", 4, 7));
    loaded.topic_config_table.remove("BenchmarkTest");
    // Entries no request could have created are left out.
    let mut big = TopicConfig::new("BigQ", 1024);
    big.write_queue_nums = i32::MAX;
    loaded.topic_config_table.insert("BigQ".into(), big);
    let evil = TopicConfig::new("../../evil", 1);
    loaded.topic_config_table.insert("../../evil".into(), evil);
    let bad_perm = topic_with("BadPerm", 1, 255);
    loaded.topic_config_table.insert("BadPerm".into(), bad_perm);
    let drained = topic_with("Drained", 0, 6);
    loaded.topic_config_table.insert("Drained".into(), drained);
    let refused: Vec<String> = fresh.load(loaded).into_iter().map(|r| r.0).collect();
    assert_eq!(refused, ["../../evil", "BadPerm", "BigQ"]);
    assert!(!fresh.contains("BigQ") && !fresh.contains("../../evil"));
    assert!(
        fresh.contains("Drained"),
        "0 queues is a drained topic, kept"
    );
    assert_eq!(fresh.get("T").unwrap().read_queue_nums, 4);
    assert_eq!(fresh.get("TBW102").unwrap().read_queue_nums, 4);
    assert!(
        fresh.contains("BenchmarkTest"),
        "built-ins the file lacks stay"
    );
    assert_eq!(
        fresh.data_version(),
        DataVersion {
            state_version: 0,
            counter: 1,
            timestamp: 2000
        }
    );
}

#[test]
fn send_queue_choice() {
    let mut c = TopicConfig::new("T", 4);
    assert_eq!(send_queue_id(&c, 3, 0), Ok(3));
    assert!(matches!(
        send_queue_id(&c, 4, 0),
        Err(TopicError::QueueIdIllegal { queues: 4, .. })
    ));
    assert_eq!(send_queue_id(&c, -1, 7), Ok(3));
    assert_eq!(send_queue_id(&c, -1, u32::MAX), Ok((u32::MAX % 4) as i32));
    // More read than write queues: ids up to max(read, write) are accepted, random picks writable.
    c.read_queue_nums = 8;
    assert_eq!(send_queue_id(&c, 6, 0), Ok(6));
    assert_eq!(send_queue_id(&c, -1, 6), Ok(2));
    c.write_queue_nums = 0;
    assert!(send_queue_id(&c, -1, 1).is_err());
    let e = send_queue_id(&c, 9, 0).unwrap_err();
    assert_eq!(code(&e), response_code::SYSTEM_ERROR);
    assert!(e.to_string().contains("queueId[9] is illegal"));
}

#[test]
fn pull_queue_checks() {
    let mut c = TopicConfig::new("T", 4);
    assert_eq!(check_pull_queue(&c, 0), Ok(()));
    assert_eq!(check_pull_queue(&c, 3), Ok(()));
    assert!(check_pull_queue(&c, 4).is_err());
    assert!(check_pull_queue(&c, -1).is_err());
    c.perm = perm::WRITE;
    let e = check_pull_queue(&c, 0).unwrap_err();
    assert_eq!(e, TopicError::NotReadable("T".into()));
    assert_eq!(code(&e), response_code::NO_PERMISSION);
}

#[test]
fn send_queue_checks_write_perm_first() {
    let mut c = TopicConfig::new("T", 4);
    assert_eq!(check_send_queue(&c, 2, 0), Ok(2));
    c.perm = perm::READ;
    let e = check_send_queue(&c, 2, 0).unwrap_err();
    assert_eq!(e, TopicError::NotWriteable("T".into()));
    assert_eq!(code(&e), response_code::NO_PERMISSION);
    assert_eq!(e.to_string(), "the topic[T] sending message is forbidden");
}
