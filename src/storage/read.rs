//! The read side of the facade: pulls (`get_message`, docs/protocol.md §7.3 statuses and §6.3 caps),
//! offsets, time search, lookups by physical offset and by key. Lock-free on the data: consume
//! queue units and CommitLog records are read from published positions, and records are returned
//! as zero-copy `Bytes` over the mapping.

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;

use super::consume_queue::{ConsumeQueue, CqUnit};
use super::dispatcher::RecordView;
use super::file_queue::FileCursor;
use super::store::MessageStore;
use super::types::{GetResult, GetStatus, TagsFilter};
use crate::protocol::message::{decode_record, MessageExt};

impl MessageStore {
    fn in_memory(&self, phys: u64) -> bool {
        let behind = self.cl.max_offset().saturating_sub(phys);
        behind < self.memory_bytes / 100 * self.tunables.access_in_memory_max_ratio.load(Relaxed)
    }

    /// Whether the message at logical `offset` of a queue exists and has left the in-memory window
    /// (Java's `checkInDiskByConsumeOffset`, used by QUERY_CONSUMER_OFFSET). False when there is no
    /// such message.
    pub fn offset_on_disk(&self, topic: &str, queue_id: i32, offset: i64) -> bool {
        let Some(cq) = self.find_queue(topic, queue_id) else {
            return false;
        };
        match cq.get(offset.max(0) as u64) {
            Some(u) if u.is_message() => !self.in_memory(u.phys_offset as u64),
            _ => false,
        }
    }

    /// Read up to `max_msgs` messages of a queue from `offset` (docs/protocol.md §7.3 and §6.3 caps).
    pub fn get_message(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_msgs: usize,
        filter: Option<TagsFilter<'_>>,
    ) -> GetResult {
        let mut r = GetResult {
            status: GetStatus::NoMatchedLogicQueue,
            next_begin_offset: 0,
            min_offset: 0,
            max_offset: 0,
            messages: Vec::new(),
            queue_offsets: Vec::new(),
        };
        let Some(cq) = self.find_queue(topic, queue_id) else {
            return r;
        };
        let (min, max) = (cq.min_offset() as i64, cq.max_offset() as i64);
        r.min_offset = min;
        r.max_offset = max;
        if let Some((status, next)) = out_of_range(offset, min, max) {
            r.status = status;
            r.next_begin_offset = next;
            return r;
        }
        self.scan_queue(&cq, offset, max, max_msgs, filter, &mut r);
        r
    }

    /// The in-range part of `get_message`: walk the consume queue from `offset` (at most 16000
    /// bytes of units, or `max_msgs` units if more), skip non-message units, units of removed
    /// CommitLog files and tag mismatches, stop at the count and byte caps, and push each record
    /// as a zero-copy slice of the mapping. Sets `r`'s status, messages and next begin offset.
    fn scan_queue(
        &self,
        cq: &ConsumeQueue,
        offset: i64,
        max: i64,
        max_msgs: usize,
        filter: Option<TagsFilter<'_>>,
        r: &mut GetResult,
    ) {
        let max_msgs = max_msgs.max(1);
        let scan_units = (16000usize.max(max_msgs * 20) / 20) as i64;
        let cl_min = self.cl.min_offset() as i64;
        let mut removing = false;
        let mut bytes = 0usize;
        // Chosen at the first message: later ones lie closer to the CommitLog's end.
        let mut caps = None;
        let mut i = 0i64;
        let (mut units, mut records) = (FileCursor::default(), self.cl.reader());
        while i < scan_units && offset + i < max {
            let Some(u) = cq.get_with(&mut units, (offset + i) as u64) else {
                if i == 0 {
                    r.status = GetStatus::OffsetFoundNull;
                    r.next_begin_offset = cq.roll_next_file(offset as u64) as i64;
                    return;
                }
                break;
            };
            if !u.is_message() {
                i += 1;
                continue;
            }
            if u.phys_offset < cl_min {
                removing = true;
                i += 1;
                continue;
            }
            let (cap_bytes, cap_count) =
                *caps.get_or_insert_with(|| self.transfer_caps(u.phys_offset as u64));
            let n = r.messages.len();
            if n >= max_msgs || (n > 0 && (bytes + u.size as usize > cap_bytes || n >= cap_count)) {
                break;
            }
            if let Some(f) = filter {
                if !f(u.tags_code) {
                    i += 1;
                    continue;
                }
            }
            match records.read(u.phys_offset as u64, u.size as usize) {
                Some(b) => {
                    bytes += b.len();
                    r.messages.push(b);
                    r.queue_offsets.push(offset + i);
                }
                None => removing = true,
            }
            i += 1;
        }
        r.next_begin_offset = offset + i;
        r.status = if !r.messages.is_empty() {
            GetStatus::Found
        } else if removing {
            GetStatus::MessageWasRemoving
        } else {
            GetStatus::NoMatchedMessage
        };
    }

