//! Fixed-size memory-mapped files (the ordered queue of them that makes one log is
//! [`MappedFileQueue`](super::file_queue::MappedFileQueue)).
//!
//! Why mmap: an append is a memcpy into the page cache (~0.1 us per KiB warm) and a read hands out
//! `Bytes` that point straight into the mapping, so pull responses copy no bodies. A `Bytes` slice
//! owns an `Arc` of its `MappedFile`, which keeps the mapping alive while a reader uses it, and lets
//! retention see that a file is still held (`Arc::strong_count`).
//!
//! Concurrency contract: exactly one writer per file (the caller's lock) writes only at or past the
//! published write position and then publishes the new position with `Release`; readers only hand
//! out ranges below the position they loaded with `Acquire`. Bytes below the write position are never
//! rewritten while readers may hold them, except by recovery/truncation which runs before readers
//! exist.
//!
//! Why a background allocator: creating a file (ftruncate + mmap) and the first touch of each page
//! cost far more than the warm copy, so the next file of a queue is created and pre-touched by the
//! [`Allocator`] thread ahead of need; the append path only swaps in a ready file.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use memmap2::MmapMut;

pub use super::allocator::Allocator;
use super::error::{IoContext, StoreError};

mod warm;

pub const PAGE_SIZE: u64 = 4096;

/// Zero-padded 20-digit file name of a start offset.
pub fn file_name(offset: u64) -> String {
    format!("{offset:020}")
}

/// One fixed-size mapped file.
pub struct MappedFile {
    path: PathBuf,
    start: u64,
    size: u64,
    map: MmapMut,
    base: *mut u8,
    /// Kept open for CommitLog files only (`durable_name`): [`Self::write_at`] writes through it.
    file: Option<File>,
    wrote: AtomicU64,
    flushed: AtomicU64,
    /// Warm-up progress: pages below `warmed` have been faulted in by the allocator, which works
    /// towards `warm_target` (moved ahead of the writer by [`Self::want_warm_to`]).
    warmed: AtomicU64,
    warm_target: AtomicU64,
    /// The end of what writers have written or are writing past `warmed`: the allocator zeroes
    /// only above it (see `warm`).
    claimed: AtomicU64,
    /// Held by the allocator while it zeroes a step, and by a writer raising `claimed`.
    zero_lock: parking_lot::Mutex<()>,
    /// Where the warm-up turned readahead off (`u64::MAX`: it did not), see `warm`.
    no_readahead_from: AtomicU64,
}

// SAFETY: the raw base pointer is only written under the single-writer contract described in the
// module doc; reads go to published, immutable ranges.
unsafe impl Send for MappedFile {}
unsafe impl Sync for MappedFile {}

impl std::fmt::Debug for MappedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedFile")
            .field("path", &self.path)
            .field("wrote", &self.wrote_pos())
            .finish()
    }
}

