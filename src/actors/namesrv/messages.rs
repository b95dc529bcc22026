//! Typed messages to the `NameServer` actor. Senders: the request handlers in `handlers/`
//! (on connection arbiters) and the dispatcher (`ConnectionClosed`).

use std::collections::BTreeMap;

use actix::Message;

use super::route_table::{ConnId, RegisterResult, Registration};
use crate::protocol::body::{ClusterInfo, DataVersion, TopicList, TopicRouteData};

/// REGISTER_BROKER: add or refresh a broker.
#[derive(Message)]
#[rtype(result = "RegisterResult")]
pub struct RegisterBroker(pub Registration);

/// UNREGISTER_BROKER.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UnregisterBroker {
    pub broker_addr: String,
    pub broker_name: String,
    pub broker_id: i64,
}

/// A connection closed: drop the brokers registered over it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ConnectionClosed(pub ConnId);

/// GET_ROUTEINFO_BY_TOPIC.
#[derive(Message)]
#[rtype(result = "Option<TopicRouteData>")]
pub struct GetRoute(pub String);

/// GET_BROKER_CLUSTER_INFO.
#[derive(Message)]
#[rtype(result = "ClusterInfo")]
pub struct GetClusterInfo;

/// GET_ALL_TOPIC_LIST_FROM_NAMESERVER (cluster None) or GET_TOPICS_BY_CLUSTER.
#[derive(Message)]
#[rtype(result = "TopicList")]
pub struct GetTopics {
    pub cluster: Option<String>,
}

/// DELETE_TOPIC_IN_NAMESRV.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DeleteTopic(pub String);

/// WIPE_WRITE_PERM_OF_BROKER: returns the number of topics changed.
#[derive(Message)]
#[rtype(result = "i32")]
pub struct WipeWritePerm(pub String);

/// ADD_WRITE_PERM_OF_BROKER: returns the number of topics changed.
#[derive(Message)]
#[rtype(result = "i32")]
pub struct AddWritePerm(pub String);

/// GET_SYSTEM_TOPIC_LIST_FROM_NS.
#[derive(Message)]
#[rtype(result = "TopicList")]
pub struct SystemTopics;

/// QUERY_DATA_VERSION: (changed, the stored version).
#[derive(Message)]
#[rtype(result = "(bool, Option<DataVersion>)")]
pub struct QueryDataVersion {
    pub broker_addr: String,
    pub version: DataVersion,
}

/// The KV config requests (100, 101, 102, 219).
#[derive(Message)]
#[rtype(result = "KvReply")]
pub enum KvRequest {
    Put {
        namespace: String,
        key: String,
        value: String,
    },
    Get {
        namespace: String,
        key: String,
    },
    Delete {
        namespace: String,
        key: String,
    },
    List {
        namespace: String,
    },
}

pub enum KvReply {
    Done,
    Value(Option<String>),
    List(Option<BTreeMap<String, String>>),
}
