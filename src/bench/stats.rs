//! Measurement parts: lock-free per-second meters that worker tasks update and the reporter
//! drains once a second, and the HDR histogram summary (microseconds) printed at the end.
//!
//! The meters are a handful of relaxed atomics; the histograms sit behind one uncontended mutex
//! per run (the load generator usually runs on one thread, see `--threads`).

use std::sync::atomic::{AtomicU64, Ordering};

use hdrhistogram::Histogram;
use serde::Serialize;

use super::failures::IntervalFailures;

/// Highest latency the histograms track (60 s, in microseconds); larger values are clamped.
pub const MAX_TRACKED_US: u64 = 60_000_000;

/// A histogram of microseconds with 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKED_US, 3).expect("valid histogram bounds")
}

/// Record `us` (clamped into the tracked range).
pub fn record(h: &mut Histogram<u64>, us: u64) {
    let _ = h.record(us.clamp(1, MAX_TRACKED_US));
}

/// Count, sum and max of latencies seen since the last `take`.
#[derive(Debug, Default)]
pub struct LatencyMeter {
    count: AtomicU64,
    sum: AtomicU64,
    max: AtomicU64,
}

/// What a [`LatencyMeter`] saw in one interval.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LatencyTick {
    pub count: u64,
    pub sum_us: u64,
    pub max_us: u64,
}

impl LatencyTick {
    /// Mean in microseconds, 0 when empty.
    pub fn mean_us(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_us as f64 / self.count as f64
        }
    }
}

impl LatencyMeter {
    pub fn record(&self, us: u64) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(us, Ordering::Relaxed);
        self.max.fetch_max(us, Ordering::Relaxed);
    }

    /// Read and reset.
    pub fn take(&self) -> LatencyTick {
        LatencyTick {
            count: self.count.swap(0, Ordering::Relaxed),
            sum_us: self.sum.swap(0, Ordering::Relaxed),
            max_us: self.max.swap(0, Ordering::Relaxed),
        }
    }
}

/// A counter drained by the reporter while the total keeps growing.
#[derive(Debug, Default)]
pub struct Counter {
    interval: AtomicU64,
    total: AtomicU64,
}

impl Counter {
    pub fn add(&self, n: u64) {
        self.interval.fetch_add(n, Ordering::Relaxed);
        self.total.fetch_add(n, Ordering::Relaxed);
    }
    pub fn take(&self) -> u64 {
        self.interval.swap(0, Ordering::Relaxed)
    }
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

/// Producer meters, shared by every sender task.
#[derive(Debug, Default)]
pub struct ProducerMeters {
    /// Messages acknowledged (or written, for oneway).
    pub sent: Counter,
    /// Messages whose request failed.
    pub failed: Counter,
    /// Request round-trip time.
    pub rt: LatencyMeter,
}

/// Consumer meters, shared by every pull loop.
#[derive(Debug, Default)]
pub struct ConsumerMeters {
    pub consumed: Counter,
    /// Pull requests that failed (timeouts, errors).
    pub failed: Counter,
    /// Born (producer clock) -> consumed.
    pub born: LatencyMeter,
    /// Stored (broker clock, millisecond resolution) -> consumed.
    pub store: LatencyMeter,
}

/// One per-second progress sample of a producer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProducerSample {
    pub second: f64,
    pub tps: f64,
    pub rt_avg_us: f64,
    pub rt_max_us: u64,
    pub failed: u64,
    pub total: u64,
    /// Why messages failed in this interval (first failure of each kind).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<IntervalFailures>,
    /// Connection events in this interval (lost, reconnect attempts, reconnected).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One per-second progress sample of a consumer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsumerSample {
    pub second: f64,
    pub tps: f64,
    pub born_avg_us: f64,
    pub born_max_us: u64,
    pub store_avg_us: f64,
    pub store_max_us: u64,
    pub failed: u64,
    pub total: u64,
    /// Why pulls failed in this interval (first failure of each kind).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<IntervalFailures>,
    /// Connection events in this interval.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl ProducerMeters {
    /// Drain the interval of `secs` seconds ending `second` seconds after the start.
    pub fn sample(&self, second: f64, secs: f64) -> ProducerSample {
        let rt = self.rt.take();
        let sent = self.sent.take();
        ProducerSample {
            second,
            tps: per_sec(sent, secs),
            rt_avg_us: rt.mean_us(),
            rt_max_us: rt.max_us,
            failed: self.failed.take(),
            total: self.sent.total(),
            failures: Vec::new(),
            notes: Vec::new(),
        }
    }
}