    /// The (bytes, count) caps of one pull answer from the record at `phys` on: the in-memory
    /// caps when it lies within the in-memory window, or beyond it but with the whole in-memory
    /// byte cap's worth of CommitLog still in the page cache (one `mincore`); else the on-disk
    /// caps (docs/protocol.md §6.3).
    fn transfer_caps(&self, phys: u64) -> (usize, usize) {
        let t = &self.tunables;
        let mem_bytes = t.max_transfer_bytes_in_memory.load(Relaxed);
        if self.in_memory(phys) || self.cl.resident(phys, mem_bytes) {
            (mem_bytes, t.max_transfer_count_in_memory.load(Relaxed))
        } else {
            (
                t.max_transfer_bytes_in_disk.load(Relaxed),
                t.max_transfer_count_in_disk.load(Relaxed),
            )
        }
    }

    /// First valid logical offset of a queue (0 if unknown).
    pub fn min_offset(&self, topic: &str, queue_id: i32) -> i64 {
        self.find_queue(topic, queue_id)
            .map(|q| q.min_offset() as i64)
            .unwrap_or(0)
    }

    /// Next logical offset of a queue, i.e. its message count (0 if unknown).
    pub fn max_offset(&self, topic: &str, queue_id: i32) -> i64 {
        self.find_queue(topic, queue_id)
            .map(|q| q.max_offset() as i64)
            .unwrap_or(0)
    }

