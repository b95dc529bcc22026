//! `StoreConfig`: every knob of the store, named and defaulted as RocketMQ's
//! `MessageStoreConfig` so an operator's `broker.conf` keys map onto it (serde camelCase).
//! Sizes are configurable so tests can use tiny files and cross file boundaries quickly.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `flushDiskType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum FlushDiskType {
    /// Background flush by interval and dirty pages; an append is acknowledged when it is in the
    /// page cache.
    #[default]
    #[serde(rename = "ASYNC_FLUSH")]
    AsyncFlush,
    /// Group commit: an append is acknowledged after its bytes are fsynced.
    #[serde(rename = "SYNC_FLUSH")]
    SyncFlush,
}

/// Store settings (RocketMQ names in `camelCase`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StoreConfig {
    /// `storePathRootDir`: root of `commitlog/`, `consumequeue/`, `index/`, `checkpoint`, `abort`,
    /// `config/`.
    pub store_path_root_dir: PathBuf,
    /// `mappedFileSizeCommitLog`: 1 GiB.
    pub mapped_file_size_commit_log: u64,
    /// `mappedFileSizeConsumeQueue`: 300 000 units x 20 bytes. Rounded down to a multiple of 20.
    pub mapped_file_size_consume_queue: u64,
    /// `flushDiskType`.
    pub flush_disk_type: FlushDiskType,
    /// `flushIntervalCommitLog` (ms): async flush period, 500.
    pub flush_interval_commit_log: u64,
    /// `flushCommitLogLeastPages`: async flush only when this many 4 KiB pages are dirty, 4.
    pub flush_commit_log_least_pages: u64,
    /// `flushCommitLogThoroughInterval` (ms): flush regardless of pages after this long, 10 000.
    pub flush_commit_log_thorough_interval: u64,
    /// `syncFlushTimeout` (ms): SYNC_FLUSH appends waiting longer get FLUSH_DISK_TIMEOUT, 5 000.
    pub sync_flush_timeout: u64,
    /// `flushIntervalConsumeQueue` (ms): consume-queue and index flush period, 1 000.
    pub flush_interval_consume_queue: u64,
    /// `flushConsumeQueueLeastPages`: 2.
    pub flush_consume_queue_least_pages: u64,
    /// `flushConsumeQueueThoroughInterval` (ms): 60 000.
    pub flush_consume_queue_thorough_interval: u64,
    /// `fileReservedTime` (hours): CommitLog files older than this are deleted, 72.
    pub file_reserved_time: u64,
    /// `deleteWhen`: hours of the day ("04", or "03;04") when expired files are deleted.
    pub delete_when: String,
    /// `diskMaxUsedSpaceRatio` (%): above this, expired files are deleted at any hour, 75.
    pub disk_max_used_space_ratio: u64,
    /// `diskSpaceCleanForciblyRatio` (%): above this, the oldest files are deleted even if not expired
    /// (never one a reader holds), 85.
    pub disk_space_clean_forcibly_ratio: u64,
    /// `diskSpaceWarningLevelRatio` (%): the hard watermark. Above it appends are refused with a
    /// reason naming the path, the usage and the threshold, 90.
    pub disk_space_warning_level_ratio: u64,
    /// `cleanResourceInterval` (ms): how often retention runs, 10 000.
    pub clean_resource_interval: u64,
    /// `deleteCommitLogFilesInterval` (ms): pause between two file deletions, 100.
    pub delete_commit_log_files_interval: u64,
    /// `maxMessageSize`: 4 MiB.
    pub max_message_size: usize,
    /// `messageIndexEnable`.
    pub message_index_enable: bool,
    /// `maxHashSlotNum`: 5 000 000.
    pub max_hash_slot_num: u32,
    /// `maxIndexNum`: 20 000 000.
    pub max_index_num: u32,
    /// `maxTransferBytesOnMessageInMemory`: 256 KiB.
    pub max_transfer_bytes_on_message_in_memory: usize,
    /// `maxTransferCountOnMessageInMemory`: 32.
    pub max_transfer_count_on_message_in_memory: usize,
    /// `maxTransferBytesOnMessageInDisk`: 64 KiB.
    pub max_transfer_bytes_on_message_in_disk: usize,
    /// `maxTransferCountOnMessageInDisk`: 8.
    pub max_transfer_count_on_message_in_disk: usize,
    /// `accessMessageInMemoryMaxRatio` (% of RAM): data further behind the write position than this
    /// is treated as on disk for the transfer caps, and (with `slaveReadEnable`) makes a master
    /// suggest its slave; 40.
    pub access_message_in_memory_max_ratio: u64,
    /// `messageDelayLevel`: only used to recompute the tags code (delivery time) of
    /// SCHEDULE_TOPIC_XXXX units when a consume queue is rebuilt from the CommitLog.
    pub message_delay_level: String,
    /// Pre-touch (warm) each new mapped file before it is used, so appends never take first-touch
    /// page faults (RocketMQ's `warmMapedFileEnable`, on here by default).
    pub warm_mapped_file_enable: bool,
    /// `storePathEpochFile`: the epoch history (controller mode); empty means
    /// `<storePathRootDir>/epochFileCheckpoint`.
    pub store_path_epoch_file: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        StoreConfig {
            store_path_root_dir: home.join("store"),
            mapped_file_size_commit_log: 1024 * 1024 * 1024,
            mapped_file_size_consume_queue: 300_000 * 20,
            flush_disk_type: FlushDiskType::AsyncFlush,
            flush_interval_commit_log: 500,
            flush_commit_log_least_pages: 4,
            flush_commit_log_thorough_interval: 10_000,
            sync_flush_timeout: 5_000,
            flush_interval_consume_queue: 1_000,
            flush_consume_queue_least_pages: 2,
            flush_consume_queue_thorough_interval: 60_000,
            file_reserved_time: 72,
            delete_when: "04".to_string(),
            disk_max_used_space_ratio: 75,
            disk_space_clean_forcibly_ratio: 85,
            disk_space_warning_level_ratio: 90,
            clean_resource_interval: 10_000,
            delete_commit_log_files_interval: 100,
            max_message_size: 4 * 1024 * 1024,
            message_index_enable: true,
            max_hash_slot_num: 5_000_000,
            max_index_num: 20_000_000,
            max_transfer_bytes_on_message_in_memory: 256 * 1024,
            max_transfer_count_on_message_in_memory: 32,
            max_transfer_bytes_on_message_in_disk: 64 * 1024,
            max_transfer_count_on_message_in_disk: 8,
            access_message_in_memory_max_ratio: 40,
            message_delay_level: "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"
                .to_string(),
            warm_mapped_file_enable: true,
            store_path_epoch_file: String::new(),
        }
    }
}

