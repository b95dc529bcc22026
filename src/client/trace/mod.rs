//! Message trace, RocketMQ 4.x style (`org.apache.rocketmq.client.trace`): with `enable_trace`
//! on a [`ProducerConfig`](super::ProducerConfig) or [`ConsumerConfig`](super::ConsumerConfig),
//! every successful send writes a `Pub` record (a batch send one record for the whole batch,
//! as Java's hook sees a `MessageBatch`) and every listener call a `SubBefore` and a
//! `SubAfter` record. Records are plain messages of the trace topic (`RMQ_SYS_TRACE_TOPIC`, or
//! `rmq_sys_TRACE_DATA_<region>` with [`AccessChannel::Cloud`]), text-encoded ([`encode`]),
//! batched by a background [`TraceDispatcher`] and keyed by message id + user keys so
//! QUERY_MESSAGE by key finds them ([`query_trace`]). A trace failure never fails or slows a
//! send beyond the enqueue: a full queue drops (and counts) the record.

pub mod dispatcher;
pub mod encode;
pub mod hooks;
pub mod query;

pub use dispatcher::{TraceDispatcher, TraceStats};
pub use encode::{decode, encode_context, end_transaction_context, transfer_keys};
pub use hooks::ConsumeSpan;
pub use query::{query_trace, query_trace_in};

pub use crate::client::config::AccessChannel;

/// The default trace topic (`TopicValidator.RMQ_SYS_TRACE_TOPIC`).
pub const TRACE_TOPIC: &str = "RMQ_SYS_TRACE_TOPIC";
/// The trace topic of [`AccessChannel::Cloud`] is this plus the region id
/// (`TraceConstants.TRACE_TOPIC_PREFIX`).
pub const CLOUD_TRACE_TOPIC_PREFIX: &str = "rmq_sys_TRACE_DATA_";

/// The trace topic of `region` on the cloud channel (`rmq_sys_TRACE_DATA_<region>`).
pub fn cloud_trace_topic(region: &str) -> String {
    format!("{CLOUD_TRACE_TOPIC_PREFIX}{region}")
}

/// Where a record of `region` goes: `configured` (the trace topic of the producer or consumer)
/// on the local channel, the region's cloud topic on the cloud channel (as Java's dispatcher).
pub fn trace_topic_for(channel: AccessChannel, configured: &str, region: &str) -> String {
    match channel {
        AccessChannel::Local => configured.to_string(),
        AccessChannel::Cloud => cloud_trace_topic(region),
    }
}
/// The region when a broker names none (`MixAll.DEFAULT_TRACE_REGION_ID`).
pub const DEFAULT_REGION: &str = "DefaultRegion";

/// The four record types (`TraceType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceType {
    #[default]
    Pub,
    SubBefore,
    SubAfter,
    EndTransaction,
}

impl TraceType {
    pub fn as_str(self) -> &'static str {
        match self {
            TraceType::Pub => "Pub",
            TraceType::SubBefore => "SubBefore",
            TraceType::SubAfter => "SubAfter",
            TraceType::EndTransaction => "EndTransaction",
        }
    }
    pub fn parse(s: &str) -> Option<TraceType> {
        Some(match s {
            "Pub" => TraceType::Pub,
            "SubBefore" => TraceType::SubBefore,
            "SubAfter" => TraceType::SubAfter,
            "EndTransaction" => TraceType::EndTransaction,
            _ => return None,
        })
    }
}

/// `MessageType` ordinals written in Pub / EndTransaction records.
pub mod msg_type {
    pub const NORMAL: i32 = 0;
    pub const TRANS_HALF: i32 = 1;
    pub const TRANS_COMMIT: i32 = 2;
    pub const DELAY: i32 = 3;
}

/// `ConsumeReturnType` ordinals (SubAfter `contextCode`).
pub mod context_code {
    pub const SUCCESS: i32 = 0;
    pub const TIME_OUT: i32 = 1;
    pub const EXCEPTION: i32 = 2;
    pub const RETURNNULL: i32 = 3;
    pub const FAILED: i32 = 4;
}

/// One traced message (`TraceBean`). Absent strings are empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TraceBean {
    pub topic: String,
    /// The client id (UNIQ_KEY).
    pub msg_id: String,
    pub offset_msg_id: String,
    pub tags: String,
    /// User keys, space separated.
    pub keys: String,
    pub store_host: String,
    pub client_host: String,
    pub body_length: i32,
    pub msg_type: i32,
    pub store_time: i64,
    pub retry_times: i32,
    pub transaction_id: String,
    /// `COMMIT_MESSAGE`, `ROLLBACK_MESSAGE` or `UNKNOW`.
    pub transaction_state: String,
    pub from_transaction_check: bool,
}

/// One trace event over one or more messages (`TraceContext`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TraceContext {
    pub trace_type: TraceType,
    /// Milliseconds since the epoch.
    pub time_stamp: i64,
    pub region_id: String,
    pub group_name: String,
    /// Milliseconds (SubAfter: per message of the batch).
    pub cost_time: i64,
    pub success: bool,
    /// Shared by a SubBefore / SubAfter pair.
    pub request_id: String,
    pub context_code: i32,
    /// The channel of the client writing the record: a `Cloud` SubAfter record has no
    /// timeStamp / groupName fields and no record terminator (Java's encoder). Decoded
    /// SubAfter records without those fields say `Cloud`.
    pub access_channel: AccessChannel,
    pub beans: Vec<TraceBean>,
}

/// A decoded record: a [`TraceContext`] with exactly one bean.
pub type TraceRecord = TraceContext;

impl TraceContext {
    /// The (first) bean; decoded records have exactly one.
    pub fn bean(&self) -> &TraceBean {
        static EMPTY: TraceBean = TraceBean {
            topic: String::new(),
            msg_id: String::new(),
            offset_msg_id: String::new(),
            tags: String::new(),
            keys: String::new(),
            store_host: String::new(),
            client_host: String::new(),
            body_length: 0,
            msg_type: 0,
            store_time: 0,
            retry_times: 0,
            transaction_id: String::new(),
            transaction_state: String::new(),
            from_transaction_check: false,
        };
        self.beans.first().unwrap_or(&EMPTY)
    }
}

/// The dispatcher of a producer with `enable_trace`.
pub fn producer_dispatcher(
    config: &super::ProducerConfig,
    instance: &super::ClientInstance,
) -> Option<TraceDispatcher> {
    config.enable_trace.then(|| {
        let mut opts = dispatcher::DispatchOptions::new(&config.trace_topic);
        opts.access_channel = config.client.access_channel;
        TraceDispatcher::start(instance, &config.group, "PRODUCE", opts)
    })
}

/// The dispatcher of a push consumer with `enable_trace`.
pub fn consumer_dispatcher(
    config: &super::ConsumerConfig,
    instance: &super::ClientInstance,
) -> Option<TraceDispatcher> {
    config.enable_trace.then(|| {
        let mut opts = dispatcher::DispatchOptions::new(&config.trace_topic);
        opts.access_channel = config.client.access_channel;
        TraceDispatcher::start(instance, &config.group, "CONSUME", opts)
    })
}

/// At shutdown: wait (at most 3 s, on the client runtime) until `dispatcher`'s queued records
/// are sent or failed.
pub async fn flush_on(instance: &super::ClientInstance, dispatcher: Option<TraceDispatcher>) {
    if let Some(d) = dispatcher {
        let wait = std::time::Duration::from_secs(3);
        let _ = instance.run(async move { d.flush(wait).await }).await;
    }
}
