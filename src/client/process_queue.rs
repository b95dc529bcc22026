//! `ProcessQueue`: the messages pulled from one queue and not yet consumed, plus the flags the
//! pull loop and the consumers coordinate on (dropped by rebalance, locked for orderly use). It
//! answers the flow-control questions of the Java client (count, size and offset span thresholds)
//! and computes the offset that is safe to commit: the smallest offset still in flight. Plain
//! struct; the consumer wraps it in [`PqHandle`].

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::protocol::message::MessageExt;

/// Why the pull loop holds off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowControl {
    Count(usize),
    Size(u64),
    Span(i64),
}

#[derive(Debug, Clone, Copy)]
pub struct FlowLimits {
    pub max_count: usize,
    pub max_size: u64,
    /// `None` for orderly consumers (span control is concurrent-only in Java).
    pub max_span: Option<i64>,
}

#[derive(Debug, Default)]
pub struct ProcessQueue {
    /// Waiting for (or in) a concurrent listener call / waiting for orderly consumption.
    msgs: BTreeMap<i64, MessageExt>,
    /// Orderly: taken by the listener, not yet committed.
    consuming: BTreeMap<i64, MessageExt>,
    size: u64,
    max_offset_seen: i64,
    pub dropped: bool,
    pub locked: bool,
    pub last_lock_ms: i64,
}

impl ProcessQueue {
    pub fn new() -> Self {
        ProcessQueue {
            max_offset_seen: -1,
            ..Default::default()
        }
    }

    pub fn put(&mut self, msgs: &[MessageExt]) {
        for m in msgs {
            if self.msgs.insert(m.queue_offset, m.clone()).is_none() {
                self.size += m.body.len() as u64;
            }
            self.max_offset_seen = self.max_offset_seen.max(m.queue_offset);
        }
    }

    /// Messages held, and the lowest and highest held offset (0, 0 when none):
    /// GET_CONSUMER_RUNNING_INFO's cached figures.
    pub fn cached_range(&self) -> (usize, i64, i64) {
        let keys = self.msgs.keys().chain(self.consuming.keys());
        let (min, max) = keys.fold((i64::MAX, i64::MIN), |(a, b), &o| (a.min(o), b.max(o)));
        if self.count() == 0 {
            (0, 0, 0)
        } else {
            (self.count(), min, max)
        }
    }

    /// Messages held (waiting + being consumed).
    pub fn count(&self) -> usize {
        self.msgs.len() + self.consuming.len()
    }

    pub fn span(&self) -> i64 {
        match (self.msgs.keys().next(), self.msgs.keys().next_back()) {
            (Some(a), Some(b)) => b - a,
            _ => 0,
        }
    }

    pub fn flow_control(&self, l: &FlowLimits) -> Option<FlowControl> {
        if self.count() > l.max_count {
            return Some(FlowControl::Count(self.count()));
        }
        if self.size > l.max_size {
            return Some(FlowControl::Size(self.size));
        }
        match l.max_span {
            Some(max) if self.span() > max => Some(FlowControl::Span(self.span())),
            _ => None,
        }
    }

    /// Concurrent: forget consumed messages; returns the offset to commit (the first one still
    /// held, or one past the highest seen when none is), or `None` when nothing was ever held.
    pub fn remove(&mut self, offsets: &[i64]) -> Option<i64> {
        if self.max_offset_seen < 0 {
            return None;
        }
        for o in offsets {
            if let Some(m) = self.msgs.remove(o) {
                self.size -= m.body.len() as u64;
            }
        }
        Some(
            self.msgs
                .keys()
                .next()
                .copied()
                .unwrap_or(self.max_offset_seen + 1),
        )
    }

    /// Orderly: take up to `n` messages in offset order for the listener.
    pub fn take(&mut self, n: usize) -> Vec<MessageExt> {
        let mut out = Vec::new();
        while out.len() < n {
            let Some((o, m)) = self.msgs.pop_first() else {
                break;
            };
            self.consuming.insert(o, m.clone());
            out.push(m);
        }
        out
    }

    /// Orderly: the taken messages were consumed; returns the next offset to commit.
    pub fn commit(&mut self) -> Option<i64> {
        let last = self.consuming.keys().next_back().copied()?;
        for m in self.consuming.values() {
            self.size -= m.body.len() as u64;
        }
        self.consuming.clear();
        Some(last + 1)
    }

    /// Orderly: the taken messages failed; put them back to be consumed again, first.
    pub fn make_available_again(&mut self, msgs: &[MessageExt]) {
        for m in msgs {
            if let Some(m) = self.consuming.remove(&m.queue_offset) {
                self.msgs.insert(m.queue_offset, m);
            }
        }
    }

