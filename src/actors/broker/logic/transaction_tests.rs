//! Tests of the transaction rules (a separate file to keep `transaction.rs` readable).

use super::*;
use crate::protocol::message::decode_record;

const HALF_PROPS: &str = "TAGS\u{1}a\u{2}TRAN_MSG\u{1}true\u{2}PGROUP\u{1}pg\u{2}UNIQ_KEY\u{1}U1\u{2}REAL_TOPIC\u{1}T\u{2}REAL_QID\u{1}3";

fn half(properties: &str) -> MessageExt {
    MessageExt {
        store_size: 0,
        body_crc: crate::protocol::message::body_crc(b"payload"),
        queue_id: HALF_QUEUE_ID,
        flag: 7,
        queue_offset: 5,
        commit_log_offset: 4096,
        sys_flag: 0,
        born_timestamp: 1_000,
        born_host: "10.0.0.1:4000".parse().unwrap(),
        store_timestamp: 1_010,
        store_host: "10.0.0.2:10911".parse().unwrap(),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body: Bytes::from_static(b"payload"),
        topic: TRANS_HALF_TOPIC.into(),
        properties: properties.into(),
    }
}

fn end_header(state: i32) -> EndTransactionRequestHeader {
    EndTransactionRequestHeader {
        producer_group: "pg".into(),
        tran_state_table_offset: 5,
        commit_log_offset: 4096,
        commit_or_rollback: state,
        from_transaction_check: None,
        msg_id: "U1".into(),
        transaction_id: Some("U1".into()),
        bname: None,
    }
}

const RULES: CheckRules = CheckRules {
    timeout_ms: 6_000,
    check_max: 3,
};

#[test]
fn half_detection_and_stored_flag() {
    assert!(is_half(sys::TRANSACTION_PREPARED_TYPE, &Properties::new()));
    assert!(is_half(0, &Properties::decode("TRAN_MSG\u{1}TRUE")));
    assert!(!is_half(sys::TRANSACTION_COMMIT_TYPE, &Properties::new()));
    assert_eq!(stored_sys_flag(TRANS_HALF_TOPIC, 0x4 | 0x1), 0x1);
    assert_eq!(stored_sys_flag("T", 0x4 | 0x1), 0x5);
}

#[test]
fn end_actions_follow_the_sys_flag_values() {
    assert_eq!(end_action(8), EndAction::Commit);
    assert_eq!(end_action(12), EndAction::Rollback);
    assert_eq!(end_action(0), EndAction::Nothing);
    assert_eq!(end_action(4), EndAction::Nothing);
}

#[test]
fn end_checks_group_and_offsets() {
    let m = half(HALF_PROPS);
    assert_eq!(check_end(&end_header(8), &m), Ok(()));
    let mut h = end_header(8);
    h.producer_group = "other".into();
    let e = check_end(&h, &m).unwrap_err();
    assert!(matches!(e, EndTxError::GroupMismatch { .. }));
    assert!(e.to_string().contains("producer group wrong"), "{e}");
    let mut h = end_header(8);
    h.tran_state_table_offset = 6;
    assert_eq!(
        check_end(&h, &m),
        Err(EndTxError::QueueOffsetMismatch {
            stored: 5,
            request: 6
        })
    );
    let mut other = m.clone();
    other.commit_log_offset = 8192;
    assert!(matches!(
        check_end(&end_header(8), &other),
        Err(EndTxError::CommitLogOffsetMismatch { .. })
    ));
    let mut plain = m.clone();
    plain.topic = "T".into();
    assert!(matches!(
        check_end(&end_header(8), &plain),
        Err(EndTxError::NoHalfMessage { .. })
    ));
}

#[test]
fn commit_restores_at_the_real_place() {
    let m = half(HALF_PROPS);
    let msg = commit_message(&m, &DelayLevels::default(), 50_000).unwrap();
    assert_eq!((msg.topic.as_str(), msg.queue_id), ("T", 3));
    assert_eq!(msg.sys_flag, sys::TRANSACTION_COMMIT_TYPE);
    assert_eq!(msg.prepared_transaction_offset, 4096);
    assert_eq!(msg.tags_code, None);
    assert_eq!(msg.flag, 7);
    assert_eq!(msg.born_timestamp, 1_000);
    let p = Properties::decode(&msg.properties);
    for gone in [prop::TRAN_MSG, prop::REAL_TOPIC, prop::REAL_QID] {
        assert_eq!(p.get(gone), None, "{gone}");
    }
    assert_eq!(p.get(prop::PGROUP), Some("pg"));
    assert_eq!(p.get(prop::UNIQ_KEY), Some("U1"));
    assert_eq!(&msg.body[..], b"payload");
}

#[test]
fn a_delay_level_applies_after_commit() {
    let m = half(&format!("{HALF_PROPS}\u{2}DELAY\u{1}3"));
    let msg = commit_message(&m, &DelayLevels::default(), 50_000).unwrap();
    assert_eq!(msg.topic, super::super::topics::SCHEDULE_TOPIC);
    assert_eq!(msg.queue_id, 2);
    assert_eq!(msg.tags_code, Some(60_000));
    let p = Properties::decode(&msg.properties);
    assert_eq!(p.get(prop::REAL_TOPIC), Some("T"));
    assert_eq!(p.get(prop::REAL_QID), Some("3"));
}

#[test]
fn commit_without_real_topic_is_refused() {
    let m = half("PGROUP\u{1}pg");
    assert!(matches!(
        commit_message(&m, &DelayLevels::default(), 0),
        Err(EndTxError::NoRealTopic { .. })
    ));
}

