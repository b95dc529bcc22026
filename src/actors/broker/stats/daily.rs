//! Today's and yesterday's message totals (GET_BROKER_RUNTIME_INFO msgPutTotalTodayMorning,
//! msgPutTotalYesterdayMorning, ... and `mqadmin clusterList -m`): the running totals as they were
//! at the last two local midnights, rolled by the sampler when the day changes.

/// The put and get totals at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PutGet {
    pub put: u64,
    pub get: u64,
}

#[derive(Debug, Default)]
pub struct DailyTotals {
    /// The local day (days since the epoch, in local time) the "today" figures belong to.
    day: Option<i64>,
    pub today_morning: PutGet,
    pub yesterday_morning: PutGet,
}

impl DailyTotals {
    /// Called by the sampler with the local day number and the running totals: on a new day the
    /// totals now become this morning's and this morning's become yesterday's.
    pub fn roll(&mut self, local_day: i64, now: PutGet) {
        match self.day {
            None => self.day = Some(local_day),
            Some(d) if d != local_day => {
                self.yesterday_morning = if local_day == d + 1 {
                    self.today_morning
                } else {
                    // More than a day without a sample (a suspended process): yesterday's
                    // morning figure is unknown, and nothing was counted since.
                    now
                };
                self.today_morning = now;
                self.day = Some(local_day);
            }
            Some(_) => {}
        }
    }
}

/// The local day number of a time (days since the epoch in the machine's time zone, as
/// RocketMQ's "morning" uses the JVM's zone).
pub fn local_day(now_ms: i64) -> i64 {
    (now_ms / 1000 + utc_offset_secs(now_ms / 1000)).div_euclid(86_400)
}

fn utc_offset_secs(epoch_secs: i64) -> i64 {
    let t = epoch_secs as libc::time_t;
    // SAFETY: localtime_r only writes the zeroed struct we pass and reads `t`.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return 0;
        }
        tm.tm_gmtoff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mornings_roll_with_the_day() {
        let mut d = DailyTotals::default();
        d.roll(10, PutGet { put: 5, get: 1 });
        assert_eq!(d.today_morning, PutGet::default());
        d.roll(10, PutGet { put: 9, get: 2 });
        d.roll(11, PutGet { put: 20, get: 7 });
        assert_eq!(d.today_morning, PutGet { put: 20, get: 7 });
        assert_eq!(d.yesterday_morning, PutGet::default());
        d.roll(12, PutGet { put: 50, get: 9 });
        assert_eq!(d.yesterday_morning, PutGet { put: 20, get: 7 });
        assert_eq!(d.today_morning, PutGet { put: 50, get: 9 });
        d.roll(15, PutGet { put: 60, get: 9 });
        assert_eq!(d.yesterday_morning, PutGet { put: 60, get: 9 });
    }

    #[test]
    fn local_days_advance_once_a_day() {
        let a = local_day(1_700_000_000_000);
        assert_eq!(local_day(1_700_000_000_000 + 86_400_000), a + 1);
    }
}
