//! The store side of master/slave replication (docs/protocol.md §8.2): what the master reads and
//! where a new slave starts, and how a slave appends the master's raw CommitLog bytes.
//!
//! * Master: [`MessageStore::read_commit_log`] (in `read.rs`) hands out zero-copy slices of
//!   published CommitLog bytes, never across a file end; [`MessageStore::replication_start_for_empty_slave`]
//!   is where a slave reporting offset 0 begins (the start of the master's last CommitLog file).
//! * Slave: [`MessageStore::append_replicated`] takes the bytes of one transfer. The master cuts
//!   transfers by size, not at record boundaries, so the bytes of a record that has not fully
//!   arrived are kept in memory (`PutState::replica_tail`) and only whole records, and whole
//!   end-of-file blanks, are written to the CommitLog. The CommitLog on disk therefore never ends
//!   in a torn record, and after a crash the slave's recovered end is exactly where the master
//!   must resume. Each record is checked (magic, size, its own physical offset, body CRC) before
//!   anything is written; its consume-queue unit is written right after it, under the put lock,
//!   as for a local append, and the dispatcher builds the index from the CommitLog as usual. Since
//!   the bytes are the master's, queue offsets and physical offsets come out identical.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::consume_queue::{ConsumeQueue, CqUnit};
use super::dispatcher::RecordView;
use super::error::StoreError;
use super::recovery::unit_tags_code;
use super::store::MessageStore;
use crate::protocol::message::{body_crc, BLANK_MAGIC, END_OF_FILE_MIN_BLANK, MESSAGE_MAGIC};

/// One whole replicated record's consume-queue unit.
struct Unit {
    queue: Arc<ConsumeQueue>,
    offset: u64,
    unit: CqUnit,
}

/// What a checked stretch of replicated bytes holds.
struct Checked {
    /// Length of the prefix made of whole records and blanks.
    complete: usize,
    units: Vec<Unit>,
    last_timestamp: Option<i64>,
}

impl MessageStore {
    /// Where a slave with an empty CommitLog starts: the first byte of the master's last
    /// CommitLog file (RocketMQ's HAConnection does the same, so a new slave does not copy the
    /// whole history).
    pub fn replication_start_for_empty_slave(&self) -> u64 {
        let max = self.cl.max_offset();
        max - max % self.cl.file_size()
    }

    /// The offset the slave's next replicated bytes must start at: the CommitLog end plus the
    /// buffered bytes of an incomplete record. `None` for an empty store, which accepts any file
    /// start.
    pub fn replica_expected_offset(&self) -> Option<u64> {
        let st = self.put_lock.lock();
        self.expected_locked(&st.replica_tail)
    }

    fn expected_locked(&self, tail: &[u8]) -> Option<u64> {
        if self.cl.max_offset() == 0 && self.cl.min_offset() == 0 && tail.is_empty() {
            return None;
        }
        Some(self.cl.max_offset() + tail.len() as u64)
    }

    /// Append the master's CommitLog bytes `bytes`, which start at physical offset `at` (slave
    /// role). Returns the CommitLog end afterwards (whole records only: the offset to report to
    /// the master).
    ///
    /// Refused with nothing written: `at` other than [`Self::replica_expected_offset`]
    /// (`NotAtCommitLogEnd`); for an empty store, `at` not a multiple of the CommitLog file size
    /// (`ReplicaStartUnaligned`); bytes that are not valid records at their offsets (`Corrupt`);
    /// a shut-down or full store. An I/O error while writing leaves whole records written and
    /// drops the buffered tail: the caller reconnects from the returned end of the store.
    pub fn append_replicated(&self, at: u64, bytes: &[u8]) -> Result<u64, StoreError> {
        self.check_writable()?;
        // Replicated bytes go through `pwrite` (`write_raw`), which fills fresh pages without
        // zeroing them first; pre-faulting the next CommitLog files through the mapping would
        // zero them all again, so they are no longer warmed.
        self.cl.files().set_warm(false);
        let mut st = self.put_lock.lock();
        if self.shut.load(Ordering::Acquire) {
            return Err(StoreError::ShutDown);
        }
        let fs = self.cl.file_size();
        let expected = self.expected_locked(&st.replica_tail);
        match expected {
            Some(end) if at != end => return Err(StoreError::NotAtCommitLogEnd { at, end }),
            None if !at.is_multiple_of(fs) => {
                return Err(StoreError::ReplicaStartUnaligned { at, file_size: fs })
            }
            _ => {}
        }
        if bytes.is_empty() {
            return Ok(self.cl.max_offset());
        }
        let base = expected.map_or(at, |_| self.cl.max_offset());
        let before = st.replica_tail.len();
        st.replica_tail.extend_from_slice(bytes);
        let started = match self.check_replicated(base, &st.replica_tail) {
            Ok(c) if expected.is_none() => self.start_commit_log_at(base).map(|_| c),
            r => r,
        };
        let checked = match started {
            Ok(c) => c,
            Err(e) => {
                st.replica_tail.truncate(before);
                return Err(e);
            }
        };
        let written = self.write_raw(&st.replica_tail[..checked.complete]);
        if let Err(e) = written {
            st.replica_tail.clear();
            return Err(e);
        }
        st.replica_tail.drain(..checked.complete);
        for u in checked.units {
            u.queue.put(u.offset, u.unit)?;
        }
        if let Some(ts) = checked.last_timestamp {
            st.last_ts = st.last_ts.max(ts);
            self.last_ts.store(st.last_ts, Ordering::Release);
        }
        let end = self.cl.max_offset();
        drop(st);
        self.dispatcher.wake();
        self.flusher.request(end, false);
        Ok(end)
    }

