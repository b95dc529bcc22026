//! A fixed-bucket histogram of atomics: the send path's message sizes and put latencies and the
//! dispatcher's request latencies are recorded with two relaxed adds and a max; readers (the
//! runtime info, the Prometheus scrape) add the buckets up.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// RIP-46 `rocketmq_message_size` buckets (bytes): 1 KiB, 4 KiB, 512 KiB, 1, 2, 4 MiB.
pub const MESSAGE_SIZE_BOUNDS: &[u64] = &[
    1024,
    4 * 1024,
    512 * 1024,
    1024 * 1024,
    2 * 1024 * 1024,
    4 * 1024 * 1024,
];

/// RIP-46 `rocketmq_rpc_latency` buckets (ms).
pub const RPC_LATENCY_MS_BOUNDS: &[u64] = &[1, 3, 5, 7, 10, 100, 1000, 2000, 3000];

/// Put latency buckets (ms) for putLatency99 / putLatency999: fine where puts normally land,
/// coarse above (RocketMQ's StoreStatsService uses a similar ladder).
pub const PUT_LATENCY_MS_BOUNDS: &[u64] = &[
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 25, 30, 40, 50, 75, 100, 200, 300, 500,
    1000, 2000, 3000, 5000, 10_000,
];

/// RocketMQ's putMessageDistributeTime ranges over whole milliseconds ("0~10ms" is 1..=9, as
/// Java's `value < 10`); the last bucket is 10 s and more.
pub const DISTRIBUTE_MS_BOUNDS: &[u64] =
    &[0, 9, 49, 99, 199, 499, 999, 1999, 2999, 3999, 4999, 9999];
/// Their names, as RocketMQ prints them.
pub const DISTRIBUTE_NAMES: &[&str] = &[
    "[<=0ms]",
    "[0~10ms]",
    "[10~50ms]",
    "[50~100ms]",
    "[100~200ms]",
    "[200~500ms]",
    "[500ms~1s]",
    "[1~2s]",
    "[2~3s]",
    "[3~4s]",
    "[4~5s]",
    "[5~10s]",
    "[10s~]",
];

#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [u64],
    /// One count per bound (value <= bound) and one for above the last.
    counts: Vec<AtomicU64>,
    sum: AtomicU64,
    max: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [u64]) -> Histogram {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
            max: AtomicU64::new(0),
        }
    }

    /// Record `n` observations of `value`.
    pub fn observe_n(&self, value: u64, n: u64) {
        if n == 0 {
            return;
        }
        let i = self.bounds.partition_point(|b| *b < value);
        self.counts[i].fetch_add(n, Relaxed);
        self.sum.fetch_add(value.saturating_mul(n), Relaxed);
        self.max.fetch_max(value, Relaxed);
    }

    pub fn observe(&self, value: u64) {
        self.observe_n(value, 1)
    }

    pub fn bounds(&self) -> &'static [u64] {
        self.bounds
    }

    /// Per-bucket counts (not cumulative), the last one above every bound.
    pub fn counts(&self) -> Vec<u64> {
        self.counts.iter().map(|c| c.load(Relaxed)).collect()
    }

    pub fn sum(&self) -> u64 {
        self.sum.load(Relaxed)
    }

    pub fn max(&self) -> u64 {
        self.max.load(Relaxed)
    }

    pub fn count(&self) -> u64 {
        self.counts().iter().sum()
    }

    /// Cumulative `(upper bound, count)` pairs ending with +Inf, as Prometheus wants them.
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut acc = 0;
        let counts = self.counts();
        let mut out: Vec<(f64, u64)> = self
            .bounds
            .iter()
            .zip(&counts)
            .map(|(b, c)| {
                acc += c;
                (*b as f64, acc)
            })
            .collect();
        out.push((f64::INFINITY, acc + counts[self.bounds.len()]));
        out
    }

    /// The `px` quantile (0..1), interpolated inside its bucket; above the last bound it is the
    /// largest value seen.
    pub fn quantile(&self, px: f64) -> f64 {
        let counts = self.counts();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return 0.0;
        }
        let rank = (total as f64 * px).ceil().max(1.0) as u64;
        let mut passed = 0;
        for (i, c) in counts.iter().enumerate() {
            if *c > 0 && passed + c >= rank {
                let Some(hi) = self.bounds.get(i) else {
                    return self.max() as f64;
                };
                let lo = if i == 0 { 0 } else { self.bounds[i - 1] };
                let within = (rank - passed) as f64 / *c as f64;
                return lo as f64 + (*hi - lo) as f64 * within;
            }
            passed += c;
        }
        self.max() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_sums_and_cumulative_counts() {
        let h = Histogram::new(MESSAGE_SIZE_BOUNDS);
        h.observe(10);
        h.observe(1024);
        h.observe_n(5000, 2);
        h.observe(5 * 1024 * 1024);
        assert_eq!(h.count(), 5);
        assert_eq!(h.sum(), 10 + 1024 + 10_000 + 5 * 1024 * 1024);
        let c = h.cumulative();
        assert_eq!(c[0], (1024.0, 2));
        assert_eq!(c[1], (4096.0, 2));
        assert_eq!(c[2], (512.0 * 1024.0, 4));
        assert_eq!(*c.last().unwrap(), (f64::INFINITY, 5));
        assert_eq!(h.max(), 5 * 1024 * 1024);
    }

    #[test]
    fn quantiles_interpolate_within_a_bucket() {
        let h = Histogram::new(PUT_LATENCY_MS_BOUNDS);
        assert_eq!(h.quantile(0.99), 0.0);
        h.observe_n(1, 98);
        h.observe_n(40, 2);
        assert!(h.quantile(0.5) <= 1.0);
        let p99 = h.quantile(0.99);
        assert!(p99 > 30.0 && p99 <= 40.0, "{p99}");
        h.observe(20_000);
        assert_eq!(h.quantile(1.0), 20_000.0);
    }
}
