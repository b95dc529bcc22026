//! JSON bodies: the shapes RocketMQ's Java classes serialize with fastjson (property names are
//! getter names, written in alphabetical order, nulls omitted).

pub mod register;
pub mod route;
pub mod topic;

pub use register::{RegisterBrokerBody, TopicConfigSerializeWrapper};
pub use route::{BrokerData, ClusterInfo, KvTable, QueueData, TopicList, TopicRouteData};
pub use topic::{perm, DataVersion, SubscriptionGroupConfig, TopicConfig};
