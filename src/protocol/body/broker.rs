//! Broker request/response bodies other than the heartbeat (docs/protocol.md §4.5).
//!
//! Fields are declared alphabetically because fastjson writes properties sorted, so the derived
//! serde output is byte-identical to Java's. Three bodies (`TopicStatsTable`, `ConsumeStats`,
//! `ResetOffsetBody`) are maps keyed by `MessageQueue`, which fastjson writes with the *object itself
//! as the key* — not valid JSON. Those bodies therefore have no serde derive on the outer struct;
//! they offer `to_fastjson()` (built with [`bare_key_map`]) and `from_fastjson()` (through
//! [`normalize_keys`]) instead, so nobody can accidentally emit a standard-JSON form Java tools would
//! misread.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::fastjson::{bare_key_map, lenient, normalize_keys, parse_key};
use super::heartbeat::{ConsumeFromWhere, ConsumeType, MessageModel, SubscriptionData};
use crate::protocol::ProtocolError;

pub(crate) fn bad(what: &str, e: impl std::fmt::Display) -> ProtocolError {
    ProtocolError::MalformedBody(format!("{what}: {e}"))
}

/// Decode a plain-JSON body.
pub(crate) fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ProtocolError> {
    serde_json::from_slice(body).map_err(|e| bad(what, e))
}

/// `MessageQueue`. Ordered like Java's `compareTo` (topic, then broker name, then queue id), which
/// is also the order rebalancing sorts queues in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct MessageQueue {
    #[serde(deserialize_with = "lenient::string")]
    pub broker_name: String,
    #[serde(deserialize_with = "lenient::i32")]
    pub queue_id: i32,
    #[serde(deserialize_with = "lenient::string")]
    pub topic: String,
}

/// `TopicTest@broker-a:3`: topic, broker name and queue id, as logs and examples print a queue.
impl std::fmt::Display for MessageQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}:{}", self.topic, self.broker_name, self.queue_id)
    }
}

impl MessageQueue {
    pub fn new(topic: &str, broker_name: &str, queue_id: i32) -> Self {
        MessageQueue {
            broker_name: broker_name.to_string(),
            queue_id,
            topic: topic.to_string(),
        }
    }
}

impl Ord for MessageQueue {
    fn cmp(&self, other: &Self) -> Ordering {
        (&self.topic, &self.broker_name, self.queue_id).cmp(&(
            &other.topic,
            &other.broker_name,
            other.queue_id,
        ))
    }
}

impl PartialOrd for MessageQueue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

macro_rules! json_body {
    ($name:ident, $what:literal) => {
        impl $name {
            /// Decode the JSON body.
            pub fn decode(body: &[u8]) -> Result<Self, ProtocolError> {
                decode($what, body)
            }
            /// Encode as Java does.
            pub fn encode(&self) -> Vec<u8> {
                serde_json::to_vec(self).expect("serializable")
            }
        }
    };
}
pub(crate) use json_body;

/// `LockBatchRequestBody` (LOCK_BATCH_MQ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct LockBatchRequestBody {
    #[serde(deserialize_with = "lenient::string")]
    pub client_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub consumer_group: String,
    #[serde(deserialize_with = "lenient::list")]
    pub mq_set: Vec<MessageQueue>,
}
json_body!(LockBatchRequestBody, "lock batch request");

/// `UnlockBatchRequestBody` (UNLOCK_BATCH_MQ); same shape as the lock request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct UnlockBatchRequestBody {
    #[serde(deserialize_with = "lenient::string")]
    pub client_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub consumer_group: String,
    #[serde(deserialize_with = "lenient::list")]
    pub mq_set: Vec<MessageQueue>,
}
json_body!(UnlockBatchRequestBody, "unlock batch request");

/// `LockBatchResponseBody`: the queues actually locked for the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct LockBatchResponseBody {
    #[serde(rename = "lockOKMQSet", deserialize_with = "lenient::list")]
    pub lock_ok_mq_set: Vec<MessageQueue>,
}
json_body!(LockBatchResponseBody, "lock batch response");

/// `GetConsumerListByGroupResponseBody`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct GetConsumerListByGroupResponseBody {
    #[serde(deserialize_with = "lenient::list")]
    pub consumer_id_list: Vec<String>,
}
json_body!(GetConsumerListByGroupResponseBody, "consumer list");

