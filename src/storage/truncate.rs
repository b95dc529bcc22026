//! Runtime truncation of the store (controller mode): a broker that becomes a slave drops the
//! CommitLog tail its new master never had (`role.rs` decides where), without a restart.
//!
//! Recovery (`recovery.rs`) truncates before any reader or writer exists; here the store is
//! running, so [`MessageStore::truncate_to`] works under the put lock (no append or replicated
//! append can interleave; the caller has stopped taking writes anyway) and holds off the three
//! background writers that could publish stale positions: the CommitLog flusher, the dispatcher
//! (index) and the consume-queue/checkpoint flusher. Then:
//! * everything kept is flushed first, because a truncated file's flushed position is set to the
//!   new end;
//! * the CommitLog is cut at a record boundary (anything else is refused): later files are
//!   removed, the tail of the last one is zeroed and synced, so a crash right after recovers
//!   exactly the truncated store (recovery stops at the zeros);
//! * every consume queue drops its units for records at or past the new end (its max offset
//!   shrinks, so the next append or replicated record takes the right queue offset);
//! * the index forgets entries past the end (files begun after it are removed, the last file's
//!   end is clamped so records appended from there are indexed again; stale hits are filtered at
//!   read: a lookup past the end finds no record and answers are verified against the record);
//! * the dispatcher and the flusher move back to the end (SYNC_FLUSH waiters for bytes past it
//!   fail), the slave's buffered partial record is dropped, and the checkpoint is rewritten.
//!
//! Readers that already hold zero-copy slices of the truncated range (a pull answer being written)
//! may see those bytes zeroed under them: they are bytes that no longer exist on any replica, and
//! a role switch only truncates after the broker stopped taking writes.
//!
//! [`MessageStore::clear_locked`] is the same for "start empty" (no common epoch with the master):
//! every CommitLog file, consume queue and index file is removed, and the next replicated bytes
//! start a fresh CommitLog at a file start, as for a new slave.

use super::commit_log::Slot;
use super::consume_queue::{ConsumeQueue, CQ_UNIT_SIZE};
use super::error::StoreError;
use super::store::{MessageStore, PutState};
use std::sync::atomic::Ordering;

impl MessageStore {
    /// Truncate the CommitLog and everything derived from it to `offset`, at run time. `offset`
    /// must lie in `[min, max]` of the CommitLog and be where a record (or an end-of-file blank)
    /// starts. The caller must have stopped writes (slave role): appends are refused meanwhile
    /// only by the put lock this holds.
    pub fn truncate_to(&self, offset: u64) -> Result<(), StoreError> {
        let mut st = self.put_lock.lock();
        if self.shut.load(Ordering::Acquire) {
            return Err(StoreError::ShutDown);
        }
        self.truncate_locked(&mut st, offset)?;
        drop(st);
        self.after_truncation()
    }

    /// [`Self::truncate_to`] under the put lock (`st`); the caller runs
    /// [`Self::after_truncation`] once it has released the lock.
    pub(crate) fn truncate_locked(&self, st: &mut PutState, offset: u64) -> Result<(), StoreError> {
        let (min, max) = (self.cl.min_offset(), self.cl.max_offset());
        if offset < min || offset > max {
            return Err(StoreError::TruncateOutOfRange { offset, min, max });
        }
        st.replica_tail.clear();
        if offset == max {
            return Ok(());
        }
        self.check_boundary(offset)?;
        tracing::warn!("truncating the CommitLog from {max} to {offset}");
        let _flush = self.flusher.pause();
        let _dispatch = self.dispatcher.pause();
        let _logics = self.logics_gate.lock();
        self.cl.flush()?;
        let queues = self.all_queues();
        for cq in &queues {
            cq.flush()?;
        }
        self.cl.files().truncate(offset)?;
        self.allocator.discard_under(self.cl.files().dir());
        for cq in &queues {
            truncate_queue(cq, offset)?;
        }
        if let Some(ix) = &self.index {
            ix.clamp_to(offset as i64);
            ix.flush()?;
        }
        self.dispatcher.rewind(offset);
        self.flusher.rewind(offset);
        Ok(())
    }

    /// Remove every CommitLog file, consume queue and index file (under the put lock `st`); the
    /// caller runs [`Self::after_truncation`] once it has released the lock.
    pub(crate) fn clear_locked(&self, st: &mut PutState) -> Result<(), StoreError> {
        tracing::warn!(
            "clearing the store (CommitLog [{}, {}]) to copy the master's data afresh",
            self.cl.min_offset(),
            self.cl.max_offset()
        );
        st.replica_tail.clear();
        let _flush = self.flusher.pause();
        let _dispatch = self.dispatcher.pause();
        let _logics = self.logics_gate.lock();
        self.allocator.discard_under(self.cl.files().dir());
        self.cl.files().destroy();
        let queues: Vec<_> = {
            let mut t = self.cqs.write();
            t.drain().flat_map(|(_, m)| m.into_values()).collect()
        };
        for cq in queues {
            cq.destroy();
        }
        if let Some(ix) = &self.index {
            ix.clamp_to(0);
        }
        self.dispatcher.rewind(0);
        self.flusher.rewind(0);
        Ok(())
    }

    /// After a truncation or clear, without the put lock: prepare the next CommitLog file again
    /// and write the consume queues, index and checkpoint.
    pub(crate) fn after_truncation(&self) -> Result<(), StoreError> {
        if !self.cl.files().is_empty() {
            self.cl.prefetch();
        }
        self.flush_logics(true)
    }

    /// Refuse an offset that is not where a record or an end-of-file blank starts.
    fn check_boundary(&self, offset: u64) -> Result<(), StoreError> {
        let Some(f) = self.cl.files().find(offset) else {
            return Ok(()); // the end of the last, full file
        };
        let bad = |reason: String| StoreError::NotARecordBoundary { offset, reason };
        let mut p = f.start();
        while p < offset {
            match self.cl.slot(p) {
                Slot::Record(b) => p += b.len() as u64,
                Slot::Blank { next } if offset < next => {
                    return Err(bad(format!("inside the end-of-file blank at {p}")))
                }
                Slot::Blank { next } => p = next,
                Slot::End => return Err(bad(format!("past the data, which ends at {p}"))),
                Slot::Bad(e) => return Err(StoreError::Corrupt(e)),
            }
        }
        if p != offset {
            return Err(bad(format!("inside a record ending at {p}")));
        }
        Ok(())
    }
}

/// Drop the units of `cq` whose records start at or past `end` (units are in CommitLog order).
fn truncate_queue(cq: &ConsumeQueue, end: u64) -> Result<(), StoreError> {
    let first = cq.files().min_offset() / CQ_UNIT_SIZE;
    let max = cq.max_offset();
    let mut keep = max;
    while keep > first {
        match cq.get(keep - 1) {
            Some(u) if u.is_message() && u.phys_offset as u64 >= end => keep -= 1,
            _ => break,
        }
    }
    if keep < max {
        cq.truncate_logical(keep)?;
    }
    Ok(())
}
