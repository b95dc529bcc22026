//! The RocketMQ 4.x client library on actix: [`Producer`], [`TransactionProducer`],
//! [`PushConsumer`] and [`PullConsumer`] handles with plain async methods over a shared
//! [`ClientInstance`] (one per process and name-server set). Actors: `InstanceActor` (routes, broker requests), `HeartbeatActor`,
//! one `RebalanceActor` per consumer group; the logic they drive is plain, unit-tested structs
//! (`route`, `broker_select`, `latency`, `allocate`, `process_queue`, `offset_store`).
//!
//! ```no_run
//! # async fn demo() -> actormq::client::Result<()> {
//! use actormq::client::*;
//! let p = Producer::start(ProducerConfig::new("127.0.0.1:9876", "pg")).await?;
//! let r = p.send(Message::new("TopicTest", "hello").with_tags("TagA")).await?;
//! println!("{} in {:?}", r.msg_id, r.queue);
//! # Ok(()) }
//! ```

pub mod admin_requests;
pub mod allocate;
pub mod broker_api;
pub mod broker_select;
pub mod config;
pub mod consume;
pub mod consumer;
pub mod error;
pub mod heartbeat;
pub mod instance;
pub mod latency;
pub mod message;
pub mod net;
pub mod offset_store;
pub mod process_queue;
pub mod producer;
pub mod pull_consumer;
pub mod push_consumer;
pub mod rebalance;
pub mod route;
pub mod trace;
pub mod transaction;

pub use crate::protocol::body::{ConsumeFromWhere, MessageModel};
pub use allocate::AllocateStrategy;
pub use broker_api::PullStatus;
pub use config::{AccessChannel, ClientConfig, ConsumerConfig, ProducerConfig};
pub use consumer::Listener;
pub use error::{ClientError, Result};
pub use instance::ClientInstance;
pub use message::{ConsumeResult, Message, MessageExt, MessageQueue, SendResult, SendStatus};
pub use producer::{queue_for_key, Producer};
pub use pull_consumer::{PullConsumer, PullResult};
pub use push_consumer::PushConsumer;
pub use trace::{query_trace, query_trace_in, TraceRecord};
pub use transaction::{
    LocalTransactionState, TransactionListener, TransactionProducer, TransactionSendResult,
};
