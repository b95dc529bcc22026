//! The per-queue tasks of a push consumer, spawned by the `RebalanceActor` on the client runtime
//! thread: the pull loop (long-polling PULL_MESSAGE, tag re-filtering, flow control like the Java
//! client) and the consume services. Concurrent: each message gets a task that waits for a
//! listener slot, runs the listener on the blocking pool, sends failures back to the broker
//! (retry topic / DLQ) and advances the commit offset to the lowest unconsumed message. Orderly:
//! one task per queue consumes one message at a time in offset order while the queue's broker
//! lock is held, suspending and retrying on failure. Every loop ends when the queue is dropped or
//! the consumer stops.

use std::collections::HashMap;

use futures::future::BoxFuture;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::broker_api::{self, PullArgs, PullResult, PullStatus};
use super::consumer::{ConsumerCore, Listener, ListenerFn};
use super::message::{prepare_received, ConsumeResult, MessageExt, MessageQueue};
use super::net::Net;
use super::process_queue::{FlowLimits, PqHandle};
use super::trace::ConsumeSpan;
use crate::clock::now_ms;
use crate::protocol::codes::pull_sys_flag;
use crate::protocol::filter::TagFilter;

const FLOW_CONTROL_DELAY: Duration = Duration::from_millis(50);
const IDLE_DELAY: Duration = Duration::from_millis(100);
/// Retry delay of a message whose send-back failed (Java: 5 s).
const SEND_BACK_RETRY: Duration = Duration::from_secs(5);

pub(crate) async fn pull_loop(
    core: Arc<ConsumerCore>,
    mq: MessageQueue,
    pq: PqHandle,
    mut offset: i64,
) {
    let limits = FlowLimits {
        max_count: core.config.pull_threshold_for_queue,
        max_size: core.config.pull_threshold_size_for_queue,
        max_span: (!core.orderly()).then_some(core.config.consume_concurrently_max_span),
    };
    let net = core.instance.inner.net.clone();
    let mut flow_hits = 0u64;
    while !core.stopping() && !pq.dropped() {
        if let Some(delay) = pull_delay(&core, &mq, &pq, &limits, &mut flow_hits) {
            tokio::time::sleep(delay).await;
            continue;
        }
        let Some((res, filter)) = pull_once(&core, &net, &mq, offset).await else {
            tokio::time::sleep(core.config.pull_error_delay).await;
            continue;
        };
        if pq.dropped() {
            break;
        }
        let next = res.next_begin_offset;
        on_pulled(&core, &mq, &pq, offset, res, &filter);
        offset = next;
    }
    tracing::debug!(group = core.group(), ?mq, "pull loop ended");
}

/// How long the next pull of `mq` must wait, if at all: flow control (too much unconsumed in
/// the process queue, logged every 200th time) or, for an orderly clustering consumer, a queue
/// whose broker lock is not held yet.
fn pull_delay(
    core: &ConsumerCore,
    mq: &MessageQueue,
    pq: &PqHandle,
    limits: &FlowLimits,
    flow_hits: &mut u64,
) -> Option<Duration> {
    let fc = pq.state.lock().flow_control(limits);
    if let Some(fc) = fc {
        if flow_hits.is_multiple_of(200) {
            tracing::warn!(group = core.group(), ?mq, ?fc, "flow control: pull delayed");
        }
        *flow_hits += 1;
        return Some(FLOW_CONTROL_DELAY);
    }
    if core.orderly() && core.clustering() && !pq.state.lock().locked {
        return Some(IDLE_DELAY);
    }
    None
}

