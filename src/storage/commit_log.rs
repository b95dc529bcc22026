//! CommitLog: every message of every topic, appended back to back in 1 GiB mapped files named by
//! their start offset (docs/protocol.md §6.2). A record that does not fit in the rest of a file (plus
//! the 8 bytes a blank needs) is preceded by an end-of-file blank record `[remaining][BLANK_MAGIC]`
//! and goes to the next file, so a record never spans two files and every record can be handed
//! out as one zero-copy slice.
//!
//! The CommitLog itself holds no lock: the store's put lock serialises `append_locked`, and readers
//! only see published positions (see `mapped_file.rs`).

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;

use super::error::StoreError;
use super::file_queue::MappedFileQueue;
use super::mapped_file::{Allocator, MappedFile};
use crate::protocol::message::{
    peek_total_size, BLANK_MAGIC, END_OF_FILE_MIN_BLANK, MESSAGE_MAGIC,
};

pub struct CommitLog {
    files: MappedFileQueue,
    file_size: u64,
}

/// Reads the records of one scan (a pull answer). It holds the file it read last as one `Bytes`
/// of its published bytes, so each record is a slice of that: no lookup and no allocation per
/// record, where [`CommitLog::read`] takes the file list's lock and allocates the slice's owner.
/// Bytes published after the reader took the file are read through a fresh hold.
pub struct RecordReader<'a> {
    cl: &'a CommitLog,
    /// The held file's start offset and its published bytes when taken.
    held: Option<(u64, Bytes)>,
}

impl RecordReader<'_> {
    /// The `size` bytes at `phys`, as [`CommitLog::read`].
    pub fn read(&mut self, phys: u64, size: usize) -> Option<Bytes> {
        if let Some(b) = self.held_slice(phys, size) {
            return Some(b);
        }
        let f = self.cl.files.find(phys)?;
        let whole = f.slice(0, f.wrote_pos() as usize)?;
        self.held = Some((f.start(), whole));
        self.held_slice(phys, size)
    }

    fn held_slice(&self, phys: u64, size: usize) -> Option<Bytes> {
        let (start, whole) = self.held.as_ref()?;
        let pos = usize::try_from(phys.checked_sub(*start)?).ok()?;
        let end = pos.checked_add(size)?;
        (end <= whole.len()).then(|| whole.slice(pos..end))
    }
}

/// What sits at a CommitLog position; `R` is how a record is handed out (a zero-copy `Bytes` from
/// [`CommitLog::slot`], or a borrowed slice from [`CommitLog::slot_in`], which allocates nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot<R = Bytes> {
    /// A record (not validated beyond its magic and size).
    Record(R),
    /// End-of-file blank: continue at the next file's start.
    Blank { next: u64 },
    /// Nothing (yet) at this position.
    End,
    /// An unexpected magic or impossible size: corruption.
    Bad(String),
}

impl CommitLog {
    pub fn new(
        dir: PathBuf,
        file_size: u64,
        allocator: Option<Arc<Allocator>>,
        warm: bool,
    ) -> CommitLog {
        CommitLog {
            files: MappedFileQueue::new(dir, file_size, allocator, warm, true),
            file_size,
        }
    }

    pub fn files(&self) -> &MappedFileQueue {
        &self.files
    }
    pub fn file_size(&self) -> u64 {
        self.file_size
    }
    /// Offset of the oldest byte still stored.
    pub fn min_offset(&self) -> u64 {
        self.files.min_offset()
    }
    /// Offset one past the last published byte.
    pub fn max_offset(&self) -> u64 {
        self.files.max_offset()
    }

    /// The largest record this log can hold.
    pub fn max_record_size(&self) -> usize {
        (self.file_size as usize).saturating_sub(END_OF_FILE_MIN_BLANK)
    }

