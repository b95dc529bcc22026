//! Tests of the delayed-delivery plan (a separate file to keep `schedule_plan.rs` readable).

use bytes::Bytes;

use super::*;
use crate::actors::broker::logic::topics::SCHEDULE_TOPIC;
use crate::storage::GetStatus;

/// Level 2 (5 s) of the default table; messages stored at 1 000 are due at 6 000.
const LEVEL: i32 = 2;
const STORED: i64 = 1_000;
const DUE: i64 = 6_000;

fn record(store_timestamp: i64, properties: &str) -> Bytes {
    let m = MessageExt {
        store_size: 0,
        body_crc: 0,
        queue_id: 1,
        flag: 7,
        queue_offset: 0,
        commit_log_offset: 0,
        sys_flag: 0,
        born_timestamp: 500,
        born_host: "10.0.0.1:4000".parse().unwrap(),
        store_timestamp,
        store_host: "10.0.0.2:10911".parse().unwrap(),
        reconsume_times: 2,
        prepared_transaction_offset: 0,
        body: Bytes::from_static(b"payload"),
        topic: SCHEDULE_TOPIC.into(),
        properties: properties.into(),
    };
    m.encode().freeze()
}

const DELAYED: &str = "TAGS\u{1}a\u{2}DELAY\u{1}2\u{2}REAL_TOPIC\u{1}T\u{2}REAL_QID\u{1}3";

fn read(start: i64, records: Vec<Bytes>) -> GetResult {
    let n = records.len() as i64;
    GetResult {
        status: GetStatus::Found,
        next_begin_offset: start + n,
        min_offset: 0,
        max_offset: start + n,
        queue_offsets: (start..start + n).collect(),
        messages: records,
    }
}

#[test]
fn a_due_message_goes_back_to_its_real_topic() {
    let got = read(10, vec![record(STORED, DELAYED)]);
    let plan = plan_level(&DelayLevels::default(), LEVEL, 10, &got, DUE);
    assert_eq!(plan.offset, 11);
    assert!(plan.skipped.is_empty());
    let [d] = &plan.deliveries[..] else {
        panic!("one delivery: {plan:?}")
    };
    assert_eq!(d.queue_offset, 10);
    let m = &d.message;
    assert_eq!((m.topic.as_str(), m.queue_id), ("T", 3));
    assert_eq!(
        m.properties, "TAGS\u{1}a\u{2}REAL_TOPIC\u{1}T\u{2}REAL_QID\u{1}3",
        "DELAY cleared, the rest kept"
    );
    assert_eq!(m.tags_code, None, "recomputed from TAGS");
    assert_eq!((m.flag, m.born_timestamp, m.reconsume_times), (7, 500, 2));
    assert_eq!(m.born_host, "10.0.0.1:4000".parse().unwrap());
    assert_eq!(m.store_host, "10.0.0.2:10911".parse().unwrap());
    assert_eq!(m.body.as_ref(), b"payload");
    assert!(m.wait_store_msg_ok);
}

#[test]
fn a_level_stops_at_its_first_message_not_yet_due() {
    let got = read(
        0,
        vec![
            record(STORED, DELAYED),
            record(STORED + 1, DELAYED),
            record(STORED, DELAYED),
        ],
    );
    let plan = plan_level(&DelayLevels::default(), LEVEL, 0, &got, DUE);
    assert_eq!(plan.deliveries.len(), 1);
    assert_eq!(plan.offset, 1, "stays on the message not yet due");
    let plan = plan_level(&DelayLevels::default(), LEVEL, 0, &got, DUE - 1);
    assert!(plan.deliveries.is_empty());
    assert_eq!(plan.offset, 0);
}

#[test]
fn undeliverable_records_are_passed_over() {
    let no_real = "DELAY\u{1}2\u{2}REAL_QID\u{1}3";
    let bad_qid = "DELAY\u{1}2\u{2}REAL_TOPIC\u{1}T\u{2}REAL_QID\u{1}x";
    let got = read(
        4,
        vec![
            Bytes::from_static(b"\0\0\0\x08junk"),
            record(STORED, no_real),
            record(STORED, bad_qid),
            record(STORED, DELAYED),
        ],
    );
    let plan = plan_level(&DelayLevels::default(), LEVEL, 4, &got, DUE);
    assert_eq!(
        plan.skipped,
        vec![
            (4, Skip::Undecodable),
            (5, Skip::NoRealTopic),
            (6, Skip::NoRealTopic)
        ]
    );
    assert_eq!(plan.deliveries.len(), 1);
    assert_eq!(plan.deliveries[0].queue_offset, 7);
    assert_eq!(plan.offset, 8);
}

#[test]
fn an_empty_read_moves_past_a_gap() {
    let mut got = read(3, vec![]);
    got.next_begin_offset = 9;
    let plan = plan_level(&DelayLevels::default(), LEVEL, 3, &got, DUE);
    assert_eq!(plan.offset, 9);
    got.next_begin_offset = 3;
    assert_eq!(
        plan_level(&DelayLevels::default(), LEVEL, 3, &got, DUE).offset,
        3
    );
}

#[test]
fn due_uses_the_levels_delay_from_the_store_time() {
    let d = DelayLevels::default();
    let m = crate::protocol::message::decode_record(&record(STORED, DELAYED)).unwrap();
    assert_eq!(due(&d, LEVEL, &m, DUE - 1), Due::NotYet);
    assert!(matches!(due(&d, LEVEL, &m, DUE), Due::Deliver(_)));
    assert_eq!(due(&d, 3, &m, DUE), Due::NotYet, "level 3 is 10 s");
}
