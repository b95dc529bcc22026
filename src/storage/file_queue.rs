//! `MappedFileQueue`: the ordered list of same-size mapped files that makes one log (`commitlog/`
//! or one consume queue): lookup by offset, the next file from the [`Allocator`], truncation on
//! recovery and deletion by retention.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

use super::allocator::Allocator;
use super::error::{IoContext, StoreError};
use super::mapped_file::{file_name, MappedFile};

/// A reader's hold on the file it read last. A scan whose reads stay in one file (a pull answer's
/// consume-queue units and records) looks the file up once: each lookup takes the queue's lock
/// and an `Arc` of the file, shared cache lines that bounce between the cores per record.
#[derive(Default)]
pub struct FileCursor(Option<Arc<MappedFile>>);

impl FileCursor {
    /// The file holding `off`: the one held when it does, else looked up (and held).
    pub fn file(&mut self, q: &MappedFileQueue, off: u64) -> Option<&Arc<MappedFile>> {
        let held = self.0.as_ref();
        if !held.is_some_and(|f| f.start() <= off && off < f.end()) {
            self.0 = q.find(off);
        }
        self.0.as_ref()
    }
}

/// An ordered list of same-size files forming one log (`commitlog/` or one consume queue).
pub struct MappedFileQueue {
    dir: PathBuf,
    file_size: u64,
    files: RwLock<Vec<Arc<MappedFile>>>,
    allocator: Option<Arc<Allocator>>,
    warm: AtomicBool,
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
            warm: AtomicBool::new(warm),
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

    /// Whether files prepared from now on are pre-faulted (warmed); see `MappedFile::warm_towards_target`.
    pub fn set_warm(&self, warm: bool) {
        self.warm.store(warm, Ordering::Relaxed);
    }

    /// The writer of `f` has reached `end` (file-relative): keep the pages ahead of it warm (see
    /// [`MappedFile::want_warm_to`]); a no-op unless warming is on.
    pub fn warm_ahead(&self, f: &Arc<MappedFile>, end: u64) {
        if let Some(a) = &self.allocator {
            if self.warm.load(Ordering::Relaxed) && f.want_warm_to(end) {
                a.warm_ahead(f);
            }
        }
    }

    /// Ask the allocator to prepare the file after the last one (the first file when the queue
    /// is empty, so a fresh store's first append does not wait for it either).
    pub fn prefetch_next(&self) {
        if let Some(a) = &self.allocator {
            // The first file of an empty queue is created but not warmed: an idle store should
            // not hold populated pages it may never write (RSS); it is warmed ahead of its
            // writer once appends start (`warm_ahead`). Files after it get their first window
            // warmed while the previous one is being written.
            let (next, warm) = match self.last() {
                Some(last) => (last.end(), self.warm.load(Ordering::Relaxed)),
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
                self.warm.load(Ordering::Relaxed),
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
