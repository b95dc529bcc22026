//! `ScheduleActor`: delivers delayed messages when they are due (on a master only).
//!
//! - Owns: for each delay level, the offset reached in its SCHEDULE_TOPIC_XXXX queue
//!   (`level - 1`), loaded from and saved to `delayOffset.json`.
//! - Handles: its own timers (a master only): every 100 ms it reads each level's queue from its
//!   offset and executes `logic::schedule_plan::plan_level`: every due message is re-stored to its
//!   REAL_TOPIC / REAL_QID (DELAY cleared, tags code recomputed from TAGS); a level stops at its
//!   first message not yet due, since a level's queue is in time order. Every 10 s (and at
//!   shutdown, `PersistDelayOffsets` from the broker's shutdown sequence) it saves its offsets,
//!   after the re-stores it counted have been made durable. `GetDelayOffsets` (the
//!   GET_ALL_DELAY_OFFSET handler) answers the table as `delayOffset.json` text;
//!   `ReplaceDelayOffsets` (the slave's `SlaveSyncActor`) replaces it with the master's and saves.
//! - A slave delivers nothing (RocketMQ starts ScheduleMessageService on a master only): its
//!   CommitLog is written by replication alone, and the master's deliveries arrive that way.
//! - Runs on: the broker's control arbiter. Store reads and appends are memory operations; the
//!   durability wait is awaited, never blocked on.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tracing::{debug, info, warn};

use super::logic::delay::DelayLevels;
use super::logic::schedule_plan::plan_level;
use super::logic::slave_sync::SlaveSync;
use super::logic::topics::SCHEDULE_TOPIC;
use super::persist::{PersistJob, Persister};
use crate::clock::now_ms;
use crate::storage::metadata::DelayOffsetFile;
use crate::storage::{Durability, MessageStore};

/// Messages re-stored per level per tick, so one busy level cannot starve the others.
const BATCH: usize = 32;

pub struct ScheduleActor {
    store: Arc<MessageStore>,
    delay: DelayLevels,
    offsets: BTreeMap<i32, i64>,
    pending: Vec<Durability>,
    persister: Persister,
    /// False on a slave: no delivery, no periodic save.
    deliver: bool,
    /// Controller mode: deliver only while this says master.
    role: Option<Arc<crate::actors::broker::context::RoleCell>>,
}

impl ScheduleActor {
    pub fn new(
        store: Arc<MessageStore>,
        delay: DelayLevels,
        offsets: BTreeMap<i32, i64>,
        persister: Persister,
        deliver: bool,
    ) -> Self {
        ScheduleActor {
            store,
            delay,
            offsets,
            pending: Vec::new(),
            persister,
            deliver,
            role: None,
        }
    }

    /// Controller mode: deliver only while `role` is a master role.
    pub fn following(
        mut self,
        role: Option<Arc<crate::actors::broker::context::RoleCell>>,
    ) -> Self {
        self.role = role;
        self
    }

    fn snapshot(&self) -> DelayOffsetFile {
        DelayOffsetFile {
            offset_table: self.offsets.clone(),
        }
    }

    /// Deliver what is due on one level (`logic::schedule_plan` decides); returns how many
    /// were delivered.
    fn deliver_level(&mut self, level: i32, now: i64) -> usize {
        let queue = self.delay.queue_id(level);
        let saved = *self.offsets.get(&level).unwrap_or(&0);
        let start = saved.max(self.store.min_offset(SCHEDULE_TOPIC, queue));
        let got = self
            .store
            .get_message(SCHEDULE_TOPIC, queue, start, BATCH, None);
        let plan = plan_level(&self.delay, level, start, &got, now);
        let mut offset = plan.offset;
        let mut delivered = 0;
        for d in plan.deliveries {
            match self.store.put_message(d.message) {
                Ok(put) => {
                    self.pending.push(put.durability);
                    delivered += 1;
                }
                Err(e) => {
                    // Try again next tick; the offset stays on this message.
                    warn!(level, error = %e, "re-storing a due delayed message failed");
                    offset = d.queue_offset;
                    break;
                }
            }
        }
        for (q_offset, why) in plan.skipped.iter().filter(|(q, _)| *q < offset) {
            warn!(level, offset = q_offset, "{why}");
        }
        self.offsets.insert(level, offset);
        delivered
    }

    fn persist(&mut self, ctx: &mut Context<Self>) {
        let waits = std::mem::take(&mut self.pending);
        let snapshot = self.snapshot();
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
        if !self.deliver {
            info!("slave: delayed messages are delivered by the master and replicated here");
            return;
        }
        ctx.run_interval(Duration::from_millis(100), |act, _| {
            if act.role.as_ref().is_some_and(|r| r.is_slave()) {
                return;
            }
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
        let snapshot = self.snapshot();
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

/// The delay offsets as `delayOffset.json` text (GET_ALL_DELAY_OFFSET). Sender: its handler.
#[derive(Message)]
#[rtype(result = "String")]
pub struct GetDelayOffsets;

impl Handler<GetDelayOffsets> for ScheduleActor {
    type Result = String;
    fn handle(&mut self, _: GetDelayOffsets, _ctx: &mut Self::Context) -> String {
        self.snapshot().to_fastjson()
    }
}

/// Replace the delay offsets with the master's and save them when they differ. Sender: the
/// slave's `SlaveSyncActor`. Answers whether they changed.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct ReplaceDelayOffsets(pub BTreeMap<i32, i64>);

impl Handler<ReplaceDelayOffsets> for ScheduleActor {
    type Result = bool;
    fn handle(&mut self, msg: ReplaceDelayOffsets, _ctx: &mut Self::Context) -> bool {
        let Some(offsets) = SlaveSync::delay_offsets(&self.offsets, msg.0) else {
            return false;
        };
        self.offsets = offsets;
        self.persister
            .submit(PersistJob::DelayOffsets(self.snapshot()));
        true
    }
}
