//! The gauges computed when `/metrics` is scraped, from the broker's tables (bounded work: at
//! most `MAX_LAG_QUEUES` queues are examined per scrape): consumer lag per (group, topic),
//! half messages per topic, and the store's and replication's backlogs.

use std::collections::BTreeMap;

use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::stats::entries::MessageType;
use crate::protocol::body::ConsumerConnection;

/// Upper bound of queues looked at per scrape for the lag gauges.
pub const MAX_LAG_QUEUES: usize = 20_000;

/// One (group, topic)'s lag: messages not yet consumed (Σ over write queues of the queue's end
/// minus the committed offset, as GET_CONSUME_STATS's diff) and the age of the oldest of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lag {
    pub group: String,
    pub topic: String,
    pub messages: i64,
    pub latency_ms: i64,
}

/// A queue's end, its committed offset, and the store time of the next message to consume.
#[derive(Debug, Clone, Copy)]
pub struct QueueLag {
    pub broker_offset: i64,
    pub consumer_offset: i64,
    pub next_store_time: Option<i64>,
}

/// Sum a (group, topic)'s queues: lag in messages, and now minus the oldest unconsumed message's
/// store time (0 when caught up).
pub fn sum_lag(queues: &[QueueLag], now_ms: i64) -> (i64, i64) {
    let mut messages = 0;
    let mut oldest: Option<i64> = None;
    for q in queues {
        let behind = (q.broker_offset - q.consumer_offset).max(0);
        messages += behind;
        if behind > 0 {
            if let Some(t) = q.next_store_time {
                oldest = Some(oldest.map_or(t, |o| o.min(t)));
            }
        }
    }
    (messages, oldest.map_or(0, |t| (now_ms - t).max(0)))
}

/// Every subscription group's lag on each topic it has offsets for.
pub fn consumer_lags(ctx: &BrokerCtx, now_ms: i64) -> Vec<Lag> {
    let groups: Vec<String> = ctx
        .groups
        .read()
        .iter()
        .map(|g| g.group_name.clone())
        .collect();
    let mut budget = MAX_LAG_QUEUES;
    let mut out = Vec::new();
    for group in groups {
        // Taken apart from the loop: the loop locks the offsets again per queue.
        let topics = ctx.offsets.lock().topics_of_group(&group);
        for topic in topics {
            let Some(queues) = ctx.topics.read().get(&topic).map(|t| t.write_queue_nums) else {
                continue;
            };
            let n = queues.max(0) as usize;
            if n > budget {
                return out;
            }
            budget -= n;
            let rows: Vec<QueueLag> = (0..queues)
                .map(|q| {
                    let consumer_offset = ctx
                        .offsets
                        .lock()
                        .query(&group, &topic, q)
                        .unwrap_or(0)
                        .max(0);
                    QueueLag {
                        broker_offset: ctx.store.max_offset(&topic, q).max(0),
                        consumer_offset,
                        next_store_time: ctx.store.store_time(&topic, q, consumer_offset),
                    }
                })
                .collect();
            let (messages, latency_ms) = sum_lag(&rows, now_ms);
            out.push(Lag {
                group: group.clone(),
                topic,
                messages,
                latency_ms,
            });
        }
    }
    out
}

/// Half messages not yet committed or rolled back, per topic, since the broker started (the
/// half messages stored for the topic minus its commits and rollbacks).
pub fn half_messages(ctx: &BrokerCtx) -> Vec<(String, u64)> {
    ctx.stats
        .topics_snapshot()
        .into_iter()
        .filter_map(|(topic, t)| {
            let half = t.messages_in(MessageType::Transaction);
            if half == 0 {
                return None;
            }
            let ended = t.commits.load(std::sync::atomic::Ordering::Relaxed)
                + t.rollbacks.load(std::sync::atomic::Ordering::Relaxed);
            Some((topic, half.saturating_sub(ended)))
        })
        .collect()
}

/// Consumer connections by (group, language, version, consume mode).
pub fn connection_counts(
    conns: &[(String, ConsumerConnection)],
) -> BTreeMap<(String, String, String, &'static str), u64> {
    let mut out = BTreeMap::new();
    for (group, c) in conns {
        let mode = match c.consume_type {
            crate::protocol::body::ConsumeType::ConsumeActively => "pull",
            _ => "push",
        };
        for conn in &c.connection_set {
            *out.entry((
                group.clone(),
                conn.language.clone(),
                conn.version.to_string(),
                mode,
            ))
            .or_insert(0) += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_sums_queues_and_ages_the_oldest_unconsumed() {
        let q = |b, c, t| QueueLag {
            broker_offset: b,
            consumer_offset: c,
            next_store_time: t,
        };
        let rows = [
            q(10, 4, Some(1_000)),
            q(5, 5, None),
            q(7, 2, Some(400)),
            q(3, 9, None),
        ];
        assert_eq!(sum_lag(&rows, 2_000), (11, 1_600));
        assert_eq!(sum_lag(&[q(5, 5, Some(1))], 2_000), (0, 0));
        assert_eq!(sum_lag(&[], 2_000), (0, 0));
    }
}
