//! `Persister`: a dedicated thread that writes the broker's metadata files (topics,
//! subscription groups, consumer offsets, delay offsets). Handlers and actors submit the latest
//! snapshot and go on; the thread writes each file atomically (temp file, fsync, rename, `.bak`).
//! Snapshots of the same file that queue up are coalesced: only the newest is written.

use crossbeam_channel::{unbounded, Receiver, Sender};
use std::collections::BTreeMap;
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

/// Handle to the persister thread (which ends when every handle is dropped).
#[derive(Clone)]
pub struct Persister {
    tx: Sender<PersistJob>,
}

impl Persister {
    pub fn start(files: MetadataFiles) -> Persister {
        let (tx, rx) = unbounded();
        std::thread::Builder::new()
            .name("metadata-persist".into())
            .spawn(move || run(files, rx))
            .expect("spawn persister thread");
        Persister { tx }
    }

    pub fn submit(&self, job: PersistJob) {
        let _ = self.tx.send(job);
    }

    /// Wait (blocking, bounded by the writes queued) until everything submitted so far is written.
    pub fn sync(&self) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.submit(PersistJob::Barrier(tx));
        let _ = rx.recv_timeout(std::time::Duration::from_secs(10));
    }
}

fn run(files: MetadataFiles, rx: Receiver<PersistJob>) {
    while let Ok(first) = rx.recv() {
        // Coalesce: keep only the newest snapshot per file among what is queued.
        let mut latest: BTreeMap<u8, PersistJob> = BTreeMap::new();
        let mut barriers = Vec::new();
        for job in std::iter::once(first).chain(rx.try_iter()) {
            match job {
                PersistJob::Barrier(ack) => barriers.push(ack),
                j => {
                    latest.insert(j.slot(), j);
                }
            }
        }
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
    }
}
