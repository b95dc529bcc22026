//! JSON bodies: the shapes RocketMQ's Java classes serialize with fastjson (property names are
//! getter names, written in alphabetical order, nulls omitted).

pub mod topic;

pub use topic::{perm, DataVersion, SubscriptionGroupConfig, TopicConfig};
