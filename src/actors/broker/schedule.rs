//! `ScheduleActor`: delivers delayed messages when they are due.
//!
//! - Owns: for each delay level, the offset reached in its SCHEDULE_TOPIC_XXXX queue
//!   (`level - 1`), loaded from and saved to `delayOffset.json`.
//! - Handles: its own timers: every 100 ms it scans each level's queue from its offset and
//!   re-stores every due message to its REAL_TOPIC / REAL_QID (DELAY cleared, tags code recomputed
//!   from TAGS); a level stops at its first message not yet due, since a level's queue is in time
//!   order. Every 10 s (and at shutdown, `PersistDelayOffsets`) it saves its offsets, after the
//!   re-stores it counted have been made durable.
//! - Runs on: the broker's control arbiter. Store reads and appends are memory operations; the
//!   durability wait is awaited, never blocked on.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tracing::{debug, warn};

use super::logic::delay::DelayLevels;
use super::logic::topics::SCHEDULE_TOPIC;
use super::persist::{PersistJob, Persister};
use crate::actors::namesrv::now_ms;
use crate::protocol::message::decode_record;
use crate::protocol::message::properties::{self as prop, Properties};
use crate::storage::metadata::DelayOffsetFile;
use crate::storage::{Durability, MessageStore, MessageToStore};

/// Messages re-stored per level per tick, so one busy level cannot starve the others.
const BATCH: usize = 32;

pub struct ScheduleActor {
    store: Arc<MessageStore>,
    delay: DelayLevels,
    offsets: BTreeMap<i32, i64>,
    pending: Vec<Durability>,
    persister: Persister,
}

impl ScheduleActor {
    pub fn new(
        store: Arc<MessageStore>,
        delay: DelayLevels,
        offsets: BTreeMap<i32, i64>,
        persister: Persister,
    ) -> Self {
        ScheduleActor {
            store,
            delay,
            offsets,
            pending: Vec::new(),
            persister,
        }
    }

    /// Deliver what is due on one level; returns how many were delivered.
    fn deliver_level(&mut self, level: i32, now: i64) -> usize {
        let queue = self.delay.queue_id(level);
        let mut offset = *self.offsets.get(&level).unwrap_or(&0);
        let min = self.store.min_offset(SCHEDULE_TOPIC, queue);
        if offset < min {
            offset = min;
        }
        let got = self
            .store
            .get_message(SCHEDULE_TOPIC, queue, offset, BATCH, None);
        let mut delivered = 0;
        for (record, q_offset) in got.messages.iter().zip(got.queue_offsets.iter()) {
            let Ok(m) = decode_record(record) else {
                warn!(
                    level,
                    offset = q_offset,
                    "undecodable delayed message skipped"
                );
                offset = q_offset + 1;
                continue;
            };
            let due = self.delay.deliver_at(m.store_timestamp, level);
            if due > now {
                break;
            }
            let mut props = Properties::decode(&m.properties);
            let (Some(topic), Some(qid)) = (
                props.get(prop::REAL_TOPIC).map(str::to_string),
                props
                    .get(prop::REAL_QID)
                    .and_then(|q| q.parse::<i32>().ok()),
            ) else {
                warn!(
                    level,
                    offset = q_offset,
                    "delayed message without REAL_TOPIC/REAL_QID skipped"
                );
                offset = q_offset + 1;
                continue;
            };
            props.remove(prop::DELAY);
            let mut msg = MessageToStore::new(&topic, qid, m.body.clone(), &props.encode());
            msg.flag = m.flag;
            msg.sys_flag = m.sys_flag;
            msg.born_timestamp = m.born_timestamp;
            msg.born_host = m.born_host;
            msg.store_host = m.store_host;
            msg.reconsume_times = m.reconsume_times;
            match self.store.put_message(msg) {
                Ok(put) => {
                    self.pending.push(put.durability);
                    offset = q_offset + 1;
                    delivered += 1;
                }
                Err(e) => {
                    // Try again next tick; the offset stays on this message.
                    warn!(level, error = %e, "re-storing a due delayed message failed");
                    break;
                }
            }
        }
        if got.messages.is_empty() && got.next_begin_offset > offset {
            // Nothing readable in the scanned range (e.g. a gap): move past it.
            offset = got.next_begin_offset;
        }
        self.offsets.insert(level, offset);
        delivered
    }

    fn persist(&mut self, ctx: &mut Context<Self>) {
        let waits = std::mem::take(&mut self.pending);
        let snapshot = DelayOffsetFile {
            offset_table: self.offsets.clone(),
        };
        let persister = self.persister.clone();
        ctx.spawn(
            async move {
                for w in waits {
                    if let Err(e) = w.flushed().await {
                        warn!(error = %e, "delayed re-store not flushed in time; saving offsets anyway");
                    }
                }
                persister.submit(PersistJob::DelayOffsets(snapshot));
            }
            .into_actor(self),
        );
    }
}

impl Actor for ScheduleActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(16);
        ctx.run_interval(Duration::from_millis(100), |act, _| {
            let now = now_ms();
            for level in 1..=act.delay.max_level() {
                let n = act.deliver_level(level, now);
                if n > 0 {
                    debug!(level, delivered = n, "delayed messages delivered");
                }
            }
        });
        ctx.run_interval(Duration::from_secs(10), |act, ctx| act.persist(ctx));
    }
}

/// Save the delay offsets now (graceful shutdown). Sender: the broker's shutdown sequence.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PersistDelayOffsets;

impl Handler<PersistDelayOffsets> for ScheduleActor {
    type Result = ResponseActFuture<Self, ()>;
    fn handle(&mut self, _: PersistDelayOffsets, _ctx: &mut Self::Context) -> Self::Result {
        let waits = std::mem::take(&mut self.pending);
        let snapshot = DelayOffsetFile {
            offset_table: self.offsets.clone(),
        };
        let persister = self.persister.clone();
        Box::pin(
            async move {
                for w in waits {
                    let _ = w.flushed().await;
                }
                persister.submit(PersistJob::DelayOffsets(snapshot));
            }
            .into_actor(self),
        )
    }
}
