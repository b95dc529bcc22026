//! The `RebalanceActor`, one per push-consumer group. State: the group's current assignment
//! ([`Assignment`]: queue -> process queue, plain and unit-tested) and the shared `ConsumerCore`.
//! Messages: `DoRebalance` (from the `InstanceActor` on NOTIFY_CONSUMER_IDS_CHANGED and route
//! changes, from the consumer handle at start, and from its own `rebalance_interval` timer),
//! `Shutdown` (from the handle) and `Assigned` (a snapshot for the handle); internal timers
//! persist offsets and renew orderly locks. Rebalances run one at a time (`AtomicResponse`), on the
//! client runtime thread.
//!
//! A rebalance sorts the group's client ids and the topic's queues and allocates with the
//! configured Java strategy; queues no longer owned are dropped after their offset is committed
//! (and, orderly, after the running listener call finished and the broker lock was released); new
//! queues start pulling from their stored offset (orderly: only once LOCK_BATCH_MQ granted them).
//! Every change is logged at INFO.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use parking_lot::Mutex;

use super::allocate::sorted;
use super::broker_api;
use super::consume::{orderly_loop, pull_loop};
use super::consumer::ConsumerCore;
use super::heartbeat::{HeartbeatNow, UnregisterGroup};
use super::instance::{UnregisterRebalancer, MAILBOX};
use super::message::MessageQueue;
use super::process_queue::PqHandle;
use crate::clock::now_ms;

/// What changes when `topic`'s owned queues become `target`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub added: Vec<MessageQueue>,
    pub removed: Vec<MessageQueue>,
}

/// The queues a consumer currently owns.
#[derive(Default)]
pub struct Assignment {
    pub queues: BTreeMap<MessageQueue, PqHandle>,
}

impl Assignment {
    pub fn plan(&self, topic: &str, target: &[MessageQueue]) -> Plan {
        let target: BTreeSet<&MessageQueue> = target.iter().collect();
        let current: BTreeSet<&MessageQueue> =
            self.queues.keys().filter(|q| q.topic == topic).collect();
        Plan {
            added: target.difference(&current).map(|q| (*q).clone()).collect(),
            removed: current.difference(&target).map(|q| (*q).clone()).collect(),
        }
    }

    pub fn owned(&self) -> Vec<MessageQueue> {
        self.queues.keys().cloned().collect()
    }
}

/// Recompute the assignment. The reason is logged.
#[derive(Message, Clone, Copy)]
#[rtype(result = "()")]
pub struct DoRebalance(pub &'static str);

/// Stop pulling, wait for in-flight listener calls (bounded), commit offsets, unlock, unregister.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// The owned queues. Sender: `PushConsumer::assignment`.
#[derive(Message)]
#[rtype(result = "Vec<MessageQueue>")]
pub struct Assigned;

pub struct RebalanceActor {
    pub(crate) core: Arc<ConsumerCore>,
    pub(crate) assign: Arc<Mutex<Assignment>>,
    /// When the consumer started (GET_CONSUMER_RUNNING_INFO's PROP_CONSUMER_START_TIMESTAMP).
    pub(crate) started_ms: i64,
}

impl RebalanceActor {
    pub(crate) fn new(core: Arc<ConsumerCore>) -> Self {
        RebalanceActor {
            core,
            assign: Arc::new(Mutex::new(Assignment::default())),
            started_ms: now_ms(),
        }
    }
}

impl Actor for RebalanceActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
        let cfg = &self.core.config;
        ctx.run_interval(cfg.rebalance_interval, |_, ctx| {
            ctx.notify(DoRebalance("timer"))
        });
        ctx.run_interval(cfg.persist_offset_interval, |act, ctx| {
            let core = act.core.clone();
            ctx.spawn(async move { core.persist_offsets(None, false).await }.into_actor(act));
        });
        if self.core.orderly() && self.core.clustering() {
            ctx.run_interval(cfg.lock_interval, |act, ctx| {
                let (core, assign) = (act.core.clone(), act.assign.clone());
                ctx.spawn(async move { lock_all(&core, &assign).await }.into_actor(act));
            });
        }
    }
}

impl Handler<DoRebalance> for RebalanceActor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, msg: DoRebalance, _: &mut Self::Context) -> Self::Result {
        let (core, assign) = (self.core.clone(), self.assign.clone());
        AtomicResponse::new(Box::pin(
            async move {
                if !core.stopping() {
                    rebalance(&core, &assign, msg.0).await
                }
            }
            .into_actor(self),
        ))
    }
}

