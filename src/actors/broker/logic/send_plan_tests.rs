//! Tests of the send rules (a separate file to keep `send_plan.rs` readable).

use super::*;
use crate::protocol::codes::message_sys_flag::{
    TRANSACTION_COMMIT_TYPE, TRANSACTION_PREPARED_TYPE, TRANSACTION_ROLLBACK_TYPE,
};

const NOW: i64 = 1_000_000;

fn input(topic: &str, raw_props: &str) -> SendInput {
    let (properties, _) = request_properties(Some(raw_props), "DefaultCluster");
    SendInput {
        topic: topic.into(),
        queue_id: 2,
        sys_flag: 0,
        reconsume_times: None,
        header_max_reconsume_times: None,
        client_version: 409,
        group_retry_max: None,
        properties,
    }
}

fn props(p: &StorePlan) -> Properties {
    Properties::decode(&p.properties)
}

#[test]
fn request_properties_drop_wait_and_add_cluster() {
    let (p, wait) = request_properties(Some("TAGS\u{1}a\u{2}WAIT\u{1}false"), "C1");
    assert!(!wait);
    assert_eq!(p.get(prop::WAIT), None);
    assert_eq!(p.get(prop::TAGS), Some("a"));
    assert_eq!(p.get(prop::CLUSTER), Some("C1"));
    assert!(request_properties(None, "C1").1, "WAIT absent: wait");
    assert!(request_properties(Some("WAIT\u{1}TRUE"), "C1").1);
    assert!(!request_properties(Some("WAIT\u{1}FALSE"), "C1").1);
}

#[test]
fn a_plain_send_is_stored_as_sent() {
    let plan = plan_send(input("T", "TAGS\u{1}a"), &DelayLevels::default(), NOW).unwrap();
    assert_eq!(plan.dead_letter_of, None);
    assert_eq!(plan.store.topic, "T");
    assert_eq!(plan.store.queue_id, 2);
    assert_eq!(plan.store.tags_code, None);
    assert_eq!(
        plan.store.properties,
        "TAGS\u{1}a\u{2}CLUSTER\u{1}DefaultCluster"
    );
}

#[test]
fn half_messages_go_to_the_half_queue() {
    let d = DelayLevels::default();
    let mut i = input(
        "T",
        "TAGS\u{1}a\u{2}TRAN_MSG\u{1}true\u{2}PGROUP\u{1}pg\u{2}DELAY\u{1}3",
    );
    i.sys_flag = TRANSACTION_PREPARED_TYPE;
    let plan = plan_send(i, &d, NOW).unwrap();
    let s = &plan.store;
    assert_eq!(
        (s.topic.as_str(), s.queue_id),
        ("RMQ_SYS_TRANS_HALF_TOPIC", 0)
    );
    assert_eq!(s.tags_code, None, "no delay before commit");
    let p = props(s);
    assert_eq!(p.get(prop::REAL_TOPIC), Some("T"));
    assert_eq!(p.get(prop::REAL_QID), Some("2"));
    assert_eq!(p.get(prop::PGROUP), Some("pg"));
    assert_eq!(p.get(prop::TRAN_MSG), Some("true"));
    assert_eq!(p.get(prop::DELAY), Some("3"), "kept for the commit");
    // Stored with its transaction bits reset, so the half queue indexes it.
    let origin = MessageOrigin {
        flag: 0,
        sys_flag: TRANSACTION_PREPARED_TYPE | 1,
        born_timestamp: NOW,
        born_host: "127.0.0.1:1".parse().unwrap(),
        store_host: "127.0.0.1:2".parse().unwrap(),
        reconsume_times: 0,
    };
    let msg = plan.store.into_message(origin, Bytes::new(), true);
    assert_eq!(msg.sys_flag, 1);
    // TRAN_MSG=true alone makes a half message too; TRAN_MSG=false with COMMIT does not.
    let plan = plan_send(input("T", "TRAN_MSG\u{1}True"), &d, NOW).unwrap();
    assert_eq!(plan.store.topic, "RMQ_SYS_TRANS_HALF_TOPIC");
    let mut i = input("T", "TRAN_MSG\u{1}false");
    i.sys_flag = TRANSACTION_COMMIT_TYPE;
    assert_eq!(plan_send(i, &d, NOW).unwrap().store.topic, "T");
}

