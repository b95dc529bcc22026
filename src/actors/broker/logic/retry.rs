//! Retry and dead-letter decisions (docs/protocol.md §7.2) as pure functions.
//!
//! CONSUMER_SEND_MSG_BACK and a direct send to `%RETRY%<group>` both end in one question: does the
//! message go back to the retry topic (with which delay level) or to the DLQ? The handler looks up
//! the stored message and the group; these functions decide and say which properties to set,
//! and `SendBackPlan::store_plan` turns the decision into what to store, returning data so the
//! handler does the store write. Java's rules:
//!
//! * max reconsume = the group's `retryMaxTimes`, replaced by the header's `maxReconsumeTimes` when
//!   the client's version ≥ V3_4_9 (ordinal 121) and the header has it. A negative header value is
//!   ignored here (Java clients never send one; honouring it would DLQ every message);
//! * `reconsumeTimes >= max` or `delayLevel < 0` → DLQ, no delay;
//! * otherwise retry with `delayLevel`, or `3 + reconsumeTimes` when it is 0;
//! * the new record has `reconsumeTimes + 1`, `RETRY_TOPIC` = original topic if not already set,
//!   `ORIGIN_MESSAGE_ID` kept or set to the stored message's offset id, and `WAIT=false`.

use super::delay::DelayLevels;
use super::send_plan::{divert_if_delayed, Draft, StorePlan};
use super::topics::{dlq_topic, retry_topic, RETRY_GROUP_TOPIC_PREFIX};
use crate::protocol::message::properties::Properties;

/// MQVersion ordinal of V3_4_9: from here on the header's `maxReconsumeTimes` is honoured.
pub const V3_4_9: i32 = 121;
pub const PROPERTY_RETRY_TOPIC: &str = "RETRY_TOPIC";
pub const PROPERTY_ORIGIN_MESSAGE_ID: &str = "ORIGIN_MESSAGE_ID";
pub const PROPERTY_DELAY: &str = "DELAY";
pub const PROPERTY_WAIT: &str = "WAIT";

/// The max reconsume times that applies to a request.
pub fn max_reconsume_times(
    group_retry_max: i32,
    header_max: Option<i32>,
    client_version: i32,
) -> i32 {
    match header_max {
        Some(m) if client_version >= V3_4_9 && m >= 0 => m,
        _ => group_retry_max,
    }
}

/// Where a sent-back message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendBackTarget {
    /// `%RETRY%<group>`, delayed by `delay_level`.
    Retry { topic: String, delay_level: i32 },
    /// `%DLQ%<group>`, no delay (queue 0; create the DLQ topic first).
    DeadLetter { topic: String },
}

/// What CONSUMER_SEND_MSG_BACK needs from the request and the stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendBackInput<'a> {
    pub group: &'a str,
    /// Header `delayLevel`.
    pub delay_level: i32,
    /// The stored message's topic, reconsume times and properties of interest.
    pub stored_topic: &'a str,
    pub reconsume_times: i32,
    pub retry_topic_property: Option<&'a str>,
    pub origin_message_id_property: Option<&'a str>,
    /// The stored message's offset msg id (used when it has no ORIGIN_MESSAGE_ID yet).
    pub offset_msg_id: &'a str,
    /// From `max_reconsume_times`.
    pub max_reconsume_times: i32,
}

/// The new record to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendBackPlan {
    pub target: SendBackTarget,
    /// `reconsumeTimes` of the new record.
    pub reconsume_times: i32,
    /// Properties to set (replacing any old value) on the copied message.
    pub set_properties: Vec<(&'static str, String)>,
}

/// Decide CONSUMER_SEND_MSG_BACK.
pub fn plan_send_back(input: &SendBackInput<'_>) -> SendBackPlan {
    let target = if input.reconsume_times >= input.max_reconsume_times || input.delay_level < 0 {
        SendBackTarget::DeadLetter {
            topic: dlq_topic(input.group),
        }
    } else {
        let delay_level = if input.delay_level == 0 {
            3 + input.reconsume_times
        } else {
            input.delay_level
        };
        SendBackTarget::Retry {
            topic: retry_topic(input.group),
            delay_level,
        }
    };
    let mut set_properties = Vec::new();
    if input.retry_topic_property.is_none() {
        set_properties.push((PROPERTY_RETRY_TOPIC, input.stored_topic.to_string()));
    }
    let origin = match input.origin_message_id_property {
        Some(o) if !o.trim().is_empty() => o,
        _ => input.offset_msg_id,
    };
    set_properties.push((PROPERTY_ORIGIN_MESSAGE_ID, origin.to_string()));
    set_properties.push((PROPERTY_WAIT, "false".to_string()));
    if let SendBackTarget::Retry { delay_level, .. } = &target {
        set_properties.push((PROPERTY_DELAY, delay_level.to_string()));
    }
    SendBackPlan {
        target,
        reconsume_times: input.reconsume_times.saturating_add(1),
        set_properties,
    }
}

