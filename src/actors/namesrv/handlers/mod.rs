//! One file per name-server request (or small family of requests).

pub mod cluster_info;
pub mod data_version;
pub mod get_route;
pub mod kv_config;
pub mod namesrv_config;
pub mod register_broker;
pub mod topic_admin;
pub mod topic_list;
pub mod unregister_broker;

pub use crate::actors::reply::{json_body, mailbox, HandlerResult};
