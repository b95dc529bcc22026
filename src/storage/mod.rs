//! The message store: CommitLog, consume queues, index, checkpoint, flush, recovery, retention and
//! metadata files, in RocketMQ 4.x's on-disk formats (protocol.md §6). Plain Rust with blocking I/O
//! on the store's own threads; the broker talks to it through [`MessageStore`].

pub mod allocator;
pub mod checkpoint;
pub mod commit_log;
pub mod config;
pub mod consume_queue;
pub mod dispatcher;
pub mod error;
pub mod flush;
pub mod index_file;
pub mod mapped_file;
pub mod metadata;
mod read;
pub mod recovery;
pub mod retention;
pub mod store;
pub mod types;

pub use config::{FlushDiskType, StoreConfig};
pub use dispatcher::{Arrival, ArrivalListener};
pub use error::StoreError;
pub use flush::Durability;
pub use store::MessageStore;
pub use types::{GetResult, GetStatus, MessageBatchToStore, MessageToStore, PutResult, TagsFilter};
