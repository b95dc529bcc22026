//! GET_BROKER_RUNTIME_INFO (28): the KVTable `mqadmin brokerStatus` / `clusterList`, the dashboard
//! and rocketmq-exporter read, under RocketMQ 4.9's key names (AdminBrokerProcessor
//! .prepareRuntimeInfo + DefaultMessageStore / StoreStatsService.getRuntimeInfo), plus actormq's
//! own keys (broker name, role, flush type, busy rejections, replication).
//!
//! Runs on the connection's arbiter: atomics, the stats snapshots, one `statvfs` per directory,
//! one read of the oldest message, and one ask of the `ScheduleActor` for its offsets.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use super::{json_body, mailbox, ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::logic::topics::SCHEDULE_TOPIC;
use crate::actors::broker::schedule::GetDelayOffsets;
use crate::actors::broker::stats::tps::Rate;
use crate::clock::now_ms;
use crate::protocol::body::fastjson::normalize_keys;
use crate::protocol::body::KvTable;
use crate::protocol::RemotingCommand;
use crate::storage::runtime_stats::disk_space;

type Table = BTreeMap<String, String>;

fn put(t: &mut Table, k: &str, v: impl ToString) {
    t.insert(k.to_string(), v.to_string());
}

pub async fn handle(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let mut t = Table::new();
    broker_keys(ctx, &mut t);
    request_queue_keys(ctx, &mut t);
    store_stats_keys(ctx, &mut t);
    store_keys(ctx, &mut t);
    schedule_keys(ctx, &mut t).await?;
    ha_keys(ctx, &mut t);
    Ok(ok(req).with_body(json_body(&KvTable { table: t })))
}

fn broker_keys(ctx: &BrokerCtx, t: &mut Table) {
    put(t, "brokerVersionDesc", "V4_9_8");
    put(t, "brokerVersion", crate::protocol::command::OUR_VERSION);
    let (now, today, yesterday) = ctx.stats.daily();
    put(t, "msgPutTotalTodayNow", now.put);
    put(t, "msgGetTotalTodayNow", now.get);
    put(t, "msgPutTotalTodayMorning", today.put);
    put(t, "msgGetTotalTodayMorning", today.get);
    put(t, "msgPutTotalYesterdayMorning", yesterday.put);
    put(t, "msgGetTotalYesterdayMorning", yesterday.get);
    put(t, "brokerName", &ctx.cfg.broker_name);
    put(t, "brokerRole", ctx.role.role());
    if ctx.cfg.controller.enable_controller_mode {
        // How a new slave finds this broker's HA port (controller mode; see `replicas.rs`).
        put(t, "haServerAddr", &ctx.ha_server_addr);
        put(t, "masterEpoch", ctx.role.master_epoch());
        put(t, "brokerId", ctx.role.broker_id());
    }
    put(
        t,
        "flushDiskType",
        format!("{:?}", ctx.cfg.store.flush_disk_type),
    );
    put(t, "busyRejections", ctx.stats.busy_rejections.load(Relaxed));
    // actormq accepts sends from the start (RocketMQ's default 0: no startup delay).
    put(t, "startAcceptSendRequestTimeStamp", 0);
}

/// RocketMQ queues requests for its send / pull / query / end-transaction thread pools; actormq
/// has no such queues: a request is handled on its connection's arbiter as soon as it is read,
/// so every queue is empty (0) and no request waits at its head (0 ms). The capacity reported is
/// the bound actormq does have, the requests one connection may have in flight before it is
/// answered SYSTEM_BUSY (`maxInflightPerConnection`).
fn request_queue_keys(ctx: &BrokerCtx, t: &mut Table) {
    let capacity = ctx.cfg.net.max_inflight_per_connection;
    for pool in ["send", "pull", "query"] {
        put(t, &format!("{pool}ThreadPoolQueueSize"), 0);
        put(t, &format!("{pool}ThreadPoolQueueCapacity"), capacity);
        put(t, &format!("{pool}ThreadPoolQueueHeadWaitTimeMills"), 0);
    }
    put(t, "EndTransactionQueueSize", 0);
    put(t, "EndTransactionThreadPoolQueueCapacity", capacity);
}

