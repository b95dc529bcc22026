//! The RIP-46 metric families, encoded at scrape time from the broker's counters
//! (`stats::BrokerStats`) and tables. Names and labels follow RocketMQ 5's BrokerMetricsConstant /
//! RemotingMetricsConstant / DefaultStoreMetricsConstant; the registry adds the common labels
//! (`cluster`, `node_type`, `node_id`, `metricsLabel`).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;

use super::gauges::{connection_counts, consumer_lags, half_messages, Lag};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::handlers::runtime_info::ha_lag_bytes;
use crate::actors::broker::logic::retry::retry_group;
use crate::actors::broker::stats::entries::{is_system_group, MESSAGE_TYPES};
use crate::actors::broker::stats::histogram::Histogram;
use crate::protocol::body::ConsumerConnection;

type Labels = Vec<(&'static str, String)>;
type Fmt = Result<(), std::fmt::Error>;

/// What one scrape encodes: the broker, the consumer connections asked of the
/// `HeartbeatActor` just before, and the lags computed once.
pub struct Scrape {
    pub ctx: Arc<BrokerCtx>,
    pub connections: Vec<(String, ConsumerConnection)>,
    /// Producer connections by (language, version).
    pub producers: BTreeMap<(String, i32), u64>,
    pub lags: Vec<Lag>,
}

impl Scrape {
    pub fn new(
        ctx: Arc<BrokerCtx>,
        connections: Vec<(String, ConsumerConnection)>,
        producers: BTreeMap<(String, i32), u64>,
    ) -> Scrape {
        let lags = consumer_lags(&ctx, crate::clock::now_ms());
        Scrape {
            ctx,
            connections,
            producers,
            lags,
        }
    }
}

impl std::fmt::Debug for Scrape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrape")
            .field("broker", &self.ctx.cfg.broker_name)
            .field("lags", &self.lags.len())
            .finish()
    }
}

fn flag(b: bool) -> String {
    b.to_string()
}

fn is_dlq(topic: &str) -> bool {
    topic.starts_with("%DLQ%")
}

fn counters(enc: &mut DescriptorEncoder, name: &str, help: &str, rows: &[(Labels, u64)]) -> Fmt {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, v) in rows {
        m.encode_family(labels)?
            .encode_counter::<NoLabelSet, _, u64>(v, None)?;
    }
    Ok(())
}

fn gauges(enc: &mut DescriptorEncoder, name: &str, help: &str, rows: &[(Labels, i64)]) -> Fmt {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, v) in rows {
        m.encode_family(labels)?.encode_gauge(v)?;
    }
    Ok(())
}

fn histograms(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Labels, &Histogram)],
) -> Fmt {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Histogram)?;
    for (labels, h) in rows {
        // The encoder accumulates the per-bucket counts itself.
        let counts = h.counts();
        let mut buckets: Vec<(f64, u64)> = h
            .bounds()
            .iter()
            .map(|b| *b as f64)
            .zip(counts.iter().copied())
            .collect();
        buckets.push((f64::INFINITY, counts[h.bounds().len()]));
        let count = counts.iter().sum();
        m.encode_family(labels)?.encode_histogram::<NoLabelSet>(
            h.sum() as f64,
            count,
            &buckets,
            None,
        )?;
    }
    Ok(())
}