/// One long-polling PULL_MESSAGE of `mq` from `offset`, sent to the broker the last answer
/// suggested (else any broker of the set while the master is out of the route); a clustering
/// consumer piggybacks its committed offset (FLAG_COMMIT_OFFSET) on pulls to a master only.
/// The answer's `suggestWhichBrokerId` picks the broker of the next pull. Returns the answer with the subscription's tag filter,
/// or None when the caller should back off for `pull_error_delay`: no broker address or
/// subscription yet, or the pull failed (logged).
async fn pull_once(
    core: &ConsumerCore,
    net: &Net,
    mq: &MessageQueue,
    offset: i64,
) -> Option<(PullResult, TagFilter)> {
    let (Some(target), Some((expr, version, filter))) =
        (core.pull_target(mq), core.subscription(&mq.topic))
    else {
        return None;
    };
    let commit = if core.clustering() && !target.is_slave() {
        core.offsets.lock().get(mq).filter(|o| *o > 0)
    } else {
        None
    };
    let mut flag = pull_sys_flag::FLAG_SUSPEND | pull_sys_flag::FLAG_SUBSCRIPTION;
    if commit.is_some() {
        flag |= pull_sys_flag::FLAG_COMMIT_OFFSET;
    }
    let args = PullArgs {
        group: core.group(),
        mq,
        offset,
        max_nums: core.config.pull_batch_size,
        sys_flag: flag,
        commit_offset: commit.unwrap_or(0),
        suspend: core.config.long_poll_suspend,
        subscription: &expr,
        sub_version: version,
    };
    let timeout = core.config.long_poll_suspend + Duration::from_secs(15);
    match broker_api::pull(net, &target.addr, args, timeout).await {
        Ok(r) => {
            core.pulled_from(mq, r.suggest_which_broker_id);
            Some((r, filter))
        }
        Err(e) => {
            tracing::warn!(group = core.group(), ?mq, error = %e, "pull failed");
            None
        }
    }
}

/// Act on a pull's answer: re-filter by tag (the broker matched only the tag hash), correct an
/// illegal offset, let an idle queue's offset follow messages that were all filtered out, or
/// queue the messages and hand them to the consume service.
fn on_pulled(
    core: &Arc<ConsumerCore>,
    mq: &MessageQueue,
    pq: &PqHandle,
    offset: i64,
    res: PullResult,
    filter: &TagFilter,
) {
    let msgs: Vec<MessageExt> = res
        .msgs
        .into_iter()
        .filter(|m| filter.matches_tag(m.tags()))
        .map(|m| prepare_received(m, core.group()))
        .collect();
    match res.status {
        PullStatus::OffsetIllegal => {
            tracing::warn!(
                group = core.group(),
                ?mq,
                offset,
                next = res.next_begin_offset,
                "pull offset illegal; corrected"
            );
            core.offsets.lock().update(mq, res.next_begin_offset, false);
        }
        _ if msgs.is_empty() => {
            if pq.state.lock().count() == 0 {
                core.offsets.lock().update(mq, res.next_begin_offset, true);
            }
        }
        _ => {
            pq.state.lock().put(&msgs);
            submit(core, mq, pq, msgs);
        }
    }
}

/// Hand freshly queued messages to the consume service: wake the orderly task of the queue, or
/// spawn one concurrent consume task per message.
fn submit(core: &Arc<ConsumerCore>, mq: &MessageQueue, pq: &PqHandle, msgs: Vec<MessageExt>) {
    match core.listener.get() {
        Some(Listener::Orderly(_)) => pq.arrived.notify_one(),
        Some(Listener::Concurrent(f)) => {
            for m in msgs {
                tokio::spawn(consume_concurrently(
                    core.clone(),
                    mq.clone(),
                    pq.clone(),
                    f.clone(),
                    m,
                ));
            }
        }
        None => {}
    }
}

async fn run_listener(
    core: &ConsumerCore,
    f: ListenerFn,
    msgs: Vec<MessageExt>,
    mq: MessageQueue,
) -> ConsumeResult {
    let span = (core.trace.as_ref()).and_then(|t| ConsumeSpan::start(t, core.group(), &msgs));
    let r = tokio::task::spawn_blocking(move || f(&msgs, &mq))
        .await
        .unwrap_or(ConsumeResult::Later);
    if let Some(s) = span {
        s.finish(r == ConsumeResult::Success);
    }
    r
}

fn consume_concurrently(
    core: Arc<ConsumerCore>,
    mq: MessageQueue,
    pq: PqHandle,
    f: ListenerFn,
    msg: MessageExt,
) -> BoxFuture<'static, ()> {
    Box::pin(consume_one(core, mq, pq, f, msg))
}