impl MappedFile {
    /// Create (or open, if it exists with the right size) the file `dir/<20-digit start>`.
    /// With `durable_name`, the directory entries are fsynced when the file (or its directory) is
    /// created, so the name survives a power cut (CommitLog; consume queues are rebuildable and skip
    /// it).
    pub fn open(
        dir: &Path,
        start: u64,
        size: u64,
        durable_name: bool,
    ) -> Result<MappedFile, StoreError> {
        if !dir.exists() {
            std::fs::create_dir_all(dir).at(dir)?;
            if let (true, Some(parent)) = (durable_name, dir.parent()) {
                File::open(parent).and_then(|d| d.sync_all()).at(parent)?;
            }
        }
        let path = dir.join(file_name(start));
        if !path.exists() {
            // Create at full size under a temporary name, then rename: a crash never leaves a
            // short file under a real name.
            let tmp = dir.join(format!("{}.tmp", file_name(start)));
            let f = File::create(&tmp).at(&tmp)?;
            f.set_len(size).at(&tmp)?;
            drop(f);
            std::fs::rename(&tmp, &path).at(&path)?;
            if durable_name {
                File::open(dir).and_then(|d| d.sync_all()).at(dir)?;
            }
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .at(&path)?;
        let len = file.metadata().at(&path)?.len();
        if len != size {
            if len > size {
                return Err(StoreError::Corrupt(format!(
                    "{} is {len} bytes, expected {size}",
                    path.display()
                )));
            }
            file.set_len(size).at(&path)?;
        }
        // SAFETY: the file is owned by the store; nothing else truncates it while mapped.
        let mut map = unsafe { MmapMut::map_mut(&file) }.at(&path)?;
        let base = map.as_mut_ptr();
        // Consume-queue descriptors are closed here: the mapping (and msync on it) does not need
        // them, and a broker with thousands of queues would otherwise hold thousands of
        // descriptors. CommitLog files (few) keep theirs for `write_at`.
        Ok(MappedFile {
            path,
            start,
            size,
            map,
            base,
            file: durable_name.then_some(file),
            wrote: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            warmed: AtomicU64::new(0),
            warm_target: AtomicU64::new(0),
            claimed: AtomicU64::new(0),
            zero_lock: parking_lot::Mutex::new(()),
            no_readahead_from: AtomicU64::new(u64::MAX),
        })
    }

    /// Write `bytes` at `pos` through the file descriptor (`pwrite`) instead of the mapping.
    /// Why: the first store into a page never touched through the mapping makes the kernel zero
    /// the whole page before the copy (the cost that dominates a catching-up slave); a `pwrite`
    /// that covers a page from its start fills it without that, and readers of the mapping see
    /// the same page-cache page. Same single-writer contract as [`Self::slice_mut`]; the caller
    /// publishes with [`Self::set_wrote`] afterwards. Only for files opened with `durable_name`.
    pub fn write_at(&self, pos: u64, bytes: &[u8]) -> Result<(), StoreError> {
        use std::os::unix::fs::FileExt;
        debug_assert!(pos + bytes.len() as u64 <= self.size);
        let Some(file) = &self.file else {
            return Err(StoreError::Corrupt(format!(
                "{} was mapped without a descriptor to write through",
                self.path.display()
            )));
        };
        self.claim(pos + bytes.len() as u64);
        file.write_all_at(bytes, pos).at(&self.path)
    }

    /// Tell the kernel not to read ahead around faults in this mapping. For consume-queue files:
    /// each is written 20 bytes at a time, and without this the first write fault of a fresh
    /// (sparse) file makes the kernel read ahead up to `read_ahead_kb` of zeros (the whole 6 MB
    /// file where that is 8 MiB) on the send path; a topic with 1024 queues paid that 1024
    /// times, ~10 ms each, and sends got SYSTEM_BUSY.
    pub fn advise_random(&self) {
        // SAFETY: advice over our own mapping; it does not change the file's bytes.
        let _ = unsafe {
            libc::madvise(
                self.base as *mut libc::c_void,
                self.size as usize,
                libc::MADV_RANDOM,
            )
        };
    }

    /// Where the file's last data ends at or after `from` (`from` when only holes follow), from
    /// `lseek(SEEK_DATA / SEEK_HOLE)`; `size` when the file system cannot tell. Why: reading a
    /// hole through the mapping makes the kernel allocate and zero page-cache pages (and read
    /// ahead more of them); recovery that scanned the empty, sparse consume-queue files of a
    /// 1024-queue topic that way zeroed ~6 GB and took 5-10 s before the broker listened.
    pub fn data_end(&self, from: u64) -> u64 {
        let opened;
        let file = match &self.file {
            Some(f) => f,
            None => match File::open(&self.path) {
                Ok(f) => {
                    opened = f;
                    &opened
                }
                Err(_) => return self.size,
            },
        };
        last_data_end(file, from, self.size).unwrap_or(self.size)
    }

    /// Whether every page of `[pos, pos + len)` (clipped to the file) is in the page cache, from
    /// `mincore`. Why: a pull further behind than the in-memory estimate gets the small "on disk"
    /// caps (8 messages), which exist so that one pull does not wait on many disk reads; a
    /// backlog that is still cached pays no read, and then the in-memory caps cost nothing. The
    /// kernel answers for pages of the file cached but not mapped by us too. RocketMQ 5 asks the
    /// same (`MappedFile.isLoaded`). False on any error or for an empty range.
    pub fn resident(&self, pos: u64, len: usize) -> bool {
        const CHUNK: usize = 64;
        let end = pos.saturating_add(len as u64).min(self.size);
        if pos >= end {
            return false;
        }
        let first = pos / PAGE_SIZE * PAGE_SIZE;
        let pages = (end - first).div_ceil(PAGE_SIZE) as usize;
        let mut vec = [0u8; CHUNK];
        let mut done = 0usize;
        while done < pages {
            let n = (pages - done).min(CHUNK);
            let at = first as usize + done * PAGE_SIZE as usize;
            // SAFETY: `[at, at + n pages)` lies inside our mapping (`end <= size`, the mapping is
            // page-aligned) and `vec` holds one byte per page asked for.
            let rc = unsafe {
                libc::mincore(
                    self.base.add(at) as *mut libc::c_void,
                    n * PAGE_SIZE as usize,
                    vec.as_mut_ptr(),
                )
            };
            if rc != 0 || vec[..n].iter().any(|b| b & 1 == 0) {
                return false;
            }
            done += n;
        }
        true
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn start(&self) -> u64 {
        self.start
    }
    pub fn size(&self) -> u64 {
        self.size
    }
    pub fn end(&self) -> u64 {
        self.start + self.size
    }
    pub fn wrote_pos(&self) -> u64 {
        self.wrote.load(Ordering::Acquire)
    }
    pub fn flushed_pos(&self) -> u64 {
        self.flushed.load(Ordering::Acquire)
    }
    pub fn is_full(&self) -> bool {
        self.wrote_pos() >= self.size
    }
    /// Publish a new write position (single writer).
    pub fn set_wrote(&self, pos: u64) {
        self.wrote.store(pos.min(self.size), Ordering::Release);
    }
    pub fn set_flushed(&self, pos: u64) {
        self.flushed.store(pos.min(self.size), Ordering::Release);
    }

    /// Mutable view of `[pos, pos+len)` for the single writer.
    ///
    /// # Safety
    /// The caller must hold the writer lock of this file, and the range must lie at or past the
    /// published write position (or the file must not be visible to readers yet).
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn slice_mut(&self, pos: u64, len: usize) -> &mut [u8] {
        assert!(
            pos + len as u64 <= self.size,
            "write past the end of {}",
            self.path.display()
        );
        self.claim(pos + len as u64);
        std::slice::from_raw_parts_mut(self.base.add(pos as usize), len)
    }

    /// A borrowed view of published bytes `[pos, pos+len)` (only that range is borrowed, so a
    /// concurrent writer past the write position never aliases it).
    pub fn published(&self, pos: u64, len: usize) -> Option<&[u8]> {
        if pos.checked_add(len as u64)? > self.wrote_pos() {
            return None;
        }
        // SAFETY: published bytes are never rewritten while the store runs (module contract).
        Some(unsafe { std::slice::from_raw_parts(self.base.add(pos as usize), len) })
    }

    /// The whole mapping as bytes: only for recovery, before any reader or writer exists.
    pub fn bytes(&self) -> &[u8] {
        &self.map[..]
    }

    /// A zero-copy slice of published bytes; `None` if the range is not (yet) written.
    pub fn slice(self: &Arc<Self>, pos: u64, len: usize) -> Option<Bytes> {
        if pos.checked_add(len as u64)? > self.wrote_pos() {
            return None;
        }
        Some(Bytes::from_owner(MapSlice {
            file: self.clone(),
            pos: pos as usize,
            len,
        }))
    }

    /// Write dirty bytes `[flushed, wrote)` back to disk (msync MS_SYNC = fdatasync of the range).
    /// Returns the new flushed position.
    ///
    /// The pages the writer has finished are unmapped first (`MADV_DONTNEED`, which keeps them,
    /// dirty, in the page cache). Why: writing back a page mapped writable makes the kernel
    /// write-protect its entry and flush that TLB entry on every other CPU running the broker,
    /// an inter-processor interrupt per 4 KiB (a VM exit here); under P2 that was a fifth of
    /// the broker's CPU, in the flush thread. Unmapping a range flushes once for all of it.
    /// Readers that touch those pages again map them back read-only, which writeback skips.
    pub fn flush(&self) -> Result<u64, StoreError> {
        let w = self.wrote_pos();
        let f = self.flushed_pos();
        if w > f {
            let from = f / PAGE_SIZE * PAGE_SIZE;
            let done = w / PAGE_SIZE * PAGE_SIZE;
            if done > from {
                // SAFETY: a range of our mapping below the write position, which no writer
                // touches again; dropping the mapping's entries leaves the file's bytes as
                // they are, and later accesses fault them back in from the page cache.
                unsafe {
                    libc::madvise(
                        self.base.add(from as usize) as *mut libc::c_void,
                        (done - from) as usize,
                        libc::MADV_DONTNEED,
                    )
                };
            }
            self.map
                .flush_range(from as usize, (w - from) as usize)
                .at(&self.path)?;
            self.set_flushed(w);
        }
        Ok(w)
    }

    /// Dirty bytes not yet flushed.
    pub fn dirty(&self) -> u64 {
        self.wrote_pos().saturating_sub(self.flushed_pos())
    }

    /// Zero `[from, wrote)` and move the write and flush positions back to `from` (recovery
    /// truncation; readers must not exist).
    pub fn truncate_to(&self, from: u64) -> Result<(), StoreError> {
        // Holes read as zeros already; reading them would only allocate zeroed pages.
        let end = self.data_end(from).clamp(from, self.size.max(from));
        // SAFETY: recovery runs before readers and writers exist.
        let s = unsafe { self.slice_mut(from, (end - from) as usize) };
        let nz = s.iter().rposition(|b| *b != 0).map(|i| i + 1).unwrap_or(0);
        s[..nz].fill(0);
        self.set_wrote(from);
        self.set_flushed(from);
        if nz > 0 {
            self.map.flush_range(from as usize, nz).at(&self.path)?;
        }
        Ok(())
    }

    pub fn modified(&self) -> SystemTime {
        std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::now())
    }
}

/// The end of the last data extent of `file` in `[from, size)`, or `from` when there is none;
/// `None` when `lseek` fails otherwise.
fn last_data_end(file: &File, from: u64, size: u64) -> Option<u64> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    let mut pos = from;
    let mut end = from;
    // Each round moves past one data extent, so this ends within the extents of the file.
    while pos < size {
        // SAFETY: lseek on an open descriptor of ours; it changes only the file offset.
        let data = unsafe { libc::lseek(fd, pos as libc::off_t, libc::SEEK_DATA) };
        if data < 0 {
            let no_more = std::io::Error::last_os_error().raw_os_error() == Some(libc::ENXIO);
            return no_more.then_some(end);
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
        if hole < 0 {
            return None;
        }
        end = (hole as u64).min(size);
        if hole as u64 <= pos {
            return None; // no progress: do not loop
        }
        pos = hole as u64;
    }
    Some(end.max(from))
}

/// The owner behind a zero-copy `Bytes`: keeps the file mapped while in use.
struct MapSlice {
    file: Arc<MappedFile>,
    pos: usize,
    len: usize,
}

impl AsRef<[u8]> for MapSlice {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: the range is published (checked in `slice`) and never rewritten while held.
        unsafe { std::slice::from_raw_parts(self.file.base.add(self.pos), self.len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::file_queue::MappedFileQueue;

    #[test]
    fn data_end_skips_holes_and_bounds_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let size = 4 << 20;
        for durable in [false, true] {
            let f =
                MappedFile::open(&dir.path().join(durable.to_string()), 0, size, durable).unwrap();
            // A new file is one hole (ext4, xfs, tmpfs; a file system that cannot tell says
            // the whole file, which only makes scans slower).
            assert_eq!(f.data_end(0), 0);
            unsafe { f.slice_mut(300_000, 5) }.copy_from_slice(b"hello");
            f.set_wrote(300_005);
            let end = f.data_end(0);
            assert!((300_005..size).contains(&end), "{end}");
            assert_eq!(f.data_end(end), end, "nothing after the last data");
            assert!(f.data_end(300_001) >= 300_005);
            // Truncation zeroes what lies in the data, and only there.
            f.truncate_to(300_002).unwrap();
            assert_eq!(f.wrote_pos(), 300_002);
            assert_eq!(unsafe { f.slice_mut(299_999, 8) }, b"\0he\0\0\0\0\0");
        }
    }

    #[test]
    fn resident_follows_the_page_cache() {
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let f = MappedFile::open(dir.path(), 0, 1 << 20, true).unwrap();
        assert!(!f.resident(0, 4096), "a new file is a hole");
        f.write_at(0, &vec![7u8; 300 << 10]).unwrap();
        f.set_wrote(300 << 10);
        assert!(f.resident(0, 300 << 10));
        assert!(f.resident(4095, 2), "a range across a page boundary");
        assert!(
            !f.resident(0, 1 << 20),
            "the holes after the data are not cached"
        );
        assert!(
            !f.resident(1 << 20, 10) && !f.resident(0, 0),
            "out of the file, empty"
        );
        // Written back and dropped from the cache (never mapped by us): no longer resident.
        let file = f.file.as_ref().unwrap();
        file.sync_data().unwrap();
        let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        assert_eq!(rc, 0);
        assert!(!f.resident(0, 300 << 10));
        assert_eq!(
            f.published(0, 4).unwrap(),
            &[7u8; 4],
            "reading brings it back"
        );
        assert!(f.resident(0, 4));
    }

    #[test]
    fn write_publish_read_and_keep_alive() {
        let dir = tempfile::tempdir().unwrap();
        let f = Arc::new(MappedFile::open(dir.path(), 4096, 8192, true).unwrap());
        assert_eq!(f.path().file_name().unwrap(), "00000000000000004096");
        assert!(f.slice(0, 5).is_none());
        unsafe { f.slice_mut(0, 5) }.copy_from_slice(b"hello");
        f.set_wrote(5);
        let b = f.slice(0, 5).unwrap();
        assert_eq!(f.dirty(), 5);
        f.flush().unwrap();
        assert_eq!(f.flushed_pos(), 5);
        let weak = Arc::downgrade(&f);
        drop(f);
        assert_eq!(&b[..], b"hello", "the Bytes keeps the mapping alive");
        assert!(weak.upgrade().is_some());
        drop(b);
        assert!(weak.upgrade().is_none());
    }

    #[test]
    fn write_at_is_seen_through_the_mapping_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let f = Arc::new(MappedFile::open(dir.path(), 0, 3 * PAGE_SIZE, true).unwrap());
        // A whole page, then a write that crosses into the next page.
        let page = vec![7u8; PAGE_SIZE as usize];
        f.write_at(0, &page).unwrap();
        f.write_at(PAGE_SIZE, b"tail").unwrap();
        f.set_wrote(PAGE_SIZE + 4);
        assert_eq!(&f.slice(0, PAGE_SIZE as usize).unwrap()[..], &page[..]);
        assert_eq!(&f.slice(PAGE_SIZE, 4).unwrap()[..], b"tail");
        f.flush().unwrap();
        drop(f);
        let again = MappedFile::open(dir.path(), 0, 3 * PAGE_SIZE, true).unwrap();
        assert_eq!(&again.bytes()[PAGE_SIZE as usize..][..4], b"tail");
        // Consume-queue files keep no descriptor: writing through one is an error, not a panic.
        let cq = MappedFile::open(&dir.path().join("cq"), 0, PAGE_SIZE, false).unwrap();
        assert!(cq.write_at(0, b"x").is_err());
    }

