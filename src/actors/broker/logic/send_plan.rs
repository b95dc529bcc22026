//! The send path's broker rules (docs/protocol.md §7.2) as plans: given a request, the broker's
//! settings and the group's state, what is stored where. The handlers execute a plan against
//! the store; nothing here touches the store, a lock or the clock.
//!
//! * A single send keeps its topic and queue, except: a half message goes to the half queue
//!   (`logic::transaction`: RMQ_SYS_TRANS_HALF_TOPIC queue 0, REAL_TOPIC / REAL_QID, its
//!   transaction bits reset to NOT; no DLQ or DELAY rule applies before commit); a send to
//!   `%RETRY%<group>` at or past the group's max reconsume times goes to `%DLQ%<group>` queue 0
//!   (DELAY cleared, DLQ topic created first); a DELAY level diverts it (see [`divert_if_delayed`]).
//! * A batch is refused for a too long topic, a retry topic or a DELAY level.
//! * The stored properties are the client's without WAIT (honoured, not stored) plus CLUSTER.

use std::fmt;

use bytes::Bytes;

use super::delay::DelayLevels;
use super::retry::{max_reconsume_times, retry_group, retry_topic_send, RetrySend};
use super::topics::SCHEDULE_TOPIC;
use super::transaction::{divert_half, is_half, stored_sys_flag};
use crate::protocol::codes::message_sys_flag;
use crate::protocol::message::properties::{self as prop, Properties};
use crate::protocol::message::MAX_TOPIC_LEN;
use crate::storage::{MessageOrigin, MessageToStore};

/// `retryMaxTimes` of a group the broker does not know (SubscriptionGroupConfig's default).
pub const DEFAULT_RETRY_MAX_TIMES: i32 = 16;

/// A send the broker's rules refuse; `crate::error` chooses the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendRefusal {
    /// A batch whose topic is longer than a record's topic field allows.
    BatchTopicTooLong,
    /// A batch sent to `%RETRY%<group>` (Java refuses these: MESSAGE_ILLEGAL).
    BatchToRetryTopic(String),
    /// A batch with a DELAY level.
    BatchWithDelay,
}

impl fmt::Display for SendRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendRefusal::BatchTopicTooLong => {
                write!(f, "the batch topic is longer than {MAX_TOPIC_LEN} bytes")
            }
            SendRefusal::BatchToRetryTopic(t) => {
                write!(f, "batch request does not support retry group {t}")
            }
            SendRefusal::BatchWithDelay => {
                write!(f, "delay levels are not supported for batch messages")
            }
        }
    }
}

impl std::error::Error for SendRefusal {}

/// Where a message is stored and what it is stored with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorePlan {
    pub topic: String,
    pub queue_id: i32,
    /// The consume-queue tags code: the delivery time under SCHEDULE_TOPIC_XXXX, otherwise
    /// `None` (the store hashes TAGS).
    pub tags_code: Option<i64>,
    /// The properties to store, encoded once the rules have run.
    pub properties: String,
}

impl StorePlan {
    /// The message to append: `origin`'s fields, this plan's place and properties, `body`.
    /// A message planned into the half queue has its transaction bits reset to NOT.
    pub fn into_message(self, origin: MessageOrigin, body: Bytes, wait: bool) -> MessageToStore {
        let mut origin = origin;
        origin.sys_flag = stored_sys_flag(&self.topic, origin.sys_flag);
        let mut msg =
            MessageToStore::from_record(origin, self.topic, self.queue_id, body, self.properties);
        msg.tags_code = self.tags_code;
        msg.wait_store_msg_ok = wait;
        msg
    }
}

/// A plan being built: the place and the decoded properties the rules rewrite.
#[derive(Debug)]
pub(crate) struct Draft {
    pub topic: String,
    pub queue_id: i32,
    pub tags_code: Option<i64>,
    pub props: Properties,
}

impl Draft {
    /// A message for `topic`/`queue_id` with these properties, no tags code decided yet.
    pub fn new(topic: String, queue_id: i32, props: Properties) -> Self {
        Draft {
            topic,
            queue_id,
            tags_code: None,
            props,
        }
    }

    pub fn finish(self) -> StorePlan {
        StorePlan {
            topic: self.topic,
            queue_id: self.queue_id,
            tags_code: self.tags_code,
            properties: self.props.encode(),
        }
    }
}

