//! Output helpers shared by the `mqadmin` commands: Java's fixed-width cells
//! (`UtilAll.frontStringAtLeast` truncation), RocketMQ's time formats (UTC here), the timestamp
//! arguments (`now`, millis, `yyyy-MM-dd#HH:mm:ss:SSS`) and the `--json` output.

use serde::Serialize;

use crate::admin::error::{AdminError, Result};
use crate::storage::index_file::time_file_name;

/// At most `n` characters of `s` (Java `UtilAll.frontStringAtLeast`).
pub fn trunc(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// `yyyy-MM-dd HH:mm:ss,SSS` (Java `UtilAll.timeMillisToHumanString2`), UTC.
pub fn human_ms(ms: i64) -> String {
    let t = time_file_name(ms);
    format!(
        "{}-{}-{} {}:{}:{},{}",
        &t[0..4],
        &t[4..6],
        &t[6..8],
        &t[8..10],
        &t[10..12],
        &t[12..14],
        &t[14..17]
    )
}

/// `yyyy-MM-dd HH:mm:ss` (Java `UtilAll.YYYY_MM_DD_HH_MM_SS`), UTC.
pub fn human_s(ms: i64) -> String {
    human_ms(ms)[..19].to_string()
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's days-from-civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    let days = days_from_civil(d[0], d[1], d[2]);
    Ok(((days * 24 + t[0]) * 60 + t[1]) * 60_000 + t[2] * 1000 + t[3])
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
