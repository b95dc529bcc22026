//! The broker-wide rates GET_BROKER_RUNTIME_INFO reports as "tps10 tps60 tps600" (RocketMQ's
//! StoreStatsService): the sampler records the running totals once a second, and a rate over a
//! window compares the newest reading with the one `window` seconds older (or the oldest kept,
//! while the broker is younger than the window: RocketMQ answers an empty string then, which the
//! tools cannot parse).

use std::collections::VecDeque;

/// Readings kept: 600 seconds back plus the newest.
const KEEP: usize = 601;

/// The totals the rates are computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Messages stored.
    pub put: u64,
    /// Pulls that found messages.
    pub get_found: u64,
    /// Pulls that found none.
    pub get_miss: u64,
    /// Messages handed to consumers.
    pub get_transferred: u64,
}

/// Which rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    Put,
    GetFound,
    GetMiss,
    GetTotal,
    GetTransferred,
}

impl Rate {
    fn of(self, t: &Totals) -> u64 {
        match self {
            Rate::Put => t.put,
            Rate::GetFound => t.get_found,
            Rate::GetMiss => t.get_miss,
            Rate::GetTotal => t.get_found + t.get_miss,
            Rate::GetTransferred => t.get_transferred,
        }
    }
}

#[derive(Debug, Default)]
pub struct TpsWindows {
    readings: VecDeque<(i64, Totals)>,
}

impl TpsWindows {
    pub fn sample(&mut self, now_ms: i64, totals: Totals) {
        self.readings.push_back((now_ms, totals));
        while self.readings.len() > KEEP {
            self.readings.pop_front();
        }
    }

    /// Per second over the last `secs` seconds (0 before two readings exist).
    pub fn tps(&self, rate: Rate, secs: usize) -> f64 {
        let n = self.readings.len();
        if n < 2 {
            return 0.0;
        }
        let (t1, last) = self.readings[n - 1];
        let (t0, first) = self.readings[n.saturating_sub(secs + 1)];
        let elapsed = (t1 - t0).max(1) as f64;
        rate.of(&last).saturating_sub(rate.of(&first)) as f64 * 1000.0 / elapsed
    }

    /// RocketMQ's text: the 10 s, 60 s and 600 s rates, space-separated.
    pub fn triple(&self, rate: Rate) -> String {
        format!(
            "{} {} {}",
            self.tps(rate, 10),
            self.tps(rate, 60),
            self.tps(rate, 600)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_over_each_window() {
        let mut w = TpsWindows::default();
        assert_eq!(w.triple(Rate::Put), "0 0 0");
        // 100 puts a second for 700 s; the last 10 s also 50 misses a second.
        for s in 0..=700u64 {
            let miss = s.saturating_sub(690) * 50;
            w.sample(
                s as i64 * 1000,
                Totals {
                    put: s * 100,
                    get_found: s,
                    get_miss: miss,
                    get_transferred: s * 32,
                },
            );
        }
        assert_eq!(w.tps(Rate::Put, 10), 100.0);
        assert_eq!(w.tps(Rate::Put, 600), 100.0);
        assert_eq!(w.tps(Rate::GetMiss, 10), 50.0);
        assert!((w.tps(Rate::GetMiss, 60) - 500.0 / 60.0).abs() < 1e-9);
        assert_eq!(w.tps(Rate::GetTotal, 10), 51.0);
        assert_eq!(w.tps(Rate::GetTransferred, 60), 32.0);
        assert_eq!(w.readings.len(), KEEP);
    }

    #[test]
    fn a_young_broker_rates_over_what_it_has() {
        let mut w = TpsWindows::default();
        w.sample(0, Totals::default());
        w.sample(
            2000,
            Totals {
                put: 10,
                ..Totals::default()
            },
        );
        assert_eq!(w.triple(Rate::Put), "5 5 5");
    }
}
