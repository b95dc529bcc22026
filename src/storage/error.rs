//! `StoreError`: what the store reports to the broker. Each variant maps to one wire answer
//! (FLUSH_DISK_TIMEOUT, SERVICE_NOT_AVAILABLE, MESSAGE_ILLEGAL, SYSTEM_ERROR), so the broker maps
//! errors in one place without parsing strings.

use std::path::PathBuf;

use thiserror::Error;

use crate::protocol::ProtocolError;

#[derive(Debug, Error)]
pub enum StoreError {
    /// An I/O error on a store file.
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The disk is past the hard watermark (or the store is otherwise not writable). The reason
    /// names the path, the usage and the threshold; the broker answers SERVICE_NOT_AVAILABLE.
    #[error("store refuses writes: {0}")]
    DiskFull(String),
    /// A SYNC_FLUSH append was not durable within `syncFlushTimeout`: FLUSH_DISK_TIMEOUT. The
    /// record is stored; only its durability is unconfirmed.
    #[error("flush did not complete within {timeout_ms} ms")]
    FlushTimeout { timeout_ms: u64 },
    /// The flush thread failed to write the data back (I/O error); the append is not durable.
    #[error("flush failed: {0}")]
    FlushFailed(String),
    /// The message violates a layout limit (size, topic, properties): MESSAGE_ILLEGAL.
    #[error("illegal message: {0}")]
    IllegalMessage(String),
    /// A stored file is damaged beyond what recovery repairs.
    #[error("corrupt store data: {0}")]
    Corrupt(String),
    /// A topic name that would put a file outside the store's directory (not one plain path
    /// component). The broker's name rule refuses such names first; this is the store's own guard.
    #[error(
        "the topic name [{0}] cannot be a store file name: it would leave the store directory"
    )]
    OutsideStore(String),
    /// Replicated bytes offered at an offset other than the slave's own CommitLog end: nothing
    /// was written (the HA client must reconnect and report its end again).
    #[error("replicated bytes at offset {at}, but the CommitLog ends at {end}")]
    NotAtCommitLogEnd { at: u64, end: u64 },
    /// An empty slave can only start at a CommitLog file start (a multiple of the file size).
    #[error("replication cannot start an empty CommitLog at {at}: not a multiple of the file size {file_size}")]
    ReplicaStartUnaligned { at: u64, file_size: u64 },
    /// The store was shut down.
    #[error("the store is shut down")]
    ShutDown,
    /// Another process holds the store's lock.
    #[error("data dir {} is in use by another broker{}", dir.display(), pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    InUse { dir: PathBuf, pid: Option<u32> },
    /// `storePathRootDir` (or a directory inside it) exists and is not a directory.
    #[error("data dir {} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// An epoch-file change that would break the history's order (controller mode).
    #[error("epoch file: {0}")]
    Epoch(String),
    /// A runtime truncation point that is not where a record (or an end-of-file blank) starts.
    #[error("cannot truncate the CommitLog at {offset}: not a record boundary ({reason})")]
    NotARecordBoundary { offset: u64, reason: String },
    /// A runtime truncation point outside the CommitLog's `[min, max]`.
    #[error("cannot truncate the CommitLog at {offset}: it holds [{min}, {max}]")]
    TruncateOutOfRange { offset: u64, min: u64, max: u64 },
    /// A metadata JSON file and its `.bak` are both unreadable.
    #[error("metadata file {path} unreadable: {reason}")]
    Metadata { path: PathBuf, reason: String },
}

impl StoreError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<ProtocolError> for StoreError {
    /// A record the layout refuses. The reason is carried without `ProtocolError`'s own
    /// "illegal message: " prefix, which `StoreError::IllegalMessage` adds once.
    fn from(e: ProtocolError) -> Self {
        match e {
            ProtocolError::IllegalMessage(reason) => StoreError::IllegalMessage(reason),
            other => StoreError::IllegalMessage(other.to_string()),
        }
    }
}

/// Attach a path to `std::io::Result`s.
pub(crate) trait IoContext<T> {
    fn at(self, path: &std::path::Path) -> Result<T, StoreError>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::io(path, e))
    }
}
