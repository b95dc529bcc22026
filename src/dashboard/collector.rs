//! The chart data: one sample per broker every [`INTERVAL`] for the last hour, kept server-side
//! in a bounded ring per broker ([`History`], plain and unit-tested), filled by a task that asks
//! each broker for GET_BROKER_RUNTIME_INFO (28). In/out TPS come from RocketMQ's `putTps` /
//! `getTransferedTps` ("tps10 tps60 tps600": the first figure) when the broker reports them, else
//! from the change of `msgPutTotalTodayNow` / `msgGetTotalTodayNow` since the previous sample.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;

use crate::admin::AdminClient;
use crate::clock::now_ms;
use crate::protocol::body::KvTable;

/// Time between two samples of a broker.
pub const INTERVAL: Duration = Duration::from_secs(10);
/// Samples kept per broker: one hour.
pub const CAPACITY: usize = 360;

/// One point of a broker's chart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    /// Milliseconds since the epoch.
    pub time: i64,
    pub put_tps: f64,
    pub get_tps: f64,
    /// The day's counters when sampled (used to derive TPS when the broker sends none).
    #[serde(skip)]
    pub put_total: i64,
    #[serde(skip)]
    pub get_total: i64,
}

/// Bounded per-broker rings of samples.
#[derive(Debug)]
pub struct History {
    capacity: usize,
    series: BTreeMap<String, VecDeque<Sample>>,
}

/// The first number of a `"tps10 tps60 tps600"` runtime value.
pub fn first_tps(v: &str) -> Option<f64> {
    v.split_whitespace()
        .next()?
        .parse()
        .ok()
        .filter(|f: &f64| f.is_finite())
}

impl History {
    pub fn new(capacity: usize) -> History {
        History {
            capacity: capacity.max(1),
            series: BTreeMap::new(),
        }
    }

    /// Add a sample of `broker` built from its runtime table at `time`.
    pub fn record(&mut self, broker: &str, time: i64, info: &KvTable) {
        let num = |k: &str| info.table.get(k).and_then(|v| v.trim().parse::<i64>().ok());
        let (put_total, get_total) = (
            num("msgPutTotalTodayNow").unwrap_or(0),
            num("msgGetTotalTodayNow").unwrap_or(0),
        );
        let ring = self.series.entry(broker.to_string()).or_default();
        let prev = ring.back().copied();
        let rate = |total: i64, before: Option<i64>, t0: Option<i64>| match (before, t0) {
            (Some(b), Some(t0)) if time > t0 && total >= b => {
                (total - b) as f64 * 1000.0 / (time - t0) as f64
            }
            _ => 0.0,
        };
        let t0 = prev.map(|p| p.time);
        let put_tps = info
            .table
            .get("putTps")
            .and_then(|v| first_tps(v))
            .unwrap_or_else(|| rate(put_total, prev.map(|p| p.put_total), t0));
        let get_tps = info
            .table
            .get("getTransferedTps")
            .and_then(|v| first_tps(v))
            .unwrap_or_else(|| rate(get_total, prev.map(|p| p.get_total), t0));
        if ring.len() == self.capacity {
            ring.pop_front();
        }
        ring.push_back(Sample {
            time,
            put_tps,
            get_tps,
            put_total,
            get_total,
        });
    }

    /// Forget brokers not in `live`.
    pub fn retain(&mut self, live: &[String]) {
        self.series.retain(|k, _| live.contains(k));
    }

    /// Every broker's samples, oldest first.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<Sample>> {
        self.series
            .iter()
            .map(|(k, v)| (k.clone(), v.iter().copied().collect()))
            .collect()
    }

    /// The newest sample of `broker`.
    pub fn latest(&self, broker: &str) -> Option<Sample> {
        self.series.get(broker).and_then(|r| r.back().copied())
    }
}

/// The shared history and the task that fills it.
#[derive(Clone)]
pub struct Collector {
    pub history: Arc<Mutex<History>>,
}

impl Collector {
    pub fn new() -> Collector {
        Collector {
            history: Arc::new(Mutex::new(History::new(CAPACITY))),
        }
    }

    /// Sample every broker now (its label: `brokerName/brokerId`).
    pub async fn sample_once(&self, admin: &AdminClient) {
        let info = match admin.cluster_info().await {
            Ok(i) => i,
            Err(e) => {
                tracing::debug!("dashboard collector: cluster info: {e}");
                return;
            }
        };
        let mut live = Vec::new();
        for (name, bd) in &info.broker_addr_table {
            for (id, addr) in &bd.broker_addrs {
                let label = format!("{name}/{id}");
                live.push(label.clone());
                match admin.runtime_info(addr).await {
                    Ok(kv) => self.history.lock().record(&label, now_ms(), &kv),
                    Err(e) => tracing::debug!("dashboard collector: {addr}: {e}"),
                }
            }
        }
        self.history.lock().retain(&live);
    }

    /// Sample now and every [`INTERVAL`] until the runtime stops.
    pub fn spawn(&self, admin: AdminClient) {
        let this = self.clone();
        actix_rt::spawn(async move {
            let mut tick = tokio::time::interval(INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                this.sample_once(&admin).await;
            }
        });
    }
}

impl Default for Collector {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(pairs: &[(&str, &str)]) -> KvTable {
        KvTable {
            table: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn ring_is_bounded_and_rates_come_from_counters_or_tps() {
        let mut h = History::new(3);
        for i in 0..5 {
            let total = (i * 100).to_string();
            h.record("a/0", i * 10_000, &kv(&[("msgPutTotalTodayNow", &total)]));
        }
        let s = &h.snapshot()["a/0"];
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].time, 20_000);
        assert!((s[2].put_tps - 10.0).abs() < 1e-9);
        h.record(
            "b/0",
            1,
            &kv(&[("putTps", "12.5 3.0 1.0"), ("getTransferedTps", "x")]),
        );
        let b = h.latest("b/0").unwrap();
        assert_eq!((b.put_tps, b.get_tps), (12.5, 0.0));
        h.retain(&["b/0".to_string()]);
        assert!(h.latest("a/0").is_none());
        assert_eq!(first_tps("NaN 1"), None);
    }
}
