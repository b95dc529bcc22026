//! Broker statistics, the counters RocketMQ's tools read: BrokerStatsManager's TOPIC_PUT_NUMS,
//! TOPIC_PUT_SIZE, GROUP_GET_NUMS, GROUP_GET_SIZE, SNDBCK_PUT_NUMS, BROKER_PUT_NUMS and
//! BROKER_GET_NUMS with their minute / hour / day windows (VIEW_BROKER_STATS_DATA 315), the store
//! figures of GET_BROKER_RUNTIME_INFO 28 (put / get rates over 10, 60 and 600 s, today's and
//! yesterday's totals, put latency), and what the Prometheus endpoint exports on top (RIP-46
//! message types, sizes, request latencies, transaction ends).
//!
//! The send and pull paths count with relaxed atomic adds on a counter set they look up once per
//! request in a read-mostly map (a read lock on a `parking_lot::RwLock`, the write lock only the
//! first time a topic or group is seen). A one-second timer (`spawn_sampler`, on the broker's
//! system arbiter, no I/O) takes the snapshots the windows and rates are computed from.

pub mod daily;
pub mod entries;
pub mod histogram;
pub mod item;
pub mod rpc;
pub mod tps;

use crate::fast_map::FastMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use parking_lot::{Mutex, RwLock};

use self::daily::{local_day, DailyTotals, PutGet};
use self::entries::{is_system_group, GroupCounters, MessageType, TopicCounters};
use self::histogram::{Histogram, DISTRIBUTE_MS_BOUNDS, PUT_LATENCY_MS_BOUNDS};
use self::item::{StatsItem, Window, WindowStats};
use self::rpc::RpcLatencies;
use self::tps::{Rate, Totals, TpsWindows};
use super::context::BrokerCtx;
use crate::clock::now_ms;

/// RocketMQ's stats names (VIEW_BROKER_STATS_DATA `statsName`).
pub const TOPIC_PUT_NUMS: &str = "TOPIC_PUT_NUMS";
pub const TOPIC_PUT_SIZE: &str = "TOPIC_PUT_SIZE";
pub const GROUP_GET_NUMS: &str = "GROUP_GET_NUMS";
pub const GROUP_GET_SIZE: &str = "GROUP_GET_SIZE";
pub const SNDBCK_PUT_NUMS: &str = "SNDBCK_PUT_NUMS";
pub const BROKER_PUT_NUMS: &str = "BROKER_PUT_NUMS";
pub const BROKER_GET_NUMS: &str = "BROKER_GET_NUMS";

/// The three windows of one stats item (BrokerStatsData).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ItemWindows {
    pub minute: WindowStats,
    pub hour: WindowStats,
    pub day: WindowStats,
}

impl ItemWindows {
    fn of(item: &StatsItem, now_ms: i64) -> ItemWindows {
        ItemWindows {
            minute: item.window(Window::Minute, now_ms),
            hour: item.window(Window::Hour, now_ms),
            day: item.window(Window::Day, now_ms),
        }
    }
}

/// Store-level running totals (StoreStatsService).
#[derive(Debug, Default)]
pub struct StoreCounters {
    pub get_found: AtomicU64,
    pub get_miss: AtomicU64,
    pub put_failed: AtomicU64,
    /// Slowest pull read so far (ms).
    pub get_time_max_ms: AtomicU64,
}

/// When the sampler last took each kind of snapshot.
#[derive(Debug, Default)]
struct SampleClock {
    minute: i64,
    hour: i64,
    day: i64,
}

type GroupMap = FastMap<String, FastMap<String, Arc<GroupCounters>>>;

#[derive(Debug)]
pub struct BrokerStats {
    topics: RwLock<FastMap<String, Arc<TopicCounters>>>,
    /// topic -> group -> counters (two lookups by `&str`, no key built per pull).
    groups: RwLock<GroupMap>,
    pub broker_put: StatsItem,
    pub broker_get: StatsItem,
    pub store: StoreCounters,
    /// Put latency (ms) from the store append to the durability the send waited for.
    pub put_latency: Histogram,
    /// The same in RocketMQ's putMessageDistributeTime ranges.
    pub put_distribute: Histogram,
    /// Sends answered SYSTEM_BUSY because they waited too long in the connection's queue.
    pub busy_rejections: AtomicU64,
    pub rpc: RpcLatencies,
    tps: Mutex<TpsWindows>,
    daily: Mutex<DailyTotals>,
    clock: Mutex<SampleClock>,
}