async fn consume_one(
    core: Arc<ConsumerCore>,
    mq: MessageQueue,
    pq: PqHandle,
    f: ListenerFn,
    msg: MessageExt,
) {
    let Ok(_slot) = core.consume_slots.clone().acquire_owned().await else {
        return;
    };
    core.in_flight.fetch_add(1, Ordering::AcqRel);
    if core.stopping() || pq.dropped() {
        // Left in the process queue: its offset is never committed past it.
        core.in_flight.fetch_sub(1, Ordering::AcqRel);
        return;
    }
    let result = run_listener(&core, f.clone(), vec![msg.clone()], mq.clone()).await;
    core.in_flight.fetch_sub(1, Ordering::AcqRel);
    if result == ConsumeResult::Later && core.clustering() {
        let sent = match core.broker_addr(&mq) {
            Some(addr) => broker_api::send_back(
                &core.instance.inner.net,
                &addr,
                &msg,
                core.group(),
                0,
                core.config.max_reconsume_times,
                core.timeout(),
            )
            .await
            .map_err(|e| e.to_string()),
            None => Err("no broker address".to_string()),
        };
        if let Err(e) = sent {
            tracing::warn!(group = core.group(), msg_id = %msg.msg_id(), error = %e, "send back failed; consuming again later");
            let (c2, q2, p2) = (core.clone(), mq.clone(), pq.clone());
            tokio::spawn(async move {
                tokio::time::sleep(SEND_BACK_RETRY).await;
                if !p2.dropped() && !c2.stopping() {
                    tokio::spawn(consume_concurrently(c2, q2, p2, f, msg));
                }
            });
            return;
        }
    } else if result == ConsumeResult::Later {
        tracing::warn!(group = core.group(), msg_id = %msg.msg_id(), "broadcast consumption failed; dropped");
    }
    let next = pq.state.lock().remove(&[msg.queue_offset]);
    if let Some(o) = next {
        if !pq.dropped() {
            core.offsets.lock().update(&mq, o, true);
        }
    }
}

pub(crate) async fn orderly_loop(core: Arc<ConsumerCore>, mq: MessageQueue, pq: PqHandle) {
    let Some(Listener::Orderly(f)) = core.listener.get().cloned() else {
        return;
    };
    let max_live = core.config.lock_max_live.as_millis() as i64;
    let mut attempts: HashMap<i64, i32> = HashMap::new();
    while !core.stopping() && !pq.dropped() {
        if core.clustering() {
            let ok = {
                let s = pq.state.lock();
                s.locked && !s.lock_expired(now_ms(), max_live)
            };
            if !ok {
                tokio::time::sleep(IDLE_DELAY).await;
                continue;
            }
        }
        let guard = pq.consume_lock.lock().await;
        if core.stopping() || pq.dropped() {
            break;
        }
        let msgs = pq.state.lock().take(1);
        if msgs.is_empty() {
            drop(guard);
            let _ = tokio::time::timeout(Duration::from_millis(500), pq.arrived.notified()).await;
            continue;
        }
        core.in_flight.fetch_add(1, Ordering::AcqRel);
        let result = run_listener(&core, f.clone(), msgs.clone(), mq.clone()).await;
        core.in_flight.fetch_sub(1, Ordering::AcqRel);
        let off = msgs[0].queue_offset;
        let done = match result {
            ConsumeResult::Success => true,
            ConsumeResult::Later => {
                let n = attempts.entry(off).or_insert(msgs[0].reconsume_times);
                *n += 1;
                if *n >= core.config.max_reconsume_times && core.clustering() {
                    // Give up on it: straight to the DLQ, then move on.
                    match core.broker_addr(&mq) {
                        Some(addr) => broker_api::send_back(
                            &core.instance.inner.net,
                            &addr,
                            &msgs[0],
                            core.group(),
                            -1,
                            core.config.max_reconsume_times,
                            core.timeout(),
                        )
                        .await
                        .is_ok(),
                        None => false,
                    }
                } else {
                    false
                }
            }
        };
        if done {
            attempts.remove(&off);
            if let Some(next) = pq.state.lock().commit() {
                core.offsets.lock().update(&mq, next, false);
            }
            drop(guard);
        } else {
            pq.state.lock().make_available_again(&msgs);
            drop(guard);
            tokio::time::sleep(core.config.suspend_current_queue_time).await;
        }
    }
}
