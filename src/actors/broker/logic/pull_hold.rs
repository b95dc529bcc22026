//! Long-poll hold table (docs/protocol.md §7.3, Java's `PullRequestHoldService`).
//!
//! A pull that found nothing and may be suspended is parked here per (topic, queue id) with the
//! offset it wants, its deadline and (optionally) its tag filter. When the dispatcher reports new
//! units for a queue, [`PullHoldTable::on_arrival`] hands back every parked pull that now has
//! something to read and whose filter accepts the new unit's tag code (an unknown code wakes it
//! anyway — the re-run pull filters properly). [`PullHoldTable::expired`] hands back the ones whose
//! deadline passed (deadline inclusive, as Java's `now >= suspend + timeout`). The payload `T` is
//! opaque (the actor's reply handle), so this table never answers anything itself.
//!
//! Bounded: each queue holds at most `per_queue_cap` pulls; beyond that `hold` gives the payload
//! back so the caller answers at once (PULL_NOT_FOUND) instead of letting memory grow.

use std::collections::HashMap;

use crate::protocol::filter::TagFilter;

/// A parked pull.
#[derive(Debug)]
struct Held<T> {
    payload: T,
    offset: i64,
    deadline_ms: i64,
    filter: Option<TagFilter>,
}

/// (topic, queue id) → parked pulls, oldest first.
#[derive(Debug)]
pub struct PullHoldTable<T> {
    per_queue_cap: usize,
    queues: HashMap<(String, i32), Vec<Held<T>>>,
}

impl<T> PullHoldTable<T> {
    pub fn new(per_queue_cap: usize) -> Self {
        PullHoldTable {
            per_queue_cap,
            queues: HashMap::new(),
        }
    }

    /// Park a pull wanting `offset` until `deadline_ms`. `Err(payload)` when the queue is full.
    pub fn hold(
        &mut self,
        topic: &str,
        queue_id: i32,
        offset: i64,
        deadline_ms: i64,
        filter: Option<TagFilter>,
        payload: T,
    ) -> Result<(), T> {
        let key = (topic.to_string(), queue_id);
        let held = self.queues.entry(key).or_default();
        if held.len() >= self.per_queue_cap {
            return Err(payload);
        }
        held.push(Held {
            payload,
            offset,
            deadline_ms,
            filter,
        });
        Ok(())
    }

    /// New units up to `max_offset` (exclusive "next" offset) arrived on the queue; `tags_code` is
    /// the newest unit's code if known. Returns the pulls to re-run now.
    pub fn on_arrival(
        &mut self,
        topic: &str,
        queue_id: i32,
        max_offset: i64,
        tags_code: Option<i64>,
    ) -> Vec<T> {
        let key = (topic.to_string(), queue_id);
        let Some(held) = self.queues.remove(&key) else {
            return Vec::new();
        };
        let (wake, keep): (Vec<_>, Vec<_>) = held.into_iter().partition(|h| {
            h.offset < max_offset
                && match (&h.filter, tags_code) {
                    (Some(f), Some(code)) => f.matches_code(code),
                    _ => true,
                }
        });
        if !keep.is_empty() {
            self.queues.insert(key, keep);
        }
        wake.into_iter().map(|h| h.payload).collect()
    }

    /// Pulls whose deadline is at or before `now_ms`, removed from the table.
    pub fn expired(&mut self, now_ms: i64) -> Vec<T> {
        let mut out = Vec::new();
        self.queues.retain(|_, held| {
            let (gone, keep): (Vec<_>, Vec<_>) = std::mem::take(held)
                .into_iter()
                .partition(|h| h.deadline_ms <= now_ms);
            out.extend(gone.into_iter().map(|h| h.payload));
            *held = keep;
            !held.is_empty()
        });
        out
    }

    /// Remove (and return) the pulls matching `pred`, e.g. those of a closed connection.
    pub fn remove_where(&mut self, mut pred: impl FnMut(&T) -> bool) -> Vec<T> {
        let mut out = Vec::new();
        self.queues.retain(|_, held| {
            let (gone, keep): (Vec<_>, Vec<_>) = std::mem::take(held)
                .into_iter()
                .partition(|h| pred(&h.payload));
            out.extend(gone.into_iter().map(|h| h.payload));
            *held = keep;
            !held.is_empty()
        });
        out
    }