impl StoreConfig {
    /// Defaults rooted at `root`.
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        StoreConfig {
            store_path_root_dir: root.into(),
            ..Default::default()
        }
    }
    pub fn commit_log_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("commitlog")
    }
    pub fn consume_queue_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("consumequeue")
    }
    pub fn index_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("index")
    }
    pub fn checkpoint_path(&self) -> PathBuf {
        self.store_path_root_dir.join("checkpoint")
    }
    pub fn abort_path(&self) -> PathBuf {
        self.store_path_root_dir.join("abort")
    }
    /// `storePathEpochFile`, defaulting under the root.
    pub fn epoch_file_path(&self) -> PathBuf {
        match self.store_path_epoch_file.as_str() {
            "" => self.store_path_root_dir.join("epochFileCheckpoint"),
            p => PathBuf::from(p),
        }
    }
    pub fn config_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("config")
    }
    pub fn sync_flush_timeout(&self) -> Duration {
        Duration::from_millis(self.sync_flush_timeout)
    }
    /// Delay of `level` (1-based, clamped to the last level) in ms, from `messageDelayLevel`.
    pub fn delay_level_millis(&self, level: i64) -> i64 {
        let levels: Vec<i64> = self
            .message_delay_level
            .split_whitespace()
            .filter_map(|t| {
                let (n, unit) = t.split_at(t.len().saturating_sub(1));
                let mul = match unit {
                    "s" => 1000,
                    "m" => 60_000,
                    "h" => 3_600_000,
                    "d" => 86_400_000,
                    _ => return None,
                };
                n.parse::<i64>().ok().map(|v| v * mul)
            })
            .collect();
        if levels.is_empty() || level < 1 {
            return 0;
        }
        levels[(level as usize).min(levels.len()) - 1]
    }

    /// Consume-queue file size rounded down to whole 20-byte units.
    pub fn cq_file_size(&self) -> u64 {
        (self.mapped_file_size_consume_queue / 20).max(1) * 20
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserializes_rocketmq_names() {
        let c: StoreConfig = serde_json::from_str(
            r#"{"storePathRootDir":"/tmp/x","flushDiskType":"SYNC_FLUSH","mappedFileSizeCommitLog":65536,"deleteWhen":"03;04"}"#,
        )
        .unwrap();
        assert_eq!(c.flush_disk_type, FlushDiskType::SyncFlush);
        assert_eq!(c.mapped_file_size_commit_log, 65536);
        assert_eq!(c.store_path_root_dir, PathBuf::from("/tmp/x"));
        assert_eq!(c.max_message_size, 4 * 1024 * 1024);
        assert_eq!(c.delete_when, "03;04");
        let mut d = StoreConfig::with_root("/r");
        d.mapped_file_size_consume_queue = 1001;
        assert_eq!(d.cq_file_size(), 1000);
        assert_eq!(d.commit_log_dir(), PathBuf::from("/r/commitlog"));
        assert_eq!(d.delay_level_millis(1), 1000);
        assert_eq!(d.delay_level_millis(5), 60_000);
        assert_eq!(d.delay_level_millis(99), 7_200_000);
        assert_eq!(d.delay_level_millis(0), 0);
    }
}
