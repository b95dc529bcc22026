//! Fixed-size memory-mapped files and the ordered queue of them that makes one log.
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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use memmap2::MmapMut;
use parking_lot::RwLock;

pub use super::allocator::Allocator;
use super::error::{IoContext, StoreError};

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
    wrote: AtomicU64,
    flushed: AtomicU64,
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
        // The descriptor is closed here: the mapping (and msync on it) does not need it, and a
        // broker with thousands of queues would otherwise hold thousands of descriptors.
        Ok(MappedFile {
            path,
            start,
            size,
            map,
            base,
            wrote: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
        })
    }

    /// The warm-up step size: 16 MiB (RocketMQ also flushes every 4096 pages while warming), so
    /// a 1 GiB file never sits as one burst of dirty pages in front of SYNC_FLUSH syncs, and the
    /// allocator can create a file someone is waiting for between two steps.
    pub const WARM_CHUNK: u64 = 4096 * PAGE_SIZE;

    /// Fault the pages of `[from, from + WARM_CHUNK)` in for writing, so later appends take no
    /// first-touch faults; with `flush` also write them back so their blocks are allocated before
    /// SYNC_FLUSH fsyncs them. Returns where the next step starts (`size()` when done). Safe while
    /// the file is being appended to: nothing here changes its bytes.
    pub fn warm_step(&self, from: u64, flush: bool) -> u64 {
        const MADV_POPULATE_WRITE: libc::c_int = 23; // Linux >= 5.14
        if from >= self.size {
            return self.size;
        }
        let len = Self::WARM_CHUNK.min(self.size - from);
        // MADV_POPULATE_WRITE write-faults the pages without changing their contents; older
        // kernels refuse it and get a read touch instead (which maps the pages; the first write
        // then takes only the cheaper write fault).
        // SAFETY: the range lies inside our mapping; neither call changes the file's bytes.
        let populated = unsafe {
            libc::madvise(
                self.base.add(from as usize) as *mut libc::c_void,
                len as usize,
                MADV_POPULATE_WRITE,
            )
        } == 0;
        if !populated {
            let mut q = from;
            while q < from + len {
                // SAFETY: a read inside the mapping.
                unsafe { std::ptr::read_volatile(self.base.add(q as usize)) };
                q += PAGE_SIZE;
            }
        }
        if flush {
            let _ = self.map.flush_range(from as usize, len as usize);
        }
        from + len
    }

    /// Tell the kernel the whole file will be needed (after warming).
    pub fn advise_will_need(&self) {
        // SAFETY: advice over our own mapping.
        let _ = unsafe {
            libc::madvise(
                self.base as *mut libc::c_void,
                self.size as usize,
                libc::MADV_WILLNEED,
            )
        };
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

    /// Warm the whole file (see `warm_step`); stops early when `stop` is set.
    pub fn warm(&self, flush: bool, stop: &AtomicBool) {
        let mut p = 0;
        while p < self.size && !stop.load(Ordering::Relaxed) {
            p = self.warm_step(p, flush);
        }
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
    pub fn flush(&self) -> Result<u64, StoreError> {
        let w = self.wrote_pos();
        let f = self.flushed_pos();
        if w > f {
            let from = f / PAGE_SIZE * PAGE_SIZE;
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
        let end = self.size.max(from);
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

/// An ordered list of same-size files forming one log (`commitlog/` or one consume queue).
pub struct MappedFileQueue {
    dir: PathBuf,
    file_size: u64,
    files: RwLock<Vec<Arc<MappedFile>>>,
    allocator: Option<Arc<Allocator>>,
    warm: bool,
    durable_names: bool,
}

impl MappedFileQueue {
    pub fn new(
        dir: PathBuf,
        file_size: u64,
        allocator: Option<Arc<Allocator>>,
        warm: bool,
        durable_names: bool,
    ) -> Self {
        MappedFileQueue {
            dir,
            file_size,
            files: RwLock::new(Vec::new()),
            allocator,
            warm,
            durable_names,
        }
    }

    /// Map every existing file of the directory (positions are set by recovery). Files whose name
    /// is not a 20-digit offset are ignored; a file of the wrong size is an error.
    pub fn load(&self) -> Result<(), StoreError> {
        let mut starts = Vec::new();
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.len() == 20 && name.bytes().all(|b| b.is_ascii_digit()) {
                    starts.push(name.parse::<u64>().unwrap_or(0));
                } else if name.ends_with(".tmp") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        starts.sort_unstable();
        let mut files = Vec::new();
        let n = starts.len();
        for (i, s) in starts.into_iter().enumerate() {
            let path = self.dir.join(file_name(s));
            let len = std::fs::metadata(&path).at(&path)?.len();
            if len < self.file_size && i + 1 == n {
                // A short last file is a torn tail: extend it with zeros; recovery finds the end.
                tracing::warn!(
                    "{} is {len} bytes, extending to {}",
                    path.display(),
                    self.file_size
                );
                let f = OpenOptions::new().write(true).open(&path).at(&path)?;
                f.set_len(self.file_size).at(&path)?;
            } else if len != self.file_size {
                return Err(StoreError::Corrupt(format!(
                    "{} is {len} bytes, expected {}",
                    path.display(),
                    self.file_size
                )));
            }
            let f = MappedFile::open(&self.dir, s, self.file_size, self.durable_names)?;
            f.set_wrote(self.file_size);
            f.set_flushed(self.file_size);
            files.push(Arc::new(f));
        }
        *self.files.write() = files;
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn file_size(&self) -> u64 {
        self.file_size
    }
    pub fn files(&self) -> Vec<Arc<MappedFile>> {
        self.files.read().clone()
    }
    pub fn last(&self) -> Option<Arc<MappedFile>> {
        self.files.read().last().cloned()
    }
    pub fn first(&self) -> Option<Arc<MappedFile>> {
        self.files.read().first().cloned()
    }
    pub fn is_empty(&self) -> bool {
        self.files.read().is_empty()
    }
    /// Start offset of the first file (0 when empty).
    pub fn min_offset(&self) -> u64 {
        self.files.read().first().map(|f| f.start()).unwrap_or(0)
    }
    /// Absolute write position (end of published data).
    pub fn max_offset(&self) -> u64 {
        self.files
            .read()
            .last()
            .map(|f| f.start() + f.wrote_pos())
            .unwrap_or(0)
    }
    /// The file holding absolute offset `off`.
    pub fn find(&self, off: u64) -> Option<Arc<MappedFile>> {
        let files = self.files.read();
        let first = files.first()?.start();
        if off < first {
            return None;
        }
        let i = ((off - first) / self.file_size) as usize;
        files
            .get(i)
            .filter(|f| f.start() <= off && off < f.end())
            .cloned()
    }

    /// Ask the allocator to prepare the file after the last one (the first file when the queue
    /// is empty, so a fresh store's first append does not wait for it either).
    pub fn prefetch_next(&self) {
        if let Some(a) = &self.allocator {
            // The first file of an empty queue is created but not warmed: an idle store should
            // not hold a gigabyte of populated pages (RSS); files after it are warmed while the
            // previous one is being written.
            let (next, warm) = match self.last() {
                Some(last) => (last.end(), self.warm),
                None => (0, false),
            };
            a.request(&self.dir, next, self.file_size, warm, self.durable_names);
        }
    }

    /// Append the file starting at `start` (which must follow the last one, or be the first).
    /// Uses the allocator's prepared file when there is one; the caller decides when to
    /// `prefetch_next`.
    pub fn create(&self, start: u64) -> Result<Arc<MappedFile>, StoreError> {
        let f = match &self.allocator {
            Some(a) => a.take(
                &self.dir,
                start,
                self.file_size,
                self.warm,
                self.durable_names,
            )?,
            None => Arc::new(MappedFile::open(
                &self.dir,
                start,
                self.file_size,
                self.durable_names,
            )?),
        };
        self.files.write().push(f.clone());
        Ok(f)
    }

    /// Drop files after `off` and truncate the one containing it (recovery).
    pub fn truncate(&self, off: u64) -> Result<(), StoreError> {
        let mut files = self.files.write();
        while let Some(last) = files.last() {
            if last.start() >= off && !(last.start() == off && files.len() == 1) {
                let p = last.path().to_path_buf();
                files.pop();
                std::fs::remove_file(&p).at(&p)?;
            } else {
                break;
            }
        }
        if let Some(last) = files.last() {
            // A file ending exactly at `off` keeps its own write position.
            if off < last.end() {
                last.truncate_to(off.saturating_sub(last.start()))?;
            }
        }
        Ok(())
    }

    /// Remove the first file from the queue if `pred` accepts it; returns it for deletion.
    pub fn pop_first_if(
        &self,
        pred: impl FnOnce(&Arc<MappedFile>) -> bool,
    ) -> Option<Arc<MappedFile>> {
        let mut files = self.files.write();
        if files.len() > 1 && pred(&files[0]) {
            Some(files.remove(0))
        } else {
            None
        }
    }

    /// Remove every file and the directory (consume-queue rebuild).
    pub fn destroy(&self) {
        self.files.write().clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// Flush every file with dirty bytes; returns the number of bytes written back.
    ///
    /// Only dirty files are referenced, and the sync runs outside the list lock: old files are
    /// never held by a flush (retention would see them as in use), and a roll to a new file never
    /// waits for a sync.
    pub fn flush(&self) -> Result<u64, StoreError> {
        let dirty: Vec<Arc<MappedFile>> = self
            .files
            .read()
            .iter()
            .filter(|f| f.dirty() > 0)
            .cloned()
            .collect();
        let mut n = 0;
        for f in dirty {
            n += f.dirty();
            f.flush()?;
        }
        Ok(n)
    }

    pub fn dirty(&self) -> u64 {
        self.files
            .read()
            .iter()
            .rev()
            .take(2)
            .map(|f| f.dirty())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
