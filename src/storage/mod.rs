//! The message store: CommitLog, consume queues, index, checkpoint, flush, recovery, retention and
//! metadata files, in RocketMQ 4.x's on-disk formats (docs/protocol.md §6). Plain Rust with blocking I/O
//! on the store's own threads; the broker talks to it through [`MessageStore`].
//!
//! Map of the modules, following a message:
//! * `types` — what goes in and comes out of the facade; `store` — open, append, shutdown;
//!   `read` — pulls, offsets, lookups.
//! * `commit_log` over `mapped_file` (fixed-size mmapped files, zero-copy `Bytes` reads), with
//!   `allocator` creating and pre-touching the next file ahead of need.
//! * `consume_queue` — the 20-byte units, written inline by the append under the put lock.
//! * `flush` — ASYNC_FLUSH by interval/pages, SYNC_FLUSH group commit and the `Durability` an
//!   appender awaits.
//! * `dispatcher` — follows the CommitLog: index entries (`index_file`) and arrival notices.
//! * `checkpoint`, `recovery` — the abort marker, the checkpoint, the CRC-checked scan.
//! * `replica` — replication's store side: where a new slave starts, and a slave's append of the
//!   master's raw CommitLog bytes (consume queues written as for a local append).
//! * `retention` — expiry, disk pressure and the hard watermark; `metadata` — the JSON files.
//! * `epoch` — the epoch history (controller mode) and where a slave must truncate; `truncate` —
//!   cutting the running store back to an offset; `role` — becoming master or slave of an epoch.
//!
//! Threads (all named `store-*`): allocate, flush, flush-cq (consume queues, index, checkpoint),
//! dispatch, retention. An append crosses none of them unless it waits for a SYNC_FLUSH ack.

pub mod allocator;
pub mod checkpoint;
pub mod commit_log;
pub mod config;
pub mod consume_queue;
pub mod dispatcher;
pub mod epoch;
pub mod error;
pub mod file_queue;
pub mod flush;
pub mod index_file;
pub mod mapped_file;
pub mod metadata;
mod read;
pub mod recovery;
pub mod replica;
pub mod retention;
mod role;
pub mod runtime_stats;
pub mod store;
pub mod tail;
pub mod topic_files;
mod truncate;
pub mod tunables;
pub mod types;

pub use config::{FlushDiskType, StoreConfig};
pub use dispatcher::{Arrival, ArrivalListener};
pub use error::StoreError;
pub use flush::Durability;
pub use store::MessageStore;
pub use types::{
    GetResult, GetStatus, MessageBatchToStore, MessageOrigin, MessageToStore, PutResult, TagsFilter,
};