    #[test]
    fn queue_load_find_truncate_and_allocate() {
        let dir = tempfile::tempdir().unwrap();
        let alloc = Allocator::start(true, false);
        let q = MappedFileQueue::new(
            dir.path().to_path_buf(),
            1024,
            Some(alloc.clone()),
            true,
            true,
        );
        let a = q.create(0).unwrap();
        q.prefetch_next();
        let b = q.create(1024).unwrap();
        q.prefetch_next();
        a.set_wrote(1024);
        unsafe { b.slice_mut(0, 3) }.copy_from_slice(b"abc");
        b.set_wrote(3);
        assert_eq!(q.max_offset(), 1027);
        assert_eq!(q.find(1500).unwrap().start(), 1024);
        assert!(q.find(2048).is_none());
        alloc.stop();
        // Reload: positions are set to full until recovery says otherwise.
        let q2 = MappedFileQueue::new(dir.path().to_path_buf(), 1024, None, false, true);
        q2.load().unwrap();
        assert_eq!(
            q2.files().len(),
            2,
            "prepared-but-unused files were removed on stop"
        );
        q2.truncate(1025).unwrap();
        assert_eq!(q2.max_offset(), 1025);
        assert_eq!(q2.last().unwrap().bytes()[..3], [b'a', 0, 0]);
        q2.truncate(1024).unwrap();
        assert_eq!(q2.files().len(), 1);
        assert_eq!(q2.max_offset(), 1024);
        // A short last file is a torn tail and gets extended; a short middle file is corruption.
        std::fs::write(dir.path().join(file_name(9999)), b"short").unwrap();
        q2.load().unwrap();
        assert_eq!(
            std::fs::metadata(dir.path().join(file_name(9999)))
                .unwrap()
                .len(),
            1024
        );
        std::fs::write(dir.path().join(file_name(9999)), b"short").unwrap();
        std::fs::write(dir.path().join(file_name(99999)), vec![0u8; 1024]).unwrap();
        assert!(q2.load().is_err());
    }
}
