//! The allocator thread: creates the next mapped file of a queue before it is needed and keeps
//! the pages just ahead of each writer pre-touched, so the append path never pays for
//! `ftruncate` + `mmap` + first-touch page faults (how a page is warmed, and why that way:
//! `mapped_file/warm.rs`). A queue requests its next file early (`request`) and swaps it in
//! when the current one is full (`take`), waiting only if the allocator fell behind; its writer
//! asks for warming ahead of it as it goes (`warm_ahead`), so no more than
//! [`MappedFile::WARM_AHEAD`] is warmed before it is needed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use super::error::StoreError;
use super::mapped_file::{file_name, MappedFile};

/// Creates and pre-touches files on its own thread. A queue asks for its next file early
/// (`request`) and takes it when needed (`take`), waiting only if the allocator fell behind.
pub struct Allocator {
    state: Mutex<AllocState>,
    cv: Condvar,
    stopped: AtomicBool,
    handle: Mutex<Option<std::thread::JoinHandle<()>>>,
}

#[derive(Default)]
struct AllocState {
    /// (dir, start, size, warm, durable name)
    pending: Vec<(PathBuf, u64, u64, bool, bool)>,
    /// Prepared files; `true` when this allocator created the file (only those may be deleted
    /// as unused at stop).
    ready: HashMap<PathBuf, (Result<Arc<MappedFile>, String>, bool)>,
    /// The file being prepared right now (not pending, not yet ready).
    in_progress: Option<PathBuf>,
    /// Files being written whose writer wants pages warmed ahead of it.
    warming: Vec<Arc<MappedFile>>,
}

impl AllocState {
    /// The first file with warming left to do; files that filled up or are fully warmed leave.
    fn next_to_warm(&mut self) -> Option<Arc<MappedFile>> {
        self.warming.retain(|f| {
            let full = f.is_full();
            if full {
                f.restore_readahead();
            }
            !full
        });
        self.warming.iter().find(|f| f.warm_pending()).cloned()
    }
}

impl Allocator {
    pub fn start(warm: bool, flush_warmed: bool) -> Arc<Allocator> {
        let a = Arc::new(Allocator {
            state: Mutex::new(AllocState::default()),
            cv: Condvar::new(),
            stopped: AtomicBool::new(false),
            handle: Mutex::new(None),
        });
        let me = a.clone();
        let h = std::thread::Builder::new()
            .name("store-allocate".into())
            .spawn(move || me.run(warm, flush_warmed))
            .expect("spawn allocator");
        *a.handle.lock() = Some(h);
        a
    }

    fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    fn run(&self, warm: bool, flush_warmed: bool) {
        // Normal priority, though it is background work: warming is cheap since it writes zeros
        // (`MappedFile::warm_towards_target`), and an allocator that falls behind leaves the
        // writer to fault fresh pages itself, ~10x dearer (at nice 10 it fell behind under P2).
        loop {
            let (job, warm_next) = {
                let mut st = self.state.lock();
                let mut next = st.next_to_warm();
                while st.pending.is_empty() && next.is_none() && !self.is_stopped() {
                    self.cv.wait(&mut st);
                    next = st.next_to_warm();
                }
                if self.is_stopped() {
                    return;
                }
                if st.pending.is_empty() {
                    (None, next)
                } else {
                    let job = st.pending.remove(0);
                    st.in_progress = Some(job.0.join(file_name(job.1)));
                    (Some(job), None)
                }
            };
            // Creating a file comes first: someone may be waiting for it. Warming goes on one
            // 16 MiB step at a time in between.
            let Some((dir, start, size, do_warm, durable)) = job else {
                if let Some(f) = warm_next {
                    f.warm_towards_target(flush_warmed);
                }
                continue;
            };
            // Never warm a file that already exists: it is not fresh (warming is harmless to its
            // bytes, but it is not worth the I/O).
            let existed = dir.join(file_name(start)).exists();
            let res = MappedFile::open(&dir, start, size, durable).map(Arc::new);
            let key = dir.join(file_name(start));
            let mut st = self.state.lock();
            if let Ok(f) = &res {
                // A file prepared ahead of need gets its first window warmed now, so the writer
                // that rolls into it takes no faults while its own requests catch up.
                if warm && do_warm && !existed && f.want_warm_to(0) {
                    st.warming.push(f.clone());
                }
            }
            st.in_progress = None;
            if self.is_stopped() {
                // Prepared after stop: a file we created holds no data, remove it.
                drop(res);
                if !existed {
                    let _ = std::fs::remove_file(&key);
                }
                return;
            }
            // Hand the file out as soon as it exists: creating and mapping take milliseconds,
            // warming takes longer, and an append must never wait for that.
            st.ready
                .insert(key, (res.map_err(|e| e.to_string()), !existed));
            self.cv.notify_all();
        }
    }

