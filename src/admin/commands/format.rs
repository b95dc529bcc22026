//! Output helpers shared by the `mqadmin` commands: Java's fixed-width cells
//! (`UtilAll.frontStringAtLeast` truncation), RocketMQ's time formats (UTC here), the timestamp
//! arguments (`now`, millis, `yyyy-MM-dd#HH:mm:ss:SSS`) and the `--json` output.

use serde::Serialize;

use crate::admin::error::{AdminError, Result};
use crate::clock::Utc;

/// At most `n` characters of `s` (Java `UtilAll.frontStringAtLeast`).
pub fn trunc(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// `yyyy-MM-dd HH:mm:ss,SSS` (Java `UtilAll.timeMillisToHumanString2`), UTC.
pub fn human_ms(ms: i64) -> String {
    let t = Utc::from_ms(ms);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.milli
    )
}

/// `yyyy-MM-dd HH:mm:ss` (Java `UtilAll.YYYY_MM_DD_HH_MM_SS`), UTC.
pub fn human_s(ms: i64) -> String {
    human_ms(ms)[..19].to_string()
}

/// The store-time range of `printMsg` and `consumeMessage` (`-b/-s` and `-e`, both inclusive).
///
/// Why it is needed beside the offsets: a broker answers a time with the offset of the message
/// stored *nearest* it (RocketMQ's `getOffsetInQueueByTime`), which may lie on either side. So
/// the end offset is read through (Apache's tool reads it too), and messages outside the times
/// are left out (Apache's tool would print the one just past the end when it was nearer).
#[derive(Clone, Copy, Debug, Default)]
pub struct StoreTimes {
    pub begin: Option<i64>,
    pub end: Option<i64>,
}

impl StoreTimes {
    pub fn contains(&self, store_ms: i64) -> bool {
        self.begin.is_none_or(|b| store_ms >= b) && self.end.is_none_or(|e| store_ms <= e)
    }

    /// The offset to read up to (exclusive): past the message the broker found for the end
    /// time, or the queue's max offset when there is no end.
    pub fn read_until(&self, found_for_end: i64) -> i64 {
        match self.end {
            Some(_) => found_for_end.saturating_add(1),
            None => found_for_end,
        }
    }
}

/// A timestamp argument: unix millis, or `yyyy-MM-dd#HH:mm:ss:SSS` (UTC).
pub fn parse_time(s: &str) -> Result<i64> {
    let s = s.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    let bad = || {
        AdminError::Invalid(format!(
            "timestamp '{s}' is neither millis nor yyyy-MM-dd#HH:mm:ss:SSS"
        ))
    };
    let (date, time) = s.split_once('#').ok_or_else(bad)?;
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    let t: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    let ok = d.len() == 3
        && t.len() == 4
        && (1..=12).contains(&d[1])
        && (1..=31).contains(&d[2])
        && t[0] < 24
        && t[1] < 60
        && t[2] < 60
        && t[3] < 1000;
    if !ok {
        return Err(bad());
    }
    let (year, month, day) = (d[0], d[1], d[2]);
    let (hour, minute, second, milli) = (t[0], t[1], t[2], t[3]);
    Ok(Utc {
        year,
        month,
        day,
        hour,
        minute,
        second,
        milli,
    }
    .to_ms())
}

/// The `--json` form of a value: pretty JSON and a newline.
pub fn json<T: Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("serializable");
    s.push('\n');
    s
}

/// A true/false option value as Java's `Boolean.parseBoolean` reads it.
pub fn java_bool(s: &str) -> bool {
    s.trim().eq_ignore_ascii_case("true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_and_parse_in_utc() {
        assert_eq!(human_ms(0), "1970-01-01 00:00:00,000");
        assert_eq!(human_ms(1_700_000_000_123), "2023-11-14 22:13:20,123");
        assert_eq!(human_s(1_700_000_000_123), "2023-11-14 22:13:20");
        assert_eq!(
            parse_time("2023-11-14#22:13:20:123").unwrap(),
            1_700_000_000_123
        );
        assert_eq!(parse_time("42").unwrap(), 42);
        assert!(parse_time("2023-13-01#00:00:00:000").is_err());
        assert!(parse_time("yesterday").is_err());
        assert_eq!(trunc("abcdef", 3), "abc");
        assert!(java_bool("TRUE") && !java_bool("yes"));
    }
}