    /// Append one record of `size` bytes; `write` encodes it into the given buffer at the given
    /// physical offset. Must be called under the store's put lock. Rolls to the next (prepared)
    /// file when the record does not fit. Returns the record's physical offset.
    pub fn append_locked(
        &self,
        size: usize,
        write: impl FnOnce(&mut [u8], u64) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        if size > self.max_record_size() {
            return Err(StoreError::IllegalMessage(format!(
                "record of {size} bytes does not fit a {} byte CommitLog file",
                self.file_size
            )));
        }
        let mut f = self.current_file()?;
        let mut pos = f.wrote_pos();
        if pos + size as u64 + END_OF_FILE_MIN_BLANK as u64 > self.file_size {
            let remaining = self.file_size - pos;
            // SAFETY: under the put lock, at the write position.
            let b = unsafe { f.slice_mut(pos, END_OF_FILE_MIN_BLANK) };
            b[0..4].copy_from_slice(&(remaining as i32).to_be_bytes());
            b[4..8].copy_from_slice(&BLANK_MAGIC.to_be_bytes());
            f.set_wrote(self.file_size);
            f = self.files.create(f.end())?;
            self.files.prefetch_next();
            pos = 0;
        }
        let phys = f.start() + pos;
        // SAFETY: under the put lock, at the write position.
        let buf = unsafe { f.slice_mut(pos, size) };
        write(buf, phys)?;
        f.set_wrote(pos + size as u64);
        self.files.warm_ahead(&f, pos + size as u64);
        Ok(phys)
    }

    fn current_file(&self) -> Result<Arc<MappedFile>, StoreError> {
        let f = match self.files.last() {
            Some(f) if !f.is_full() => return Ok(f),
            Some(f) => self.files.create(f.end())?,
            None => self.files.create(0)?,
        };
        self.files.prefetch_next();
        Ok(f)
    }

    /// Ask the allocator to prepare the next file now (after open/recovery).
    pub fn prefetch(&self) {
        self.files.prefetch_next();
    }

    /// `size` published bytes at `phys`, zero-copy.
    pub fn read(&self, phys: u64, size: usize) -> Option<Bytes> {
        let f = self.files.find(phys)?;
        f.slice(phys - f.start(), size)
    }

    /// Whether the bytes `[phys, phys + len)` of the file holding `phys` (clipped to its end) are
    /// all in the page cache (see [`MappedFile::resident`]); only written bytes count.
    pub fn resident(&self, phys: u64, len: usize) -> bool {
        self.files.find(phys).is_some_and(|f| {
            let pos = phys - f.start();
            let written = f.wrote_pos().saturating_sub(pos);
            f.resident(pos, len.min(written as usize))
        })
    }