impl Handler<Assigned> for RebalanceActor {
    type Result = Vec<MessageQueue>;
    fn handle(&mut self, _: Assigned, _: &mut Self::Context) -> Vec<MessageQueue> {
        self.assign.lock().owned()
    }
}

impl Handler<Shutdown> for RebalanceActor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, _: Shutdown, _: &mut Self::Context) -> Self::Result {
        let (core, assign) = (self.core.clone(), self.assign.clone());
        AtomicResponse::new(Box::pin(
            async move {
                core.stopping.store(true, Ordering::Release);
                let owned = {
                    let a = assign.lock();
                    for pq in a.queues.values() {
                        pq.state.lock().dropped = true;
                    }
                    a.owned()
                };
                if !core.await_in_flight(core.config.shutdown_await).await {
                    tracing::warn!(
                        group = core.group(),
                        "listener calls still running at shutdown"
                    );
                }
                core.persist_offsets(None, true).await;
                if core.orderly() && core.clustering() {
                    unlock(&core, owned).await;
                }
                let inner = &core.instance.inner;
                let _ = inner
                    .actor
                    .send(UnregisterRebalancer(core.group().to_string()))
                    .await;
                let _ = inner
                    .heartbeat
                    .send(UnregisterGroup {
                        producer: None,
                        consumer: Some(core.group().to_string()),
                    })
                    .await;
                tracing::info!(group = core.group(), "consumer shut down");
            }
            .into_actor(self)
            .map(|_, _, ctx: &mut Context<Self>| ctx.stop()),
        ))
    }
}

pub(crate) async fn rebalance(
    core: &Arc<ConsumerCore>,
    assign: &Arc<Mutex<Assignment>>,
    reason: &'static str,
) {
    let inst = &core.instance;
    let mut learned = false;
    for topic in core.topics() {
        let mut mqs = inst.inner.routes.read().subscribe_queues(&topic);
        if mqs.is_empty() {
            learned |= matches!(inst.update_route(&topic).await, Ok(true));
            mqs = inst.inner.routes.read().subscribe_queues(&topic);
        }
        if mqs.is_empty() {
            if !topic.starts_with("%RETRY%") {
                tracing::warn!(group = core.group(), %topic, "rebalance: topic has no route yet");
            }
            continue;
        }
        let target = if core.clustering() {
            let Some(addr) = inst.inner.routes.read().any_broker_of(&topic) else {
                continue;
            };
            let cids = match broker_api::consumer_ids(
                &inst.inner.net,
                &addr,
                core.group(),
                core.timeout(),
            )
            .await
            {
                Ok(c) if !c.is_empty() => c,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(group = core.group(), error = %e, "rebalance: consumer list failed");
                    continue;
                }
            };
            let (mqs, cids) = sorted(mqs, cids);
            core.config.allocate.allocate(inst.client_id(), &mqs, &cids)
        } else {
            mqs
        };
        apply(core, assign, &topic, target, reason).await;
    }
    if learned {
        let _ = inst.inner.heartbeat.send(HeartbeatNow).await;
    }
}