    /// Queue ids the store knows for `topic`.
    pub fn queue_ids(&self, topic: &str) -> Vec<i32> {
        let mut v: Vec<i32> = self
            .cqs
            .read()
            .get(topic)
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    /// Store timestamp of the message at a logical offset.
    pub fn store_time(&self, topic: &str, queue_id: i32, offset: i64) -> Option<i64> {
        let u = self
            .find_queue(topic, queue_id)?
            .get(u64::try_from(offset).ok()?)?;
        self.unit_time(&u)
    }

    fn unit_time(&self, u: &CqUnit) -> Option<i64> {
        if !u.is_message() {
            return None;
        }
        let b = self.cl.read(u.phys_offset as u64, u.size as usize)?;
        RecordView::parse(&b).map(|r| r.store_timestamp)
    }

    /// SEARCH_OFFSET_BY_TIMESTAMP (docs/protocol.md §7.4): binary search by store time; 0 when the queue is empty.
    pub fn offset_by_time(&self, topic: &str, queue_id: i32, timestamp: i64) -> i64 {
        match self.find_queue(topic, queue_id) {
            Some(q) => q.offset_by_time(timestamp, |u| self.unit_time(u)) as i64,
            None => 0,
        }
    }

    /// Store time of the oldest message of a queue.
    pub fn earliest_store_time(&self, topic: &str, queue_id: i32) -> Option<i64> {
        self.store_time(topic, queue_id, self.min_offset(topic, queue_id))
    }

    /// The CommitLog (physical) offset of the unit at logical `offset` of a queue, when that unit
    /// holds a message. A pull's last scanned unit is `next_begin_offset - 1`; with
    /// [`commit_log_max_offset`](Self::commit_log_max_offset) this says how far behind the
    /// CommitLog's end the pull read (RocketMQ's `maxPhyOffsetPulling`).
    pub fn phys_offset_at(&self, topic: &str, queue_id: i32, offset: i64) -> Option<i64> {
        let u = self
            .find_queue(topic, queue_id)?
            .get(u64::try_from(offset).ok()?)?;
        u.is_message().then_some(u.phys_offset)
    }

    /// Total physical memory of the machine in bytes, read once when the store opened
    /// (RocketMQ's `TOTAL_PHYSICAL_MEMORY_SIZE`).
    pub fn total_physical_memory(&self) -> u64 {
        self.memory_bytes
    }

    /// Oldest and newest CommitLog offsets.
    pub fn commit_log_min_offset(&self) -> i64 {
        self.cl.min_offset() as i64
    }
    pub fn commit_log_max_offset(&self) -> i64 {
        self.cl.max_offset() as i64
    }

    /// The record at a physical offset (VIEW_MESSAGE_BY_ID, send-back, end-transaction), zero-copy.
    pub fn lookup(&self, phys_offset: i64) -> Option<Bytes> {
        if phys_offset < 0 {
            return None;
        }
        self.cl.read_record(phys_offset as u64)
    }

    /// The decoded record at a physical offset.
    pub fn lookup_message(&self, phys_offset: i64) -> Option<MessageExt> {
        decode_record(&self.lookup(phys_offset)?).ok()
    }

    /// QUERY_MESSAGE: records of `topic` whose KEYS or UNIQ_KEY contain `key`, stored within
    /// `[begin, end]` (ms), newest first, at most `max`.
    pub fn query_by_key(
        &self,
        topic: &str,
        key: &str,
        max: usize,
        begin: i64,
        end: i64,
    ) -> Vec<Bytes> {
        let Some(ix) = &self.index else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for phys in ix.query(topic, key, max.saturating_mul(2).max(max), begin, end) {
            let Some(b) = self.lookup(phys) else { continue };
            let Some(r) = RecordView::parse(&b) else {
                continue;
            };
            if r.topic == topic && r.index_keys().any(|k| k == key) {
                out.push(b);
                if out.len() >= max {
                    break;
                }
            }
        }
        out
    }

    /// Whether the message at a queue offset is still "in memory" by RocketMQ's rule (within
    /// `accessMessageInMemoryMaxRatio` % of RAM behind the CommitLog end); QUERY_CONSUMER_OFFSET
    /// uses it for offset 0 (docs/protocol.md §7.4).
    pub fn is_in_memory(&self, topic: &str, queue_id: i32, offset: i64) -> bool {
        let Some(u) = self
            .find_queue(topic, queue_id)
            .and_then(|q| q.get(offset.max(0) as u64))
        else {
            return false;
        };
        u.is_message()
            && u.phys_offset >= self.commit_log_min_offset()
            && self.in_memory(u.phys_offset as u64)
    }

    /// Raw CommitLog bytes from `phys` to the end of published data in that file, at most
    /// `max_bytes`, zero-copy (replication and tools). `None` past the end or before the start.
    pub fn read_commit_log(&self, phys: i64, max_bytes: usize) -> Option<Bytes> {
        if phys < 0 {
            return None;
        }
        let f = self.cl.files().find(phys as u64)?;
        let pos = phys as u64 - f.start();
        let avail = f.wrote_pos().checked_sub(pos)?;
        if avail == 0 {
            return None;
        }
        f.slice(pos, (avail as usize).min(max_bytes))
    }
}

/// The status and next begin offset of a pull whose `offset` is outside the queue's
/// `[min, max)` (docs/protocol.md §7.3), or None when there is something to read.
fn out_of_range(offset: i64, min: i64, max: i64) -> Option<(GetStatus, i64)> {
    if max == 0 {
        Some((GetStatus::NoMessageInQueue, 0))
    } else if offset < min {
        Some((GetStatus::OffsetTooSmall, min))
    } else if offset == max {
        Some((GetStatus::OffsetOverflowOne, offset))
    } else if offset > max {
        Some((GetStatus::OffsetOverflowBadly, max))
    } else {
        None
    }
}
