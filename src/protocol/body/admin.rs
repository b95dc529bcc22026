//! Bodies of the admin requests (docs/protocol.md §4.7): broker and name-server config as
//! properties text, producer tables, consume time spans, consume-queue dumps, and what the broker
//! relays from a client (ConsumerRunningInfo for 307, ConsumeMessageDirectlyResult for 309).
//!
//! As in `broker.rs`, fields are declared alphabetically (fastjson writes properties sorted) and
//! the one body keyed by `MessageQueue` (`ConsumerRunningInfo.mqTable`) goes through
//! `to_fastjson`/`from_fastjson` so its keys are written as objects, the way Java tools read them.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::broker::{decode, json_body, parse_root, read_mq_map, MessageQueue};
use super::fastjson::{bare_key_map, lenient};
use super::heartbeat::SubscriptionData;
use crate::protocol::ProtocolError;

/// Properties text as GET_BROKER_CONFIG / GET_NAMESRV_CONFIG answer it: one `key=value` per line.
pub fn properties_text<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        out.push_str(k);
        out.push('=');
        out.push_str(v);
        out.push('\n');
    }
    out
}

/// Read an UPDATE_BROKER_CONFIG / UPDATE_NAMESRV_CONFIG body (Java properties text) into pairs
/// in their order; the body must be UTF-8.
pub fn parse_properties(body: &[u8]) -> Result<Vec<(String, String)>, ProtocolError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ProtocolError::MalformedBody("config properties are not UTF-8".into()))?;
    Ok(crate::config::properties::parse(text))
}

/// `ProducerInfo`: one producer client of GET_ALL_PRODUCER_INFO. `language` is the LanguageCode
/// name, `version` the client's MQVersion ordinal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ProducerInfo {
    #[serde(deserialize_with = "lenient::string")]
    pub client_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub language: String,
    #[serde(deserialize_with = "lenient::i64")]
    pub last_update_timestamp: i64,
    #[serde(rename = "remoteIP", deserialize_with = "lenient::string")]
    pub remote_ip: String,
    #[serde(deserialize_with = "lenient::i32")]
    pub version: i32,
}

/// `ProducerTableInfo` (GET_ALL_PRODUCER_INFO response): producers by group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ProducerTableInfo {
    pub data: BTreeMap<String, Vec<ProducerInfo>>,
}
json_body!(ProducerTableInfo, "producer table");

/// Java's `UtilAll.YYYY_MM_DD_HH_MM_SS_SSS` (`yyyy-MM-dd#HH:mm:ss:SSS`), here always in UTC.
pub fn format_time_ms(ms: i64) -> String {
    let t = crate::clock::Utc::from_ms(ms);
    format!(
        "{:04}-{:02}-{:02}#{:02}:{:02}:{:02}:{:03}",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.milli
    )
}

/// `QueueTimeSpan`: one queue's stored and consumed time range (QUERY_CONSUME_TIME_SPAN). The
/// `*Str` fields are Java's derived getters, written for display and ignored when read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueTimeSpan {
    #[serde(deserialize_with = "lenient::i64")]
    pub consume_time_stamp: i64,
    #[serde(deserialize_with = "lenient::string")]
    pub consume_time_stamp_str: String,
    #[serde(deserialize_with = "lenient::i64")]
    pub delay_time: i64,
    #[serde(deserialize_with = "lenient::i64")]
    pub max_time_stamp: i64,
    #[serde(deserialize_with = "lenient::string")]
    pub max_time_stamp_str: String,
    pub message_queue: MessageQueue,
    #[serde(deserialize_with = "lenient::i64")]
    pub min_time_stamp: i64,
    #[serde(deserialize_with = "lenient::string")]
    pub min_time_stamp_str: String,
}

