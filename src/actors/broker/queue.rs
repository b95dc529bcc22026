//! `QueueActor`: one per (topic, queue) that has pulls waiting (long polling).
//!
//! - Owns: the parked pulls of its queue (a `PullHoldTable` of wake-up senders).
//! - Handles: `HoldPull` (from the PULL_MESSAGE handler when a pull finds nothing and may wait),
//!   `UnitsArrived` (from the store's dispatcher thread, through `QueueRegistry::on_arrivals`, once
//!   per dispatch round per queue that grew) and `ReleaseHolds` (shutdown: answer every parked
//!   pull now); a 1 s timer drops holds whose puller gave up.
//! - Runs on: an I/O arbiter chosen by hashing (topic, queue), created on first use.
//!
//! A wake-up only says "look again": the pull handler, still on its connection's arbiter, re-reads
//! the store and answers. When a hold arrives the actor also compares the queue's current max
//! offset, so a message dispatched between the handler's read and the hold is not missed.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use actix_rt::ArbiterHandle;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::logic::pull_hold::PullHoldTable;
use crate::protocol::filter::TagFilter;
use crate::storage::{Arrival, MessageStore};

/// Pulls one queue may have parked; more are answered at once.
const HOLDS_PER_QUEUE: usize = 4096;

pub struct QueueActor {
    topic: String,
    queue_id: i32,
    holds: PullHoldTable<oneshot::Sender<()>>,
    store: Arc<MessageStore>,
}

impl Actor for QueueActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(HOLDS_PER_QUEUE);
        ctx.run_interval(Duration::from_secs(1), |act, _| {
            act.holds.remove_where(|tx| tx.is_closed());
        });
    }
}

/// Park a pull until units past `offset` arrive. Sender: the PULL_MESSAGE handler.
#[derive(Message)]
#[rtype(result = "()")]
pub struct HoldPull {
    pub offset: i64,
    pub deadline_ms: i64,
    pub filter: Option<TagFilter>,
    pub wake: oneshot::Sender<()>,
}

impl Handler<HoldPull> for QueueActor {
    type Result = ();
    fn handle(&mut self, m: HoldPull, _: &mut Self::Context) {
        if self.store.max_offset(&self.topic, self.queue_id) > m.offset {
            let _ = m.wake.send(());
            return;
        }
        if let Err(wake) = self.holds.hold(
            &self.topic,
            self.queue_id,
            m.offset,
            m.deadline_ms,
            m.filter,
            m.wake,
        ) {
            let _ = wake.send(());
        }
    }
}

/// New units on this queue. Sender: the dispatcher thread via `QueueRegistry`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UnitsArrived {
    pub max_offset: i64,
    pub tags_code: i64,
}

impl Handler<UnitsArrived> for QueueActor {
    type Result = ();
    fn handle(&mut self, m: UnitsArrived, _: &mut Self::Context) {
        for wake in
            self.holds
                .on_arrival(&self.topic, self.queue_id, m.max_offset, Some(m.tags_code))
        {
            let _ = wake.send(());
        }
    }
}

/// Answer every parked pull now (the broker is shutting down: a parked pull is not work in
/// flight, and its consumer should hear at once). Sender: `BrokerHandle::shutdown`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ReleaseHolds;

impl Handler<ReleaseHolds> for QueueActor {
    type Result = ();
    fn handle(&mut self, _: ReleaseHolds, _: &mut Self::Context) {
        for wake in self.holds.remove_where(|_| true) {
            let _ = wake.send(());
        }
    }
}

type QueueMap = HashMap<(String, i32), Addr<QueueActor>>;

/// Finds (or starts) the `QueueActor` of a queue; shared by handlers and the dispatcher listener.
#[derive(Clone)]
pub struct QueueRegistry {
    inner: Arc<Mutex<QueueMap>>,
    arbiters: Arc<Vec<ArbiterHandle>>,
    store: Arc<MessageStore>,
}

impl QueueRegistry {
    pub fn new(arbiters: Vec<ArbiterHandle>, store: Arc<MessageStore>) -> Self {
        QueueRegistry {
            inner: Arc::new(Mutex::new(HashMap::new())),
            arbiters: Arc::new(arbiters),
            store,
        }
    }

    /// The queue's actor, started on first use.
    pub fn get(&self, topic: &str, queue_id: i32) -> Addr<QueueActor> {
        let key = (topic.to_string(), queue_id);
        let mut map = self.inner.lock();
        if let Some(a) = map.get(&key).filter(|a| a.connected()) {
            return a.clone();
        }
        let actor = QueueActor {
            topic: topic.to_string(),
            queue_id,
            holds: PullHoldTable::new(HOLDS_PER_QUEUE),
            store: self.store.clone(),
        };
        let addr = if self.arbiters.is_empty() {
            actor.start()
        } else {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            key.hash(&mut h);
            let arb = &self.arbiters[(h.finish() as usize) % self.arbiters.len()];
            QueueActor::start_in_arbiter(arb, move |_| actor)
        };
        map.insert(key, addr.clone());
        addr
    }

    /// Wake every parked pull (shutdown).
    pub fn release_all(&self) {
        for addr in self.inner.lock().values() {
            addr.do_send(ReleaseHolds);
        }
    }

    /// Called on the dispatcher thread after each dispatch round: wake the queues that have
    /// waiting pulls. Never blocks; a full mailbox drops the notice (the holder's timer and the
    /// 1 s sweep bound the delay).
    pub fn on_arrivals(&self, arrivals: &[Arrival]) {
        let map = self.inner.lock();
        if map.is_empty() {
            return;
        }
        for a in arrivals {
            if let Some(addr) = map.get(&(a.topic.clone(), a.queue_id)) {
                let _ = addr.try_send(UnitsArrived {
                    max_offset: a.max_offset,
                    tags_code: a.tags_code,
                });
            }
        }
    }
}
