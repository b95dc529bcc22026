//! One RocketMQ `StatsItem`: a running total (`value`) and the number of additions (`times`),
//! plus the snapshots a timer takes of them, so the last minute, hour and day can be answered
//! (VIEW_BROKER_STATS_DATA). Adding is two relaxed atomic adds; only the sampler and the readers
//! take the snapshot lock.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use parking_lot::Mutex;

/// Snapshots kept per window, as RocketMQ: 7 ten-second samples span the minute, 7 ten-minute
/// samples the hour, 25 hourly samples the day.
const MINUTE_SAMPLES: usize = 7;
const HOUR_SAMPLES: usize = 7;
const DAY_SAMPLES: usize = 25;

/// A counter reading at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallSnapshot {
    pub timestamp_ms: i64,
    pub value: u64,
    pub times: u64,
}

/// What one window says (BrokerStatsItem): the sum added in it, per second, and per addition.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WindowStats {
    pub sum: u64,
    pub tps: f64,
    pub avgpt: f64,
}

impl WindowStats {
    /// The change from `first` to `last`.
    pub fn between(first: CallSnapshot, last: CallSnapshot) -> WindowStats {
        let sum = last.value.saturating_sub(first.value);
        let times = last.times.saturating_sub(first.times);
        let elapsed = (last.timestamp_ms - first.timestamp_ms).max(1) as f64;
        WindowStats {
            sum,
            tps: sum as f64 * 1000.0 / elapsed,
            avgpt: if times > 0 {
                sum as f64 / times as f64
            } else {
                0.0
            },
        }
    }
}

#[derive(Debug, Default)]
struct Samples {
    minute: VecDeque<CallSnapshot>,
    hour: VecDeque<CallSnapshot>,
    day: VecDeque<CallSnapshot>,
}

fn push(list: &mut VecDeque<CallSnapshot>, s: CallSnapshot, keep: usize) {
    list.push_back(s);
    while list.len() > keep {
        list.pop_front();
    }
}

/// Which window to read or sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Minute,
    Hour,
    Day,
}

#[derive(Debug)]
pub struct StatsItem {
    value: AtomicU64,
    times: AtomicU64,
    samples: Mutex<Samples>,
}

impl StatsItem {
    /// A new item; every window starts with a zero reading taken now, so the first additions
    /// count (RocketMQ samples a moment after creation and misses them).
    pub fn new(now_ms: i64) -> StatsItem {
        let zero = CallSnapshot {
            timestamp_ms: now_ms,
            value: 0,
            times: 0,
        };
        let mut s = Samples::default();
        s.minute.push_back(zero);
        s.hour.push_back(zero);
        s.day.push_back(zero);
        StatsItem {
            value: AtomicU64::new(0),
            times: AtomicU64::new(0),
            samples: Mutex::new(s),
        }
    }

    pub fn add(&self, value: u64, times: u64) {
        self.value.fetch_add(value, Relaxed);
        self.times.fetch_add(times, Relaxed);
    }

    pub fn value(&self) -> u64 {
        self.value.load(Relaxed)
    }

    pub fn times(&self) -> u64 {
        self.times.load(Relaxed)
    }

    /// Whether anything was ever added (RocketMQ creates an item on its first addition, so an
    /// untouched one "does not exist").
    pub fn touched(&self) -> bool {
        self.times() > 0
    }

    pub fn reading(&self, now_ms: i64) -> CallSnapshot {
        CallSnapshot {
            timestamp_ms: now_ms,
            value: self.value(),
            times: self.times(),
        }
    }

    /// Record a snapshot for one window (called by the sampler: every 10 s for the minute, every
    /// 10 min for the hour, every hour for the day).
    pub fn sample(&self, window: Window, now_ms: i64) {
        let r = self.reading(now_ms);
        let mut s = self.samples.lock();
        match window {
            Window::Minute => push(&mut s.minute, r, MINUTE_SAMPLES),
            Window::Hour => push(&mut s.hour, r, HOUR_SAMPLES),
            Window::Day => push(&mut s.day, r, DAY_SAMPLES),
        }
    }

    /// The window from its oldest kept snapshot to the live reading now.
    pub fn window(&self, window: Window, now_ms: i64) -> WindowStats {
        let first = {
            let s = self.samples.lock();
            let list = match window {
                Window::Minute => &s.minute,
                Window::Hour => &s.hour,
                Window::Day => &s.day,
            };
            list.front().copied()
        };
        let last = self.reading(now_ms);
        WindowStats::between(first.unwrap_or(last), last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_from_creation_and_forget_old_samples() {
        let item = StatsItem::new(0);
        assert!(!item.touched());
        item.add(10, 2);
        let w = item.window(Window::Minute, 10_000);
        assert_eq!(w.sum, 10);
        assert!((w.tps - 1.0).abs() < 1e-9);
        assert!((w.avgpt - 5.0).abs() < 1e-9);
        // Seven ten-second samples later the first additions have left the minute window but
        // not the hour or the day.
        for i in 1..=7 {
            item.sample(Window::Minute, i * 10_000);
        }
        item.add(6, 3);
        let m = item.window(Window::Minute, 80_000);
        assert_eq!(m.sum, 6);
        assert!((m.avgpt - 2.0).abs() < 1e-9);
        assert_eq!(item.window(Window::Hour, 80_000).sum, 16);
        assert_eq!(item.window(Window::Day, 80_000).sum, 16);
        assert!(item.touched());
    }

    #[test]
    fn an_empty_window_is_all_zero() {
        let item = StatsItem::new(5);
        assert_eq!(item.window(Window::Day, 5), WindowStats::default());
    }
}