    pub fn lock_expired(&self, now_ms: i64, max_live_ms: i64) -> bool {
        now_ms - self.last_lock_ms > max_live_ms
    }
}

/// A process queue shared by its pull loop, its consumers and the rebalance actor.
#[derive(Clone, Default)]
pub struct PqHandle {
    pub state: Arc<Mutex<ProcessQueue>>,
    /// Wakes the orderly consume loop when messages arrive.
    pub arrived: Arc<Notify>,
    /// Held by the orderly consumer while the listener runs; rebalance takes it before giving the
    /// queue away so no message is consumed after the offset was committed and the lock released.
    pub consume_lock: Arc<tokio::sync::Mutex<()>>,
}

impl PqHandle {
    pub fn new() -> Self {
        PqHandle {
            state: Arc::new(Mutex::new(ProcessQueue::new())),
            ..Default::default()
        }
    }
    pub fn dropped(&self) -> bool {
        self.state.lock().dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::net::SocketAddr;

    fn msg(offset: i64, len: usize) -> MessageExt {
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        MessageExt {
            store_size: 0,
            body_crc: 0,
            queue_id: 0,
            flag: 0,
            queue_offset: offset,
            commit_log_offset: 0,
            sys_flag: 0,
            born_timestamp: 0,
            born_host: a,
            store_timestamp: 0,
            store_host: a,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: Bytes::from(vec![0u8; len]),
            topic: "T".into(),
            properties: String::new(),
        }
    }

    #[test]
    fn commit_offset_is_the_lowest_unconsumed() {
        let mut pq = ProcessQueue::new();
        assert_eq!(pq.remove(&[]), None);
        pq.put(&[msg(10, 1), msg(11, 1), msg(12, 1)]);
        assert_eq!(pq.remove(&[11]), Some(10), "10 still in flight");
        assert_eq!(pq.remove(&[10]), Some(12));
        assert_eq!(pq.remove(&[12]), Some(13), "all done: one past the last");
        assert_eq!(pq.count(), 0);
    }

    #[test]
    fn cached_range_covers_waiting_and_taken_messages() {
        let mut pq = ProcessQueue::new();
        assert_eq!(pq.cached_range(), (0, 0, 0));
        pq.put(&[msg(7, 1), msg(3, 1), msg(5, 1)]);
        let taken = pq.take(1);
        assert_eq!(taken[0].queue_offset, 3);
        assert_eq!(pq.cached_range(), (3, 3, 7));
    }

    #[test]
    fn flow_control_by_count_size_and_span() {
        let limits = FlowLimits {
            max_count: 2,
            max_size: 100,
            max_span: Some(5),
        };
        let mut pq = ProcessQueue::new();
        pq.put(&[msg(0, 10), msg(1, 10)]);
        assert_eq!(pq.flow_control(&limits), None);
        pq.put(&[msg(2, 10)]);
        assert_eq!(pq.flow_control(&limits), Some(FlowControl::Count(3)));
        let mut pq = ProcessQueue::new();
        pq.put(&[msg(0, 101)]);
        assert_eq!(pq.flow_control(&limits), Some(FlowControl::Size(101)));
        let mut pq = ProcessQueue::new();
        pq.put(&[msg(0, 1), msg(9, 1)]);
        assert_eq!(pq.flow_control(&limits), Some(FlowControl::Span(9)));
        let orderly = FlowLimits {
            max_span: None,
            ..limits
        };
        assert_eq!(pq.flow_control(&orderly), None);
    }

    #[test]
    fn orderly_take_commit_and_retry_keep_order() {
        let mut pq = ProcessQueue::new();
        pq.put(&[msg(5, 1), msg(3, 1), msg(4, 1)]);
        let t = pq.take(1);
        assert_eq!(t[0].queue_offset, 3);
        pq.make_available_again(&t);
        let t = pq.take(1);
        assert_eq!(t[0].queue_offset, 3, "a failed message comes back first");
        assert_eq!(pq.commit(), Some(4));
        assert_eq!(pq.commit(), None);
        assert_eq!(pq.take(5).len(), 2);
        assert_eq!(pq.commit(), Some(6));
        assert_eq!(pq.count(), 0);
    }

    #[test]
    fn lock_expiry() {
        let pq = ProcessQueue {
            last_lock_ms: 1000,
            ..ProcessQueue::new()
        };
        assert!(!pq.lock_expired(30_000, 30_000));
        assert!(pq.lock_expired(31_001, 30_000));
    }
}
