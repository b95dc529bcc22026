//! JSON bodies: the shapes RocketMQ's Java classes serialize with fastjson (property names are
//! getter names, written in alphabetical order, nulls omitted).

pub mod admin;
pub mod broker;
pub mod controller;
pub mod fastjson;
pub mod heartbeat;
pub mod register;
pub mod route;
pub mod stats;
pub mod topic;

pub use broker::{
    Connection, ConsumeStats, ConsumerConnection, GetConsumerListByGroupResponseBody, GroupList,
    LockBatchRequestBody, LockBatchResponseBody, MessageQueue, OffsetWrapper, ProducerConnection,
    ResetOffsetBody, ResetOffsetBodyForC, TopicOffset, TopicStatsTable, UnlockBatchRequestBody,
};
pub use heartbeat::{
    ConsumeFromWhere, ConsumeType, ConsumerData, HeartbeatData, MessageModel, ProducerData,
    SubscriptionData,
};
pub use register::{RegisterBrokerBody, TopicConfigSerializeWrapper};
pub use route::{BrokerData, ClusterInfo, KvTable, QueueData, TopicList, TopicRouteData};
pub use topic::{perm, DataVersion, SubscriptionGroupConfig, TopicConfig};
