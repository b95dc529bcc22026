//! Warming a mapped file ahead of its writer, on the allocator thread.
//!
//! Why: the first store into a page of a fresh (sparse) file makes the kernel allocate a
//! page-cache page and zero it. Done on the append path that costs every writer a fault per
//! 4 KiB; so the allocator prepares the pages ahead of the writer instead.
//!
//! Why zeros written with `pwrite` rather than `MADV_POPULATE_WRITE` alone: populating a hole
//! through the mapping makes the kernel read ahead into large folios and zero them
//! (`__pi_memset`), a third of the broker's CPU under P1 when that was the warm-up (perf); a
//! `pwrite` fills small folios by a copy instead, and `MADV_POPULATE_WRITE` then only maps
//! cached pages. On memory the VM's host has taken back, every way costs about the same
//! (~0.4 GB/s here, the host's first touch: `scripts/page-fill-bench.c` mode 7), so the gain
//! is largest for a broker that recycles its page cache, as a long-running one does (figures
//! in docs/performance.md).
//!
//! Why writing zeros is safe while the file is being appended to: the allocator only zeroes
//! what no writer has written or is writing. Every writer goes through
//! `MappedFile::claim` (from `slice_mut` and `write_at`): a write that ends at or below
//! `warmed` is in a range the allocator has finished with and never returns to; a write past it
//! first records its end in `claimed`, under the lock the allocator holds while it zeroes a
//! step. The allocator zeroes only from above both the claim and the write position, and moves
//! `warmed` up only after the zeros are in the page cache. The writer takes the lock only when
//! it has caught up with the warm-up (a fresh file, an allocator behind, warming off).
//!
//! Why the part being warmed is advised `MADV_RANDOM` (until the file is full): a fault on a
//! hole there (a writer ahead of the warm-up) made the kernel read ahead into large folios and
//! zero them the slow way, and marked one of them for more readahead, which the next populate
//! step then set off again, ahead of the zeros, for the rest of the file.
//!
//! The zeros are dirty pages: the writer overwrites them within the warm window (64 MiB), and
//! where it is slower than the kernel's writeback they reach the disk once as zeros before the
//! data does (blocks allocated ahead, as a `fallocate` would).

use std::sync::atomic::Ordering;

use super::{MappedFile, PAGE_SIZE};

/// Zeros for `pwrite`: a static buffer, read-only, so its pages are the kernel's zero page.
static ZEROS: [u8; 256 << 10] = [0; 256 << 10];

impl MappedFile {
    /// The warm-up step size: 1 MiB. Why this small: with 16 MiB steps, on memory the VM's host
    /// had taken back, a master's replication stalled for 100-250 ms now and then, and it did
    /// not with the warm-up off or with 1 MiB steps (ASYNC lag p99 over 50 ms in 3 of 5 runs;
    /// 1 MiB: p99 7-23 ms in 5 of 5, docs/performance.md). Steps also bound the dirty pages a
    /// SYNC_FLUSH sync meets, and the allocator can create a file someone waits for between two
    /// steps.
    pub const WARM_CHUNK: u64 = 256 * PAGE_SIZE;

    /// How far ahead of the writer the allocator keeps pages warm: 64 MiB, 64 ms of appends at
    /// 1 GB/s. Why not the whole file at once: on an idle or slow writer that warms a gigabyte
    /// nobody writes soon, competing for the CPU with the work at hand (a consumer catching up
    /// spent 38 % of the broker's CPU on it).
    pub const WARM_AHEAD: u64 = 64 << 20;

    /// How much a writer that has caught up with the warm-up claims at a time (one lock per
    /// 256 KiB of appends in that case; the claimed pages are faulted on the append path).
    const CLAIM_STEP: u64 = 64 * PAGE_SIZE;