#[test]
fn a_delay_level_diverts_to_the_schedule_topic() {
    let d = DelayLevels::default();
    let plan = plan_send(input("T", "DELAY\u{1}3"), &d, NOW).unwrap();
    let s = &plan.store;
    assert_eq!((s.topic.as_str(), s.queue_id), (SCHEDULE_TOPIC, 2));
    assert_eq!(s.tags_code, Some(NOW + 10_000));
    let p = props(s);
    assert_eq!(p.get(prop::REAL_TOPIC), Some("T"));
    assert_eq!(p.get(prop::REAL_QID), Some("2"));
    assert_eq!(p.get(prop::DELAY), Some("3"));
    // Past the last level: clamped, and the clamped level is what is stored.
    let plan = plan_send(input("T", "DELAY\u{1}99"), &d, NOW).unwrap();
    assert_eq!(plan.store.queue_id, 17);
    assert_eq!(props(&plan.store).get(prop::DELAY), Some("18"));
    assert_eq!(plan.store.tags_code, Some(NOW + 7_200_000));
    // No delay for 0, negative or unparsable levels.
    for level in ["0", "-2", "soon"] {
        let raw = format!("DELAY\u{1}{level}");
        let plan = plan_send(input("T", &raw), &d, NOW).unwrap();
        assert_eq!(plan.store.topic, "T", "{level}");
        assert_eq!(plan.store.tags_code, None);
    }
    // A rolled-back transactional message is never diverted.
    let mut i = input("T", "DELAY\u{1}3");
    i.sys_flag = TRANSACTION_ROLLBACK_TYPE;
    assert_eq!(plan_send(i, &d, NOW).unwrap().store.topic, "T");
}

#[test]
fn retry_topic_sends_past_the_limit_go_to_the_dlq() {
    let d = DelayLevels::default();
    let mut i = input("%RETRY%g", "DELAY\u{1}3");
    i.reconsume_times = Some(16);
    let plan = plan_send(i, &d, NOW).unwrap();
    assert_eq!(plan.dead_letter_of.as_deref(), Some("g"));
    assert_eq!(
        (plan.store.topic.as_str(), plan.store.queue_id),
        ("%DLQ%g", 0)
    );
    assert_eq!(props(&plan.store).get(prop::DELAY), None, "DELAY cleared");
    assert_eq!(plan.store.tags_code, None);
    // Under the limit: kept, and the delay applies.
    let mut i = input("%RETRY%g", "DELAY\u{1}3");
    i.reconsume_times = Some(15);
    let plan = plan_send(i, &d, NOW).unwrap();
    assert_eq!(plan.dead_letter_of, None);
    assert_eq!(plan.store.topic, SCHEDULE_TOPIC);
    assert_eq!(props(&plan.store).get(prop::REAL_TOPIC), Some("%RETRY%g"));
}

#[test]
fn the_retry_limit_is_the_groups_or_the_headers() {
    let d = DelayLevels::default();
    let at = |group_max: Option<i32>, header: Option<i32>, version: i32, times: i32| {
        let mut i = input("%RETRY%g", "");
        i.group_retry_max = group_max;
        i.header_max_reconsume_times = header;
        i.client_version = version;
        i.reconsume_times = Some(times);
        plan_send(i, &d, NOW).unwrap().dead_letter_of.is_some()
    };
    assert!(!at(None, None, 409, 15), "unknown group: 16");
    assert!(at(None, None, 409, 16));
    assert!(at(Some(2), None, 409, 2));
    assert!(!at(Some(2), None, 409, 1));
    assert!(at(Some(16), Some(3), 409, 3), "header honoured from V3_4_9");
    assert!(!at(Some(16), Some(3), 63, 3), "not before");
}

#[test]
fn batch_rules() {
    let p = Properties::decode("");
    assert_eq!(check_batch("T", &p), Ok(()));
    let long = "t".repeat(MAX_TOPIC_LEN + 1);
    assert_eq!(check_batch(&long, &p), Err(SendRefusal::BatchTopicTooLong));
    assert_eq!(
        check_batch("%RETRY%g", &p),
        Err(SendRefusal::BatchToRetryTopic("%RETRY%g".into()))
    );
    let delayed = Properties::decode("DELAY\u{1}1");
    assert_eq!(check_batch("T", &delayed), Err(SendRefusal::BatchWithDelay));
}

#[test]
fn the_plan_becomes_the_message() {
    let origin = MessageOrigin {
        flag: 3,
        sys_flag: 0,
        born_timestamp: 77,
        born_host: "10.0.0.1:5000".parse().unwrap(),
        store_host: "10.0.0.2:10911".parse().unwrap(),
        reconsume_times: 4,
    };
    let plan = plan_send(input("T", "DELAY\u{1}1"), &DelayLevels::default(), NOW).unwrap();
    let msg = plan
        .store
        .clone()
        .into_message(origin, Bytes::from_static(b"body"), false);
    assert_eq!((msg.topic.as_str(), msg.queue_id), (SCHEDULE_TOPIC, 0));
    assert_eq!(msg.tags_code, Some(NOW + 1_000));
    assert_eq!(msg.properties, plan.store.properties);
    assert_eq!(
        (msg.flag, msg.born_timestamp, msg.reconsume_times),
        (3, 77, 4)
    );
    assert_eq!(msg.born_host, origin.born_host);
    assert_eq!(msg.store_host, origin.store_host);
    assert!(!msg.wait_store_msg_ok);
    assert_eq!(msg.body.as_ref(), b"body");
}