    /// A reader for the records of one scan (see [`RecordReader`]).
    pub fn reader(&self) -> RecordReader<'_> {
        RecordReader {
            cl: self,
            held: None,
        }
    }

    /// What sits at `phys`.
    pub fn slot(&self, phys: u64) -> Slot {
        let Some(f) = self.files.find(phys) else {
            return Slot::End;
        };
        match Self::slot_in(&f, phys) {
            Slot::Record(r) => match f.slice(phys - f.start(), r.len()) {
                Some(b) => Slot::Record(b),
                None => Slot::End,
            },
            Slot::Blank { next } => Slot::Blank { next },
            Slot::End => Slot::End,
            Slot::Bad(e) => Slot::Bad(e),
        }
    }

    /// What sits at `phys` inside `f` (a file of this log holding `phys`), borrowed from it.
    pub fn slot_in(f: &MappedFile, phys: u64) -> Slot<&[u8]> {
        let pos = phys - f.start();
        let Some(head) = f.published(pos, 8) else {
            return Slot::End;
        };
        let size = peek_total_size(head).unwrap_or(0);
        let magic = u32::from_be_bytes(head[4..8].try_into().unwrap());
        if size == 0 && magic == 0 {
            return Slot::End;
        }
        if magic == BLANK_MAGIC {
            return Slot::Blank { next: f.end() };
        }
        if magic != MESSAGE_MAGIC {
            return Slot::Bad(format!("bad magic {magic:#010x} at {phys}"));
        }
        if size < 8 || pos + size as u64 > f.size() {
            return Slot::Bad(format!("bad size {size} at {phys}"));
        }
        match f.published(pos, size as usize) {
            Some(b) => Slot::Record(b),
            None => Slot::End,
        }
    }

    /// One whole record at `phys` (the record's own size word decides the length).
    pub fn read_record(&self, phys: u64) -> Option<Bytes> {
        match self.slot(phys) {
            Slot::Record(b) => Some(b),
            _ => None,
        }
    }

    /// Flush dirty files; returns the bytes written back.
    pub fn flush(&self) -> Result<u64, StoreError> {
        self.files.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::{body_crc, decode_record, encode_record, RecordFields};

    fn fields(body: &[u8]) -> RecordFields<'_> {
        RecordFields {
            born_timestamp: 1,
            born_host: "127.0.0.1:1".parse().unwrap(),
            ..RecordFields::plain("T", 0, body, "")
        }
    }

    fn append(cl: &CommitLog, body: &[u8]) -> u64 {
        let f = fields(body);
        cl.append_locked(f.stored_size(), |b, phys| {
            encode_record(b, &f, body_crc(body), 0, phys as i64, 2)?;
            Ok(())
        })
        .unwrap()
    }

    #[test]
    fn blank_record_rolls_to_next_file() {
        let dir = tempfile::tempdir().unwrap();
        let cl = CommitLog::new(dir.path().to_path_buf(), 1024, None, false);
        let body = [7u8; 300]; // 392-byte records: two fit, the third rolls
        let offs: Vec<u64> = (0..3).map(|_| append(&cl, &body)).collect();
        assert_eq!(offs, vec![0, 392, 1024]);
        assert_eq!(cl.slot(784), Slot::Blank { next: 1024 });
        let b = cl.read_record(1024).unwrap();
        let m = decode_record(&b).unwrap();
        assert_eq!(m.commit_log_offset, 1024);
        assert!(m.crc_ok());
        assert_eq!(cl.slot(1024 + 392), Slot::End);
        assert_eq!(cl.read(392, 392).unwrap(), cl.read_record(392).unwrap());
        assert!(cl.read(1024 + 392, 1).is_none());
        assert_eq!(cl.max_offset(), 1024 + 392);
        let big = vec![0u8; 1024];
        let f = fields(&big);
        assert!(cl.append_locked(f.stored_size(), |_, _| Ok(())).is_err());
    }

    #[test]
    fn a_reader_reads_what_read_does_across_files_and_later_appends() {
        let dir = tempfile::tempdir().unwrap();
        let cl = CommitLog::new(dir.path().to_path_buf(), 1024, None, false);
        let body = [7u8; 300];
        let mut r = cl.reader();
        append(&cl, &body);
        assert_eq!(r.read(0, 392), cl.read(0, 392));
        // Published after the reader took the first file: read through a fresh hold.
        append(&cl, &body);
        assert_eq!(r.read(392, 392), cl.read(392, 392));
        assert!(
            r.read(784, 392).is_none(),
            "past the end: nothing, as `read`"
        );
        append(&cl, &body); // rolls to the second file
        assert_eq!(r.read(1024, 392), cl.read(1024, 392));
        assert_eq!(r.read(0, 392), cl.read(0, 392), "back to the first file");
        assert!(r.read(1024 + 392, 1).is_none());
        assert!(r.read(u64::MAX - 1, 8).is_none());
    }

    #[test]
    fn corrupt_magic_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let cl = CommitLog::new(dir.path().to_path_buf(), 4096, None, false);
        append(&cl, b"x");
        let f = cl.files().last().unwrap();
        let b = unsafe { f.slice_mut(4, 1) };
        b[0] = 0;
        assert!(matches!(cl.slot(0), Slot::Bad(_)));
    }
}