async fn apply(
    core: &Arc<ConsumerCore>,
    assign: &Arc<Mutex<Assignment>>,
    topic: &str,
    target: Vec<MessageQueue>,
    reason: &str,
) {
    let plan = assign.lock().plan(topic, &target);
    if plan.added.is_empty() && plan.removed.is_empty() {
        return;
    }
    let ids = |v: &[MessageQueue]| {
        v.iter()
            .map(|q| format!("{}:{}", q.broker_name, q.queue_id))
            .collect::<Vec<_>>()
            .join(",")
    };
    tracing::info!(
        group = core.group(),
        client = core.instance.client_id(),
        %topic,
        reason,
        owned = %ids(&target),
        added = %ids(&plan.added),
        removed = %ids(&plan.removed),
        "rebalance: assignment changed"
    );
    // Give away first: commit before another member may start from the stored offset.
    for mq in &plan.removed {
        let pq = assign.lock().queues.remove(mq);
        let Some(pq) = pq else { continue };
        pq.state.lock().dropped = true;
        if core.orderly() {
            let _ = tokio::time::timeout(Duration::from_secs(1), pq.consume_lock.lock()).await;
        }
        core.persist_offsets(Some(std::slice::from_ref(mq)), false)
            .await;
        core.offsets.lock().remove(mq);
        core.pull_from.lock().remove(mq);
        if core.orderly() && core.clustering() {
            unlock(core, vec![mq.clone()]).await;
        }
    }
    let granted: BTreeSet<MessageQueue> = if core.orderly() && core.clustering() {
        lock(core, plan.added.clone()).await
    } else {
        plan.added.iter().cloned().collect()
    };
    for mq in plan.added {
        if !granted.contains(&mq) {
            tracing::debug!(
                group = core.group(),
                %mq,
                "rebalance: queue still locked by another member; retry later"
            );
            continue;
        }
        let offset = match core.start_offset(&mq).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(group = core.group(), %mq, error = %e, "rebalance: start offset unknown; retry later");
                continue;
            }
        };
        let pq = PqHandle::new();
        {
            let mut s = pq.state.lock();
            s.locked = core.orderly() && core.clustering();
            s.last_lock_ms = now_ms();
        }
        assign.lock().queues.insert(mq.clone(), pq.clone());
        tracing::debug!(
            group = core.group(),
            %mq,
            offset,
            "rebalance: start pulling"
        );
        tokio::spawn(pull_loop(core.clone(), mq.clone(), pq.clone(), offset));
        if core.orderly() {
            tokio::spawn(orderly_loop(core.clone(), mq, pq));
        }
    }
}

/// Group queues by their broker's address.
fn by_broker(core: &ConsumerCore, mqs: Vec<MessageQueue>) -> BTreeMap<String, Vec<MessageQueue>> {
    let mut m: BTreeMap<String, Vec<MessageQueue>> = BTreeMap::new();
    for mq in mqs {
        if let Some(a) = core.broker_addr(&mq) {
            m.entry(a).or_default().push(mq);
        }
    }
    m
}

async fn lock(core: &ConsumerCore, mqs: Vec<MessageQueue>) -> BTreeSet<MessageQueue> {
    let mut granted = BTreeSet::new();
    for (addr, mqs) in by_broker(core, mqs) {
        let cid = core.instance.client_id();
        match broker_api::lock_batch(
            &core.instance.inner.net,
            &addr,
            core.group(),
            cid,
            mqs,
            core.timeout(),
        )
        .await
        {
            Ok(ok) => granted.extend(ok),
            Err(e) => {
                tracing::warn!(group = core.group(), broker = %addr, error = %e, "lock failed")
            }
        }
    }
    granted
}

async fn unlock(core: &ConsumerCore, mqs: Vec<MessageQueue>) {
    for (addr, mqs) in by_broker(core, mqs) {
        let cid = core.instance.client_id();
        if let Err(e) = broker_api::unlock_batch(
            &core.instance.inner.net,
            &addr,
            core.group(),
            cid,
            mqs,
            core.timeout(),
        )
        .await
        {
            tracing::warn!(group = core.group(), broker = %addr, error = %e, "unlock failed");
        }
    }
}

/// Renew the broker locks of every owned queue (orderly); queues not granted stop consuming.
async fn lock_all(core: &ConsumerCore, assign: &Mutex<Assignment>) {
    let owned = assign.lock().owned();
    let granted = lock(core, owned.clone()).await;
    let now = now_ms();
    let a = assign.lock();
    for mq in owned {
        if let Some(pq) = a.queues.get(&mq) {
            let mut s = pq.state.lock();
            s.locked = granted.contains(&mq);
            if s.locked {
                s.last_lock_ms = now;
            } else {
                tracing::warn!(group = core.group(), %mq, "orderly lock lost");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_adds_and_removes_per_topic_only() {
        let mut a = Assignment::default();
        for i in 0..3 {
            a.queues
                .insert(MessageQueue::new("T", "b", i), PqHandle::new());
        }
        a.queues
            .insert(MessageQueue::new("U", "b", 0), PqHandle::new());
        let target = vec![
            MessageQueue::new("T", "b", 2),
            MessageQueue::new("T", "b", 3),
        ];
        let p = a.plan("T", &target);
        assert_eq!(p.added, vec![MessageQueue::new("T", "b", 3)]);
        assert_eq!(
            p.removed,
            vec![
                MessageQueue::new("T", "b", 0),
                MessageQueue::new("T", "b", 1)
            ]
        );
        assert_eq!(
            a.plan("U", &[MessageQueue::new("U", "b", 0)]),
            Plan::default()
        );
    }
}