impl SendBackPlan {
    /// What to store: the stored message's properties with this plan's updates, on the target
    /// (the retry topic's `retry_queue_id`, or the DLQ's queue 0 with DELAY cleared), diverted
    /// through SCHEDULE_TOPIC_XXXX by its delay level. The copy is appended without waiting for
    /// durability, so WAIT is not stored.
    pub fn store_plan(
        &self,
        stored_properties: &str,
        retry_queue_id: i32,
        delay: &DelayLevels,
        now_ms: i64,
    ) -> StorePlan {
        let mut props = Properties::decode(stored_properties);
        for (k, v) in &self.set_properties {
            props.insert(k, v);
        }
        let (topic, queue_id) = match &self.target {
            SendBackTarget::DeadLetter { topic } => {
                props.remove(PROPERTY_DELAY);
                (topic.clone(), 0)
            }
            SendBackTarget::Retry { topic, .. } => (topic.clone(), retry_queue_id),
        };
        let mut draft = Draft::new(topic, queue_id, props);
        divert_if_delayed(&mut draft, delay, now_ms);
        draft.props.remove(PROPERTY_WAIT);
        draft.finish()
    }
}

/// A group with `retryQueueNums <= 0` has retries switched off: Java answers SUCCESS to
/// CONSUMER_SEND_MSG_BACK and drops the message.
pub fn retry_disabled(retry_queue_nums: i32) -> bool {
    retry_queue_nums <= 0
}

/// The retry-topic queue of a sent-back message: `random % retryQueueNums` (DLQ: always 0).
pub fn retry_queue_id(random: u32, retry_queue_nums: i32) -> i32 {
    if retry_queue_nums <= 0 {
        0
    } else {
        (random % retry_queue_nums as u32) as i32
    }
}

/// The group of a retry topic (`%RETRY%g` → `g`).
pub fn retry_group(topic: &str) -> Option<&str> {
    topic.strip_prefix(RETRY_GROUP_TOPIC_PREFIX)
}

/// A direct send to a retry topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetrySend {
    /// Store as sent.
    Keep,
    /// Redirect to the group's DLQ, queue 0, with the DELAY property cleared.
    DeadLetter { topic: String },
}