impl Scrape {
    fn messages_in(&self, enc: &mut DescriptorEncoder) -> Fmt {
        let topics = self.ctx.stats.topics_snapshot();
        let mut msgs = Vec::new();
        let mut bytes = Vec::new();
        let mut sizes = Vec::new();
        for (topic, t) in &topics {
            // RIP-46 leaves retry and DLQ topics out of the "in" figures.
            if retry_group(topic).is_some() || is_dlq(topic) {
                continue;
            }
            for kind in MESSAGE_TYPES {
                if t.messages_in(kind) == 0 {
                    continue;
                }
                let l: Labels = vec![
                    ("topic", topic.clone()),
                    ("message_type", kind.as_str().into()),
                    ("is_system", flag(t.is_system)),
                ];
                msgs.push((l.clone(), t.messages_in(kind)));
                bytes.push((l.clone(), t.bytes_in(kind)));
                sizes.push((l, t.sizes(kind)));
            }
        }
        counters(
            enc,
            "rocketmq_messages_in",
            "Messages stored by sends.",
            &msgs,
        )?;
        counters(
            enc,
            "rocketmq_throughput_in",
            "Bytes stored by sends.",
            &bytes,
        )?;
        histograms(
            enc,
            "rocketmq_message_size",
            "Sizes of messages sent (bytes).",
            &sizes,
        )?;
        let mut commits = Vec::new();
        let mut rollbacks = Vec::new();
        for (topic, t) in &topics {
            let l: Labels = vec![("topic", topic.clone())];
            let (c, r) = (t.commits.load(Relaxed), t.rollbacks.load(Relaxed));
            if c > 0 {
                commits.push((l.clone(), c));
            }
            if r > 0 {
                rollbacks.push((l, r));
            }
        }
        counters(
            enc,
            "rocketmq_commit_messages",
            "Transactions committed.",
            &commits,
        )?;
        counters(
            enc,
            "rocketmq_rollback_messages",
            "Transactions rolled back.",
            &rollbacks,
        )?;
        let half: Vec<(Labels, i64)> = half_messages(&self.ctx)
            .into_iter()
            .map(|(t, n)| (vec![("topic", t)], n as i64))
            .collect();
        gauges(
            enc,
            "rocketmq_half_messages",
            "Half messages not yet ended (since start).",
            &half,
        )
    }

    fn messages_out(&self, enc: &mut DescriptorEncoder) -> Fmt {
        let mut msgs = Vec::new();
        let mut bytes = Vec::new();
        let mut dlq = Vec::new();
        for (topic, group, g) in self.ctx.stats.groups_snapshot() {
            let l: Labels = vec![
                ("topic", topic.clone()),
                ("consumer_group", group.clone()),
                ("is_retry", flag(retry_group(&topic).is_some())),
                ("is_system", flag(g.is_system)),
            ];
            if g.get_nums.touched() {
                msgs.push((l.clone(), g.get_nums.value()));
                bytes.push((l, g.get_size.value()));
            }
            let to_dlq = g.to_dlq.load(Relaxed);
            if to_dlq > 0 {
                dlq.push((vec![("topic", topic), ("consumer_group", group)], to_dlq));
            }
        }
        counters(
            enc,
            "rocketmq_messages_out",
            "Messages handed to consumers.",
            &msgs,
        )?;
        counters(
            enc,
            "rocketmq_throughput_out",
            "Bytes handed to consumers.",
            &bytes,
        )?;
        counters(
            enc,
            "rocketmq_send_to_dlq_messages",
            "Messages moved to a dead-letter queue.",
            &dlq,
        )
    }

    fn consumers(&self, enc: &mut DescriptorEncoder) -> Fmt {
        let mut msgs = Vec::new();
        let mut latency = Vec::new();
        for lag in &self.lags {
            let is_system =
                is_system_group(&lag.group) || self.ctx.topics.read().is_system_topic(&lag.topic);
            let l: Labels = vec![
                ("consumer_group", lag.group.clone()),
                ("topic", lag.topic.clone()),
                ("is_retry", flag(retry_group(&lag.topic).is_some())),
                ("is_system", flag(is_system)),
            ];
            msgs.push((l.clone(), lag.messages));
            latency.push((l, lag.latency_ms));
        }
        gauges(
            enc,
            "rocketmq_consumer_lag_messages",
            "Messages not yet consumed.",
            &msgs,
        )?;
        gauges(
            enc,
            "rocketmq_consumer_lag_latency",
            "Age of the oldest unconsumed message (ms).",
            &latency,
        )?;
        let conns: Vec<(Labels, i64)> = connection_counts(&self.connections)
            .into_iter()
            .map(|((group, language, version, mode), n)| {
                let is_system = is_system_group(&group);
                let l: Labels = vec![
                    ("consumer_group", group),
                    ("language", language),
                    ("version", version),
                    ("consume_mode", mode.into()),
                    ("protocol_type", "remoting".into()),
                    ("is_system", flag(is_system)),
                ];
                (l, n as i64)
            })
            .collect();
        gauges(
            enc,
            "rocketmq_consumer_connections",
            "Connected consumers.",
            &conns,
        )?;
        let producers: Vec<(Labels, i64)> = self
            .producers
            .iter()
            .map(|((language, version), n)| {
                let l: Labels = vec![
                    ("language", language.clone()),
                    ("version", version.to_string()),
                    ("protocol_type", "remoting".into()),
                ];
                (l, *n as i64)
            })
            .collect();
        gauges(
            enc,
            "rocketmq_producer_connections",
            "Connected producers.",
            &producers,
        )
    }

