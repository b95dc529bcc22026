//! One file per broker request (or small family of requests). Each handler decodes its header and
//! body, calls the plain logic (through `BrokerCtx` or an actor), and builds the reply; errors are
//! returned as `ServiceError` and turned into responses in one place (`crate::error`).

pub mod acl;
pub mod admin;
pub mod broker_config;
pub mod broker_stats;
pub mod client;
pub mod client_call;
pub mod clone_offset;
pub mod consume_queue;
pub mod consumer_offset;
pub mod delete_group;
pub mod end_transaction;
pub mod epoch_cache;
pub mod lock;
pub mod producers;
pub mod pull;
pub mod query;
pub mod queue_offset;
pub mod reset_offset;
pub mod role_changed;
pub mod runtime_info;
pub mod send;
pub mod send_back;
pub mod sync;
pub mod topic_consumers;

pub use crate::actors::reply::{json_body, mailbox, ok, HandlerResult};
