//! The admin client library: what `mqadmin` and the dashboard use to manage a RocketMQ 4.x
//! deployment (ours or Apache's: only the wire is assumed). [`AdminClient`] holds the
//! connections; each file adds the async calls of one concern, one method per request code,
//! returning typed values (`protocol::body` shapes) or an [`AdminError`]. Composite helpers
//! (`topic_status`, `group_consume_stats`, `reset_offset_by_time`...) apply RocketMQ's routing
//! rule: the topic (or `%RETRY%<group>`) route from the name servers, then one call per broker
//! set to its master, else a slave.
//!
//! ```no_run
//! # async fn demo() -> actormq::admin::Result<()> {
//! let admin = actormq::admin::AdminClient::new("127.0.0.1:9876")?;
//! let topics = admin.topic_list().await?;
//! let stats = admin.topic_status("TopicTest").await?;
//! println!("{} topics; {} queues", topics.topic_list.len(), stats.offset_table.len());
//! # Ok(()) }
//! ```
//!
//! Layering: uses `protocol`, `remoting` and the client library's connection set and per-queue
//! calls (`client::net`, `client::broker_api`); never `actors`.

pub mod acl;
pub mod broker;
pub mod client;
pub mod commands;
pub mod controller;
pub mod error;
pub mod group;
pub mod message;
pub mod namesrv;
pub mod offset;
pub mod overview;
pub mod relay;
pub mod stats;
pub mod tls_props;
pub mod tools_config;
pub mod topic;
pub mod track;

pub use broker::ConfigTable;
pub use client::{AdminClient, DEFAULT_TIMEOUT};
pub use error::{AdminError, Result};
pub use group::SubscriptionGroups;
pub use message::{KeyQuery, TOOLS_CONSUMER_GROUP};
pub use offset::{ResetMode, ResetResult, RollbackStats, RESET_TO_MAX};
pub use relay::ConsumeQueueQuery;
pub use stats::{BrokerStatsData, BrokerStatsItem};
pub use track::{MessageTrack, TrackType};
