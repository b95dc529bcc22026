//! Delivering due delayed messages (docs/protocol.md §7.2) as a plan.
//!
//! A level's SCHEDULE_TOPIC_XXXX queue is in time order: its messages are read from the level's
//! offset and each is due at `store time + delay(level)`. The plan re-stores every due message at
//! its REAL_TOPIC / REAL_QID (DELAY cleared, the tags code recomputed from TAGS, the rest of the
//! record kept), skips records that cannot be delivered, stops at the first message not yet due,
//! and says where the level's offset stands afterwards. The schedule actor reads the queue,
//! appends the deliveries in order and keeps the offset.

use std::fmt;

use super::delay::DelayLevels;
use super::send_plan::StorePlan;
use crate::protocol::message::properties::{self as prop, Properties};
use crate::protocol::message::{decode_record, MessageExt};
use crate::storage::{GetResult, MessageOrigin, MessageToStore};

/// Why a record on a level's queue is passed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The record does not decode.
    Undecodable,
    /// The message has no REAL_TOPIC or no numeric REAL_QID.
    NoRealTopic,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Undecodable => write!(f, "undecodable delayed message skipped"),
            Skip::NoRealTopic => write!(f, "delayed message without REAL_TOPIC/REAL_QID skipped"),
        }
    }
}

/// What to do with one delayed message.
#[derive(Debug, PartialEq, Eq)]
pub enum Due {
    /// Not due yet: the level stops here.
    NotYet,
    /// Due: store this.
    Deliver(StorePlan),
    /// Cannot be delivered: pass over it.
    Skip(Skip),
}

/// Decide one message of `level` at `now_ms`.
pub fn due(delay: &DelayLevels, level: i32, m: &MessageExt, now_ms: i64) -> Due {
    if delay.deliver_at(m.store_timestamp, level) > now_ms {
        return Due::NotYet;
    }
    let mut props = Properties::decode(&m.properties);
    let (Some(topic), Some(queue_id)) = (
        props.get(prop::REAL_TOPIC).map(str::to_string),
        props
            .get(prop::REAL_QID)
            .and_then(|q| q.parse::<i32>().ok()),
    ) else {
        return Due::Skip(Skip::NoRealTopic);
    };
    props.remove(prop::DELAY);
    Due::Deliver(StorePlan {
        topic,
        queue_id,
        tags_code: None,
        properties: props.encode(),
    })
}

/// A due message to append, with its offset in the level's queue.
#[derive(Debug)]
pub struct Delivery {
    pub queue_offset: i64,
    pub message: MessageToStore,
}

/// What one pass over a level does.
#[derive(Debug)]
pub struct LevelPlan {
    /// The due messages, in queue order.
    pub deliveries: Vec<Delivery>,
    /// Records passed over, with their queue offsets.
    pub skipped: Vec<(i64, Skip)>,
    /// The level's offset once every delivery is stored. If one cannot be, the offset stays on
    /// it (its `queue_offset`) and the rest wait for the next pass.
    pub offset: i64,
}

/// Plan a pass over `level`, whose queue was read from `start` into `got`.
pub fn plan_level(
    delay: &DelayLevels,
    level: i32,
    start: i64,
    got: &GetResult,
    now_ms: i64,
) -> LevelPlan {
    let mut plan = LevelPlan {
        deliveries: Vec::new(),
        skipped: Vec::new(),
        offset: start,
    };
    for (record, &queue_offset) in got.messages.iter().zip(&got.queue_offsets) {
        let Ok(m) = decode_record(record) else {
            plan.skipped.push((queue_offset, Skip::Undecodable));
            plan.offset = queue_offset + 1;
            continue;
        };
        match due(delay, level, &m, now_ms) {
            Due::NotYet => break,
            Due::Skip(why) => plan.skipped.push((queue_offset, why)),
            Due::Deliver(store) => {
                let origin = MessageOrigin::of_record(&m);
                plan.deliveries.push(Delivery {
                    queue_offset,
                    message: store.into_message(origin, m.body.clone(), true),
                });
            }
        }
        plan.offset = queue_offset + 1;
    }
    if got.messages.is_empty() && got.next_begin_offset > plan.offset {
        // Nothing readable in the scanned range (e.g. a gap): move past it.
        plan.offset = got.next_begin_offset;
    }
    plan
}

#[cfg(test)]
#[path = "schedule_plan_tests.rs"]
mod tests;
