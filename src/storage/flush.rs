//! CommitLog flushing: ASYNC_FLUSH (background, by interval and dirty pages) and SYNC_FLUSH group
//! commit.
//!
//! Group commit: an appender publishes its bytes, then registers "durable up to `end`" here and
//! gets a [`FlushWaiter`]. The single flush thread takes *all* pending requests at once, flushes the
//! CommitLog up to its current write position (one msync/fdatasync covering every record appended so
//! far) and completes them all. Requests that arrive while that sync runs wait for the next one. So
//! the number of syncs per second is bounded by the disk, not by the message rate, and there is
//! never one sync per message under load.
//!
//! A waiter can be awaited without blocking a thread (it is a `Future`, woken by the flush thread)
//! or waited on with a timeout from a plain thread; both report FLUSH_DISK_TIMEOUT after
//! `syncFlushTimeout`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::commit_log::CommitLog;
use super::config::{FlushDiskType, StoreConfig};
use super::error::StoreError;
use super::mapped_file::PAGE_SIZE;

/// Completion of one SYNC_FLUSH request, shared by the appender and the flush thread.
#[derive(Default)]
pub struct FlushWaiter {
    state: Mutex<WaiterState>,
    cv: Condvar,
}

#[derive(Default)]
struct WaiterState {
    result: Option<Result<(), String>>,
    waker: Option<Waker>,
}

impl FlushWaiter {
    fn complete(&self, r: Result<(), String>) {
        let waker = {
            let mut st = self.state.lock();
            if st.result.is_some() {
                return;
            }
            st.result = Some(r);
            st.waker.take()
        };
        self.cv.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn to_result(r: &Result<(), String>) -> Result<(), StoreError> {
        r.clone().map_err(StoreError::FlushFailed)
    }

    /// Block the calling thread until durable or `timeout` passes.
    pub fn wait_timeout(&self, timeout: Duration) -> Result<(), StoreError> {
        let deadline = Instant::now() + timeout;
        let mut st = self.state.lock();
        loop {
            if let Some(r) = &st.result {
                return Self::to_result(r);
            }
            if self.cv.wait_until(&mut st, deadline).timed_out() {
                return match &st.result {
                    Some(r) => Self::to_result(r),
                    None => Err(StoreError::FlushTimeout {
                        timeout_ms: timeout.as_millis() as u64,
                    }),
                };
            }
        }
    }

    pub fn is_done(&self) -> bool {
        self.state.lock().result.is_some()
    }
}

/// Future side of a waiter (no timeout; see [`Durability::flushed`]).
struct WaiterFuture(Arc<FlushWaiter>);

impl Future for WaiterFuture {
    type Output = Result<(), StoreError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut st = self.0.state.lock();
        match &st.result {
            Some(r) => Poll::Ready(FlushWaiter::to_result(r)),
            None => {
                st.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// What an append's caller waits on before acknowledging.
#[derive(Clone)]
pub enum Durability {
    /// Nothing to wait for (ASYNC_FLUSH, or WAIT=false, or already flushed).
    Done,
    /// SYNC_FLUSH: completed by the flush thread.
    Pending {
        waiter: Arc<FlushWaiter>,
        timeout: Duration,
    },
}

impl std::fmt::Debug for Durability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Durability::Done => f.write_str("Done"),
            Durability::Pending { waiter, .. } => write!(f, "Pending(done={})", waiter.is_done()),
        }
    }
}

impl Durability {
    /// Block until durable; `FlushTimeout` after `syncFlushTimeout`.
    pub fn wait(&self) -> Result<(), StoreError> {
        match self {
            Durability::Done => Ok(()),
            Durability::Pending { waiter, timeout } => waiter.wait_timeout(*timeout),
        }
    }

