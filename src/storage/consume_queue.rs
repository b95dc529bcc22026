//! ConsumeQueue: per (topic, queue id) index of 20-byte units `i64 commitLogOffset | i32 size |
//! i64 tagsCode` (docs/protocol.md §6.3). Logical offset N lives at byte N*20, so a pull is a direct
//! seek and the min/max offsets are arithmetic on the file positions.
//!
//! Units are written by the append path under the store's put lock (a 20-byte copy into the
//! mapping, see `store.rs`) or by recovery; reads are lock-free on published positions. A unit is
//! always written at the position its record's QUEUEOFFSET names, which makes re-dispatch after a
//! crash idempotent. Leading gaps (a queue rebuilt after older CommitLog files were deleted) are
//! filled with RocketMQ's filler unit `(0, i32::MAX, 0)`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::error::StoreError;
use super::file_queue::{FileCursor, MappedFileQueue};
use super::mapped_file::{Allocator, MappedFile};

pub const CQ_UNIT_SIZE: u64 = 20;
/// Filler unit size marker.
pub const FILLER_SIZE: i32 = i32::MAX;

/// One decoded unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CqUnit {
    pub phys_offset: i64,
    pub size: i32,
    pub tags_code: i64,
}

impl CqUnit {
    pub fn is_filler(&self) -> bool {
        self.size == FILLER_SIZE
    }
    /// Not a filler and not empty.
    pub fn is_message(&self) -> bool {
        self.size > 0 && self.size != FILLER_SIZE && self.phys_offset >= 0
    }
    fn read(b: &[u8]) -> CqUnit {
        CqUnit {
            phys_offset: i64::from_be_bytes(b[0..8].try_into().unwrap()),
            size: i32::from_be_bytes(b[8..12].try_into().unwrap()),
            tags_code: i64::from_be_bytes(b[12..20].try_into().unwrap()),
        }
    }
    fn write(&self, b: &mut [u8]) {
        b[0..8].copy_from_slice(&self.phys_offset.to_be_bytes());
        b[8..12].copy_from_slice(&self.size.to_be_bytes());
        b[12..20].copy_from_slice(&self.tags_code.to_be_bytes());
    }
}

pub struct ConsumeQueue {
    topic: String,
    queue_id: i32,
    files: MappedFileQueue,
    /// First logical offset still served (advanced by retention).
    min_offset: AtomicU64,
    /// Largest `phys_offset + size` written (recovery bookkeeping).
    max_phys: AtomicU64,
}

impl ConsumeQueue {
    /// A queue under `root/<topic>/<queue_id>/`. With an allocator, the next file is prepared on the
    /// allocator thread once the current one is half full; only a brand-new queue's first file is
    /// created inline.
    pub fn new(
        root: &std::path::Path,
        topic: &str,
        queue_id: i32,
        file_size: u64,
        allocator: Option<Arc<Allocator>>,
    ) -> ConsumeQueue {
        let dir: PathBuf = root.join(topic).join(queue_id.to_string());
        ConsumeQueue {
            topic: topic.to_string(),
            queue_id,
            files: MappedFileQueue::new(dir, file_size, allocator, false, false),
            min_offset: AtomicU64::new(0),
            max_phys: AtomicU64::new(0),
        }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }
    pub fn queue_id(&self) -> i32 {
        self.queue_id
    }
    pub fn files(&self) -> &MappedFileQueue {
        &self.files
    }

    /// Load existing files and find the write position: the first empty unit (size 0) ends the
    /// queue. Returns an error when a file has the wrong size (the queue is then rebuilt).
    pub fn load(&self) -> Result<(), StoreError> {
        self.files.load()?;
        let files = self.files.files();
        let mut end_found = false;
        for f in &files {
            if end_found {
                f.set_wrote(0);
                f.set_flushed(0);
                continue;
            }
            let b = f.bytes();
            let mut pos = 0;
            // Only up to the file's data: an empty queue's file is all hole, and reading it
            // would zero its pages (see `MappedFile::data_end`).
            let limit = f.data_end(0);
            while pos + CQ_UNIT_SIZE <= limit {
                let u = CqUnit::read(&b[pos as usize..]);
                if u.size <= 0 || u.phys_offset < 0 {
                    break;
                }
                if u.is_message() {
                    self.note_phys(&u);
                }
                pos += CQ_UNIT_SIZE;
            }
            f.set_wrote(pos);
            f.set_flushed(pos);
            if pos < f.size() {
                end_found = true;
            }
        }
        // The scan above read front to back and gained from readahead; appends do not (see
        // `MappedFile::advise_random`).
        for f in &files {
            f.advise_random();
        }
        // Drop trailing empty files (except the first).
        let first_start = self.files.min_offset();
        while let Some(last) = self.files.last() {
            if last.wrote_pos() == 0 && last.start() != first_start {
                self.files.truncate(last.start())?;
            } else {
                break;
            }
        }
        self.recompute_min(0);
        Ok(())
    }

