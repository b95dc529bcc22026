//! The broker: actix shells over the plain logic in `logic/`.
//!
//! Threads: connections live on the I/O arbiters (one actor each); the send and pull handlers run
//! there and call the store directly. The control arbiter (the system's) hosts the
//! `HeartbeatActor`, `ScheduleActor`, `Registrar`, on a master the `TransactionActor` and, on a slave, the `SlaveSyncActor`; `QueueActor`s live on the I/O arbiters. The
//! `ReplicationActor` (master: HA listener and streaming; slave: the link to its master and the
//! blocking replicated appends) has an arbiter of its own. The store's own threads (flush,
//! dispatch, allocation, retention) and the metadata `Persister` do all other blocking I/O.

pub mod context;
pub mod controller_api;
pub mod controller_mode;
pub mod dispatch;
pub mod handlers;
pub mod heartbeat;
pub mod logic;
pub mod metrics;
pub mod persist;
pub mod queue;
pub mod registrar;
pub mod replicas;
pub mod replication;
pub mod schedule;
pub mod slave_sync;
pub mod startup;
pub mod stats;
pub mod transaction;
pub mod tunables;

pub use startup::{start, BrokerHandle, StartError};