/// `GroupList` (QUERY_TOPIC_CONSUME_BY_WHO response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupList {
    #[serde(deserialize_with = "lenient::list")]
    pub group_list: Vec<String>,
}
json_body!(GroupList, "group list");

/// `Connection`: one client connection as admin tools see it. `language` is the `LanguageCode`
/// name (`JAVA`, `CPP`...), `version` the client's MQVersion ordinal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Connection {
    #[serde(deserialize_with = "lenient::string")]
    pub client_addr: String,
    #[serde(deserialize_with = "lenient::string")]
    pub client_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub language: String,
    #[serde(deserialize_with = "lenient::i32")]
    pub version: i32,
}

/// `ConsumerConnection` (GET_CONSUMER_CONNECTION_LIST response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerConnection {
    #[serde(deserialize_with = "lenient::list")]
    pub connection_set: Vec<Connection>,
    pub consume_from_where: ConsumeFromWhere,
    pub consume_type: ConsumeType,
    pub message_model: MessageModel,
    pub subscription_table: BTreeMap<String, SubscriptionData>,
}
json_body!(ConsumerConnection, "consumer connection");

/// `ProducerConnection` (GET_PRODUCER_CONNECTION_LIST response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ProducerConnection {
    #[serde(deserialize_with = "lenient::list")]
    pub connection_set: Vec<Connection>,
}
json_body!(ProducerConnection, "producer connection");

/// Read the `field` map of a fastjson body whose keys are `MessageQueue` objects.
pub(crate) fn read_mq_map<V: DeserializeOwned>(
    what: &str,
    root: &serde_json::Value,
    field: &str,
) -> Result<BTreeMap<MessageQueue, V>, ProtocolError> {
    let mut out = BTreeMap::new();
    let Some(table) = root.get(field) else {
        return Ok(out);
    };
    if table.is_null() {
        return Ok(out);
    }
    let table = table
        .as_object()
        .ok_or_else(|| bad(what, format!("'{field}' is not an object")))?;
    for (k, v) in table {
        let mq: MessageQueue = parse_key(k)?;
        let v: V = serde_json::from_value(v.clone()).map_err(|e| bad(what, e))?;
        out.insert(mq, v);
    }
    Ok(out)
}

pub(crate) fn parse_root(what: &str, body: &[u8]) -> Result<serde_json::Value, ProtocolError> {
    let text = normalize_keys(body)?;
    let root: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(what, e))?;
    if root.is_object() {
        Ok(root)
    } else {
        Err(bad(what, "not a JSON object"))
    }
}

/// `TopicOffset`: one queue's offsets in GET_TOPIC_STATS_INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicOffset {
    pub last_update_timestamp: i64,
    pub max_offset: i64,
    pub min_offset: i64,
}

/// `TopicStatsTable` (GET_TOPIC_STATS_INFO response); fastjson object keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicStatsTable {
    pub offset_table: BTreeMap<MessageQueue, TopicOffset>,
}

impl TopicStatsTable {
    /// `{"offsetTable":{{"brokerName":..,"queueId":..,"topic":..}:{...}}}`.
    pub fn to_fastjson(&self) -> String {
        format!("{{\"offsetTable\":{}}}", bare_key_map(&self.offset_table))
    }

    pub fn from_fastjson(body: &[u8]) -> Result<Self, ProtocolError> {
        let root = parse_root("topic stats", body)?;
        Ok(TopicStatsTable {
            offset_table: read_mq_map("topic stats", &root, "offsetTable")?,
        })
    }
}

/// `OffsetWrapper`: one queue's progress in GET_CONSUME_STATS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct OffsetWrapper {
    pub broker_offset: i64,
    pub consumer_offset: i64,
    /// Store time of the last consumed message (0 when unknown).
    pub last_timestamp: i64,
}

/// `ConsumeStats` (GET_CONSUME_STATS response); fastjson object keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConsumeStats {
    pub consume_tps: f64,
    pub offset_table: BTreeMap<MessageQueue, OffsetWrapper>,
}

impl ConsumeStats {
    /// `{"consumeTps":0.0,"offsetTable":{<MessageQueue>:{...}}}`.
    pub fn to_fastjson(&self) -> String {
        let tps = if self.consume_tps.is_finite() {
            self.consume_tps
        } else {
            0.0
        };
        format!(
            "{{\"consumeTps\":{},\"offsetTable\":{}}}",
            serde_json::to_string(&tps).expect("finite"),
            bare_key_map(&self.offset_table)
        )
    }