    /// The writer of `f` moved its warm target ([`MappedFile::want_warm_to`] said so): warm up
    /// to it in the background. Called about once per 32 MiB of appends.
    pub fn warm_ahead(&self, f: &Arc<MappedFile>) {
        let mut st = self.state.lock();
        if !st.warming.iter().any(|w| Arc::ptr_eq(w, f)) {
            st.warming.push(f.clone());
        }
        self.cv.notify_all();
    }

    /// Ask for `dir/<start>` to be prepared (idempotent).
    pub fn request(&self, dir: &Path, start: u64, size: u64, warm: bool, durable: bool) {
        let key = dir.join(file_name(start));
        let mut st = self.state.lock();
        if st.ready.contains_key(&key)
            || st.in_progress.as_ref() == Some(&key)
            || st.pending.iter().any(|p| p.1 == start && p.0 == dir)
        {
            return;
        }
        st.pending
            .push((dir.to_path_buf(), start, size, warm, durable));
        self.cv.notify_all();
    }

    /// Forget every request and prepared file under `dir` (a deleted topic), waiting for a file
    /// being created there right now. Prepared files are dropped, not deleted: the caller removes
    /// the directory.
    pub fn discard_under(&self, dir: &Path) {
        let mut st = self.state.lock();
        while st.in_progress.as_ref().is_some_and(|p| p.starts_with(dir)) && !self.is_stopped() {
            self.cv.wait(&mut st);
        }
        st.pending.retain(|p| !p.0.starts_with(dir));
        st.ready.retain(|k, _| !k.starts_with(dir));
        st.warming.retain(|f| !f.path().starts_with(dir));
    }

    /// Take the prepared file, waiting for the allocator thread if needed.
    pub fn take(
        &self,
        dir: &Path,
        start: u64,
        size: u64,
        warm: bool,
        durable: bool,
    ) -> Result<Arc<MappedFile>, StoreError> {
        self.request(dir, start, size, warm, durable);
        let key = dir.join(file_name(start));
        let mut st = self.state.lock();
        // Someone waits for this file now (an append, possibly on an I/O thread): it goes before
        // files only asked for ahead of need, so the wait is one file creation, not a queue of
        // them (a new topic asks for up to 1024 first files at once).
        if let Some(i) = st.pending.iter().position(|p| p.1 == start && p.0 == dir) {
            let job = st.pending.remove(i);
            st.pending.insert(0, job);
        }
        loop {
            if let Some((r, _)) = st.ready.remove(&key) {
                return r.map_err(|e| {
                    StoreError::Corrupt(format!("cannot create {}: {e}", key.display()))
                });
            }
            if self.is_stopped() {
                return Err(StoreError::ShutDown);
            }
            self.cv.wait(&mut st);
        }
    }

    /// Stop and join the thread, and delete prepared-but-unused files (they hold no data). After
    /// this returns no file of the store is touched by the allocator any more.
    pub fn stop(&self) {
        {
            let _st = self.state.lock();
            self.stopped.store(true, Ordering::Release);
            self.cv.notify_all();
        }
        if let Some(h) = self.handle.lock().take() {
            if h.thread().id() != std::thread::current().id() {
                let _ = h.join();
            }
        }
        let mut st = self.state.lock();
        st.warming.clear();
        for (path, (f, fresh)) in st.ready.drain() {
            drop(f);
            if fresh {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_someone_waits_for_goes_before_files_asked_for_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let a = Allocator::start(false, false);
        // A long queue of requests ahead of need, then a take of the last one.
        for i in 0..200u64 {
            a.request(&dir.path().join(format!("q{i}")), 0, 4096, false, false);
        }
        let last = dir.path().join("q199");
        let f = a.take(&last, 0, 4096, false, false).unwrap();
        assert_eq!(f.start(), 0);
        let created = (0..199)
            .filter(|i| dir.path().join(format!("q{i}")).join(file_name(0)).exists())
            .count();
        assert!(
            created < 199,
            "the waited-for file was created before all {created} others"
        );
        a.stop();
    }

    #[test]
    fn a_taken_file_is_never_prepared_again_nor_deleted_at_stop() {
        let dir = tempfile::tempdir().unwrap();
        let a = Allocator::start(true, false);
        for i in 0..50u64 {
            let start = i * 4096;
            a.request(dir.path(), start, 4096, true, true);
            a.request(dir.path(), start, 4096, true, true);
            let f = a.take(dir.path(), start, 4096, true, true).unwrap();
            a.request(dir.path(), start + 4096, 4096, true, true);
            // SAFETY: the file is ours alone in this test.
            unsafe { f.slice_mut(0, 4) }.copy_from_slice(b"data");
            f.set_wrote(4);
        }
        a.stop();
        for i in 0..50u64 {
            let p = dir.path().join(file_name(i * 4096));
            assert_eq!(&std::fs::read(&p).unwrap()[..4], b"data", "{}", p.display());
        }
        assert!(
            !dir.path().join(file_name(50 * 4096)).exists(),
            "unused prepared file removed"
        );
        assert!(matches!(
            a.take(dir.path(), 0, 4096, true, true),
            Err(StoreError::ShutDown)
        ));
    }
}
