//! What a master knows of its slaves' progress, and the SYNC_MASTER sends waiting on it
//! (RocketMQ's `push2SlaveMaxOffset`, `isSlaveOK` and GroupTransferService; docs/protocol.md §8.4).
//!
//! A SYNC_MASTER send is answered only when some slave has reported an offset at or past the
//! message's end. The waits are grouped like the flush group commit: each send registers its end
//! once, and one report releases every send up to the reported offset, from the replication
//! task that read it (a channel send per waiter, no actor hop). A send whose slave is missing or
//! too far behind is not registered at all: it is answered SLAVE_NOT_AVAILABLE at once.
//!
//! With `allAckInSyncStateSet` (controller mode) a send waits instead for every other member
//! of the SyncStateSet (`set_required`): the slaves name their broker ids in the HA handshake,
//! and the release offset is the least one the required members acknowledged. No connected
//! member: SLAVE_NOT_AVAILABLE at once; a set of the master alone: acknowledged at once.
//!
//! Shared by the master's replication tasks (which report connects, disconnects and acks) and
//! the send handlers (which wait); everything here is a short lock or an atomic.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

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

/// One identified slave (controller mode: the HA handshake names its broker id).
#[derive(Clone, Copy, Debug, Default)]
struct Progress {
    ack: u64,
    caught_up_ms: i64,
    connections: usize,
}

#[derive(Default)]
struct Inner {
    /// Sends waiting, by the offset they need.
    waiting: Vec<(u64, oneshot::Sender<()>)>,
    /// Identified slaves by broker id.
    slaves: BTreeMap<i64, Progress>,
    /// `allAckInSyncStateSet`: the broker ids every send waits for (the SyncStateSet without
    /// this broker); `None` = any one slave's ack is enough (SYNC_MASTER of RocketMQ 4.x).
    required: Option<BTreeSet<i64>>,
}

impl Inner {
    /// The offset up to which sends are acknowledged.
    fn release(&self, max_ack: u64) -> u64 {
        match &self.required {
            None => max_ack,
            Some(req) => req
                .iter()
                .map(|id| self.slaves.get(id).map_or(0, |p| p.ack))
                .min()
                .unwrap_or(u64::MAX),
        }
    }

    /// All-ack mode: whether a member of the set is connected (or the set is this broker
    /// alone).
    fn members_ok(&self, req: &BTreeSet<i64>) -> bool {
        req.is_empty()
            || req
                .iter()
                .any(|id| self.slaves.get(id).is_some_and(|p| p.connections > 0))
    }
}

#[derive(Default)]
pub struct ReplicaAcks {
    /// The highest offset any slave has reported (RocketMQ's push2SlaveMaxOffset).
    acked: AtomicU64,
    /// Connected slaves.
    slaves: AtomicUsize,
    /// Whether `Inner::required` is set (read without the lock by sends).
    all_ack: AtomicBool,
    inner: Mutex<Inner>,
}

impl ReplicaAcks {
    pub fn slave_connected(&self) {
        self.slaves.fetch_add(1, Ordering::SeqCst);
    }

    pub fn slave_disconnected(&self) {
        self.slaves.fetch_sub(1, Ordering::SeqCst);
    }

    /// A slave that named its broker id connected (controller mode).
    pub fn identified_connected(&self, id: i64) {
        self.slave_connected();
        self.inner.lock().slaves.entry(id).or_default().connections += 1;
    }

    pub fn identified_disconnected(&self, id: i64) {
        self.slave_disconnected();
        if let Some(p) = self.inner.lock().slaves.get_mut(&id) {
            p.connections = p.connections.saturating_sub(1);
        }
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
        self.on_ack_from(None, offset, 0, false);
    }

    /// A report of `offset` from slave `id` (when identified); `caught_up`: it had everything
    /// the master had when it reported (its caught-up time becomes `now_ms`).
    pub fn on_ack_from(&self, id: Option<i64>, offset: u64, now_ms: i64, caught_up: bool) {
        let released: Vec<_> = {
            let mut inner = self.inner.lock();
            let max = self.acked.fetch_max(offset, Ordering::SeqCst).max(offset);
            if let Some(id) = id {
                let p = inner.slaves.entry(id).or_default();
                p.ack = p.ack.max(offset);
                if caught_up {
                    p.caught_up_ms = now_ms;
                }
            }
            Self::take_released(&mut inner, max)
        };
        for tx in released {
            // A send that timed out dropped its receiver; nothing to tell it.
            let _ = tx.send(());
        }
    }

