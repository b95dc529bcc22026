//! What a master knows of its slaves' progress, and the SYNC_MASTER sends waiting on it
//! (RocketMQ's `push2SlaveMaxOffset`, `isSlaveOK` and GroupTransferService; docs/protocol.md §8.4).
//!
//! A SYNC_MASTER send is answered only when some slave has reported an offset at or past the
//! message's end. The waits are grouped like the flush group commit: each send registers its end
//! once, and one report releases every send up to the reported offset, from the replication
//! task that read it (a channel send per waiter, no actor hop). A send whose slave is missing or
//! too far behind is not registered at all: it is answered SLAVE_NOT_AVAILABLE at once.
//!
//! Shared by the master's replication tasks (which report connects, disconnects and acks) and
//! the send handlers (which wait); everything here is a short lock or an atomic.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::Mutex;
use tokio::sync::oneshot;

/// How a send's replication wait begins.
#[derive(Debug)]
pub enum AckWait {
    /// Already acknowledged up to the message's end.
    Done,
    /// Wait on this; it completes when a report reaches the end (dropped never: the waiter
    /// stays until released or until the sender gives up on its timeout).
    Pending(oneshot::Receiver<()>),
    /// No slave connected, or the slaves are more than `haSlaveFallbehindMax` behind.
    SlaveNotAvailable,
}

/// Waiters kept before those whose send gave up are dropped.
const PRUNE_AT: usize = 4096;

#[derive(Default)]
pub struct ReplicaAcks {
    /// The highest offset any slave has reported (RocketMQ's push2SlaveMaxOffset).
    acked: AtomicU64,
    /// Connected slaves.
    slaves: AtomicUsize,
    /// Sends waiting, by the offset they need.
    waiting: Mutex<Vec<(u64, oneshot::Sender<()>)>>,
}

impl ReplicaAcks {
    pub fn slave_connected(&self) {
        self.slaves.fetch_add(1, Ordering::SeqCst);
    }

    pub fn slave_disconnected(&self) {
        self.slaves.fetch_sub(1, Ordering::SeqCst);
    }

    pub fn slaves(&self) -> usize {
        self.slaves.load(Ordering::SeqCst)
    }

    /// The highest offset any slave has reported.
    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::SeqCst)
    }

    /// A slave reported `offset`: release every send that needs no more. The offset only moves
    /// up (a slave that restarts behind another does not take acks back).
    pub fn on_ack(&self, offset: u64) {
        let released: Vec<_> = {
            let mut waiting = self.waiting.lock();
            let acked = self.acked.fetch_max(offset, Ordering::SeqCst).max(offset);
            let (done, still): (Vec<_>, Vec<_>) =
                waiting.drain(..).partition(|(end, _)| *end <= acked);
            *waiting = still;
            done
        };
        for (_, tx) in released {
            // A send that timed out dropped its receiver; nothing to tell it.
            let _ = tx.send(());
        }
    }

    /// Whether a slave can take a send ending at `end` (`isSlaveOK`): one is connected and the
    /// slaves are at most `fallbehind_max` bytes behind it.
    pub fn slave_ok(&self, end: u64, fallbehind_max: u64) -> bool {
        self.slaves() > 0 && end.saturating_sub(self.acked()) <= fallbehind_max
    }

    /// Begin the wait of a send whose message ends at `end`.
    pub fn wait_for(&self, end: u64, fallbehind_max: u64) -> AckWait {
        if !self.slave_ok(end, fallbehind_max) {
            return AckWait::SlaveNotAvailable;
        }
        let mut waiting = self.waiting.lock();
        // Checked under the lock `on_ack` takes, so an ack cannot slip between check and register.
        if self.acked() >= end {
            return AckWait::Done;
        }
        if waiting.len() >= PRUNE_AT {
            // Sends that timed out while a frozen slave acked nothing.
            waiting.retain(|(_, tx)| !tx.is_closed());
        }
        let (tx, rx) = oneshot::channel();
        waiting.push((end, tx));
        AckWait::Pending(rx)
    }

    /// Sends waiting now.
    pub fn waiting(&self) -> usize {
        self.waiting.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u64 = 1000;

    fn pending(w: AckWait) -> oneshot::Receiver<()> {
        match w {
            AckWait::Pending(rx) => rx,
            other => panic!("expected a wait, got {other:?}"),
        }
    }

    #[test]
    fn no_slave_or_a_slave_too_far_behind_is_not_available() {
        let a = ReplicaAcks::default();
        assert!(matches!(a.wait_for(10, MAX), AckWait::SlaveNotAvailable));
        a.slave_connected();
        assert!(matches!(
            a.wait_for(MAX + 1, MAX),
            AckWait::SlaveNotAvailable
        ));
        assert!(matches!(a.wait_for(MAX, MAX), AckWait::Pending(_)));
        a.on_ack(500);
        assert!(matches!(a.wait_for(1500, MAX), AckWait::Pending(_)));
        a.slave_disconnected();
        assert!(matches!(a.wait_for(501, MAX), AckWait::SlaveNotAvailable));
    }

    #[test]
    fn one_ack_releases_every_send_up_to_it_and_no_more() {
        let a = ReplicaAcks::default();
        a.slave_connected();
        let mut rxs: Vec<_> = [100, 200, 300].map(|e| pending(a.wait_for(e, MAX))).into();
        a.on_ack(250);
        assert_eq!(rxs[0].try_recv(), Ok(()));
        assert_eq!(rxs[1].try_recv(), Ok(()));
        assert!(rxs[2].try_recv().is_err(), "300 is past the ack");
        assert_eq!(a.waiting(), 1);
        a.on_ack(100); // an older report does not move the ack back
        assert_eq!(a.acked(), 250);
        assert!(matches!(a.wait_for(250, MAX), AckWait::Done));
        a.on_ack(300);
        assert_eq!(rxs[2].try_recv(), Ok(()));
        assert_eq!(a.waiting(), 0);
    }

    #[test]
    fn sends_that_gave_up_are_pruned() {
        let a = ReplicaAcks::default();
        a.slave_connected();
        for e in 1..=PRUNE_AT as u64 {
            drop(a.wait_for(e, u64::MAX));
        }
        let _keep = pending(a.wait_for(PRUNE_AT as u64 + 1, u64::MAX));
        assert_eq!(a.waiting(), 1);
    }
}