/// StoreStatsService's figures.
fn store_stats_keys(ctx: &BrokerCtx, t: &mut Table) {
    let s = &ctx.stats;
    let (put_msgs, put_bytes) = s.put_totals();
    // RocketMQ reports at least 1 (it divides by it).
    let times = put_msgs.max(1);
    put(t, "bootTimestamp", ctx.started_ms);
    put(t, "runtime", format_runtime(now_ms() - ctx.started_ms));
    put(t, "putMessageEntireTimeMax", s.put_latency.max());
    put(t, "putMessageTimesTotal", times);
    put(t, "putMessageFailedTimes", s.store.put_failed.load(Relaxed));
    put(t, "putMessageSizeTotal", put_bytes);
    put(t, "putBytesTotal", put_bytes);
    put(
        t,
        "putMessageAverageSize",
        java_double(put_bytes as f64 / times as f64),
    );
    put(
        t,
        "putMessageDistributeTime",
        distribute_text(s.put_distribute.counts()),
    );
    // The dispatcher reads the mapped CommitLog in place: no dispatch buffer (RocketMQ's value
    // when it never buffered, 0).
    put(t, "dispatchMaxBuffer", 0);
    put(
        t,
        "getMessageEntireTimeMax",
        s.store.get_time_max_ms.load(Relaxed),
    );
    put(t, "putTps", s.tps_triple(Rate::Put));
    put(t, "getFoundTps", s.tps_triple(Rate::GetFound));
    put(t, "getMissTps", s.tps_triple(Rate::GetMiss));
    put(t, "getTotalTps", s.tps_triple(Rate::GetTotal));
    put(t, "getTransferedTps", s.tps_triple(Rate::GetTransferred));
    put(
        t,
        "putLatency99",
        format!("{:.2}", s.put_latency.quantile(0.99)),
    );
    put(
        t,
        "putLatency999",
        format!("{:.2}", s.put_latency.quantile(0.999)),
    );
}

/// DefaultMessageStore's figures and the broker's disk.
fn store_keys(ctx: &BrokerCtx, t: &mut Table) {
    let store = &ctx.store;
    let cfg = store.config();
    let cl_dir = cfg.commit_log_dir();
    let cl_ratio = used_ratio(&cl_dir);
    put(
        t,
        &format!("commitLogDiskRatio_{}", cl_dir.display()),
        &cl_ratio,
    );
    put(t, "commitLogDiskRatio", cl_ratio);
    put(
        t,
        "consumeQueueDiskRatio",
        used_ratio(&cfg.consume_queue_dir()),
    );
    put(t, "commitLogMinOffset", store.commit_log_min_offset());
    put(t, "commitLogMaxOffset", store.commit_log_max_offset());
    put(t, "dispatchBehindBytes", store.dispatch_behind_bytes());
    // Appends hold the put lock only for memory copies and it keeps no start time; RocketMQ
    // reports 0 while its lock is free.
    put(t, "pageCacheLockTimeMills", 0);
    put(
        t,
        "earliestMessageTimeStamp",
        store.earliest_message_time().unwrap_or(-1),
    );
    // No transient store pool (`transientStorePoolEnable` is refused): RocketMQ then reports
    // Integer.MAX_VALUE buffers and leaves out remainHowManyDataToCommit.
    put(t, "remainTransientStoreBufferNumbs", i32::MAX);
    put(
        t,
        "remainHowManyDataToFlush",
        human_bytes(store.flush_behind_bytes()),
    );
    if let Ok(d) = disk_space(&cfg.store_path_root_dir) {
        let text = format!(
            "Total : {}, Free : {}.",
            human_bytes(d.total),
            human_bytes(d.usable)
        );
        put(t, "commitLogDirCapacity", text);
    }
}

/// ScheduleMessageService's stats: per delay level `scheduleMessageOffset_<level>` =
/// "delivered offset,max offset" of the level's SCHEDULE_TOPIC_XXXX queue.
async fn schedule_keys(ctx: &BrokerCtx, t: &mut Table) -> Result<(), crate::error::ServiceError> {
    let Some(schedule) = ctx.schedule.get() else {
        return Ok(());
    };
    let text = schedule.send(GetDelayOffsets).await.map_err(mailbox)?;
    for (level, offset) in delay_offsets(&text) {
        let max = ctx.store.max_offset(SCHEDULE_TOPIC, (level - 1) as i32);
        put(
            t,
            &format!("scheduleMessageOffset_{level}"),
            format!("{offset},{max}"),
        );
    }
    Ok(())
}

