//! Controller-mode bodies (RocketMQ 5, RIP-44): the SyncStateSet a master proposes and the
//! controller answers, the election result, the admin view of replicas, and the epoch cache that
//! replicas exchange. JSON as RocketMQ's fastjson writes it (getter names, sorted properties);
//! decoding goes through [`normalize_keys`] because Java writes `Map<Long, _>` keys bare.

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::fastjson::{bare_key_map, normalize_keys};
use crate::protocol::ProtocolError;

/// `v` as JSON text.
fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("serializable")
}

fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ProtocolError> {
    let text = normalize_keys(body)?;
    serde_json::from_str(&text).map_err(|e| ProtocolError::MalformedBody(format!("{what}: {e}")))
}

macro_rules! controller_body {
    ($($name:ident),*) => {$(
        impl $name {
            /// Decode the JSON body (fastjson's bare map keys accepted).
            pub fn decode(body: &[u8]) -> Result<Self, ProtocolError> {
                decode(stringify!($name), body)
            }
            /// Encode as JSON with sorted properties.
            pub fn encode(&self) -> Vec<u8> {
                serde_json::to_vec(self).expect("serializable")
            }
        }
    )*};
}

/// `SyncStateSet`: the broker ids in sync with the master, and the epoch of that set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SyncStateSet {
    pub sync_state_set: BTreeSet<i64>,
    pub sync_state_set_epoch: i32,
}

/// `BrokerMemberGroup`: the addresses of a broker set by broker id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerMemberGroup {
    pub broker_addrs: BTreeMap<i64, String>,
    pub broker_name: String,
    pub cluster: String,
}

/// `ElectMasterResponseBody`: the set's members and its SyncStateSet after an election.
///
/// On the wire ([`Self::encode`]) the members are written twice: as RocketMQ 5.1+'s controller
/// writes them (`brokerMemberGroup`, which its brokers read with `syncStateSet`) and as
/// `BrokerMemberGroup`'s own top-level fields (`brokerAddrs`, `brokerName`, `cluster`), which is
/// what RocketMQ 5's mqadmin `electMaster` decodes the body as (up to the newest 5.3, and what
/// 5.0's controller wrote). fastjson ignores the fields a class lacks, so each reader finds its
/// own. [`Self::decode`] takes any of the three shapes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ElectMasterResponseBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker_member_group: Option<BrokerMemberGroup>,
    pub sync_state_set: BTreeSet<i64>,
}

/// Every field an election body may carry (see [`ElectMasterResponseBody`]).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ElectWire {
    broker_addrs: Option<BTreeMap<i64, String>>,
    broker_member_group: Option<BrokerMemberGroup>,
    broker_name: String,
    cluster: String,
    sync_state_set: BTreeSet<i64>,
}

impl ElectMasterResponseBody {
    /// Decode the body of a RocketMQ 5.1+ controller (`brokerMemberGroup`), of a 5.0 one (a bare
    /// `BrokerMemberGroup`) or ours (both).
    pub fn decode(body: &[u8]) -> Result<Self, ProtocolError> {
        let w: ElectWire = decode("ElectMasterResponseBody", body)?;
        let top = w.broker_addrs.map(|broker_addrs| BrokerMemberGroup {
            broker_addrs,
            broker_name: w.broker_name,
            cluster: w.cluster,
        });
        Ok(ElectMasterResponseBody {
            broker_member_group: w.broker_member_group.or(top),
            sync_state_set: w.sync_state_set,
        })
    }

    /// fastjson's form (sorted properties, bare id keys), the members also at the top level.
    pub fn encode(&self) -> Vec<u8> {
        let set = json(&self.sync_state_set);
        let text = match &self.broker_member_group {
            Some(g) => {
                let (addrs, name, cluster) = (
                    bare_key_map(&g.broker_addrs),
                    json(&g.broker_name),
                    json(&g.cluster),
                );
                format!(
                    "{{\"brokerAddrs\":{addrs},\"brokerMemberGroup\":{{\"brokerAddrs\":{addrs},\
                     \"brokerName\":{name},\"cluster\":{cluster}}},\"brokerName\":{name},\
                     \"cluster\":{cluster},\"syncStateSet\":{set}}}"
                )
            }
            None => format!("{{\"syncStateSet\":{set}}}"),
        };
        text.into_bytes()
    }
}

/// `BrokerReplicasInfo.ReplicaIdentity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplicaIdentity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alive: Option<bool>,
    pub broker_address: String,
    pub broker_id: i64,
    pub broker_name: String,
}

/// `BrokerReplicasInfo.ReplicasInfo`: one set's master and replicas, split by SyncStateSet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplicasInfo {
    pub in_sync_replicas: Vec<ReplicaIdentity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_broker_id: Option<i64>,
    pub master_epoch: i32,
    pub not_in_sync_replicas: Vec<ReplicaIdentity>,
    pub sync_state_set_epoch: i32,
}

/// `BrokerReplicasInfo`, the CONTROLLER_GET_SYNC_STATE_DATA (1006) answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerReplicasInfo {
    pub replicas_info_table: BTreeMap<String, ReplicasInfo>,
}

fn end_of_log() -> i64 {
    i64::MAX
}

/// `EpochEntry`: from `startOffset` on, the log was written under master epoch `epoch`;
/// `endOffset` is `Long.MAX_VALUE` for the open (last) epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochEntry {
    #[serde(default = "end_of_log")]
    pub end_offset: i64,
    pub epoch: i32,
    pub start_offset: i64,
}