    pub fn from_fastjson(body: &[u8]) -> Result<Self, ProtocolError> {
        Self::from_value(&parse_root("consume stats", body)?)
    }

    /// From an already parsed (key-normalized) JSON object.
    pub fn from_value(root: &serde_json::Value) -> Result<Self, ProtocolError> {
        Ok(ConsumeStats {
            consume_tps: root
                .get("consumeTps")
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0),
            offset_table: read_mq_map("consume stats", root, "offsetTable")?,
        })
    }

    /// Total lag: Σ (brokerOffset − consumerOffset) (Java's `computeTotalDiff`).
    pub fn total_diff(&self) -> i64 {
        self.offset_table
            .values()
            .map(|w| w.broker_offset - w.consumer_offset)
            .sum()
    }
}

/// `ResetOffsetBody` (RESET_CONSUMER_CLIENT_OFFSET to Java clients, INVOKE_BROKER_TO_RESET_OFFSET
/// response); fastjson object keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResetOffsetBody {
    pub offset_table: BTreeMap<MessageQueue, i64>,
}

impl ResetOffsetBody {
    pub fn to_fastjson(&self) -> String {
        format!("{{\"offsetTable\":{}}}", bare_key_map(&self.offset_table))
    }

    pub fn from_fastjson(body: &[u8]) -> Result<Self, ProtocolError> {
        let root = parse_root("reset offset", body)?;
        Ok(ResetOffsetBody {
            offset_table: read_mq_map("reset offset", &root, "offsetTable")?,
        })
    }

    /// The list form the C++ client needs (`ResetOffsetBodyForC`).
    pub fn for_c(&self) -> ResetOffsetBodyForC {
        ResetOffsetBodyForC {
            offset_table: self
                .offset_table
                .iter()
                .map(|(mq, &offset)| MessageQueueForC {
                    broker_name: mq.broker_name.clone(),
                    offset,
                    queue_id: mq.queue_id,
                    topic: mq.topic.clone(),
                })
                .collect(),
        }
    }
}

/// One entry of `ResetOffsetBodyForC`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct MessageQueueForC {
    pub broker_name: String,
    pub offset: i64,
    pub queue_id: i32,
    pub topic: String,
}

/// `ResetOffsetBodyForC`: the reset-offset body sent to CPP-language clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ResetOffsetBodyForC {
    pub offset_table: Vec<MessageQueueForC>,
}
json_body!(ResetOffsetBodyForC, "reset offset (C)");

#[cfg(test)]
mod tests {
    use super::*;

    fn mq(t: &str, b: &str, q: i32) -> MessageQueue {
        MessageQueue::new(t, b, q)
    }