    /// Check the records of `buf`, which starts at physical offset `base`, and resolve their
    /// consume queues. Stops before a record or blank that has not fully arrived.
    fn check_replicated(&self, base: u64, buf: &[u8]) -> Result<Checked, StoreError> {
        let fs = self.cl.file_size();
        let mut out = Checked {
            complete: 0,
            units: Vec::new(),
            last_timestamp: None,
        };
        let mut p = 0usize;
        while let Some(head) = buf.get(p..p + 8) {
            let abs = base + p as u64;
            let room = fs - abs % fs;
            let size = i32::from_be_bytes([head[0], head[1], head[2], head[3]]);
            let magic = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
            let bad = |what: &str| StoreError::Corrupt(format!("replicated {what} at {abs}"));
            if magic == BLANK_MAGIC {
                if size as u64 != room {
                    return Err(bad("end-of-file blank of the wrong size"));
                }
                if ((buf.len() - p) as u64) < room {
                    break;
                }
                p += room as usize;
                out.complete = p;
                continue;
            }
            let fits = size >= 8 && size as u64 + END_OF_FILE_MIN_BLANK as u64 <= room;
            if magic != MESSAGE_MAGIC || !fits {
                return Err(bad("data that is not a record"));
            }
            let Some(rec) = buf.get(p..p + size as usize) else {
                break;
            };
            let r = RecordView::parse(rec).ok_or_else(|| bad("record that does not decode"))?;
            if r.phys_offset != abs as i64 || body_crc(r.body) != r.body_crc {
                return Err(bad("record with a wrong offset or body CRC"));
            }
            if r.is_dispatched() && r.queue_offset >= 0 {
                out.units.push(Unit {
                    queue: self.queue_or_create(r.topic, r.queue_id)?,
                    offset: r.queue_offset as u64,
                    unit: CqUnit {
                        phys_offset: r.phys_offset,
                        size,
                        tags_code: unit_tags_code(&self.cfg, &r),
                    },
                });
            }
            out.last_timestamp = Some(r.store_timestamp);
            p += size as usize;
            out.complete = p;
        }
        Ok(out)
    }

    /// Make an empty CommitLog start with the file at `start` (dropping the pre-created first
    /// file an empty store has, and any other unpublished file).
    fn start_commit_log_at(&self, start: u64) -> Result<(), StoreError> {
        let files = self.cl.files();
        if files.files().len() == 1 && files.min_offset() == start {
            return Ok(());
        }
        self.allocator.discard_under(files.dir());
        files.destroy();
        files.create(start)?;
        files.prefetch_next();
        Ok(())
    }

    /// Copy whole records to the CommitLog end, rolling to new files exactly where the master did
    /// (the bytes include the master's end-of-file blanks). Under the put lock.
    fn write_raw(&self, mut bytes: &[u8]) -> Result<(), StoreError> {
        let files = self.cl.files();
        while !bytes.is_empty() {
            let f = match files.last() {
                Some(f) if !f.is_full() => f,
                Some(f) => {
                    let next = files.create(f.end())?;
                    files.prefetch_next();
                    next
                }
                None => return Err(StoreError::Corrupt("replica CommitLog has no file".into())),
            };
            let pos = f.wrote_pos();
            let n = ((f.size() - pos) as usize).min(bytes.len());
            // Under the put lock, at the write position; `write_at` says why not the mapping.
            f.write_at(pos, &bytes[..n])?;
            f.set_wrote(pos + n as u64);
            bytes = &bytes[n..];
        }
        Ok(())
    }
}