impl ConsumerMeters {
    pub fn sample(&self, second: f64, secs: f64) -> ConsumerSample {
        let born = self.born.take();
        let store = self.store.take();
        let consumed = self.consumed.take();
        ConsumerSample {
            second,
            tps: per_sec(consumed, secs),
            born_avg_us: born.mean_us(),
            born_max_us: born.max_us,
            store_avg_us: store.mean_us(),
            store_max_us: store.max_us,
            failed: self.failed.take(),
            total: self.consumed.total(),
            failures: Vec::new(),
            notes: Vec::new(),
        }
    }
}

fn per_sec(n: u64, secs: f64) -> f64 {
    if secs <= 0.0 {
        0.0
    } else {
        n as f64 / secs
    }
}

/// A duration given in microseconds, in the unit a reader wants: `850 us`, `12.35 ms`,
/// `21.18 s`, `3.5 min`, `2.1 h`.
pub fn human_us(us: f64) -> String {
    let us = us.max(0.0);
    if us < 1_000.0 {
        format!("{us:.0} us")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else if us < 120e6 {
        format!("{:.2} s", us / 1e6)
    } else if us < 7_200e6 {
        format!("{:.1} min", us / 60e6)
    } else {
        format!("{:.1} h", us / 3_600e6)
    }
}

/// The lines after a progress line: failures by kind, then connection notes, each indented.
fn detail_lines(failures: &[IntervalFailures], notes: &[String]) -> String {
    let mut out = String::new();
    for f in failures {
        out.push_str("\n          ");
        out.push_str(&f.line());
    }
    for n in notes {
        out.push_str("\n          ");
        out.push_str(n);
    }
    out
}

impl ProducerSample {
    /// The progress line, followed by one line per failure kind and connection note.
    pub fn line(&self) -> String {
        format!(
            "[{:>6.1}s] send tps {:>9.0} | rt avg {:>10} max {:>10} | failed {:>5} | total {}{}",
            self.second,
            self.tps,
            human_us(self.rt_avg_us),
            human_us(self.rt_max_us as f64),
            self.failed,
            self.total,
            detail_lines(&self.failures, &self.notes)
        )
    }
}

impl ConsumerSample {
    pub fn line(&self) -> String {
        format!(
            "[{:>6.1}s] consume tps {:>9.0} | born->consume avg {:>10} max {:>10} | store->consume avg {:>10} max {:>10} | failed {:>3} | total {}{}",
            self.second,
            self.tps,
            human_us(self.born_avg_us),
            human_us(self.born_max_us as f64),
            human_us(self.store_avg_us),
            human_us(self.store_max_us as f64),
            self.failed,
            self.total,
            detail_lines(&self.failures, &self.notes)
        )
    }
}

/// Percentiles of a latency histogram, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct LatencySummary {
    pub count: u64,
    pub mean_us: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

impl LatencySummary {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: h.len(),
            mean_us: (h.mean() * 10.0).round() / 10.0,
            p50_us: h.value_at_quantile(0.50),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
        }
    }

    /// `n ..  mean ..  p50 ..  p99 ..  p99.9 ..  max ..`, each in a readable unit.
    pub fn text(&self) -> String {
        format!(
            "n {}  mean {}  p50 {}  p99 {}  p99.9 {}  max {}",
            self.count,
            human_us(self.mean_us),
            human_us(self.p50_us as f64),
            human_us(self.p99_us as f64),
            human_us(self.p999_us as f64),
            human_us(self.max_us as f64)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_meter_takes_and_resets() {
        let m = LatencyMeter::default();
        for us in [100, 300, 200] {
            m.record(us);
        }
        let t = m.take();
        assert_eq!(
            t,
            LatencyTick {
                count: 3,
                sum_us: 600,
                max_us: 300
            }
        );
        assert_eq!(t.mean_us(), 200.0);
        assert_eq!(m.take(), LatencyTick::default());
        assert_eq!(LatencyTick::default().mean_us(), 0.0);
    }

    #[test]
    fn counter_keeps_total_across_intervals() {
        let c = Counter::default();
        c.add(5);
        c.add(2);
        assert_eq!(c.take(), 7);
        c.add(1);
        assert_eq!(c.take(), 1);
        assert_eq!(c.take(), 0);
        assert_eq!(c.total(), 8);
    }

    #[test]
    fn producer_sample_and_line() {
        let m = ProducerMeters::default();
        m.sent.add(2000);
        m.failed.add(3);
        m.rt.record(1000);
        m.rt.record(3000);
        let s = m.sample(2.0, 0.5);
        assert_eq!(s.tps, 4000.0);
        assert_eq!(
            (s.rt_avg_us, s.rt_max_us, s.failed, s.total),
            (2000.0, 3000, 3, 2000)
        );
        let line = s.line();
        assert!(line.contains("send tps      4000"), "{line}");
        assert!(line.contains("rt avg    2.00 ms max    3.00 ms"), "{line}");
        assert!(line.contains("failed     3"), "{line}");
        // The next interval starts empty but the total stays.
        let s2 = m.sample(3.0, 1.0);
        assert_eq!((s2.tps, s2.total, s2.failed), (0.0, 2000, 0));
    }

    #[test]
    fn consumer_sample_and_line() {
        let m = ConsumerMeters::default();
        m.consumed.add(10);
        m.born.record(500);
        m.store.record(1000);
        m.store.record(3000);
        let s = m.sample(1.0, 1.0);
        assert_eq!(
            (s.tps, s.born_avg_us, s.store_avg_us, s.store_max_us),
            (10.0, 500.0, 2000.0, 3000)
        );
        let line = s.line();
        assert!(line.contains("consume tps        10"), "{line}");
        assert!(line.contains("born->consume avg     500 us"), "{line}");
        assert!(
            line.contains("store->consume avg    2.00 ms max    3.00 ms"),
            "{line}"
        );
    }

    #[test]
    fn histogram_summary_percentiles() {
        let mut h = new_histogram();
        for us in 1..=1000u64 {
            record(&mut h, us);
        }
        record(&mut h, 0); // clamped to 1
        record(&mut h, u64::MAX); // clamped to the top
        let s = LatencySummary::of(&h);
        assert_eq!(s.count, 1002);
        assert!((499..=502).contains(&s.p50_us), "{s:?}");
        assert!((989..=992).contains(&s.p99_us), "{s:?}");
        assert!((998..=1001).contains(&s.p999_us), "{s:?}");
        assert!(s.max_us >= MAX_TRACKED_US && s.max_us < MAX_TRACKED_US + MAX_TRACKED_US / 500);
        assert!(s.text().starts_with("n 1002  mean "), "{}", s.text());
        assert!(s.text().contains("  max 60."), "{}", s.text());
        assert_eq!(
            LatencySummary::of(&new_histogram()),
            LatencySummary::default()
        );
    }

    #[test]
    fn durations_read_in_their_unit() {
        assert_eq!(human_us(0.0), "0 us");
        assert_eq!(human_us(850.4), "850 us");
        assert_eq!(human_us(12_345.0), "12.35 ms");
        assert_eq!(human_us(21_175_481.2), "21.18 s");
        assert_eq!(human_us(210e6), "3.5 min");
        assert_eq!(human_us(7_560e6), "2.1 h");
    }

    #[test]
    fn failures_and_notes_follow_the_progress_line() {
        let m = ProducerMeters::default();
        let mut s = m.sample(1.0, 1.0);
        s.failures = vec![IntervalFailures {
            kind: "code 2 SYSTEM_BUSY".into(),
            count: 3,
            first: "busy".into(),
        }];
        s.notes = vec!["reconnected".into()];
        let lines: Vec<String> = s.line().lines().map(String::from).collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[1].trim(), "failed 3 x code 2 SYSTEM_BUSY: busy");
        assert_eq!(lines[2].trim(), "reconnected");
    }
}