    fn take_released(inner: &mut Inner, max_ack: u64) -> Vec<oneshot::Sender<()>> {
        let release = inner.release(max_ack);
        let (done, still): (Vec<_>, Vec<_>) = inner
            .waiting
            .drain(..)
            .partition(|(end, _)| *end <= release);
        inner.waiting = still;
        done.into_iter().map(|(_, tx)| tx).collect()
    }

    /// `allAckInSyncStateSet`: sends wait for every broker in `required` (`None`: for any one
    /// slave). Sends already waiting are judged again.
    pub fn set_required(&self, required: Option<BTreeSet<i64>>) {
        let released = {
            let mut inner = self.inner.lock();
            self.all_ack.store(required.is_some(), Ordering::SeqCst);
            inner.required = required;
            Self::take_released(&mut inner, self.acked())
        };
        for tx in released {
            let _ = tx.send(());
        }
    }

    /// The identified slaves' progress: (broker id, ack, caught-up ms, connected).
    pub fn progress(&self) -> Vec<(i64, u64, i64, bool)> {
        self.inner
            .lock()
            .slaves
            .iter()
            .map(|(id, p)| (*id, p.ack, p.caught_up_ms, p.connections > 0))
            .collect()
    }

    /// This broker stopped being master: forget the slaves' progress (a later term starts
    /// afresh) and drop the waiting sends (they time out).
    pub fn reset(&self) {
        let mut inner = self.inner.lock();
        inner.waiting.clear();
        inner.slaves.clear();
        self.acked.store(0, Ordering::SeqCst);
    }

    /// Whether a slave can take a send ending at `end` (`isSlaveOK`): one is connected and the
    /// slaves are at most `fallbehind_max` bytes behind it.
    pub fn slave_ok(&self, end: u64, fallbehind_max: u64) -> bool {
        self.slaves() > 0 && end.saturating_sub(self.acked()) <= fallbehind_max
    }

    /// Begin the wait of a send whose message ends at `end`.
    pub fn wait_for(&self, end: u64, fallbehind_max: u64) -> AckWait {
        let all_ack = self.all_ack.load(Ordering::SeqCst);
        if !all_ack && !self.slave_ok(end, fallbehind_max) {
            return AckWait::SlaveNotAvailable;
        }
        let mut inner = self.inner.lock();
        if let Some(req) = &inner.required {
            if !inner.members_ok(req) {
                return AckWait::SlaveNotAvailable;
            }
        }
        // Checked under the lock `on_ack` takes, so an ack cannot slip between check and register.
        if inner.release(self.acked()) >= end {
            return AckWait::Done;
        }
        if inner.waiting.len() >= PRUNE_AT {
            // Sends that timed out while a frozen slave acked nothing.
            inner.waiting.retain(|(_, tx)| !tx.is_closed());
        }
        let (tx, rx) = oneshot::channel();
        inner.waiting.push((end, tx));
        AckWait::Pending(rx)
    }

    /// Sends waiting now.
    pub fn waiting(&self) -> usize {
        self.inner.lock().waiting.len()
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
    fn all_ack_waits_for_every_member_of_the_set() {
        let a = ReplicaAcks::default();
        a.set_required(Some(BTreeSet::from([2, 3])));
        assert!(
            matches!(a.wait_for(10, MAX), AckWait::SlaveNotAvailable),
            "no member connected"
        );
        a.identified_connected(2);
        let mut rx = pending(a.wait_for(100, MAX));
        a.on_ack_from(Some(2), 150, 1, true);
        assert!(rx.try_recv().is_err(), "3 has not acknowledged");
        a.identified_connected(3);
        a.on_ack_from(Some(3), 120, 1, false);
        assert_eq!(rx.try_recv(), Ok(()));
        assert!(matches!(a.wait_for(120, MAX), AckWait::Done));
        assert!(matches!(a.wait_for(130, MAX), AckWait::Pending(_)));
        // The set shrinks to 2: what 2 acknowledged is enough, waiting sends included.
        let mut rx = pending(a.wait_for(140, MAX));
        a.set_required(Some(BTreeSet::from([2])));
        assert_eq!(rx.try_recv(), Ok(()));
        // The master alone: every send is acknowledged at once, connected slaves or not.
        a.set_required(Some(BTreeSet::new()));
        assert!(matches!(a.wait_for(10_000, MAX), AckWait::Done));
        assert_eq!(a.progress(), vec![(2, 150, 1, true), (3, 120, 0, true)]);
        a.identified_disconnected(3);
        assert_eq!(a.slaves(), 1);
        a.reset();
        assert!(a.progress().is_empty());
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