impl Default for BrokerStats {
    fn default() -> Self {
        let now = now_ms();
        BrokerStats {
            topics: RwLock::default(),
            groups: RwLock::default(),
            broker_put: StatsItem::new(now),
            broker_get: StatsItem::new(now),
            store: StoreCounters::default(),
            put_latency: Histogram::new(PUT_LATENCY_MS_BOUNDS),
            put_distribute: Histogram::new(DISTRIBUTE_MS_BOUNDS),
            busy_rejections: AtomicU64::new(0),
            rpc: RpcLatencies::default(),
            tps: Mutex::default(),
            daily: Mutex::default(),
            clock: Mutex::new(SampleClock {
                minute: now,
                hour: now,
                day: now,
            }),
        }
    }
}

impl BrokerStats {
    /// The topic's counter set, created on first use (`is_system` asked only then).
    pub fn topic(&self, topic: &str, is_system: impl FnOnce() -> bool) -> Arc<TopicCounters> {
        if let Some(t) = self.topics.read().get(topic) {
            return t.clone();
        }
        let fresh = Arc::new(TopicCounters::new(is_system(), now_ms()));
        self.topics
            .write()
            .entry(topic.to_string())
            .or_insert(fresh)
            .clone()
    }

    /// The (topic, group) counter set, created on first use.
    pub fn group(
        &self,
        topic: &str,
        group: &str,
        is_system: impl FnOnce() -> bool,
    ) -> Arc<GroupCounters> {
        if let Some(g) = self.groups.read().get(topic).and_then(|m| m.get(group)) {
            return g.clone();
        }
        let fresh = Arc::new(GroupCounters::new(is_system(), now_ms()));
        self.groups
            .write()
            .entry(topic.to_string())
            .or_default()
            .entry(group.to_string())
            .or_insert(fresh)
            .clone()
    }

    /// A send stored `msgs` messages of `bytes` on `topic`; the store took `latency_ms`.
    pub fn on_put(
        &self,
        topic: &TopicCounters,
        kind: MessageType,
        msgs: u64,
        bytes: u64,
        latency_ms: u64,
    ) {
        topic.on_put(kind, msgs, bytes);
        self.broker_put.add(msgs, 1);
        self.put_latency.observe(latency_ms);
        self.put_distribute.observe(latency_ms);
    }

    /// A pull answered with `msgs` messages (0 = a miss) of `bytes`; its store read took
    /// `read_ms`.
    pub fn on_get(&self, group: &GroupCounters, msgs: u64, bytes: u64, read_ms: u64) {
        if msgs > 0 {
            group.on_get(msgs, bytes);
            self.broker_get.add(msgs, 1);
            self.store.get_found.fetch_add(1, Relaxed);
        } else {
            self.store.get_miss.fetch_add(1, Relaxed);
        }
        self.store.get_time_max_ms.fetch_max(read_ms, Relaxed);
    }

    /// A consumer sent a message of `topic` back; `to_dlq` when it went to the group's DLQ.
    pub fn on_send_back(&self, topic: &str, group: &str, to_dlq: bool) {
        let g = self.group(topic, group, || is_system_group(group));
        g.send_back.add(1, 1);
        if to_dlq {
            g.to_dlq.fetch_add(1, Relaxed);
        }
    }

    /// A transaction of `topic` was committed (or rolled back).
    pub fn on_end_transaction(&self, topic: &str, commit: bool) {
        let t = self.topic(topic, || false);
        let c = if commit { &t.commits } else { &t.rollbacks };
        c.fetch_add(1, Relaxed);
    }

    /// VIEW_BROKER_STATS_DATA: the item's windows, `None` when RocketMQ would not have the item.
    /// BROKER_* items are keyed by the cluster name; the group items by `topic@group`.
    pub fn windows(
        &self,
        name: &str,
        key: &str,
        cluster: &str,
        now_ms: i64,
    ) -> Option<ItemWindows> {
        let of = |item: &StatsItem| item.touched().then(|| ItemWindows::of(item, now_ms));
        match name {
            BROKER_PUT_NUMS if key == cluster => of(&self.broker_put),
            BROKER_GET_NUMS if key == cluster => of(&self.broker_get),
            TOPIC_PUT_NUMS | TOPIC_PUT_SIZE => {
                let t = self.topics.read().get(key).cloned()?;
                of(if name == TOPIC_PUT_NUMS {
                    &t.put_nums
                } else {
                    &t.put_size
                })
            }
            GROUP_GET_NUMS | GROUP_GET_SIZE | SNDBCK_PUT_NUMS => {
                let (topic, group) = key.split_once('@')?;
                let g = self.groups.read().get(topic)?.get(group).cloned()?;
                of(match name {
                    GROUP_GET_NUMS => &g.get_nums,
                    GROUP_GET_SIZE => &g.get_size,
                    _ => &g.send_back,
                })
            }
            _ => None,
        }
    }