    /// Await durability without blocking a thread (needs a tokio runtime with time, as actix has);
    /// `FlushTimeout` after `syncFlushTimeout`.
    pub async fn flushed(self) -> Result<(), StoreError> {
        match self {
            Durability::Done => Ok(()),
            Durability::Pending { waiter, timeout } => {
                match tokio::time::timeout(timeout, WaiterFuture(waiter)).await {
                    Ok(r) => r,
                    Err(_) => Err(StoreError::FlushTimeout {
                        timeout_ms: timeout.as_millis() as u64,
                    }),
                }
            }
        }
    }
}

/// The CommitLog flush thread and its group-commit queue.
pub struct Flusher {
    cl: Arc<CommitLog>,
    mode: FlushDiskType,
    interval: Duration,
    least_bytes: u64,
    thorough: Duration,
    timeout: Duration,
    requests: Mutex<Vec<(u64, Arc<FlushWaiter>)>>,
    cv: Condvar,
    stop: AtomicBool,
    /// CommitLog offset known durable.
    flushed_offset: AtomicU64,
    /// Store timestamp of the newest record known durable (checkpoint).
    flushed_timestamp: AtomicI64,
    /// Store timestamp of the newest appended record (written by the put path).
    last_timestamp: Arc<AtomicI64>,
    /// Held by every CommitLog flush; runtime truncation holds it too ([`Self::pause`]).
    gate: Mutex<()>,
    /// Number of syncs done (tests and bench check group commit).
    pub syncs: AtomicU64,
    /// Total time spent in syncs, in nanoseconds.
    pub sync_nanos: AtomicU64,
}

impl Flusher {
    pub fn new(
        cl: Arc<CommitLog>,
        cfg: &StoreConfig,
        last_timestamp: Arc<AtomicI64>,
    ) -> Arc<Flusher> {
        let start = cl.max_offset();
        Arc::new(Flusher {
            cl,
            mode: cfg.flush_disk_type,
            interval: Duration::from_millis(cfg.flush_interval_commit_log.max(1)),
            least_bytes: cfg.flush_commit_log_least_pages * PAGE_SIZE,
            thorough: Duration::from_millis(cfg.flush_commit_log_thorough_interval),
            timeout: cfg.sync_flush_timeout(),
            requests: Mutex::new(Vec::new()),
            cv: Condvar::new(),
            stop: AtomicBool::new(false),
            flushed_offset: AtomicU64::new(start),
            flushed_timestamp: AtomicI64::new(last_timestamp.load(Ordering::Acquire)),
            last_timestamp,
            gate: Mutex::new(()),
            syncs: AtomicU64::new(0),
            sync_nanos: AtomicU64::new(0),
        })
    }

    pub fn start(self: &Arc<Self>) -> std::thread::JoinHandle<()> {
        let me = self.clone();
        std::thread::Builder::new()
            .name("store-flush".into())
            .spawn(move || me.run())
            .expect("spawn flusher")
    }

    pub fn flushed_offset(&self) -> u64 {
        self.flushed_offset.load(Ordering::Acquire)
    }
    pub fn flushed_timestamp(&self) -> i64 {
        self.flushed_timestamp.load(Ordering::Acquire)
    }

    /// Durability for an append ending at `end`. `wait` = the message's WAIT property.
    pub fn request(&self, end: u64, wait: bool) -> Durability {
        if self.mode == FlushDiskType::AsyncFlush {
            return Durability::Done;
        }
        if !wait {
            self.cv.notify_one();
            return Durability::Done;
        }
        if self.flushed_offset() >= end {
            return Durability::Done;
        }
        let w = Arc::new(FlushWaiter::default());
        self.requests.lock().push((end, w.clone()));
        self.cv.notify_one();
        Durability::Pending {
            waiter: w,
            timeout: self.timeout,
        }
    }

    /// Flush everything now (shutdown, explicit `flush()`).
    pub fn flush_all(&self) -> Result<u64, StoreError> {
        let _one = self.gate.lock();
        let ts = self.last_timestamp.load(Ordering::Acquire);
        let end = self.cl.max_offset();
        let t = Instant::now();
        self.cl.flush()?;
        self.sync_nanos
            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.flushed_offset.fetch_max(end, Ordering::AcqRel);
        self.flushed_timestamp.fetch_max(ts, Ordering::AcqRel);
        Ok(end)
    }

    /// Keep flushes out while the CommitLog is truncated at run time (`truncate.rs`): a flush
    /// racing with it would publish a flushed position past the new end.
    pub(crate) fn pause(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.gate.lock()
    }

    /// After a truncation to `end` (everything below it flushed, the caller holds
    /// [`Self::pause`]): the durable offset is `end`, and waiters for bytes past it fail, since
    /// those bytes are gone.
    pub(crate) fn rewind(&self, end: u64) {
        self.flushed_offset.store(end, Ordering::Release);
        let mut r = self.requests.lock();
        let (gone, keep): (Vec<_>, Vec<_>) = r.drain(..).partition(|(e, _)| *e > end);
        *r = keep;
        drop(r);
        for (_, w) in gone {
            w.complete(Err(format!("the CommitLog was truncated to {end}")));
        }
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        let _g = self.requests.lock();
        self.cv.notify_all();
    }