impl QueueTimeSpan {
    /// A span with its display strings filled in.
    pub fn new(mq: MessageQueue, min: i64, max: i64, consumed: i64, delay: i64) -> Self {
        QueueTimeSpan {
            consume_time_stamp: consumed,
            consume_time_stamp_str: format_time_ms(consumed),
            delay_time: delay,
            max_time_stamp: max,
            max_time_stamp_str: format_time_ms(max),
            message_queue: mq,
            min_time_stamp: min,
            min_time_stamp_str: format_time_ms(min),
        }
    }
}

/// `QueryConsumeTimeSpanBody` (QUERY_CONSUME_TIME_SPAN response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct QueryConsumeTimeSpanBody {
    #[serde(deserialize_with = "lenient::list")]
    pub consume_time_span_set: Vec<QueueTimeSpan>,
}
json_body!(QueryConsumeTimeSpanBody, "consume time span");

/// `ConsumeQueueData`: one consume-queue entry (QUERY_CONSUME_QUEUE). `eval` says whether the
/// requesting group's subscription accepts the entry's tag; `msg` explains when it cannot tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumeQueueData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_map: Option<String>,
    #[serde(deserialize_with = "lenient::bool")]
    pub eval: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extend_data_json: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
    #[serde(deserialize_with = "lenient::i64")]
    pub physic_offset: i64,
    #[serde(deserialize_with = "lenient::i32")]
    pub physic_size: i32,
    #[serde(deserialize_with = "lenient::i64")]
    pub tags_code: i64,
}

/// `QueryConsumeQueueResponseBody` (QUERY_CONSUME_QUEUE response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct QueryConsumeQueueResponseBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_data: Option<String>,
    #[serde(deserialize_with = "lenient::i64")]
    pub max_queue_index: i64,
    #[serde(deserialize_with = "lenient::i64")]
    pub min_queue_index: i64,
    #[serde(deserialize_with = "lenient::list")]
    pub queue_data: Vec<ConsumeQueueData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_data: Option<SubscriptionData>,
}
json_body!(QueryConsumeQueueResponseBody, "consume queue");

/// `ProcessQueueInfo`: a consumer's view of one of its queues (in ConsumerRunningInfo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ProcessQueueInfo {
    pub cached_msg_count: i32,
    pub cached_msg_max_offset: i64,
    pub cached_msg_min_offset: i64,
    pub commit_offset: i64,
    pub droped: bool,
    pub last_consume_timestamp: i64,
    pub last_lock_timestamp: i64,
    pub last_pull_timestamp: i64,
    pub locked: bool,
    pub transaction_msg_count: i32,
    pub transaction_msg_max_offset: i64,
    pub transaction_msg_min_offset: i64,
    pub try_unlock_times: i64,
}

/// `ConsumeStatus`: one topic's pull/consume rates in ConsumerRunningInfo.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ConsumeStatus {
    #[serde(rename = "consumeFailedMsgs")]
    pub consume_failed_msgs: i64,
    #[serde(rename = "consumeFailedTPS")]
    pub consume_failed_tps: f64,
    #[serde(rename = "consumeOKTPS")]
    pub consume_ok_tps: f64,
    #[serde(rename = "consumeRT")]
    pub consume_rt: f64,
    #[serde(rename = "pullRT")]
    pub pull_rt: f64,
    #[serde(rename = "pullTPS")]
    pub pull_tps: f64,
}

/// `ConsumerRunningInfo` (GET_CONSUMER_RUNNING_INFO answer, written by the client, relayed by
/// the broker); `mqTable` has fastjson object keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConsumerRunningInfo {
    pub jstack: Option<String>,
    pub mq_table: BTreeMap<MessageQueue, ProcessQueueInfo>,
    /// The consumer's settings; the `PROP_*` keys below are the ones tools read.
    pub properties: BTreeMap<String, String>,
    /// Rates by topic.
    pub status_table: BTreeMap<String, ConsumeStatus>,
    pub subscription_set: Vec<SubscriptionData>,
}

