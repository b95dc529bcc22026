//! `Persister`: a dedicated thread that writes the broker's metadata files (topics,
//! subscription groups, consumer offsets, delay offsets). Handlers and actors submit the latest
//! snapshot and go on; the thread writes each file atomically (temp file, fsync, rename, `.bak`).
//! Snapshots of the same file that wait are coalesced as they are submitted: only the newest is
//! kept and written.

use crossbeam_channel::{bounded, Receiver, Sender};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use tracing::warn;

use crate::storage::metadata::{
    ConsumerOffsetFile, DelayOffsetFile, MetadataFiles, SubscriptionGroupFile, TopicsFile,
};

/// One snapshot to write.
pub enum PersistJob {
    Topics(TopicsFile),
    Groups(SubscriptionGroupFile),
    Offsets(ConsumerOffsetFile),
    DelayOffsets(DelayOffsetFile),
    /// Write everything queued, then acknowledge (shutdown).
    Barrier(Sender<()>),
}

impl PersistJob {
    fn slot(&self) -> u8 {
        match self {
            PersistJob::Topics(_) => 0,
            PersistJob::Groups(_) => 1,
            PersistJob::Offsets(_) => 2,
            PersistJob::DelayOffsets(_) => 3,
            PersistJob::Barrier(_) => 4,
        }
    }
}

/// Snapshots waiting to be written: at most one per file (a newer one replaces an older one),
/// plus the barriers to acknowledge once they are written.
#[derive(Default)]
struct Pending {
    latest: BTreeMap<u8, PersistJob>,
    barriers: Vec<Sender<()>>,
}

/// Handle to the persister thread (which ends when every handle is dropped).
///
/// Memory is bounded by the mechanism, not by the callers: a submitted snapshot replaces the
/// waiting one of the same file at once, so however fast snapshots are submitted, at most one
/// per file waits (plus the one being written). The wake-up channel holds at most one token.
#[derive(Clone)]
pub struct Persister {
    pending: Arc<Mutex<Pending>>,
    wake: Sender<()>,
}

impl Persister {
    pub fn start(files: MetadataFiles) -> Persister {
        let (wake, rx) = bounded(1);
        let pending = Arc::new(Mutex::new(Pending::default()));
        let worker = pending.clone();
        std::thread::Builder::new()
            .name("metadata-persist".into())
            .spawn(move || run(files, worker, rx))
            .expect("spawn persister thread");
        Persister { pending, wake }
    }

    pub fn submit(&self, job: PersistJob) {
        {
            let mut p = self.pending.lock();
            match job {
                PersistJob::Barrier(ack) => p.barriers.push(ack),
                j => {
                    p.latest.insert(j.slot(), j);
                }
            }
        }
        // Full means a wake-up is already pending; the thread will see this job then.
        let _ = self.wake.try_send(());
    }

    /// Wait (blocking, bounded by the writes queued) until everything submitted so far is written.
    pub fn sync(&self) {
        let (tx, rx) = bounded(1);
        self.submit(PersistJob::Barrier(tx));
        let _ = rx.recv_timeout(std::time::Duration::from_secs(10));
    }

    /// Snapshots waiting to be written (tests).
    pub fn pending_len(&self) -> usize {
        self.pending.lock().latest.len()
    }
}

fn run(files: MetadataFiles, pending: Arc<Mutex<Pending>>, wake: Receiver<()>) {
    loop {
        let woken = wake.recv().is_ok();
        let Pending { latest, barriers } = std::mem::take(&mut *pending.lock());
        for (_, job) in latest {
            let result = match &job {
                PersistJob::Topics(t) => files.save_topics(t),
                PersistJob::Groups(g) => files.save_subscription_groups(g),
                PersistJob::Offsets(o) => files.save_consumer_offsets(o),
                PersistJob::DelayOffsets(d) => files.save_delay_offsets(d),
                PersistJob::Barrier(_) => Ok(()),
            };
            if let Err(e) = result {
                warn!(error = %e, "metadata write failed");
            }
        }
        for ack in barriers {
            let _ = ack.send(());
        }
        if !woken {
            return; // every handle is gone and what they left is written
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_submitted_faster_than_written_do_not_queue_up() {
        let dir = tempfile::tempdir().unwrap();
        let p = Persister::start(MetadataFiles::new(dir.path()));
        for i in 0..2_000u32 {
            let mut f = SubscriptionGroupFile::default();
            f.data_version.counter = i64::from(i);
            p.submit(PersistJob::Groups(f));
            // One waiting snapshot per file, whatever the rate.
            assert!(p.pending_len() <= 1);
        }
        p.sync();
        assert_eq!(p.pending_len(), 0);
        let saved = MetadataFiles::new(dir.path())
            .load_subscription_groups()
            .unwrap();
        assert_eq!(
            saved.data_version.counter, 1999,
            "the newest snapshot is written"
        );
    }
}
