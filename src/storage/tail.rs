//! `TailSignal`: wakes async readers that follow the CommitLog's end (a master's replication
//! streams) when something is appended, so they need not poll.
//!
//! Appenders pay one atomic load while no reader sleeps (a busy stream never announces a sleep);
//! only after a reader announced one does an append swap the flag and wake every sleeper. A
//! reader must register (`Notified::enable`) before announcing and check the end after, so an
//! append either happened before that check or sees the announcement. Readers still bound their
//! sleep: the flag and the CommitLog's end are different atomics, and this is a hint, not a lock.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

#[derive(Default)]
pub struct TailSignal {
    sleeping: AtomicBool,
    notify: Notify,
}

impl TailSignal {
    /// Called after every append is published.
    pub fn wake(&self) {
        if self.sleeping.load(Ordering::SeqCst) && self.sleeping.swap(false, Ordering::SeqCst) {
            self.notify.notify_waiters();
        }
    }

    /// A reader's wait: `enable()` the returned future, call [`TailSignal::announce_sleep`],
    /// check for data, then await it (with a timeout).
    pub fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }

    pub fn announce_sleep(&self) {
        self.sleeping.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::task::{Context, Poll};

    fn ready(f: std::pin::Pin<&mut Notified<'_>>) -> bool {
        let waker = std::task::Waker::noop();
        matches!(f.poll(&mut Context::from_waker(waker)), Poll::Ready(()))
    }

    use std::future::Future;

    #[test]
    fn an_append_wakes_a_sleeper_only_after_it_announced() {
        let t = TailSignal::default();
        let mut f = pin!(t.notified());
        f.as_mut().enable();
        t.wake();
        assert!(
            !ready(f.as_mut()),
            "no sleep announced: appends pay no wake"
        );
        t.announce_sleep();
        t.wake();
        assert!(ready(f.as_mut()));
        let mut g = pin!(t.notified());
        g.as_mut().enable();
        t.wake();
        assert!(
            !ready(g.as_mut()),
            "the flag was consumed by the first wake"
        );
    }
}
