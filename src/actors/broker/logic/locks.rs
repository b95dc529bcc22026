//! Orderly-consumption queue locks (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ, docs/protocol.md §7.7), Java's
//! `RebalanceLockManager` as a plain table.
//!
//! A lock is (client id, last update); it is live while `now - last_update <= max_live` (60 s by
//! default). Locking grants every requested queue that is free, expired, or already the caller's
//! (refreshing it) and returns exactly the granted set; unlocking releases only the caller's own.
//! Nothing is released when a connection closes — the client's locks simply expire — as in Java.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::protocol::body::MessageQueue;

/// `rocketmq.broker.rebalance.lockMaxLiveTime` default.
pub const DEFAULT_LOCK_MAX_LIVE_MS: i64 = 60_000;

#[derive(Debug, Clone, PartialEq, Eq)]
struct LockEntry {
    client_id: String,
    last_update_ms: i64,
}

/// group → queue → lock.
#[derive(Debug, Clone)]
pub struct LockTable {
    max_live_ms: i64,
    groups: HashMap<String, BTreeMap<MessageQueue, LockEntry>>,
}

impl Default for LockTable {
    fn default() -> Self {
        LockTable::new(DEFAULT_LOCK_MAX_LIVE_MS)
    }
}

impl LockTable {
    pub fn new(max_live_ms: i64) -> Self {
        LockTable {
            max_live_ms,
            groups: HashMap::new(),
        }
    }

    fn live(&self, e: &LockEntry, now_ms: i64) -> bool {
        now_ms - e.last_update_ms <= self.max_live_ms
    }

    /// The live holder of a queue's lock.
    pub fn holder(&self, group: &str, mq: &MessageQueue, now_ms: i64) -> Option<&str> {
        let e = self.groups.get(group)?.get(mq)?;
        self.live(e, now_ms).then_some(e.client_id.as_str())
    }

    /// Whether `client_id` holds a live lock on the queue.
    pub fn is_locked_by(
        &self,
        group: &str,
        mq: &MessageQueue,
        client_id: &str,
        now_ms: i64,
    ) -> bool {
        self.holder(group, mq, now_ms) == Some(client_id)
    }

    /// LOCK_BATCH_MQ: grant each queue that is free, expired or already the caller's; return the
    /// granted set.
    pub fn try_lock_batch(
        &mut self,
        group: &str,
        mqs: &[MessageQueue],
        client_id: &str,
        now_ms: i64,
    ) -> BTreeSet<MessageQueue> {
        let max_live = self.max_live_ms;
        let table = self.groups.entry(group.to_string()).or_default();
        let mut granted = BTreeSet::new();
        for mq in mqs {
            let grant = match table.get(mq) {
                None => true,
                Some(e) => e.client_id == client_id || now_ms - e.last_update_ms > max_live,
            };
            if grant {
                table.insert(
                    mq.clone(),
                    LockEntry {
                        client_id: client_id.to_string(),
                        last_update_ms: now_ms,
                    },
                );
                granted.insert(mq.clone());
            }
        }
        if table.is_empty() {
            self.groups.remove(group);
        }
        granted
    }

    /// UNLOCK_BATCH_MQ: release the queues the caller holds (expired or not). Returns how many.
    pub fn unlock_batch(&mut self, group: &str, mqs: &[MessageQueue], client_id: &str) -> usize {
        let Some(table) = self.groups.get_mut(group) else {
            return 0;
        };
        let mut released = 0;
        for mq in mqs {
            if table.get(mq).is_some_and(|e| e.client_id == client_id) {
                table.remove(mq);
                released += 1;
            }
        }
        if table.is_empty() {
            self.groups.remove(group);
        }
        released
    }

    /// Drop expired locks (housekeeping; expired locks are already treated as free).
    pub fn purge_expired(&mut self, now_ms: i64) -> usize {
        let max_live = self.max_live_ms;
        let mut purged = 0;
        self.groups.retain(|_, table| {
            let before = table.len();
            table.retain(|_, e| now_ms - e.last_update_ms <= max_live);
            purged += before - table.len();
            !table.is_empty()
        });
        purged
    }

    /// Number of lock entries (live or not).
    pub fn len(&self) -> usize {
        self.groups.values().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mq(q: i32) -> MessageQueue {
        MessageQueue::new("T", "b", q)
    }

    #[test]
    fn grants_free_queues_and_refuses_held_ones() {
        let mut t = LockTable::default();
        let got = t.try_lock_batch("g", &[mq(0), mq(1)], "c1", 0);
        assert_eq!(got, BTreeSet::from([mq(0), mq(1)]));
        let got = t.try_lock_batch("g", &[mq(1), mq(2)], "c2", 1000);
        assert_eq!(got, BTreeSet::from([mq(2)]));
        assert_eq!(t.holder("g", &mq(1), 1000), Some("c1"));
        // Another group is independent.
        assert_eq!(t.try_lock_batch("h", &[mq(1)], "c2", 1000).len(), 1);
    }

    #[test]
    fn expiry_boundary_and_refresh() {
        let mut t = LockTable::new(60_000);
        t.try_lock_batch("g", &[mq(0)], "c1", 0);
        // Exactly 60 s later the lock still holds.
        assert!(t.try_lock_batch("g", &[mq(0)], "c2", 60_000).is_empty());
        assert!(t.is_locked_by("g", &mq(0), "c1", 60_000));
        // The holder refreshes it at 50 s...
        assert_eq!(t.try_lock_batch("g", &[mq(0)], "c1", 50_000).len(), 1);
        // ...so at 110 s it is still live, at 110.001 s it is free.
        assert!(t.try_lock_batch("g", &[mq(0)], "c2", 110_000).is_empty());
        assert_eq!(t.holder("g", &mq(0), 110_001), None);
        assert_eq!(t.try_lock_batch("g", &[mq(0)], "c2", 110_001).len(), 1);
        assert!(t.is_locked_by("g", &mq(0), "c2", 110_001));
        assert!(!t.is_locked_by("g", &mq(0), "c1", 110_001));
    }

    #[test]
    fn unlock_only_releases_own_locks() {
        let mut t = LockTable::default();
        t.try_lock_batch("g", &[mq(0), mq(1)], "c1", 0);
        t.try_lock_batch("g", &[mq(2)], "c2", 0);
        assert_eq!(t.unlock_batch("g", &[mq(0), mq(2), mq(9)], "c1"), 1);
        assert_eq!(t.holder("g", &mq(2), 0), Some("c2"));
        assert_eq!(t.holder("g", &mq(0), 0), None);
        assert_eq!(t.try_lock_batch("g", &[mq(0)], "c2", 1).len(), 1);
        assert_eq!(t.unlock_batch("nope", &[mq(0)], "c1"), 0);
        assert_eq!(t.unlock_batch("g", &[mq(0), mq(1), mq(2)], "c2"), 2);
        assert_eq!(t.unlock_batch("g", &[mq(1)], "c1"), 1);
        assert!(t.is_empty());
    }

    #[test]
    fn purge_drops_only_expired() {
        let mut t = LockTable::new(10);
        t.try_lock_batch("g", &[mq(0)], "c1", 0);
        t.try_lock_batch("g", &[mq(1)], "c1", 5);
        assert_eq!(t.purge_expired(10), 0);
        assert_eq!(t.purge_expired(11), 1);
        assert_eq!(t.len(), 1);
        assert_eq!(t.purge_expired(16), 1);
        assert!(t.is_empty());
        assert!(t.try_lock_batch("g", &[], "c1", 0).is_empty());
        assert!(t.is_empty(), "an empty request leaves no group behind");
    }
}