    /// The group's consume rate on a topic over the last minute (GET_BROKER_CONSUME_STATS).
    pub fn group_get_tps(&self, topic: &str, group: &str, now_ms: i64) -> f64 {
        let g = self
            .groups
            .read()
            .get(topic)
            .and_then(|m| m.get(group).cloned());
        g.map(|g| g.get_nums.window(Window::Minute, now_ms).tps)
            .unwrap_or(0.0)
    }

    /// Every topic's counters (for the scrape), sorted by topic.
    pub fn topics_snapshot(&self) -> Vec<(String, Arc<TopicCounters>)> {
        let mut v: Vec<_> = self
            .topics
            .read()
            .iter()
            .map(|(k, t)| (k.clone(), t.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Every (topic, group)'s counters (for the scrape), sorted.
    pub fn groups_snapshot(&self) -> Vec<(String, String, Arc<GroupCounters>)> {
        let mut v: Vec<_> = self
            .groups
            .read()
            .iter()
            .flat_map(|(t, m)| m.iter().map(|(g, c)| (t.clone(), g.clone(), c.clone())))
            .collect();
        v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        v
    }

    /// Messages stored and bytes stored so far.
    pub fn put_totals(&self) -> (u64, u64) {
        let topics = self.topics.read();
        let bytes = topics.values().map(|t| t.put_size.value()).sum();
        (self.broker_put.value(), bytes)
    }

    fn totals(&self) -> Totals {
        Totals {
            put: self.broker_put.value(),
            get_found: self.store.get_found.load(Relaxed),
            get_miss: self.store.get_miss.load(Relaxed),
            get_transferred: self.broker_get.value(),
        }
    }

    /// RocketMQ's "tps10 tps60 tps600".
    pub fn tps_triple(&self, rate: Rate) -> String {
        self.tps.lock().triple(rate)
    }

    /// Today's running totals and the last two mornings' (msg*Total*).
    pub fn daily(&self) -> (PutGet, PutGet, PutGet) {
        let now = PutGet {
            put: self.broker_put.value(),
            get: self.broker_get.value(),
        };
        let d = self.daily.lock();
        (now, d.today_morning, d.yesterday_morning)
    }

    /// One sampler tick: the per-second rate reading, the day roll, and the item snapshots that
    /// are due (minute windows every 10 s, hour windows every 10 min, day windows every hour).
    pub fn tick(&self, now_ms: i64) {
        let totals = self.totals();
        self.tps.lock().sample(now_ms, totals);
        self.daily.lock().roll(
            local_day(now_ms),
            PutGet {
                put: totals.put,
                get: totals.get_transferred,
            },
        );
        let due: Vec<Window> = {
            let mut guard = self.clock.lock();
            let SampleClock { minute, hour, day } = &mut *guard;
            let mut due = Vec::new();
            for (last, every, w) in [
                (minute, 10_000, Window::Minute),
                (hour, 600_000, Window::Hour),
                (day, 3_600_000, Window::Day),
            ] {
                if now_ms - *last >= every {
                    *last = now_ms;
                    due.push(w);
                }
            }
            due
        };
        for w in due {
            self.sample_items(w, now_ms);
        }
    }

    fn sample_items(&self, w: Window, now_ms: i64) {
        self.broker_put.sample(w, now_ms);
        self.broker_get.sample(w, now_ms);
        for (_, t) in self.topics_snapshot() {
            t.put_nums.sample(w, now_ms);
            t.put_size.sample(w, now_ms);
        }
        for (_, _, g) in self.groups_snapshot() {
            for item in g.items() {
                item.sample(w, now_ms);
            }
        }
    }
}

/// A send being counted: the topic's counters looked up once, its message type, its start.
pub struct PutProbe {
    topic: Arc<TopicCounters>,
    kind: MessageType,
    started: Instant,
}

impl PutProbe {
    pub fn start(ctx: &BrokerCtx, topic: &str, sys_flag: i32, props: Option<&str>) -> PutProbe {
        PutProbe {
            topic: ctx
                .stats
                .topic(topic, || ctx.topics.read().is_system_topic(topic)),
            kind: MessageType::of(sys_flag, props),
            started: Instant::now(),
        }
    }

    /// Pass the append's result through, counting a failure (putMessageFailedTimes).
    pub fn checked<T, E>(&self, stats: &BrokerStats, r: Result<T, E>) -> Result<T, E> {
        if r.is_err() {
            stats.store.put_failed.fetch_add(1, Relaxed);
        }
        r
    }

    /// The send stored `msgs` messages of `bytes` (and waited for what it had to).
    pub fn stored(self, stats: &BrokerStats, msgs: u64, bytes: u64) {
        let ms = self.started.elapsed().as_millis() as u64;
        stats.on_put(&self.topic, self.kind, msgs, bytes, ms);
    }
}

/// Count a pull's answer: `messages` handed to `group` from `topic`, the first store read having
/// taken `read_ms`.
pub fn record_pull(ctx: &BrokerCtx, topic: &str, group: &str, messages: &[Bytes], read_ms: u64) {
    let counters = ctx.stats.group(topic, group, || {
        is_system_group(group) || ctx.topics.read().is_system_topic(topic)
    });
    let bytes = messages.iter().map(|m| m.len() as u64).sum();
    ctx.stats
        .on_get(&counters, messages.len() as u64, bytes, read_ms);
}

/// Start the one-second sampler on the current arbiter (the broker's system arbiter). It only
/// reads atomics and appends snapshots; it stops when the broker context is gone.
pub fn spawn_sampler(ctx: &Arc<BrokerCtx>) {
    let weak = Arc::downgrade(ctx);
    actix_rt::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let Some(ctx) = weak.upgrade() else { return };
            ctx.stats.tick(now_ms());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_items_answer_by_name_and_key() {
        let s = BrokerStats::default();
        let now = now_ms();
        let t = s.topic("T", || false);
        s.on_put(&t, MessageType::Normal, 3, 300, 1);
        s.on_put(&t, MessageType::Normal, 1, 100, 2);
        let g = s.group("T", "G", || false);
        s.on_get(&g, 2, 200, 0);
        s.on_get(&g, 0, 0, 5);
        s.on_send_back("T", "G", true);

        let w = s.windows(TOPIC_PUT_NUMS, "T", "C", now + 1000).unwrap();
        assert_eq!((w.minute.sum, w.hour.sum, w.day.sum), (4, 4, 4));
        assert!((w.minute.avgpt - 2.0).abs() < 1e-9);
        assert_eq!(
            s.windows(TOPIC_PUT_SIZE, "T", "C", now).unwrap().day.sum,
            400
        );
        assert_eq!(
            s.windows(GROUP_GET_NUMS, "T@G", "C", now).unwrap().day.sum,
            2
        );
        assert_eq!(
            s.windows(GROUP_GET_SIZE, "T@G", "C", now).unwrap().day.sum,
            200
        );
        assert_eq!(
            s.windows(SNDBCK_PUT_NUMS, "T@G", "C", now).unwrap().day.sum,
            1
        );
        assert_eq!(
            s.windows(BROKER_PUT_NUMS, "C", "C", now).unwrap().day.sum,
            4
        );
        assert_eq!(
            s.windows(BROKER_GET_NUMS, "C", "C", now).unwrap().day.sum,
            2
        );
        // Unknown names, keys, and items nothing was added to do not exist.
        assert!(s.windows(TOPIC_PUT_NUMS, "other", "C", now).is_none());
        assert!(s
            .windows(BROKER_PUT_NUMS, "other-cluster", "C", now)
            .is_none());
        assert!(s.windows("NO_SUCH", "T", "C", now).is_none());
        assert!(s.windows(GROUP_GET_NUMS, "no-at-sign", "C", now).is_none());
        s.group("T", "idle", || false);
        assert!(s.windows(GROUP_GET_NUMS, "T@idle", "C", now).is_none());
        assert_eq!(s.store.get_found.load(Relaxed), 1);
        assert_eq!(s.store.get_miss.load(Relaxed), 1);
        assert_eq!(s.store.get_time_max_ms.load(Relaxed), 5);
        assert_eq!(s.put_totals(), (4, 400));
    }

    #[test]
    fn ticks_feed_rates_and_windows() {
        let s = BrokerStats::default();
        let t0 = now_ms();
        s.tick(t0);
        let t = s.topic("T", || false);
        for _ in 0..20 {
            s.on_put(&t, MessageType::Normal, 1, 10, 0);
        }
        s.tick(t0 + 2000);
        assert_eq!(s.tps_triple(Rate::Put), "10 10 10");
        // A minute later (six ten-second snapshots, then one more) the old puts left the
        // minute window but remain in the day's.
        for i in 1..=7 {
            s.tick(t0 + 2000 + i * 10_000);
        }
        let w = s.windows(TOPIC_PUT_NUMS, "T", "C", t0 + 80_000).unwrap();
        assert_eq!(w.minute.sum, 0);
        assert_eq!(w.day.sum, 20);
        let (now, today, _) = s.daily();
        assert_eq!(now.put, 20);
        assert_eq!(today.put, 0);
    }
}