#[test]
fn op_records_name_the_half_offset() {
    let origin = MessageOrigin::of_record(&half(""));
    let op = op_record(42, origin);
    assert_eq!((op.topic.as_str(), op.queue_id), (TRANS_OP_HALF_TOPIC, 0));
    assert_eq!(&op.body[..], b"42");
    assert_eq!(op.properties, "TAGS\u{1}d");
    let mut stored = half("TAGS\u{1}d");
    stored.body = Bytes::from_static(b"42");
    assert_eq!(op_half_offset(&stored), Some(42));
    stored.properties = "TAGS\u{1}x".into();
    assert_eq!(op_half_offset(&stored), None);
}

#[test]
fn judge_orders_ended_fresh_give_up_and_age() {
    let m = half(HALF_PROPS);
    let none = HashSet::new();
    let ended: HashSet<i64> = [5].into();
    let old = 1_000 + 6_000;
    assert_eq!(judge(&m, 5, &ended, RULES, 2_000, old), HalfAction::Ended);
    // Stored during this pass: stop, even if old by birth.
    assert_eq!(judge(&m, 5, &none, RULES, 1_010, old), HalfAction::Stop);
    // Too young by birth: stop.
    assert_eq!(judge(&m, 5, &none, RULES, 2_000, old - 1), HalfAction::Stop);
    assert_eq!(
        judge(&m, 5, &none, RULES, 2_000, old),
        HalfAction::Check { times: 1 }
    );
    let checked = half(&format!("{HALF_PROPS}\u{2}TRANSACTION_CHECK_TIMES\u{1}2"));
    assert_eq!(
        judge(&checked, 5, &none, RULES, 2_000, old),
        HalfAction::Check { times: 3 }
    );
    let done = half(&format!("{HALF_PROPS}\u{2}TRANSACTION_CHECK_TIMES\u{1}3"));
    assert_eq!(
        judge(&done, 5, &none, RULES, 2_000, 1_500),
        HalfAction::GiveUp
    );
    // Its own immunity time postpones it; past it, it is checked.
    let immune = half(&format!(
        "{HALF_PROPS}\u{2}CHECK_IMMUNITY_TIME_IN_SECONDS\u{1}60"
    ));
    assert_eq!(
        judge(&immune, 5, &none, RULES, 2_000, old),
        HalfAction::Postpone
    );
    assert_eq!(
        judge(&immune, 5, &none, RULES, 2_000, 61_000),
        HalfAction::Check { times: 1 }
    );
    // A born time in the future (clock skew) is checked, as RocketMQ.
    assert_eq!(
        judge(&m, 5, &none, RULES, 2_000, 900),
        HalfAction::Check { times: 1 }
    );
}

#[test]
fn copies_and_give_up_keep_the_message() {
    let m = half(HALF_PROPS);
    let copy = half_copy(&m, Some(2));
    assert_eq!((copy.topic.as_str(), copy.queue_id), (TRANS_HALF_TOPIC, 0));
    assert_eq!(copy.born_timestamp, 1_000);
    let p = Properties::decode(&copy.properties);
    assert_eq!(p.get(prop::TRANSACTION_CHECK_TIMES), Some("2"));
    assert_eq!(p.get(prop::REAL_TOPIC), Some("T"));
    assert_eq!(half_copy(&m, None).properties, HALF_PROPS);
    let g = give_up_message(&m);
    assert_eq!(g.topic, TRANS_CHECK_MAX_TIME_TOPIC);
    assert_eq!(g.properties, HALF_PROPS);
}

#[test]
fn check_request_names_the_copy_and_shows_the_real_topic() {
    let m = half(HALF_PROPS);
    let (h, shown) = check_request(&m);
    assert_eq!(h.tran_state_table_offset, 5);
    assert_eq!(h.commit_log_offset, 4096);
    assert_eq!(h.msg_id.as_deref(), Some("U1"));
    assert_eq!(h.transaction_id.as_deref(), Some("U1"));
    assert_eq!(h.offset_msg_id, Some(m.offset_msg_id()));
    let body = shown.encode().freeze();
    let back = decode_record(&body).unwrap();
    assert_eq!((back.topic.as_str(), back.queue_id), ("T", 3));
    assert_eq!(&back.body[..], b"payload");
}

#[test]
fn the_op_window_reads_each_record_once_and_keeps_what_is_needed() {
    let mut w = OpWindow::default();
    w.sync(10);
    assert_eq!(w.read_to(), 10);
    // Half progress 3: ops name 1 (behind), unreadable, 7 and 2 (behind).
    for (o, h) in [(10, Some(1)), (11, None), (12, Some(7)), (13, Some(2))] {
        w.push(o, h, 3);
    }
    assert_eq!(w.read_to(), 14);
    assert_eq!(w.ended(), &HashSet::from([7]));
    // The scan reached 5: the op progress stops at the record naming 7.
    assert_eq!(w.advance(5), 12);
    assert_eq!(w.ended(), &HashSet::from([7]));
    // It reached 8: everything read is consumed.
    assert_eq!(w.advance(8), 14);
    assert!(w.ended().is_empty());
    // A gap, then a saved progress ahead of what was read restarts the window there.
    w.skip_to(20);
    assert_eq!(w.advance(8), 20);
    w.sync(30);
    assert_eq!((w.read_to(), w.advance(8)), (30, 30));
}