impl ConsumerRunningInfo {
    pub const PROP_NAMESERVER_ADDR: &'static str = "PROP_NAMESERVER_ADDR";
    pub const PROP_THREADPOOL_CORE_SIZE: &'static str = "PROP_THREADPOOL_CORE_SIZE";
    pub const PROP_CONSUME_ORDERLY: &'static str = "PROP_CONSUMEORDERLY";
    /// `CONSUME_PASSIVELY` (push) or `CONSUME_ACTIVELY` (pull).
    pub const PROP_CONSUME_TYPE: &'static str = "PROP_CONSUME_TYPE";
    pub const PROP_CLIENT_VERSION: &'static str = "PROP_CLIENT_VERSION";
    pub const PROP_CONSUMER_START_TIMESTAMP: &'static str = "PROP_CONSUMER_START_TIMESTAMP";

    /// `{"jstack":..,"mqTable":{<MessageQueue>:{..}},"properties":{..},"statusTable":{..},
    /// "subscriptionSet":[..]}`, `jstack` omitted when absent.
    pub fn to_fastjson(&self) -> String {
        let mut out = String::from("{");
        if let Some(j) = &self.jstack {
            out.push_str(&format!("\"jstack\":{},", json(j)));
        }
        out.push_str(&format!(
            "\"mqTable\":{},\"properties\":{},\"statusTable\":{},\"subscriptionSet\":{}}}",
            bare_key_map(&self.mq_table),
            json(&self.properties),
            json(&self.status_table),
            json(&self.subscription_set),
        ));
        out
    }

    pub fn from_fastjson(body: &[u8]) -> Result<Self, ProtocolError> {
        const WHAT: &str = "consumer running info";
        let root = parse_root(WHAT, body)?;
        let field = |name: &str| root.get(name).cloned().unwrap_or(serde_json::Value::Null);
        let bad = |e: serde_json::Error| ProtocolError::MalformedBody(format!("{WHAT}: {e}"));
        let properties: Properties = serde_json::from_value(field("properties")).map_err(bad)?;
        let status: Option<BTreeMap<String, ConsumeStatus>> =
            serde_json::from_value(field("statusTable")).map_err(bad)?;
        let subs: Option<Vec<SubscriptionData>> =
            serde_json::from_value(field("subscriptionSet")).map_err(bad)?;
        Ok(ConsumerRunningInfo {
            jstack: root
                .get("jstack")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            mq_table: read_mq_map(WHAT, &root, "mqTable")?,
            properties: properties.0,
            status_table: status.unwrap_or_default(),
            subscription_set: subs.unwrap_or_default(),
        })
    }
}

/// A value's JSON text.
fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("serializable")
}

/// Java `Properties` as JSON: values of any scalar type are kept as their text; `null` is empty.
#[derive(Default)]
struct Properties(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for Properties {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Option::<BTreeMap<String, serde_json::Value>>::deserialize(d)?;
        let text = |v: serde_json::Value| match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        Ok(Properties(
            raw.unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, text(v)))
                .collect(),
        ))
    }
}

/// `CMResult`: what CONSUME_MESSAGE_DIRECTLY's listener run returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CmResult {
    #[default]
    CrSuccess,
    CrLater,
    CrRollback,
    CrCommit,
    CrThrowException,
    CrReturnNull,
}

/// `ConsumeMessageDirectlyResult` (CONSUME_MESSAGE_DIRECTLY answer from the client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumeMessageDirectlyResult {
    #[serde(deserialize_with = "lenient::bool")]
    pub auto_commit: bool,
    pub consume_result: CmResult,
    #[serde(deserialize_with = "lenient::bool")]
    pub order: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    #[serde(deserialize_with = "lenient::i64")]
    pub spent_time_mills: i64,
}
json_body!(
    ConsumeMessageDirectlyResult,
    "consume message directly result"
);

impl Default for ConsumeMessageDirectlyResult {
    /// Java's defaults: not ordered, auto-commit on.
    fn default() -> Self {
        ConsumeMessageDirectlyResult {
            auto_commit: true,
            consume_result: CmResult::CrSuccess,
            order: false,
            remark: None,
            spent_time_mills: 0,
        }
    }
}

#[cfg(test)]
#[path = "admin_tests.rs"]
mod tests;