/// `EpochEntryCache`, the GET_BROKER_EPOCH_CACHE (1007) answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct EpochEntryCache {
    pub broker_id: i64,
    pub broker_name: String,
    pub cluster_name: String,
    pub epoch_list: Vec<EpochEntry>,
    pub max_offset: i64,
}

controller_body!(
    SyncStateSet,
    BrokerMemberGroup,
    BrokerReplicasInfo,
    EpochEntryCache
);

/// The CONTROLLER_GET_SYNC_STATE_DATA request body: a JSON list of broker names.
pub fn decode_broker_names(body: &[u8]) -> Result<Vec<String>, ProtocolError> {
    decode("broker name list", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_state_set_matches_java_json() {
        let s = SyncStateSet {
            sync_state_set: [2, 1].into_iter().collect(),
            sync_state_set_epoch: 3,
        };
        let text = String::from_utf8(s.encode()).unwrap();
        assert_eq!(text, r#"{"syncStateSet":[1,2],"syncStateSetEpoch":3}"#);
        assert_eq!(SyncStateSet::decode(text.as_bytes()).unwrap(), s);
        assert!(SyncStateSet::decode(b"{\"syncStateSet\":\"x\"}").is_err());
    }

    #[test]
    fn elect_body_reads_every_rocketmq_shape() {
        let v51 = br#"{"brokerMemberGroup":{"brokerAddrs":{1:"a:1",2:"b:2"},"brokerName":"b","cluster":"c"},"syncStateSet":[1]}"#;
        let body = ElectMasterResponseBody::decode(v51).unwrap();
        let group = body.broker_member_group.clone().unwrap();
        assert_eq!(group.broker_addrs.get(&2).map(String::as_str), Some("b:2"));
        assert_eq!(body.sync_state_set, [1].into_iter().collect());
        // RocketMQ 5.0's controller wrote a bare BrokerMemberGroup.
        let v50 = br#"{"brokerAddrs":{1:"a:1",2:"b:2"},"brokerName":"b","cluster":"c"}"#;
        let old = ElectMasterResponseBody::decode(v50).unwrap();
        assert_eq!(old.broker_member_group, Some(group));
        assert!(old.sync_state_set.is_empty());
        // Still-master answer: the set only.
        let still = ElectMasterResponseBody::decode(br#"{"syncStateSet":[2]}"#).unwrap();
        assert_eq!(still.broker_member_group, None);
        assert!(ElectMasterResponseBody::decode(br#"{"syncStateSet":"x"}"#).is_err());
    }

    #[test]
    fn elect_body_is_written_as_fastjson_for_brokers_and_mqadmin() {
        let body = ElectMasterResponseBody {
            broker_member_group: Some(BrokerMemberGroup {
                broker_addrs: [(2, "b:2".to_string()), (1, "a:1".to_string())]
                    .into_iter()
                    .collect(),
                broker_name: "b".into(),
                cluster: "c".into(),
            }),
            sync_state_set: [2].into_iter().collect(),
        };
        let text = String::from_utf8(body.encode()).unwrap();
        let group = r#"{"brokerAddrs":{1:"a:1",2:"b:2"},"brokerName":"b","cluster":"c"}"#;
        assert_eq!(
            text,
            format!(
                r#"{{"brokerAddrs":{{1:"a:1",2:"b:2"}},"brokerMemberGroup":{group},"brokerName":"b","cluster":"c","syncStateSet":[2]}}"#
            )
        );
        assert_eq!(
            ElectMasterResponseBody::decode(text.as_bytes()).unwrap(),
            body
        );
        // What RocketMQ's mqadmin reads: the same body as a BrokerMemberGroup.
        let as_group = BrokerMemberGroup::decode(text.as_bytes()).unwrap();
        assert_eq!(Some(as_group), body.broker_member_group);
        let still = ElectMasterResponseBody {
            broker_member_group: None,
            sync_state_set: [1, 3].into_iter().collect(),
        };
        assert_eq!(still.encode(), br#"{"syncStateSet":[1,3]}"#);
    }

    #[test]
    fn epoch_cache_round_trips_and_defaults_end_offset() {
        let java = br#"{"brokerId":1,"brokerName":"b","clusterName":"c","epochList":[{"epoch":1,"startOffset":0}],"maxOffset":9}"#;
        let cache = EpochEntryCache::decode(java).unwrap();
        assert_eq!(cache.epoch_list[0].end_offset, i64::MAX);
        assert_eq!(EpochEntryCache::decode(&cache.encode()).unwrap(), cache);
    }

    #[test]
    fn replicas_info_and_name_list() {
        let mut info = BrokerReplicasInfo::default();
        info.replicas_info_table.insert(
            "b".into(),
            ReplicasInfo {
                master_broker_id: Some(1),
                master_address: Some("a:1".into()),
                master_epoch: 2,
                sync_state_set_epoch: 3,
                in_sync_replicas: vec![ReplicaIdentity {
                    alive: Some(true),
                    broker_address: "a:1".into(),
                    broker_id: 1,
                    broker_name: "b".into(),
                }],
                not_in_sync_replicas: vec![],
            },
        );
        assert_eq!(BrokerReplicasInfo::decode(&info.encode()).unwrap(), info);
        assert_eq!(
            decode_broker_names(br#"["a","b"]"#).unwrap(),
            vec!["a", "b"]
        );
    }
}
