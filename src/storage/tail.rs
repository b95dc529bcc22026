//! `TailSignal`: wakes async readers that follow the CommitLog's end (a master's replication
//! streams) when something is appended, so they need not poll.
//!
//! Appenders pay one atomic load while no reader sleeps (a busy stream never announces a sleep);
//! only after a reader announced one does an append swap the flag and wake every sleeper. A
//! reader must register (`Notified::enable`) before announcing and check the end after, so an
//! append either happened before that check or sees the announcement. Readers still bound their
//! sleep: the flag and the CommitLog's end are different atomics, and this is a hint, not a lock.
//!
//! Deferred wakes: a thread that appends many messages in one go (a broker I/O thread handling
//! every request one socket read brought) can register a [`Spawner`] with
//! [`defer_wakes_on_this_thread`]. Its appends then wake a sleeping reader once, from a task that
//! runs after the thread's current work, instead of at the first append. Why: waking the reader
//! at once made it stream a message or two, sleep, and be woken again for the rest: on a
//! 2-core machine under sync sends to a SYNC_MASTER that was ~10,000 reader wake-ups a second,
//! each a context switch on both cores, and as many small transfers and acks. Storage knows
//! nothing of the runtime: the spawner is the caller's.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

/// Runs a wake later on the calling thread (after the work it is doing now).
pub type Spawner = fn(Box<dyn FnOnce()>);

thread_local! {
    static DEFER: Cell<Option<Spawner>> = const { Cell::new(None) };
}

/// From now on, appends on this thread wake readers through `spawn` (see the module doc).
pub fn defer_wakes_on_this_thread(spawn: Spawner) {
    DEFER.with(|d| d.set(Some(spawn)));
}

#[derive(Default)]
pub struct TailSignal {
    sleeping: AtomicBool,
    /// A deferred wake is scheduled and has not run yet.
    pending: AtomicBool,
    notify: Notify,
}

impl TailSignal {
    /// Called after every append is published: wakes a sleeping reader now, or, on a thread
    /// that defers wakes, once after the thread's current work.
    pub fn wake(self: &Arc<Self>) {
        if !self.sleeping.load(Ordering::SeqCst) {
            return;
        }
        let Some(spawn) = DEFER.with(Cell::get) else {
            return self.wake_now();
        };
        // One scheduled wake serves every append before it runs: the reader looks at the
        // CommitLog's end after it wakes, and these appends were published before.
        if self.pending.swap(true, Ordering::SeqCst) {
            return;
        }
        let me = self.clone();
        spawn(Box::new(move || {
            me.pending.store(false, Ordering::SeqCst);
            me.wake_now();
        }));
    }

    fn wake_now(&self) {
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
        let t = Arc::new(TailSignal::default());
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

#[cfg(test)]
mod deferred_tests {
    use super::*;
    use std::cell::RefCell;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll};

    thread_local! {
        static QUEUED: RefCell<Vec<Box<dyn FnOnce()>>> = const { RefCell::new(Vec::new()) };
    }

    fn queue(f: Box<dyn FnOnce()>) {
        QUEUED.with(|q| q.borrow_mut().push(f));
    }

    fn run_queued() -> usize {
        let fs: Vec<_> = QUEUED.with(|q| q.borrow_mut().drain(..).collect());
        let n = fs.len();
        fs.into_iter().for_each(|f| f());
        n
    }

    #[test]
    fn a_deferring_thread_wakes_a_sleeper_once_after_its_appends() {
        // Runs on its own thread: the deferral is per thread.
        std::thread::spawn(|| {
            defer_wakes_on_this_thread(queue);
            let t = Arc::new(TailSignal::default());
            let mut f = pin!(t.notified());
            f.as_mut().enable();
            t.announce_sleep();
            for _ in 0..5 {
                t.wake();
            }
            let waker = std::task::Waker::noop();
            let mut cx = Context::from_waker(waker);
            assert!(
                f.as_mut().poll(&mut cx).is_pending(),
                "not woken before the work ends"
            );
            assert_eq!(run_queued(), 1, "five appends schedule one wake");
            assert_eq!(f.as_mut().poll(&mut cx), Poll::Ready(()));
            // The next sleep is woken the same way again.
            let mut g = pin!(t.notified());
            g.as_mut().enable();
            t.announce_sleep();
            t.wake();
            assert_eq!(run_queued(), 1);
            assert_eq!(g.as_mut().poll(&mut cx), Poll::Ready(()));
        })
        .join()
        .unwrap();
    }
}
