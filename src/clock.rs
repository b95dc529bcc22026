//! The one wall clock: every timestamp the broker, store, client and tools write or compare
//! (store times, born times, expiry scans, deadlines on the wire) comes from here, so there is a
//! single place to change if the clock source ever must (e.g. a coarse cached clock).

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the system clock is before it).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Microseconds since the Unix epoch (0 if the system clock is before it).
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// A UTC calendar time (what the store's index file names, the admin bodies and `mqadmin` print).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    pub milli: i64,
}

impl Utc {
    /// The calendar time of unix milliseconds (days-from-civil inverted, Howard Hinnant's
    /// algorithm: exact for any i64 day count, no time-zone database).
    pub fn from_ms(ms: i64) -> Utc {
        let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        Utc {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day: doy - (153 * mp + 2) / 5 + 1,
            hour: rem / 3_600_000,
            minute: rem / 60_000 % 60,
            second: rem / 1000 % 60,
            milli: rem % 1000,
        }
    }

    /// Unix milliseconds of this calendar time (fields are not range-checked).
    pub fn to_ms(self) -> i64 {
        let y = if self.month <= 2 {
            self.year - 1
        } else {
            self.year
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (self.month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + self.day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        ((days * 24 + self.hour) * 60 + self.minute) * 60_000 + self.second * 1000 + self.milli
    }
}

#[cfg(test)]
mod tests {
    use super::Utc;

    #[test]
    fn calendar_round_trips_and_known_dates() {
        let t = Utc::from_ms(951_782_400_123);
        assert_eq!((t.year, t.month, t.day, t.milli), (2000, 2, 29, 123));
        assert_eq!(Utc::from_ms(0).year, 1970);
        assert_eq!(Utc::from_ms(-1).year, 1969);
        for ms in [0, -1, 951_782_400_123, 1_700_000_000_000, 4_102_444_800_000] {
            assert_eq!(Utc::from_ms(ms).to_ms(), ms);
        }
    }
}
