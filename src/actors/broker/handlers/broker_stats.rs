//! VIEW_BROKER_STATS_DATA (315): one stats item's minute / hour / day windows (mqadmin statsAll,
//! the dashboard's collector, rocketmq-exporter); GET_BROKER_CONSUME_STATS (317): every
//! subscription group's consume stats on this broker (mqadmin brokerConsumeStats).
//!
//! Both run on the connection's arbiter and read the stats counters, the group and offset
//! tables, the store's queue ends and the published subscription snapshot.

use std::sync::Arc;

use super::{json_body, ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::stats::item::WindowStats;
use crate::clock::now_ms;
use crate::error::ServiceError;
use crate::protocol::body::broker::{ConsumeStats, MessageQueue, OffsetWrapper};
use crate::protocol::body::stats::{BrokerStatsData, BrokerStatsItem, ConsumeStatsList};
use crate::protocol::headers::stats::{
    GetConsumeStatsInBrokerHeader, ViewBrokerStatsDataRequestHeader,
};
use crate::protocol::RemotingCommand;

fn item(w: WindowStats) -> BrokerStatsItem {
    BrokerStatsItem {
        avgpt: w.avgpt,
        sum: w.sum,
        tps: w.tps,
    }
}

pub fn view(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: ViewBrokerStatsDataRequestHeader = req.header()?;
    let cluster = &ctx.cfg.broker_cluster_name;
    let w = ctx
        .stats
        .windows(&h.stats_name, &h.stats_key, cluster, now_ms())
        .ok_or(ServiceError::StatsNotExist {
            name: h.stats_name,
            key: h.stats_key,
        })?;
    let data = BrokerStatsData {
        stats_day: item(w.day),
        stats_hour: item(w.hour),
        stats_minute: item(w.minute),
    };
    Ok(ok(req).with_body(json_body(&data)))
}

/// Java's `fetchAllConsumeStatsInBroker`: for every subscription group, the topics it has
/// offsets for (ordered topics only with `isOrder`), skipping a topic an online group does not
/// subscribe to; per write queue the broker and consumer offsets and the store time of the last
/// consumed message; the group's consume rate over the last minute.
pub fn broker_consume_stats(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: GetConsumeStatsInBrokerHeader = req.header()?;
    let groups: Vec<String> = ctx
        .groups
        .read()
        .iter()
        .map(|g| g.group_name.clone())
        .collect();
    let mut list = ConsumeStatsList {
        broker_addr: ctx.broker_addr.clone(),
        ..Default::default()
    };
    let now = now_ms();
    let snapshot = ctx.subscriptions.load();
    let mut topics_by_group = ctx.offsets.lock().topics_by_group();
    for group in groups {
        let topics = topics_by_group.remove(&group).unwrap_or_default();
        let mut per_topic = Vec::new();
        for topic in topics {
            let Some(config) = ctx.topics.read().get(&topic).cloned() else {
                continue;
            };
            if h.is_order && !config.order {
                continue;
            }
            // Java skips a topic the group does not subscribe to while it has subscriptions.
            let skip = snapshot.group(&group).is_some_and(|g| {
                !g.subscriptions().is_empty() && !g.subscriptions().contains_key(&topic)
            });
            if skip {
                continue;
            }
            let mut stats = ConsumeStats::default();
            for q in 0..config.write_queue_nums {
                stats.offset_table.insert(
                    MessageQueue::new(&topic, &ctx.cfg.broker_name, q),
                    offsets_of(ctx, &group, &topic, q),
                );
            }
            stats.consume_tps = ctx.stats.group_get_tps(&topic, &group, now);
            list.total_diff += stats.total_diff();
            per_topic.push(stats);
        }
        list.consume_stats_list.push((group, per_topic));
    }
    Ok(ok(req).with_body(list.to_fastjson().into_bytes()))
}

/// One queue's broker and consumer offsets and the store time of the last consumed message.
fn offsets_of(ctx: &BrokerCtx, group: &str, topic: &str, q: i32) -> OffsetWrapper {
    let broker_offset = ctx.store.max_offset(topic, q).max(0);
    let consumer_offset = ctx
        .offsets
        .lock()
        .query(group, topic, q)
        .unwrap_or(0)
        .max(0);
    let last_timestamp = if consumer_offset > 0 {
        ctx.store
            .store_time(topic, q, consumer_offset - 1)
            .unwrap_or(0)
    } else {
        0
    };
    OffsetWrapper {
        broker_offset,
        consumer_offset,
        last_timestamp,
    }
}