    /// A writer is about to write bytes below `end`: make sure the allocator never zeroes them
    /// (see the module doc). One atomic load when the warm-up is ahead.
    pub(super) fn claim(&self, end: u64) {
        // The second test reads the writer's own earlier claim (one writer at a time per file,
        // ordered by the caller's lock), which the allocator has respected since it was made.
        if end <= self.warmed.load(Ordering::Acquire) || end <= self.claimed.load(Ordering::Relaxed)
        {
            return;
        }
        let _zeroing = self.zero_lock.lock();
        let claim = end.next_multiple_of(Self::CLAIM_STEP).min(self.size);
        self.claimed.fetch_max(claim, Ordering::Relaxed);
    }

    /// The writer has reached `end`: when that is within half a window of the warm target, move
    /// the target `WARM_AHEAD` past it and return `true` (the caller then wakes the allocator).
    /// One atomic load on the common path.
    pub fn want_warm_to(&self, end: u64) -> bool {
        let target = self.warm_target.load(Ordering::Relaxed);
        if target >= self.size || end + Self::WARM_AHEAD / 2 <= target {
            return false;
        }
        let new = (end + Self::WARM_AHEAD)
            .next_multiple_of(PAGE_SIZE)
            .min(self.size);
        self.warm_target.fetch_max(new, Ordering::Relaxed) < new
    }

    /// Whether the allocator has warming left to do here.
    pub fn warm_pending(&self) -> bool {
        self.warmed.load(Ordering::Relaxed) < self.warm_target.load(Ordering::Relaxed)
    }

    /// One warm-up step (at most [`Self::WARM_CHUNK`]) towards the target, skipping what
    /// writers have written or claimed; with `flush` the step is also written back, so its
    /// blocks are allocated before SYNC_FLUSH fsyncs them. Allocator thread only.
    pub fn warm_towards_target(&self, flush: bool) {
        let target = self.warm_target.load(Ordering::Relaxed);
        let from = self
            .warmed
            .load(Ordering::Relaxed)
            .max(self.wrote_pos() / PAGE_SIZE * PAGE_SIZE);
        if from >= target {
            self.warmed.fetch_max(from, Ordering::Release);
            return;
        }
        let to = (from + Self::WARM_CHUNK).min(target).min(self.size);
        if self.no_readahead_from.load(Ordering::Relaxed) == u64::MAX {
            self.advise(from, libc::MADV_RANDOM);
            self.no_readahead_from.store(from, Ordering::Relaxed);
        }
        if !self.zero_unclaimed(from, to) {
            self.populate(from, to);
        }
        if flush {
            let _ = self.map.flush_range(from as usize, (to - from) as usize);
        }
        self.warmed.fetch_max(to, Ordering::Release);
    }

    /// Write zeros over `[from, to)` above every claim and the write position, one lock-held
    /// step at a time, mapping each step after it and moving `warmed` up behind it. Claimed
    /// pages are left to their writer (populating them here would zero them the slow way, on
    /// pages the writer is about to fault anyway). Returns `false` without a descriptor or when
    /// `pwrite` fails (a full disk, say), leaving the rest to the caller.
    fn zero_unclaimed(&self, from: u64, to: u64) -> bool {
        use std::os::unix::fs::FileExt;
        let Some(file) = self.file.as_ref() else {
            return false;
        };
        let mut p = from;
        while p < to {
            let step_end = (p + ZEROS.len() as u64).min(to);
            let zeroing = self.zero_lock.lock();
            let claimed = self.claimed.load(Ordering::Relaxed);
            let written = claimed.max(self.wrote_pos()).next_multiple_of(PAGE_SIZE);
            let start = p.max(written);
            if start < step_end {
                let len = (step_end - start) as usize;
                if let Err(e) = file.write_all_at(&ZEROS[..len], start) {
                    tracing::debug!(file = %self.path.display(), error = %e, "warm-up without zeros");
                    return false;
                }
            }
            self.warmed.fetch_max(step_end, Ordering::Release);
            drop(zeroing);
            if start < step_end {
                // Cheap: the pages are cached now; this only maps them.
                self.populate(start, step_end);
            }
            p = step_end;
        }
        true
    }

    /// The file is full: give the part warmed without readahead its readahead back, for
    /// readers that meet it cold later. Allocator thread only.
    pub fn restore_readahead(&self) {
        let from = self.no_readahead_from.swap(u64::MAX, Ordering::Relaxed);
        if from != u64::MAX {
            self.advise(from, libc::MADV_NORMAL);
        }
    }

