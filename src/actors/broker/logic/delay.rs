//! Delay levels (`messageDelayLevel`, docs/protocol.md §7.2).
//!
//! A delayed message is parked in `SCHEDULE_TOPIC_XXXX` queue `level - 1` and delivered at
//! `store time + delay(level)`. The table is parsed once from the broker config string; levels are
//! 1-based and a level above the last is clamped to the last, as the Java commit log does before
//! storing.

use std::fmt;

/// RocketMQ's default `messageDelayLevel`.
pub const DEFAULT_DELAY_LEVELS: &str = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

/// Why a `messageDelayLevel` string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayLevelError(pub String);

impl fmt::Display for DelayLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid messageDelayLevel: {}", self.0)
    }
}

impl std::error::Error for DelayLevelError {}

/// The parsed table: `ms[level - 1]` is the delay of `level`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayLevels {
    ms: Vec<i64>,
}

impl Default for DelayLevels {
    fn default() -> Self {
        DelayLevels::parse(DEFAULT_DELAY_LEVELS).expect("default levels parse")
    }
}

impl DelayLevels {
    /// Parse whitespace-separated `<number><unit>` items, unit one of `s`, `m`, `h`, `d`.
    pub fn parse(spec: &str) -> Result<Self, DelayLevelError> {
        let mut ms = Vec::new();
        for item in spec.split_whitespace() {
            let (num, unit) =
                item.split_at(item.len() - item.chars().last().map_or(0, char::len_utf8));
            let factor = match unit {
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return Err(DelayLevelError(format!("'{item}' has no unit s/m/h/d"))),
            };
            let n: i64 =
                num.parse().ok().filter(|n| *n >= 0).ok_or_else(|| {
                    DelayLevelError(format!("'{item}' is not a non-negative count"))
                })?;
            ms.push(
                n.checked_mul(factor)
                    .ok_or_else(|| DelayLevelError(format!("'{item}' is too large")))?,
            );
        }
        if ms.is_empty() {
            return Err(DelayLevelError("no levels".into()));
        }
        Ok(DelayLevels { ms })
    }

    /// The highest level (18 by default).
    pub fn max_level(&self) -> i32 {
        self.ms.len() as i32
    }

    /// A requested level as stored: above the maximum becomes the maximum; ≤ 0 means "no delay".
    pub fn clamp(&self, level: i32) -> i32 {
        level.min(self.max_level())
    }

    /// Delay in ms of a (clamped) level; `None` for level ≤ 0.
    pub fn delay_ms(&self, level: i32) -> Option<i64> {
        if level <= 0 {
            return None;
        }
        Some(self.ms[(self.clamp(level) - 1) as usize])
    }

    /// When a message stored at `store_ts` with `level` is due; `store_ts` itself for level ≤ 0.
    pub fn deliver_at(&self, store_ts: i64, level: i32) -> i64 {
        store_ts.saturating_add(self.delay_ms(level).unwrap_or(0))
    }

    /// The `SCHEDULE_TOPIC_XXXX` queue of a (clamped) level.
    pub fn queue_id(&self, level: i32) -> i32 {
        self.clamp(level) - 1
    }

    /// The level a schedule queue holds.
    pub fn level_of_queue(queue_id: i32) -> i32 {
        queue_id + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_table() {
        let d = DelayLevels::default();
        assert_eq!(d.max_level(), 18);
        assert_eq!(d.delay_ms(1), Some(1_000));
        assert_eq!(d.delay_ms(3), Some(10_000));
        assert_eq!(d.delay_ms(5), Some(60_000));
        assert_eq!(d.delay_ms(17), Some(3_600_000));
        assert_eq!(d.delay_ms(18), Some(7_200_000));
        assert_eq!(d.delay_ms(0), None);
        assert_eq!(d.delay_ms(-3), None);
    }

    #[test]
    fn clamp_and_deliver_at() {
        let d = DelayLevels::default();
        assert_eq!(d.clamp(19), 18);
        assert_eq!(d.clamp(1000), 18);
        assert_eq!(d.clamp(18), 18);
        assert_eq!(d.delay_ms(99), Some(7_200_000));
        assert_eq!(d.deliver_at(1_000, 2), 6_000);
        assert_eq!(d.deliver_at(1_000, 99), 7_201_000);
        assert_eq!(d.deliver_at(1_000, 0), 1_000);
        assert_eq!(d.queue_id(1), 0);
        assert_eq!(d.queue_id(40), 17);
        assert_eq!(DelayLevels::level_of_queue(17), 18);
    }

    #[test]
    fn custom_and_bad_specs() {
        let d = DelayLevels::parse("  2s\t1d  3h ").unwrap();
        assert_eq!(d.max_level(), 3);
        assert_eq!(d.delay_ms(2), Some(86_400_000));
        assert_eq!(d.delay_ms(3), Some(3 * 3_600_000));
        for bad in [
            "",
            "   ",
            "5",
            "5x",
            "s",
            "-1s",
            "1.5m",
            "99999999999999999d",
            "5é",
        ] {
            assert!(DelayLevels::parse(bad).is_err(), "{bad}");
        }
    }
}