    fn note_phys(&self, u: &CqUnit) {
        self.max_phys
            .fetch_max(u.phys_offset as u64 + u.size as u64, Ordering::Relaxed);
    }

    /// Next logical offset to be written ("max offset" in RocketMQ terms).
    pub fn max_offset(&self) -> u64 {
        self.files.max_offset() / CQ_UNIT_SIZE
    }
    pub fn min_offset(&self) -> u64 {
        self.min_offset
            .load(Ordering::Acquire)
            .min(self.max_offset())
    }
    pub fn max_phys(&self) -> u64 {
        self.max_phys.load(Ordering::Relaxed)
    }

    /// The unit at logical offset `off`, if written.
    pub fn get(&self, off: u64) -> Option<CqUnit> {
        self.get_with(&mut FileCursor::default(), off)
    }

    /// [`ConsumeQueue::get`] for a scan: `cursor` keeps the file between calls.
    pub fn get_with(&self, cursor: &mut FileCursor, off: u64) -> Option<CqUnit> {
        // Offsets come from peers (a committed consumer offset can be anything): one whose byte
        // position does not fit a u64 is simply not written.
        let byte = off.checked_mul(CQ_UNIT_SIZE)?;
        let f = cursor.file(&self.files, byte)?;
        let pos = byte - f.start();
        if pos + CQ_UNIT_SIZE > f.wrote_pos() {
            return None;
        }
        f.published(pos, CQ_UNIT_SIZE as usize).map(CqUnit::read)
    }

    /// Start logical offset of the file after the one holding `off` (OFFSET_FOUND_NULL).
    pub fn roll_next_file(&self, off: u64) -> u64 {
        let per = self.files.file_size() / CQ_UNIT_SIZE;
        off - off % per + per
    }

    /// Write `unit` at logical offset `off` (single writer: the put lock, or recovery). Writing
    /// below the end overwrites (idempotent re-dispatch); writing past it fills the gap.
    pub fn put(&self, off: u64, unit: CqUnit) -> Result<(), StoreError> {
        let byte = off * CQ_UNIT_SIZE;
        // Fast path (every append): the unit goes right at the end of the last file.
        if let Some(f) = self.files.last() {
            let pos = f.wrote_pos();
            if byte == f.start() + pos && pos + CQ_UNIT_SIZE <= f.size() {
                // SAFETY: single writer (put lock), at the write position.
                unit.write(unsafe { f.slice_mut(pos, CQ_UNIT_SIZE as usize) });
                f.set_wrote(pos + CQ_UNIT_SIZE);
                if pos == (f.size() / CQ_UNIT_SIZE / 2) * CQ_UNIT_SIZE {
                    self.files.prefetch_next();
                }
                self.note_phys(&unit);
                return Ok(());
            }
        }
        let fs = self.files.file_size();
        if self.files.is_empty() {
            self.files.create(byte - byte % fs)?.advise_random();
            self.min_offset.store(off, Ordering::Release);
        }
        while self.files.last().map(|l| l.end()).unwrap_or(0) <= byte {
            let end = self.files.last().map(|l| l.end()).unwrap_or(0);
            if let Some(l) = self.files.last() {
                if l.wrote_pos() < l.size() {
                    self.fill(&l, l.size())?;
                }
            }
            self.files.create(end)?.advise_random();
        }
        let f = self
            .files
            .find(byte)
            .ok_or_else(|| StoreError::Corrupt(format!("cq offset {off} below first file")))?;
        let pos = byte - f.start();
        if pos > f.wrote_pos() {
            self.fill(&f, pos)?;
        }
        // SAFETY: single writer (put lock / recovery); overwrite below `wrote` only during recovery.
        unit.write(unsafe { f.slice_mut(pos, CQ_UNIT_SIZE as usize) });
        if pos + CQ_UNIT_SIZE > f.wrote_pos() {
            f.set_wrote(pos + CQ_UNIT_SIZE);
            if pos == (f.size() / CQ_UNIT_SIZE / 2) * CQ_UNIT_SIZE {
                self.files.prefetch_next();
            }
        }
        self.note_phys(&unit);
        Ok(())
    }

