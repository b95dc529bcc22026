//! How many ACL refusals get a log line: an unsigned client retrying in a loop (or a scan of the
//! port) can cause thousands of refusals a second, and a warn line for each would bury every
//! other log line and fill the disk. Each one-second window logs its first [`PER_SECOND`]
//! refusals; the first logged refusal of a later window also says how many went unlogged before.
//! Lock-free (two atomics), since every broker connection's thread may refuse at once.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Refusals logged in full per second.
pub const PER_SECOND: u64 = 10;

#[derive(Default)]
pub struct RefusalLogLimit {
    /// Start of the current window (ms since the epoch) and the refusals counted in it.
    window: AtomicI64,
    in_window: AtomicU64,
    /// Refusals not logged since the last logged one.
    unlogged: AtomicU64,
}

impl RefusalLogLimit {
    /// Count a refusal at `now_ms`: `Some(n)` to log it (with `n` refusals left unlogged
    /// before it), `None` to leave it out.
    pub fn admit(&self, now_ms: i64) -> Option<u64> {
        let start = self.window.load(Ordering::Relaxed);
        if now_ms - start >= 1000
            && self
                .window
                .compare_exchange(start, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.in_window.store(0, Ordering::Relaxed);
        }
        if self.in_window.fetch_add(1, Ordering::Relaxed) < PER_SECOND {
            Some(self.unlogged.swap(0, Ordering::Relaxed))
        } else {
            self.unlogged.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_the_first_ten_of_a_second_then_reports_the_rest_in_the_next() {
        let l = RefusalLogLimit::default();
        let t = 1_000_000;
        let logged: Vec<Option<u64>> = (0..25).map(|i| l.admit(t + i)).collect();
        assert_eq!(logged.iter().filter(|x| x.is_some()).count(), 10);
        assert!(logged[..10].iter().all(|x| *x == Some(0)));
        assert!(logged[10..].iter().all(Option::is_none));
        // The next second: logged again, with the 15 left out before.
        assert_eq!(l.admit(t + 1000), Some(15));
        assert_eq!(l.admit(t + 1001), Some(0));
    }
}