    #[test]
    fn message_queue_orders_like_java_and_serializes_sorted() {
        let mut v = vec![
            mq("b", "x", 0),
            mq("a", "y", 1),
            mq("a", "y", 0),
            mq("a", "x", 9),
        ];
        v.sort();
        assert_eq!(
            v,
            vec![
                mq("a", "x", 9),
                mq("a", "y", 0),
                mq("a", "y", 1),
                mq("b", "x", 0)
            ]
        );
        assert_eq!(
            serde_json::to_string(&mq("t", "b", 0)).unwrap(),
            r#"{"brokerName":"b","queueId":0,"topic":"t"}"#
        );
        // ali-ons may send queueId as a string.
        let m: MessageQueue =
            serde_json::from_str(r#"{"brokerName":"b","queueId":"3","topic":"t"}"#).unwrap();
        assert_eq!(m.queue_id, 3);
    }

    #[test]
    fn lock_bodies_match_protocol_shapes() {
        let j = r#"{"clientId":"cid","consumerGroup":"g","mqSet":[{"brokerName":"b","queueId":0,"topic":"t"}]}"#;
        let r = LockBatchRequestBody::decode(j.as_bytes()).unwrap();
        assert_eq!(r.mq_set, vec![mq("t", "b", 0)]);
        assert_eq!(String::from_utf8(r.encode()).unwrap(), j);
        let u = UnlockBatchRequestBody::decode(j.as_bytes()).unwrap();
        assert_eq!(u.client_id, "cid");
        let resp = LockBatchResponseBody {
            lock_ok_mq_set: vec![mq("t", "b", 0)],
        };
        assert_eq!(
            String::from_utf8(resp.encode()).unwrap(),
            r#"{"lockOKMQSet":[{"brokerName":"b","queueId":0,"topic":"t"}]}"#
        );
        assert!(LockBatchRequestBody::decode(b"{\"mqSet\":5}").is_err());
    }

    #[test]
    fn consumer_list_and_connection_shapes() {
        let b = GetConsumerListByGroupResponseBody {
            consumer_id_list: vec!["c1".into(), "c2".into()],
        };
        assert_eq!(
            String::from_utf8(b.encode()).unwrap(),
            r#"{"consumerIdList":["c1","c2"]}"#
        );
        let mut cc = ConsumerConnection::default();
        cc.connection_set.push(Connection {
            client_addr: "10.0.0.1:5000".into(),
            client_id: "10.0.0.1@1".into(),
            language: "JAVA".into(),
            version: 409,
        });
        let j = String::from_utf8(cc.encode()).unwrap();
        assert_eq!(
            j,
            r#"{"connectionSet":[{"clientAddr":"10.0.0.1:5000","clientId":"10.0.0.1@1","language":"JAVA","version":409}],"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","subscriptionTable":{}}"#
        );
        assert_eq!(ConsumerConnection::decode(j.as_bytes()).unwrap(), cc);
    }

    #[test]
    fn topic_stats_use_object_keys_and_round_trip() {
        let mut t = TopicStatsTable::default();
        t.offset_table.insert(
            mq("t", "b", 1),
            TopicOffset {
                last_update_timestamp: 5,
                max_offset: 10,
                min_offset: 2,
            },
        );
        t.offset_table
            .insert(mq("t", "b", 0), TopicOffset::default());
        let s = t.to_fastjson();
        assert_eq!(
            s,
            r#"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:{"lastUpdateTimestamp":0,"maxOffset":0,"minOffset":0},{"brokerName":"b","queueId":1,"topic":"t"}:{"lastUpdateTimestamp":5,"maxOffset":10,"minOffset":2}}}"#
        );
        assert_eq!(TopicStatsTable::from_fastjson(s.as_bytes()).unwrap(), t);
        // Java's key order differs from ours (HashMap order); pretty whitespace is fine too.
        let java = "{\n\t\"offsetTable\":{\n\t\t{\"brokerName\":\"b\",\"queueId\":1,\"topic\":\"t\"}:{\"lastUpdateTimestamp\":5,\"maxOffset\":10,\"minOffset\":2},\n\t\t{\"brokerName\":\"b\",\"queueId\":0,\"topic\":\"t\"}:{}\n\t}\n}";
        assert_eq!(TopicStatsTable::from_fastjson(java.as_bytes()).unwrap(), t);
        assert!(TopicStatsTable::from_fastjson(br#"{"offsetTable":{5:{}}}"#).is_err());
        assert!(TopicStatsTable::from_fastjson(b"[]").is_err());
    }

    #[test]
    fn consume_stats_and_reset_offset_round_trip() {
        let mut c = ConsumeStats::default();
        c.offset_table.insert(
            mq("t", "b", 0),
            OffsetWrapper {
                broker_offset: 10,
                consumer_offset: 4,
                last_timestamp: 99,
            },
        );
        let s = c.to_fastjson();
        assert!(
            s.starts_with(r#"{"consumeTps":0.0,"offsetTable":{{"brokerName":"b""#),
            "{s}"
        );
        assert_eq!(ConsumeStats::from_fastjson(s.as_bytes()).unwrap(), c);
        assert_eq!(c.total_diff(), 6);

        let mut r = ResetOffsetBody::default();
        r.offset_table.insert(mq("t", "b", 2), 42);
        let s = r.to_fastjson();
        assert_eq!(
            s,
            r#"{"offsetTable":{{"brokerName":"b","queueId":2,"topic":"t"}:42}}"#
        );
        assert_eq!(ResetOffsetBody::from_fastjson(s.as_bytes()).unwrap(), r);
        // Standard JSON with the key as a string is accepted as well.
        let std_form =
            r#"{"offsetTable":{"{\"brokerName\":\"b\",\"queueId\":2,\"topic\":\"t\"}":42}}"#;
        assert_eq!(
            ResetOffsetBody::from_fastjson(std_form.as_bytes()).unwrap(),
            r
        );
        assert_eq!(
            String::from_utf8(r.for_c().encode()).unwrap(),
            r#"{"offsetTable":[{"brokerName":"b","offset":42,"queueId":2,"topic":"t"}]}"#
        );
    }
}