    fn fill(&self, f: &MappedFile, to: u64) -> Result<(), StoreError> {
        let filler = CqUnit {
            phys_offset: 0,
            size: FILLER_SIZE,
            tags_code: 0,
        };
        let mut p = f.wrote_pos();
        while p + CQ_UNIT_SIZE <= to {
            // SAFETY: past the write position, single writer.
            filler.write(unsafe { f.slice_mut(p, CQ_UNIT_SIZE as usize) });
            p += CQ_UNIT_SIZE;
        }
        f.set_wrote(p);
        Ok(())
    }

    /// Drop units from logical offset `off` on (recovery).
    pub fn truncate_logical(&self, off: u64) -> Result<(), StoreError> {
        self.files.truncate(off * CQ_UNIT_SIZE)?;
        let mx = self.max_offset();
        let mut m = 0;
        if mx > 0 {
            if let Some(u) = self.get(mx - 1) {
                m = u.phys_offset as u64 + u.size as u64;
            }
        }
        self.max_phys.store(m, Ordering::Relaxed);
        if self.min_offset.load(Ordering::Relaxed) > mx {
            self.min_offset.store(mx, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Drop every unit whose record ends past `phys_end` (the recovered CommitLog end).
    pub fn truncate_dirty(&self, phys_end: u64) -> Result<(), StoreError> {
        let mut off = self.max_offset();
        while off > self.min_offset() {
            match self.get(off - 1) {
                Some(u) if u.is_message() && u.phys_offset as u64 + u.size as u64 > phys_end => {
                    off -= 1
                }
                _ => break,
            }
        }
        if off < self.max_offset() {
            self.truncate_logical(off)?;
        }
        Ok(())
    }

    /// Set the min offset to the first real unit whose record starts at or after `min_phys`.
    pub fn recompute_min(&self, min_phys: u64) {
        let max = self.max_offset();
        let mut off = self.files.min_offset() / CQ_UNIT_SIZE;
        while off < max {
            match self.get(off) {
                Some(u) if u.is_message() && u.phys_offset as u64 >= min_phys => break,
                Some(_) => off += 1,
                None => break,
            }
        }
        self.min_offset.store(off, Ordering::Release);
    }

    /// Delete whole files whose units all point below `min_phys` (retention); keeps the last file.
    pub fn delete_expired(&self, min_phys: u64) -> usize {
        let mut n = 0;
        loop {
            let popped = self.files.pop_first_if(|f| {
                let last = (f.size() / CQ_UNIT_SIZE) - 1;
                let Some(u) = f
                    .published(last * CQ_UNIT_SIZE, CQ_UNIT_SIZE as usize)
                    .map(CqUnit::read)
                else {
                    return false;
                };
                f.is_full()
                    && (u.phys_offset as u64 + u.size.max(0) as u64) <= min_phys
                    && !u.is_filler()
            });
            match popped {
                Some(f) => {
                    let _ = std::fs::remove_file(f.path());
                    n += 1;
                }
                None => break,
            }
        }
        self.recompute_min(min_phys);
        n
    }

    /// Logical offset whose store time is nearest `ts`, found by binary search; `store_time` reads
    /// a record's store timestamp from the CommitLog.
    pub fn offset_by_time(&self, ts: i64, store_time: impl Fn(&CqUnit) -> Option<i64>) -> u64 {
        let (mut lo, mut hi) = (self.min_offset(), self.max_offset());
        if lo >= hi {
            return 0;
        }
        let time_at = |o: u64| {
            self.get(o)
                .filter(|u| u.is_message())
                .and_then(|u| store_time(&u))
        };
        // Smallest offset with time >= ts.
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match time_at(mid) {
                Some(t) if t < ts => lo = mid + 1,
                Some(_) => hi = mid,
                None => lo = mid + 1,
            }
        }
        let (min, max) = (self.min_offset(), self.max_offset());
        if lo >= max {
            return max - 1;
        }
        match (
            time_at(lo),
            lo.checked_sub(1)
                .filter(|p| *p >= min)
                .and_then(|p| time_at(p).map(|t| (p, t))),
        ) {
            (Some(t), _) if t == ts => lo,
            (Some(t), Some((p, pt))) => {
                if ts - pt <= t - ts {
                    p
                } else {
                    lo
                }
            }
            _ => lo,
        }
    }

    pub fn flush(&self) -> Result<u64, StoreError> {
        self.files.flush()
    }

    pub fn destroy(&self) {
        self.files.destroy();
        self.min_offset.store(0, Ordering::Release);
        self.max_phys.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(p: i64) -> CqUnit {
        CqUnit {
            phys_offset: p,
            size: 10,
            tags_code: p * 2,
        }
    }

    /// Queue 1 of topic T with units 0..12 (physical offsets 0, 10, ...), 5 units per file.
    fn twelve_units(dir: &std::path::Path) -> ConsumeQueue {
        let cq = ConsumeQueue::new(dir, "T", 1, 100, None);
        for i in 0..12 {
            cq.put(i, unit(i as i64 * 10)).unwrap();
        }
        cq
    }

    #[test]
    fn put_get_across_files_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let cq = twelve_units(dir.path());
        assert_eq!(cq.max_offset(), 12);
        assert_eq!(cq.get(7), Some(unit(70)));
        assert_eq!(cq.get(12), None);
        assert_eq!(cq.files().files().len(), 3);
        assert_eq!(cq.max_phys(), 120);
        assert_eq!(cq.roll_next_file(7), 10);
        cq.flush().unwrap();
        let again = ConsumeQueue::new(dir.path(), "T", 1, 100, None);
        again.load().unwrap();
        assert_eq!(again.max_offset(), 12);
        assert_eq!(again.min_offset(), 0);
        again.truncate_dirty(95).unwrap();
        assert_eq!(again.max_offset(), 9, "units ending past 95 are dropped");
        again.truncate_logical(5).unwrap();
        assert_eq!(again.max_offset(), 5);
        assert_eq!(again.files().files().len(), 1);
    }

    #[test]
    fn a_cursor_answers_as_get() {
        let dir = tempfile::tempdir().unwrap();
        let cq = twelve_units(dir.path());
        // Across files, backwards and past the end.
        let mut c = FileCursor::default();
        for off in [0, 4, 5, 11, 12, 3, u64::MAX] {
            assert_eq!(cq.get_with(&mut c, off), cq.get(off), "offset {off}");
        }
        cq.put(12, unit(120)).unwrap();
        assert_eq!(cq.get_with(&mut c, 12), Some(unit(120)), "written after");
    }

    #[test]
    fn gaps_are_filled_and_min_offset_skips_fillers() {
        let dir = tempfile::tempdir().unwrap();
        let cq = ConsumeQueue::new(dir.path(), "T", 0, 100, None);
        cq.put(7, unit(700)).unwrap();
        cq.put(8, unit(800)).unwrap();
        assert_eq!(cq.files().min_offset(), 100);
        assert_eq!(cq.min_offset(), 7);
        assert!(cq.get(5).unwrap().is_filler());
        let again = ConsumeQueue::new(dir.path(), "T", 0, 100, None);
        again.load().unwrap();
        assert_eq!((again.min_offset(), again.max_offset()), (7, 9));
        // Retention: everything below phys 800 is gone.
        again.recompute_min(800);
        assert_eq!(again.min_offset(), 8);
    }

    #[test]
    fn binary_search_by_time() {
        let dir = tempfile::tempdir().unwrap();
        let cq = ConsumeQueue::new(dir.path(), "T", 0, 200, None);
        for i in 0..20 {
            cq.put(i, unit(i as i64)).unwrap();
        }
        // Store time of record p is 1000 + 10*p.
        let t = |u: &CqUnit| Some(1000 + 10 * u.phys_offset);
        assert_eq!(cq.offset_by_time(1050, t), 5);
        assert_eq!(cq.offset_by_time(1052, t), 5);
        assert_eq!(cq.offset_by_time(1058, t), 6);
        assert_eq!(cq.offset_by_time(0, t), 0);
        assert_eq!(cq.offset_by_time(99999, t), 19);
        let empty = ConsumeQueue::new(dir.path(), "E", 0, 200, None);
        assert_eq!(empty.offset_by_time(5, t), 0);
    }

    #[test]
    fn delete_expired_files() {
        let dir = tempfile::tempdir().unwrap();
        let cq = ConsumeQueue::new(dir.path(), "T", 0, 100, None);
        for i in 0..12 {
            cq.put(i, unit(i as i64 * 10)).unwrap();
        }
        assert_eq!(cq.delete_expired(55), 1);
        assert_eq!(cq.min_offset(), 6);
        assert_eq!(cq.get(2), None);
        assert_eq!(cq.get(6), Some(unit(60)));
    }

    #[test]
    fn empty_prepared_next_file_does_not_move_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let cq = ConsumeQueue::new(dir.path(), "T", 0, 100, None);
        for i in 0..7 {
            cq.put(i, unit(i as i64 * 10)).unwrap();
        }
        // The allocator prepared the file after the current one, then the process died.
        crate::storage::mapped_file::MappedFile::open(&dir.path().join("T/0"), 200, 100, false)
            .unwrap();
        let again = ConsumeQueue::new(dir.path(), "T", 0, 100, None);
        again.load().unwrap();
        assert_eq!(again.max_offset(), 7);
        assert_eq!(again.files().files().len(), 2);
        again.put(7, unit(70)).unwrap();
        assert_eq!(again.get(7), Some(unit(70)));
    }
}