/// The broker's delay rule: a message with a DELAY level is stored in SCHEDULE_TOPIC_XXXX, queue
/// `level - 1`, with its real topic and queue in REAL_TOPIC / REAL_QID and its delivery time
/// (`now` + the level's delay) as the tags code; the schedule actor moves it back when due.
/// Levels past the last clamp; an absent, unparsable or non-positive level means no delay.
pub(crate) fn divert_if_delayed(draft: &mut Draft, delay: &DelayLevels, now_ms: i64) {
    let level: i32 = draft
        .props
        .get(prop::DELAY)
        .and_then(|d| d.trim().parse().ok())
        .unwrap_or(0);
    if level <= 0 {
        return;
    }
    let level = delay.clamp(level);
    draft.props.insert(prop::DELAY, &level.to_string());
    draft.props.insert(prop::REAL_TOPIC, &draft.topic);
    draft
        .props
        .insert(prop::REAL_QID, &draft.queue_id.to_string());
    draft.tags_code = Some(delay.deliver_at(now_ms, level));
    draft.topic = SCHEDULE_TOPIC.to_string();
    draft.queue_id = delay.queue_id(level);
}

/// The properties a send stores (the client's without WAIT, plus CLUSTER) and whether the
/// producer waits for durability (WAIT absent or anything but "false").
pub fn request_properties(raw: Option<&str>, cluster: &str) -> (Properties, bool) {
    let mut props = Properties::decode(raw.unwrap_or(""));
    let wait = props
        .remove(prop::WAIT)
        .map(|v| !v.eq_ignore_ascii_case("false"))
        .unwrap_or(true);
    props.insert(prop::CLUSTER, cluster);
    (props, wait)
}

/// What a single send brings to its plan.
#[derive(Debug)]
pub struct SendInput {
    /// The request's topic and the queue chosen for it.
    pub topic: String,
    pub queue_id: i32,
    pub sys_flag: i32,
    /// Header `reconsumeTimes` and `maxReconsumeTimes`, and the client's version.
    pub reconsume_times: Option<i32>,
    pub header_max_reconsume_times: Option<i32>,
    pub client_version: i32,
    /// For a send to `%RETRY%<group>`: the group's `retryMaxTimes`, if the broker knows it.
    pub group_retry_max: Option<i32>,
    /// From [`request_properties`].
    pub properties: Properties,
}

/// The plan of a single send.
#[derive(Debug, PartialEq, Eq)]
pub struct SendPlan {
    pub store: StorePlan,
    /// The message was redirected to this group's DLQ: create `%DLQ%<group>` before storing.
    pub dead_letter_of: Option<String>,
}

/// Apply the send rules to a single message.
pub fn plan_send(
    input: SendInput,
    delay: &DelayLevels,
    now_ms: i64,
) -> Result<SendPlan, SendRefusal> {
    let tx_type = message_sys_flag::transaction_value(input.sys_flag);
    let half = is_half(input.sys_flag, &input.properties);
    let mut draft = Draft::new(input.topic, input.queue_id, input.properties);
    if half {
        divert_half(&mut draft);
        return Ok(SendPlan {
            store: draft.finish(),
            dead_letter_of: None,
        });
    }
    let dead_letter = retry_group(&draft.topic).and_then(|group| {
        let max = max_reconsume_times(
            input.group_retry_max.unwrap_or(DEFAULT_RETRY_MAX_TIMES),
            input.header_max_reconsume_times,
            input.client_version,
        );
        match retry_topic_send(group, input.reconsume_times, max) {
            RetrySend::DeadLetter { topic } => Some((group.to_string(), topic)),
            RetrySend::Keep => None,
        }
    });
    let dead_letter_of = dead_letter.map(|(group, dlq)| {
        draft.props.remove(prop::DELAY);
        draft.topic = dlq;
        draft.queue_id = 0;
        group
    });
    if tx_type != message_sys_flag::TRANSACTION_ROLLBACK_TYPE {
        divert_if_delayed(&mut draft, delay, now_ms);
    }
    Ok(SendPlan {
        store: draft.finish(),
        dead_letter_of,
    })
}

/// The batch rules: the topic fits a record, is no retry topic, and no DELAY level is set.
pub fn check_batch(topic: &str, properties: &Properties) -> Result<(), SendRefusal> {
    if topic.len() > MAX_TOPIC_LEN {
        return Err(SendRefusal::BatchTopicTooLong);
    }
    if retry_group(topic).is_some() {
        return Err(SendRefusal::BatchToRetryTopic(topic.to_string()));
    }
    if properties.get(prop::DELAY).is_some() {
        return Err(SendRefusal::BatchWithDelay);
    }
    Ok(())
}

#[cfg(test)]
#[path = "send_plan_tests.rs"]
mod tests;