/// Decide a send to `%RETRY%<group>` (the caller checked `retry_group` and found the group):
/// header `reconsumeTimes` (absent = 0) ≥ max → DLQ.
pub fn retry_topic_send(
    group: &str,
    reconsume_times: Option<i32>,
    max_reconsume_times: i32,
) -> RetrySend {
    if reconsume_times.unwrap_or(0) >= max_reconsume_times {
        RetrySend::DeadLetter {
            topic: dlq_topic(group),
        }
    } else {
        RetrySend::Keep
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::broker::logic::topics::SCHEDULE_TOPIC;

    fn input(reconsume: i32, delay: i32, max: i32) -> SendBackInput<'static> {
        SendBackInput {
            group: "g",
            delay_level: delay,
            stored_topic: "T",
            reconsume_times: reconsume,
            retry_topic_property: None,
            origin_message_id_property: None,
            offset_msg_id: "0A00000100002A9F0000000000000010",
            max_reconsume_times: max,
        }
    }

    #[test]
    fn max_reconsume_honours_header_only_from_v3_4_9() {
        assert_eq!(max_reconsume_times(16, Some(3), V3_4_9), 3);
        assert_eq!(max_reconsume_times(16, Some(3), V3_4_9 - 1), 16);
        assert_eq!(
            max_reconsume_times(16, Some(3), 63),
            16,
            "the C++ 1.x client's version"
        );
        assert_eq!(max_reconsume_times(16, None, 409), 16);
        assert_eq!(max_reconsume_times(16, Some(-1), 409), 16);
        assert_eq!(max_reconsume_times(16, Some(0), 409), 0);
    }

    #[test]
    fn retry_with_default_or_given_delay() {
        let p = plan_send_back(&input(0, 0, 16));
        assert_eq!(
            p.target,
            SendBackTarget::Retry {
                topic: "%RETRY%g".into(),
                delay_level: 3
            }
        );
        assert_eq!(p.reconsume_times, 1);
        let p = plan_send_back(&input(5, 0, 16));
        assert_eq!(
            p.target,
            SendBackTarget::Retry {
                topic: "%RETRY%g".into(),
                delay_level: 8
            }
        );
        assert!(p.set_properties.contains(&(PROPERTY_DELAY, "8".into())));
        let p = plan_send_back(&input(5, 2, 16));
        assert!(matches!(
            p.target,
            SendBackTarget::Retry { delay_level: 2, .. }
        ));
    }

    #[test]
    fn dead_letter_at_max_or_negative_level() {
        assert!(matches!(
            plan_send_back(&input(15, 0, 16)).target,
            SendBackTarget::Retry { .. }
        ));
        let p = plan_send_back(&input(16, 0, 16));
        assert_eq!(
            p.target,
            SendBackTarget::DeadLetter {
                topic: "%DLQ%g".into()
            }
        );
        assert_eq!(p.reconsume_times, 17);
        assert!(!p.set_properties.iter().any(|(k, _)| *k == PROPERTY_DELAY));
        assert!(matches!(
            plan_send_back(&input(0, -1, 16)).target,
            SendBackTarget::DeadLetter { .. }
        ));
        assert!(matches!(
            plan_send_back(&input(0, 0, 0)).target,
            SendBackTarget::DeadLetter { .. }
        ));
    }

    #[test]
    fn property_updates() {
        let p = plan_send_back(&input(0, 0, 16));
        assert_eq!(
            p.set_properties,
            vec![
                (PROPERTY_RETRY_TOPIC, "T".to_string()),
                (
                    PROPERTY_ORIGIN_MESSAGE_ID,
                    "0A00000100002A9F0000000000000010".to_string()
                ),
                (PROPERTY_WAIT, "false".to_string()),
                (PROPERTY_DELAY, "3".to_string()),
            ]
        );
        // Second retry: stored topic is the retry topic, RETRY_TOPIC and ORIGIN_MESSAGE_ID exist.
        let mut i = input(1, 0, 16);
        i.stored_topic = "%RETRY%g";
        i.retry_topic_property = Some("T");
        i.origin_message_id_property = Some("FIRST");
        let p = plan_send_back(&i);
        assert!(!p
            .set_properties
            .iter()
            .any(|(k, _)| *k == PROPERTY_RETRY_TOPIC));
        assert!(p
            .set_properties
            .contains(&(PROPERTY_ORIGIN_MESSAGE_ID, "FIRST".into())));
        // A blank ORIGIN_MESSAGE_ID counts as absent.
        i.origin_message_id_property = Some(" ");
        let p = plan_send_back(&i);
        assert!(p.set_properties.contains(&(
            PROPERTY_ORIGIN_MESSAGE_ID,
            "0A00000100002A9F0000000000000010".into()
        )));
    }

    #[test]
    fn a_retry_is_stored_delayed_on_its_queue() {
        let d = DelayLevels::default();
        let p = plan_send_back(&input(0, 0, 16));
        let stored = "TAGS\u{1}a\u{2}WAIT\u{1}true";
        let s = p.store_plan(stored, 1, &d, 5_000);
        assert_eq!((s.topic.as_str(), s.queue_id), (SCHEDULE_TOPIC, 2));
        assert_eq!(s.tags_code, Some(5_000 + 10_000));
        let props = Properties::decode(&s.properties);
        assert_eq!(props.get("REAL_TOPIC"), Some("%RETRY%g"));
        assert_eq!(props.get("REAL_QID"), Some("1"));
        assert_eq!(props.get(PROPERTY_DELAY), Some("3"));
        assert_eq!(props.get(PROPERTY_RETRY_TOPIC), Some("T"));
        assert_eq!(props.get("TAGS"), Some("a"));
        assert_eq!(props.get(PROPERTY_WAIT), None, "WAIT is not stored");
        // The exact bytes: the stored properties in order, then the plan's, then the divert's.
        assert_eq!(
            s.properties,
            "TAGS\u{1}a\u{2}RETRY_TOPIC\u{1}T\u{2}ORIGIN_MESSAGE_ID\u{1}\
             0A00000100002A9F0000000000000010\u{2}DELAY\u{1}3\u{2}REAL_TOPIC\u{1}%RETRY%g\
             \u{2}REAL_QID\u{1}1"
        );
    }

    #[test]
    fn a_dead_letter_is_stored_on_queue_0_without_delay() {
        let d = DelayLevels::default();
        let p = plan_send_back(&input(16, 0, 16));
        let s = p.store_plan("DELAY\u{1}4", 3, &d, 5_000);
        assert_eq!((s.topic.as_str(), s.queue_id), ("%DLQ%g", 0));
        assert_eq!(s.tags_code, None);
        let props = Properties::decode(&s.properties);
        assert_eq!(props.get(PROPERTY_DELAY), None);
        assert_eq!(props.get(PROPERTY_WAIT), None);
        assert_eq!(props.get("REAL_TOPIC"), None);
    }

    #[test]
    fn retry_queue_helpers() {
        assert!(retry_disabled(0) && retry_disabled(-1) && !retry_disabled(1));
        assert_eq!(retry_queue_id(7, 1), 0);
        assert_eq!(retry_queue_id(7, 3), 1);
        assert_eq!(retry_queue_id(7, 0), 0);
    }

    #[test]
    fn direct_sends_to_retry_topics() {
        assert_eq!(retry_group("%RETRY%g"), Some("g"));
        assert_eq!(retry_group("T"), None);
        assert_eq!(retry_topic_send("g", Some(3), 16), RetrySend::Keep);
        assert_eq!(retry_topic_send("g", None, 16), RetrySend::Keep);
        assert_eq!(
            retry_topic_send("g", Some(16), 16),
            RetrySend::DeadLetter {
                topic: "%DLQ%g".into()
            }
        );
        assert_eq!(
            retry_topic_send("g", None, 0),
            RetrySend::DeadLetter {
                topic: "%DLQ%g".into()
            }
        );
    }
}
