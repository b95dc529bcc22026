//! Creating and deleting a topic's consume-queue files, off the caller's thread.
//!
//! The broker calls `prepare_topic` when it creates a topic and `delete_topic` when an admin
//! deletes one, both from a connection's I/O thread. Each does only memory work and at most one
//! `rename` there; the file work (asking the allocator for each queue's first file, removing a
//! deleted topic's directory tree) runs on the `store-topics` thread, one job at a time.
//!
//! Deletion first moves `consumequeue/<topic>` to `deleted/<topic>.<n>` under the put lock, so a
//! topic re-created at once starts from an empty directory while the old tree is removed in the
//! background. Every topic name is turned into a path by [`StoreConfig::topic_queue_dir`], which
//! refuses names that are not one plain path component (the store's own guard against traversal,
//! behind the broker's name rule).

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::{unbounded, Sender};

use super::config::StoreConfig;
use super::consume_queue::ConsumeQueue;
use super::error::{IoContext, StoreError};
use super::store::MessageStore;
use crate::protocol::validate::MAX_QUEUE_NUMS;

/// Where deleted topics' directories wait for removal (outside `consumequeue/`, so recovery never
/// sees them).
pub const DELETED_DIR: &str = "deleted";

impl StoreConfig {
    /// `consumequeue/<topic>`, or `OutsideStore` when `topic` is not a single plain path
    /// component (empty, `.`, `..`, containing `/` or NUL): such a name could leave the store.
    pub fn topic_queue_dir(&self, topic: &str) -> Result<PathBuf, StoreError> {
        let mut parts = Path::new(topic).components();
        let plain = matches!(
            (parts.next(), parts.next()),
            (Some(Component::Normal(c)), None) if c == topic
        );
        if !plain || topic.contains('\0') {
            return Err(StoreError::OutsideStore(topic.chars().take(300).collect()));
        }
        Ok(self.consume_queue_dir().join(topic))
    }

    pub fn deleted_dir(&self) -> PathBuf {
        self.store_path_root_dir.join(DELETED_DIR)
    }
}

enum Job {
    /// Have the allocator create the first file of each queue still registered and still empty.
    Prepare(Vec<Arc<ConsumeQueue>>),
    /// Remove whatever a previous run left in `deleted/`.
    Purge(PathBuf),
    /// Unmap a deleted topic's queues and remove its moved directory.
    Remove {
        queues: Vec<Arc<ConsumeQueue>>,
        dir: PathBuf,
    },
}

/// Handle to the `store-topics` thread; the thread ends when the handle is dropped.
pub(crate) struct TopicFiles {
    tx: Sender<Job>,
}

impl TopicFiles {
    /// Start the thread; it removes what a previous run left in `deleted/` first.
    pub(crate) fn start(store: std::sync::Weak<MessageStore>, deleted: PathBuf) -> TopicFiles {
        let (tx, rx) = unbounded::<Job>();
        let _ = tx.send(Job::Purge(deleted));
        std::thread::Builder::new()
            .name("store-topics".into())
            .spawn(move || {
                for job in rx {
                    match job {
                        Job::Prepare(queues) => {
                            let Some(s) = store.upgrade() else { return };
                            s.request_first_files(&queues);
                        }
                        Job::Purge(deleted) => {
                            let left = std::fs::read_dir(&deleted).into_iter().flatten();
                            for entry in left.flatten() {
                                remove_tree(&entry.path());
                            }
                        }
                        Job::Remove { queues, dir } => {
                            drop(queues);
                            remove_tree(&dir);
                        }
                    }
                }
            })
            .expect("spawn store-topics thread");
        TopicFiles { tx }
    }

    fn submit(&self, job: Job) {
        let _ = self.tx.send(job);
    }
}

fn remove_tree(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!("cannot remove {}: {e}", dir.display());
        }
    }
}

static DELETIONS: AtomicU64 = AtomicU64::new(0);

impl MessageStore {
    /// A new topic: register its first `queues` queues (at most `MAX_QUEUE_NUMS`) and have their
    /// first consume-queue files created in the background, so the first message of each queue
    /// does not wait for the file.
    pub fn prepare_topic(&self, topic: &str, queues: i32) -> Result<(), StoreError> {
        self.cfg.topic_queue_dir(topic)?;
        let queues = (0..queues.clamp(0, MAX_QUEUE_NUMS))
            .map(|q| self.queue_or_create(topic, q))
            .collect::<Result<Vec<_>, _>>()?;
        self.topic_files.submit(Job::Prepare(queues));
        Ok(())
    }

    /// [`prepare_topic`](Self::prepare_topic) for one queue.
    pub fn prepare_queue(&self, topic: &str, queue_id: i32) -> Result<(), StoreError> {
        let q = self.queue_or_create(topic, queue_id)?;
        self.topic_files.submit(Job::Prepare(vec![q]));
        Ok(())
    }

    fn request_first_files(&self, queues: &[Arc<ConsumeQueue>]) {
        for q in queues {
            let registered = self
                .find_queue(q.topic(), q.queue_id())
                .is_some_and(|r| Arc::ptr_eq(&r, q));
            if registered && q.files().is_empty() {
                self.allocator
                    .request(q.files().dir(), 0, self.cfg.cq_file_size(), false, false);
            }
        }
    }

    /// DELETE_TOPIC_IN_BROKER: drop the topic's consume queues (a later message starts the topic
    /// at offset 0) and remove their files in the background. CommitLog records stay until
    /// retention removes them (no queue reaches them any more). Returns the number of queues.
    pub fn delete_topic(&self, topic: &str) -> Result<usize, StoreError> {
        let dir = self.cfg.topic_queue_dir(topic)?;
        let deleted = self.cfg.deleted_dir();
        let n = DELETIONS.fetch_add(1, Ordering::Relaxed);
        let moved = deleted.join(format!("{}.{n}", crate::clock::now_ms()));
        let queues: Vec<Arc<ConsumeQueue>> = {
            let _no_appends = self.put_lock.lock();
            let removed = self.cqs.write().remove(topic);
            // Nothing the allocator prepared for the old queues may be handed to new ones.
            self.allocator.discard_under(&dir);
            std::fs::create_dir_all(&deleted).at(&deleted)?;
            match std::fs::rename(&dir, &moved) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io(&dir, e)),
            }
            removed
                .map(|m| m.into_values().collect())
                .unwrap_or_default()
        };
        let count = queues.len();
        self.topic_files.submit(Job::Remove { queues, dir: moved });
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_become_queue_dirs() {
        let cfg = StoreConfig {
            store_path_root_dir: PathBuf::from("/data/store"),
            ..Default::default()
        };
        assert_eq!(
            cfg.topic_queue_dir("%RETRY%g|x").unwrap(),
            PathBuf::from("/data/store/consumequeue/%RETRY%g|x")
        );
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a/",
            "/abs",
            "%RETRY%../../../../escaped",
            "a\0b",
        ] {
            assert!(
                matches!(cfg.topic_queue_dir(bad), Err(StoreError::OutsideStore(_))),
                "{bad:?}"
            );
        }
    }
}
