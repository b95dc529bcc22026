//! The store settings an operator may change while the broker runs (UPDATE_BROKER_CONFIG), the
//! ones RocketMQ's store reads each time it uses them: the size cap on appends, the pull transfer
//! caps and in-memory window, and the retention knobs. Each is an atomic read on its path, so a
//! change applies to the next append, pull or clean-up pass without a lock on the hot path; every
//! other `StoreConfig` key is read once at open and waits for a restart.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::config::StoreConfig;

/// The hot store keys, as `StoreConfig` names them.
pub const HOT_STORE_KEYS: &[&str] = &[
    "maxMessageSize",
    "maxTransferBytesOnMessageInMemory",
    "maxTransferCountOnMessageInMemory",
    "maxTransferBytesOnMessageInDisk",
    "maxTransferCountOnMessageInDisk",
    "accessMessageInMemoryMaxRatio",
    "fileReservedTime",
    "deleteWhen",
    "diskMaxUsedSpaceRatio",
];

/// The live values of [`HOT_STORE_KEYS`].
pub struct StoreTunables {
    pub max_message_size: AtomicUsize,
    pub max_transfer_bytes_in_memory: AtomicUsize,
    pub max_transfer_count_in_memory: AtomicUsize,
    pub max_transfer_bytes_in_disk: AtomicUsize,
    pub max_transfer_count_in_disk: AtomicUsize,
    pub access_in_memory_max_ratio: AtomicU64,
    pub file_reserved_time: AtomicU64,
    pub disk_max_used_space_ratio: AtomicU64,
    pub delete_when: ArcSwap<String>,
}

impl StoreTunables {
    pub fn new(cfg: &StoreConfig) -> Self {
        StoreTunables {
            max_message_size: AtomicUsize::new(cfg.max_message_size),
            max_transfer_bytes_in_memory: AtomicUsize::new(
                cfg.max_transfer_bytes_on_message_in_memory,
            ),
            max_transfer_count_in_memory: AtomicUsize::new(
                cfg.max_transfer_count_on_message_in_memory,
            ),
            max_transfer_bytes_in_disk: AtomicUsize::new(cfg.max_transfer_bytes_on_message_in_disk),
            max_transfer_count_in_disk: AtomicUsize::new(cfg.max_transfer_count_on_message_in_disk),
            access_in_memory_max_ratio: AtomicU64::new(cfg.access_message_in_memory_max_ratio),
            file_reserved_time: AtomicU64::new(cfg.file_reserved_time),
            disk_max_used_space_ratio: AtomicU64::new(cfg.disk_max_used_space_ratio),
            delete_when: ArcSwap::from_pointee(cfg.delete_when.clone()),
        }
    }

    /// Take the hot values of `cfg` (a checked config); the others are ignored.
    pub fn apply(&self, cfg: &StoreConfig) {
        self.max_message_size.store(cfg.max_message_size, Relaxed);
        self.max_transfer_bytes_in_memory
            .store(cfg.max_transfer_bytes_on_message_in_memory, Relaxed);
        self.max_transfer_count_in_memory
            .store(cfg.max_transfer_count_on_message_in_memory, Relaxed);
        self.max_transfer_bytes_in_disk
            .store(cfg.max_transfer_bytes_on_message_in_disk, Relaxed);
        self.max_transfer_count_in_disk
            .store(cfg.max_transfer_count_on_message_in_disk, Relaxed);
        self.access_in_memory_max_ratio
            .store(cfg.access_message_in_memory_max_ratio, Relaxed);
        self.file_reserved_time
            .store(cfg.file_reserved_time, Relaxed);
        self.disk_max_used_space_ratio
            .store(cfg.disk_max_used_space_ratio, Relaxed);
        if **self.delete_when.load() != cfg.delete_when {
            self.delete_when.store(Arc::new(cfg.delete_when.clone()));
        }
    }

    /// `base` with the live hot values over it (for the retention pass, which takes a config).
    pub fn overlay(&self, base: &StoreConfig) -> StoreConfig {
        StoreConfig {
            max_message_size: self.max_message_size.load(Relaxed),
            file_reserved_time: self.file_reserved_time.load(Relaxed),
            disk_max_used_space_ratio: self.disk_max_used_space_ratio.load(Relaxed),
            delete_when: self.delete_when.load().as_ref().clone(),
            ..base.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_changes_only_the_hot_values() {
        let base = StoreConfig::default();
        let t = StoreTunables::new(&base);
        let changed = StoreConfig {
            max_message_size: 1024,
            delete_when: "03;05".into(),
            file_reserved_time: 1,
            mapped_file_size_commit_log: 4096,
            ..base.clone()
        };
        t.apply(&changed);
        assert_eq!(t.max_message_size.load(Relaxed), 1024);
        let seen = t.overlay(&base);
        assert_eq!(seen.delete_when, "03;05");
        assert_eq!(seen.file_reserved_time, 1);
        assert_eq!(
            seen.mapped_file_size_commit_log,
            base.mapped_file_size_commit_log
        );
    }
}
