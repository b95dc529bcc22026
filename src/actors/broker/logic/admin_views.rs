//! The plain rules behind the read-mostly admin answers, kept apart from the handlers so they are
//! unit-tested without a store: who consumes a topic (300), a queue's time span (303), one
//! consume-queue entry as QUERY_CONSUME_QUEUE shows it (321), and which topics CLONE_GROUP_OFFSET
//! copies (314). Each follows RocketMQ 4.9's AdminBrokerProcessor.

use std::collections::BTreeSet;

use crate::protocol::body::admin::{ConsumeQueueData, QueueTimeSpan};
use crate::protocol::body::broker::{GroupList, MessageQueue};
use crate::protocol::filter::TagFilter;
use crate::storage::consume_queue::CqUnit;

/// QUERY_TOPIC_CONSUME_BY_WHO: groups online and subscribed to the topic, plus groups with
/// committed offsets on it; each once, sorted.
pub fn consumers_of_topic(online: Vec<String>, with_offsets: BTreeSet<String>) -> GroupList {
    let mut all = with_offsets;
    all.extend(online);
    GroupList {
        group_list: all.into_iter().collect(),
    }
}

/// What QUERY_CONSUME_TIME_SPAN needs to know of one queue; times are -1 when unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueTimes {
    /// Store time of the oldest message.
    pub min_time: i64,
    /// Store time of the newest message.
    pub max_time: i64,
    /// The group's committed offset (0 when none).
    pub consumer_offset: i64,
    /// The queue's max offset.
    pub max_offset: i64,
    /// Store time of the last consumed message (`consumer_offset - 1`), -1 when unknown.
    pub last_consumed_time: i64,
    /// Store time of the next message to consume (`consumer_offset`), -1 when unknown.
    pub next_time: i64,
}

/// One queue's span: consumed up to the last consumed message's store time (the oldest
/// message's when nothing was consumed), delay = now - the next unconsumed message's store time
/// while the group is behind, else 0.
pub fn time_span(mq: MessageQueue, t: QueueTimes, now_ms: i64) -> QueueTimeSpan {
    let consumed = if t.consumer_offset > 0 {
        t.last_consumed_time
    } else {
        t.min_time
    };
    let delay = if t.consumer_offset < t.max_offset && t.next_time >= 0 {
        now_ms - t.next_time
    } else {
        0
    };
    QueueTimeSpan::new(mq, t.min_time, t.max_time, consumed, delay)
}

/// One consume-queue unit as QUERY_CONSUME_QUEUE shows it; `eval` is whether the group's TAG
/// filter passes the unit's tags code (false without a group, as in Java).
pub fn queue_entry(unit: CqUnit, filter: Option<&TagFilter>) -> ConsumeQueueData {
    ConsumeQueueData {
        eval: filter.is_some_and(|f| f.matches_code(unit.tags_code)),
        physic_offset: unit.phys_offset,
        physic_size: unit.size,
        tags_code: unit.tags_code,
        ..Default::default()
    }
}

/// CLONE_GROUP_OFFSET: the topics to copy. `requested` blank = every topic the source group has
/// offsets on. Unless `offline`, a topic is skipped when the source group is online but does not
/// subscribe to it (Java's guard against cloning a stale topic of a running group). Topics the
/// broker does not have are skipped too.
pub fn clone_topics(
    requested: Option<&str>,
    src_offset_topics: BTreeSet<String>,
    src_online_subscriptions: Option<BTreeSet<String>>,
    offline: bool,
    exists: impl Fn(&str) -> bool,
) -> Vec<String> {
    let candidates = match requested {
        Some(t) => BTreeSet::from([t.to_string()]),
        None => src_offset_topics,
    };
    candidates
        .into_iter()
        .filter(|t| exists(t))
        .filter(|t| {
            offline
                || src_online_subscriptions
                    .as_ref()
                    .is_none_or(|subs| subs.is_empty() || subs.contains(t))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumers_are_online_plus_offset_holders_once() {
        let g = consumers_of_topic(
            vec!["b".into(), "a".into()],
            ["a".to_string(), "c".to_string()].into(),
        );
        assert_eq!(g.group_list, vec!["a", "b", "c"]);
    }

    #[test]
    fn time_span_consumed_and_delay() {
        let mq = MessageQueue::new("t", "b", 0);
        let t = QueueTimes {
            min_time: 100,
            max_time: 500,
            consumer_offset: 3,
            max_offset: 5,
            last_consumed_time: 300,
            next_time: 400,
        };
        let s = time_span(mq.clone(), t, 1000);
        assert_eq!((s.consume_time_stamp, s.delay_time), (300, 600));
        let caught_up = time_span(
            mq.clone(),
            QueueTimes {
                consumer_offset: 5,
                ..t
            },
            1000,
        );
        assert_eq!(caught_up.delay_time, 0);
        let fresh = time_span(
            mq,
            QueueTimes {
                consumer_offset: 0,
                ..t
            },
            1000,
        );
        assert_eq!(fresh.consume_time_stamp, 100);
    }

    #[test]
    fn queue_entry_evaluates_the_tag_filter() {
        let unit = CqUnit {
            phys_offset: 10,
            size: 20,
            tags_code: crate::protocol::filter::java_hash("A") as i64,
        };
        assert!(!queue_entry(unit, None).eval);
        assert!(queue_entry(unit, Some(&TagFilter::parse("A||B"))).eval);
        assert!(!queue_entry(unit, Some(&TagFilter::parse("C"))).eval);
        assert_eq!(queue_entry(unit, None).physic_size, 20);
    }

    #[test]
    fn clone_topics_follow_java_rules() {
        let offs: BTreeSet<String> =
            ["t1".to_string(), "t2".to_string(), "gone".to_string()].into();
        let exists = |t: &str| t != "gone";
        assert_eq!(
            clone_topics(None, offs.clone(), None, false, exists),
            vec!["t1", "t2"]
        );
        let online = Some(BTreeSet::from(["t1".to_string()]));
        assert_eq!(
            clone_topics(None, offs.clone(), online.clone(), false, exists),
            vec!["t1"]
        );
        assert_eq!(
            clone_topics(None, offs.clone(), online, true, exists),
            vec!["t1", "t2"]
        );
        assert_eq!(
            clone_topics(Some("t9"), offs, None, false, |_| true),
            vec!["t9"]
        );
    }
}