    /// `madvise(advice)` over `[from, size)` (`from` rounded down to a page).
    fn advise(&self, from: u64, advice: libc::c_int) {
        let from = from / PAGE_SIZE * PAGE_SIZE;
        // SAFETY: advice over part of our own mapping; it does not change the file's bytes.
        unsafe {
            libc::madvise(
                self.base.add(from as usize) as *mut libc::c_void,
                (self.size - from) as usize,
                advice,
            )
        };
    }

    /// Map `[from, to)` for writing without changing its bytes (`MADV_POPULATE_WRITE`; older
    /// kernels refuse it and get a read touch, after which the first write takes only the
    /// cheaper write fault).
    fn populate(&self, from: u64, to: u64) {
        // Linux >= 5.14.
        const MADV_POPULATE_WRITE: libc::c_int = 23;
        // SAFETY: the range lies inside our mapping; neither call changes the file's bytes.
        let populated = unsafe {
            libc::madvise(
                self.base.add(from as usize) as *mut libc::c_void,
                (to - from) as usize,
                MADV_POPULATE_WRITE,
            )
        } == 0;
        if !populated {
            let mut q = from;
            while q < to {
                // SAFETY: a read inside the mapping.
                unsafe { std::ptr::read_volatile(self.base.add(q as usize)) };
                q += PAGE_SIZE;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    use super::*;

    const SIZE: u64 = 8 << 20;

    fn file(dir: &std::path::Path) -> Arc<MappedFile> {
        Arc::new(MappedFile::open(dir, 0, SIZE, true).unwrap())
    }

    fn warm_all(f: &MappedFile) {
        f.warm_target.store(SIZE, Ordering::Relaxed);
        while f.warm_pending() {
            f.warm_towards_target(false);
        }
    }

    #[test]
    fn zeros_go_above_a_claim_and_never_below() {
        let dir = tempfile::tempdir().unwrap();
        let f = file(dir.path());
        // A writer that caught up with (no) warm-up claims a step and writes in it, unpublished.
        // SAFETY: the file is ours alone.
        unsafe { f.slice_mut(1000, 4) }.copy_from_slice(b"data");
        assert!(f.claimed.load(Ordering::Relaxed) >= 1004);
        warm_all(&f);
        assert_eq!(&f.bytes()[1000..1004], b"data");
        // The zeros reached the page cache above the claim: the kernel reports data there.
        assert!(f.data_end(0) > MappedFile::CLAIM_STEP, "{}", f.data_end(0));
        assert_eq!(f.warmed.load(Ordering::Relaxed), SIZE);
    }

    #[test]
    fn a_writer_racing_the_warm_up_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let f = file(dir.path());
        let done = Arc::new(AtomicBool::new(false));
        let warmer = {
            let (f, done) = (f.clone(), done.clone());
            std::thread::spawn(move || {
                // Keep a small window ahead of the writer, as the allocator does.
                while !done.load(Ordering::Relaxed) {
                    let target = (f.wrote_pos() + (512 << 10)).min(SIZE);
                    f.warm_target.fetch_max(target, Ordering::Relaxed);
                    if f.warm_pending() {
                        f.warm_towards_target(false);
                    } else {
                        std::thread::yield_now();
                    }
                }
            })
        };
        let mut pos = 0u64;
        let mut n = 0u32;
        while pos + 100 <= SIZE {
            let rec = [(n % 251) as u8 + 1; 100];
            // SAFETY: single writer, at the write position.
            unsafe { f.slice_mut(pos, 100) }.copy_from_slice(&rec);
            pos += 100;
            f.set_wrote(pos);
            n += 1;
        }
        done.store(true, Ordering::Relaxed);
        warmer.join().unwrap();
        for i in 0..n as u64 {
            let want = (i % 251) as u8 + 1;
            let got = f.published(i * 100, 100).unwrap();
            assert!(got.iter().all(|b| *b == want), "record {i} damaged");
        }
    }
}