    fn broker(&self, enc: &mut DescriptorEncoder) -> Fmt {
        let ctx = &self.ctx;
        let one = |v: i64| vec![(Labels::new(), v)];
        let topics = ctx.topics.read().iter().count() as i64;
        let groups = ctx.groups.read().iter().count() as i64;
        let perm = ctx.broker_perm.load(Relaxed);
        gauges(
            enc,
            "rocketmq_topic_number",
            "Topics on the broker.",
            &one(topics),
        )?;
        gauges(
            enc,
            "rocketmq_consumer_group_number",
            "Subscription groups.",
            &one(groups),
        )?;
        gauges(
            enc,
            "rocketmq_broker_permission",
            "brokerPermission.",
            &one(perm),
        )?;
        let store = &ctx.store;
        let storage: Labels = vec![
            ("storage_type", "local".into()),
            ("storage_medium", "disk".into()),
        ];
        let row = |v: u64| vec![(storage.clone(), v as i64)];
        gauges(
            enc,
            "rocketmq_storage_size",
            "CommitLog bytes kept (bytes).",
            &row(store.commit_log_bytes()),
        )?;
        gauges(
            enc,
            "rocketmq_storage_flush_behind_bytes",
            "CommitLog bytes not yet flushed.",
            &row(store.flush_behind_bytes()),
        )?;
        gauges(
            enc,
            "rocketmq_storage_dispatch_behind_bytes",
            "CommitLog bytes not yet dispatched to the consume queues.",
            &row(store.dispatch_behind_bytes()),
        )?;
        if !ctx.role.is_slave() {
            let slaves = ctx.ha.acks.slaves();
            let lag = if slaves > 0 { ha_lag_bytes(ctx) } else { 0 };
            gauges(
                enc,
                "rocketmq_ha_slave_count",
                "Connected slaves.",
                &one(slaves as i64),
            )?;
            gauges(
                enc,
                "rocketmq_ha_lag_bytes",
                "CommitLog bytes the furthest slave still lacks (0 without slaves).",
                &one(lag as i64),
            )?;
        }
        Ok(())
    }

    fn rpc(&self, enc: &mut DescriptorEncoder) -> Fmt {
        let series = self.ctx.stats.rpc.snapshot();
        let rows: Vec<(Labels, &Histogram)> = series
            .iter()
            .map(|((req, resp, result), h)| {
                let l: Labels = vec![
                    ("protocol_type", "remoting".into()),
                    ("request_code", req.to_string()),
                    ("response_code", resp.to_string()),
                    ("result", (*result).into()),
                ];
                (l, h.as_ref())
            })
            .collect();
        histograms(enc, "rocketmq_rpc_latency", "Request latency (ms).", &rows)
    }
}

impl Collector for Scrape {
    fn encode(&self, mut enc: DescriptorEncoder) -> Fmt {
        self.messages_in(&mut enc)?;
        self.messages_out(&mut enc)?;
        self.consumers(&mut enc)?;
        self.broker(&mut enc)?;
        self.rpc(&mut enc)
    }
}
