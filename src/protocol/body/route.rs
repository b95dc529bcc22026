//! Name-server bodies: topic routes, cluster info, topic lists, KV tables.
//!
//! Route JSON is always written in the "standard" form (quoted numeric map keys, sorted keys):
//! Java, Go and C++ clients all accept it (docs/protocol.md §4.6), so there is one writer, not two.
//! Struct fields are declared in alphabetical order because fastjson writes properties sorted.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// `QueueData`: one broker's queues of a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueData {
    pub broker_name: String,
    pub perm: i32,
    pub read_queue_nums: i32,
    pub topic_sys_flag: i32,
    pub write_queue_nums: i32,
}

/// `BrokerData`: a broker name's addresses by broker id (0 = master).
///
/// `enableActingMaster` and `zoneName` arrived with RocketMQ 5.x: 4.x clients ignore them, some
/// 5.x clients refuse a route without them, so they are always written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerData {
    pub broker_addrs: BTreeMap<i64, String>,
    pub broker_name: String,
    pub cluster: String,
    pub enable_acting_master: bool,
    pub zone_name: String,
}

/// `TopicRouteData`, the GET_ROUTEINFO_BY_TOPIC answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicRouteData {
    pub broker_datas: Vec<BrokerData>,
    pub filter_server_table: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_topic_conf: Option<String>,
    pub queue_datas: Vec<QueueData>,
}

/// `ClusterInfo`, the GET_BROKER_CLUSTER_INFO answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ClusterInfo {
    pub broker_addr_table: BTreeMap<String, BrokerData>,
    pub cluster_addr_table: BTreeMap<String, BTreeSet<String>>,
}

/// `TopicList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicList {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker_addr: Option<String>,
    pub topic_list: BTreeSet<String>,
}

/// `KVTable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct KvTable {
    pub table: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_json_uses_quoted_sorted_keys() {
        let mut addrs = BTreeMap::new();
        addrs.insert(1, "10.0.0.2:10911".to_string());
        addrs.insert(0, "10.0.0.1:10911".to_string());
        let r = TopicRouteData {
            broker_datas: vec![BrokerData {
                broker_addrs: addrs,
                broker_name: "broker-a".into(),
                cluster: "DefaultCluster".into(),
                ..Default::default()
            }],
            queue_datas: vec![QueueData {
                broker_name: "broker-a".into(),
                perm: 6,
                read_queue_nums: 4,
                topic_sys_flag: 0,
                write_queue_nums: 4,
            }],
            ..Default::default()
        };
        let j = serde_json::to_string(&r).unwrap();
        assert_eq!(
            j,
            r#"{"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false,"zoneName":""}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#
        );
        assert_eq!(serde_json::from_str::<TopicRouteData>(&j).unwrap(), r);
    }
}