/// The (level, offset) pairs of `delayOffset.json` text (fastjson: integer keys unquoted).
fn delay_offsets(text: &str) -> Vec<(i64, i64)> {
    let table = normalize_keys(text.as_bytes())
        .ok()
        .and_then(|json| serde_json::from_str::<serde_json::Value>(&json).ok())
        .and_then(|v| v.get("offsetTable").and_then(|t| t.as_object().cloned()))
        .unwrap_or_default();
    let mut pairs: Vec<(i64, i64)> = table
        .iter()
        .filter_map(|(k, v)| Some((k.trim().parse().ok()?, v.as_i64()?)))
        .collect();
    pairs.sort_unstable();
    pairs
}

/// The replication figures (RocketMQ 4.x has no keys for them; 5.x reports them through
/// GET_BROKER_HA_STATUS). A master: connected slaves, the newest offset a slave acknowledged,
/// and, with a slave connected, how many CommitLog bytes it still lacks. A slave: the master HA
/// address it follows (`haMasterAddress`, else the one the name server answered; empty while
/// unknown); its own progress is its `commitLogMaxOffset`.
fn ha_keys(ctx: &BrokerCtx, t: &mut Table) {
    if ctx.role.is_slave() {
        let learned = || ctx.ha.master.read().ha_addr.clone();
        let master = Some(ctx.cfg.ha_master_address.clone())
            .filter(|a| !a.is_empty())
            .or_else(learned)
            .unwrap_or_default();
        put(t, "haMasterAddress", master);
        return;
    }
    let acks = &ctx.ha.acks;
    let slaves = acks.slaves();
    put(t, "haSlaveCount", slaves);
    put(t, "haSlaveAckOffset", acks.acked());
    if slaves > 0 {
        put(t, "haLagBytes", ha_lag_bytes(ctx));
    }
}

/// CommitLog bytes the furthest-ahead slave still lacks (a master; 0 without slaves).
pub fn ha_lag_bytes(ctx: &BrokerCtx) -> u64 {
    let max = ctx.store.commit_log_max_offset().max(0) as u64;
    max.saturating_sub(ctx.ha.acks.acked())
}

/// Used fraction (0..1) of the file system holding `dir` (its parent while it does not exist),
/// as RocketMQ's getDiskPartitionSpaceUsedPercent; -1 when it cannot be read.
fn used_ratio(dir: &std::path::Path) -> String {
    let path = if dir.exists() {
        dir
    } else {
        dir.parent().unwrap_or(dir)
    };
    match disk_space(path) {
        Ok(d) if d.total > 0 => {
            (d.total.saturating_sub(d.free) as f64 / d.total as f64).to_string()
        }
        _ => "-1".into(),
    }
}

/// Java's MessageFormat text of an uptime.
fn format_runtime(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    format!(
        "[ {} days, {} hours, {} minutes, {} seconds ]",
        s / 86_400,
        s % 86_400 / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Java's `MixAll.humanReadableByteCount(bytes, false)`.
fn human_bytes(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let exp = ((bytes as f64).ln() / 1024f64.ln()) as i32;
    let unit = ["K", "M", "G", "T", "P", "E"][(exp - 1).clamp(0, 5) as usize];
    format!("{:.1} {unit}iB", bytes as f64 / 1024f64.powi(exp))
}

/// A double as Java prints it (always with a fraction).
fn java_double(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        v.to_string()
    }
}

fn distribute_text(counts: Vec<u64>) -> String {
    use crate::actors::broker::stats::histogram::DISTRIBUTE_NAMES;
    DISTRIBUTE_NAMES
        .iter()
        .zip(counts)
        .map(|(n, c)| format!("{n}:{c}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_texts() {
        assert_eq!(
            format_runtime(90_061_000),
            "[ 1 days, 1 hours, 1 minutes, 1 seconds ]"
        );
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(java_double(12.0), "12.0");
        assert_eq!(java_double(0.5), "0.5");
        let d = distribute_text(vec![1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]);
        assert!(d.starts_with("[<=0ms]:1 [0~10ms]:2 "), "{d}");
        assert!(d.ends_with("[10s~]:3"), "{d}");
    }

    #[test]
    fn delay_offsets_from_fastjson_text() {
        let text = r#"{"offsetTable":{1:5,3:0,18:7}}"#;
        assert_eq!(delay_offsets(text), vec![(1, 5), (3, 0), (18, 7)]);
        assert!(delay_offsets("{}").is_empty());
    }
}