    /// The queues with parked pulls (for the periodic re-check against current max offsets).
    pub fn queues(&self) -> Vec<(String, i32)> {
        self.queues.keys().cloned().collect()
    }

    /// Parked pulls on one queue.
    pub fn held_on(&self, topic: &str, queue_id: i32) -> usize {
        self.queues
            .get(&(topic.to_string(), queue_id))
            .map_or(0, Vec::len)
    }

    pub fn len(&self) -> usize {
        self.queues.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::filter::java_hash;

    #[test]
    fn wakes_only_pulls_behind_the_new_max() {
        let mut t = PullHoldTable::new(10);
        t.hold("T", 0, 5, 1000, None, "at5").unwrap();
        t.hold("T", 0, 7, 1000, None, "at7").unwrap();
        t.hold("T", 1, 5, 1000, None, "q1").unwrap();
        // max 6: only the pull at offset 5 has something to read.
        assert_eq!(t.on_arrival("T", 0, 6, None), vec!["at5"]);
        // max 7 is not > 7.
        assert!(t.on_arrival("T", 0, 7, None).is_empty());
        assert_eq!(t.on_arrival("T", 0, 8, None), vec!["at7"]);
        assert_eq!(t.held_on("T", 0), 0);
        assert_eq!(t.held_on("T", 1), 1);
        assert!(t.on_arrival("U", 0, 100, None).is_empty());
        assert_eq!(t.queues(), vec![("T".to_string(), 1)]);
    }

    #[test]
    fn tag_filter_decides_unless_the_code_is_unknown() {
        let mut t = PullHoldTable::new(10);
        t.hold("T", 0, 0, 1000, Some(TagFilter::parse("A")), "wantsA")
            .unwrap();
        t.hold("T", 0, 0, 1000, Some(TagFilter::All), "all")
            .unwrap();
        t.hold("T", 0, 0, 1000, None, "none").unwrap();
        let woke = t.on_arrival("T", 0, 1, Some(java_hash("B") as i64));
        assert_eq!(woke, vec!["all", "none"]);
        assert_eq!(
            t.on_arrival("T", 0, 2, Some(java_hash("A") as i64)),
            vec!["wantsA"]
        );
        t.hold("T", 0, 0, 1000, Some(TagFilter::parse("A")), "again")
            .unwrap();
        assert_eq!(t.on_arrival("T", 0, 3, None), vec!["again"]);
        assert!(t.is_empty());
    }

    #[test]
    fn expiry_is_deadline_inclusive() {
        let mut t = PullHoldTable::new(10);
        t.hold("T", 0, 0, 1000, None, 1).unwrap();
        t.hold("T", 0, 0, 2000, None, 2).unwrap();
        t.hold("U", 3, 0, 1000, None, 3).unwrap();
        assert!(t.expired(999).is_empty());
        let mut e = t.expired(1000);
        e.sort();
        assert_eq!(e, vec![1, 3]);
        assert_eq!(t.len(), 1);
        assert_eq!(t.expired(5000), vec![2]);
        assert!(t.is_empty());
    }

    #[test]
    fn cap_hands_the_payload_back() {
        let mut t = PullHoldTable::new(2);
        assert!(t.hold("T", 0, 0, 1, None, "a").is_ok());
        assert!(t.hold("T", 0, 0, 1, None, "b").is_ok());
        assert_eq!(t.hold("T", 0, 0, 1, None, "c"), Err("c"));
        assert!(t.hold("T", 1, 0, 1, None, "other queue").is_ok());
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn remove_where_drops_a_connections_pulls() {
        let mut t = PullHoldTable::new(10);
        t.hold("T", 0, 0, 10, None, (7u64, "x")).unwrap();
        t.hold("T", 0, 0, 10, None, (8u64, "y")).unwrap();
        t.hold("U", 0, 0, 10, None, (7u64, "z")).unwrap();
        let mut gone = t.remove_where(|(conn, _)| *conn == 7);
        gone.sort();
        assert_eq!(gone, vec![(7, "x"), (7, "z")]);
        assert_eq!(t.len(), 1);
        assert_eq!(t.queues().len(), 1);
    }
}