    fn run(&self) {
        let mut last_thorough = Instant::now();
        while !self.stop.load(Ordering::Acquire) {
            match self.mode {
                FlushDiskType::SyncFlush => {
                    let batch = {
                        let mut r = self.requests.lock();
                        if r.is_empty() && !self.stop.load(Ordering::Acquire) {
                            self.cv.wait_for(&mut r, self.interval);
                        }
                        std::mem::take(&mut *r)
                    };
                    let res = self.flush_all().map_err(|e| e.to_string());
                    let flushed = self.flushed_offset();
                    for (end, w) in batch {
                        match &res {
                            Ok(_) if end <= flushed => w.complete(Ok(())),
                            Ok(_) => self.requests.lock().push((end, w)),
                            Err(e) => w.complete(Err(e.clone())),
                        }
                    }
                }
                FlushDiskType::AsyncFlush => {
                    {
                        let mut r = self.requests.lock();
                        if !self.stop.load(Ordering::Acquire) {
                            self.cv.wait_for(&mut r, self.interval);
                        }
                    }
                    let dirty = self.cl.max_offset().saturating_sub(self.flushed_offset());
                    let thorough = last_thorough.elapsed() >= self.thorough;
                    if dirty > 0 && (dirty >= self.least_bytes || thorough) {
                        if let Err(e) = self.flush_all() {
                            tracing::error!("commit log flush failed: {e}");
                        }
                        last_thorough = Instant::now();
                    } else if thorough {
                        last_thorough = Instant::now();
                    }
                }
            }
        }
        let res = self.flush_all().map_err(|e| e.to_string());
        for (_, w) in std::mem::take(&mut *self.requests.lock()) {
            w.complete(res.clone().map(|_| ()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(mode: FlushDiskType) -> (tempfile::TempDir, Arc<CommitLog>, Arc<Flusher>) {
        let dir = tempfile::tempdir().unwrap();
        let cl = Arc::new(CommitLog::new(
            dir.path().to_path_buf(),
            1 << 20,
            None,
            false,
        ));
        let mut cfg = StoreConfig::with_root(dir.path());
        cfg.flush_disk_type = mode;
        cfg.flush_interval_commit_log = 10;
        cfg.flush_commit_log_least_pages = 0;
        let f = Flusher::new(cl.clone(), &cfg, Arc::new(AtomicI64::new(0)));
        (dir, cl, f)
    }

    fn append(cl: &CommitLog, n: usize) -> u64 {
        let p = cl.append_locked(n, |b, _| {
            b.fill(1);
            Ok(())
        });
        p.unwrap() + n as u64
    }

    #[test]
    fn group_commit_acknowledges_many_with_few_syncs() {
        let (_d, cl, f) = setup(FlushDiskType::SyncFlush);
        let mut pending = Vec::new();
        for _ in 0..100 {
            let end = append(&cl, 100);
            pending.push(f.request(end, true));
        }
        assert!(f.request(0, true).wait().is_ok(), "already durable");
        assert!(matches!(
            f.request(append(&cl, 10), false),
            Durability::Done
        ));
        let h = f.start();
        for d in &pending {
            d.wait().unwrap();
        }
        assert!(
            f.syncs.load(Ordering::Relaxed) <= 3,
            "one sync covers all pending requests"
        );
        assert!(f.flushed_offset() >= 10_000);
        // The async side.
        let end = append(&cl, 100);
        let d = f.request(end, true);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(d.flushed()).unwrap();
        f.stop();
        h.join().unwrap();
    }

    #[test]
    fn timeout_when_nobody_flushes() {
        let (_d, cl, f) = setup(FlushDiskType::SyncFlush);
        let end = append(&cl, 100);
        let Durability::Pending { waiter, .. } = f.request(end, true) else {
            panic!("must be pending")
        };
        let e = waiter.wait_timeout(Duration::from_millis(20)).unwrap_err();
        assert!(matches!(e, StoreError::FlushTimeout { timeout_ms: 20 }));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let d = Durability::Pending {
            waiter,
            timeout: Duration::from_millis(20),
        };
        assert!(matches!(
            rt.block_on(d.flushed()),
            Err(StoreError::FlushTimeout { .. })
        ));
    }

    #[test]
    fn async_flush_by_interval() {
        let (_d, cl, f) = setup(FlushDiskType::AsyncFlush);
        let h = f.start();
        let end = append(&cl, 5000);
        assert!(matches!(f.request(end, true), Durability::Done));
        let t = Instant::now();
        while f.flushed_offset() < end {
            assert!(t.elapsed() < Duration::from_secs(5));
            std::thread::sleep(Duration::from_millis(5));
        }
        f.stop();
        h.join().unwrap();
    }
}
