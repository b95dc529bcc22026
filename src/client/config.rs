//! Client configuration: the knobs of the Java client that matter on the wire and for behaviour,
//! with the Java defaults. Every timer is a `Duration` field so tests can shorten it.

use std::path::PathBuf;
use std::time::Duration;

use crate::acl::sign::Credentials;
use crate::protocol::body::{ConsumeFromWhere, MessageModel};

use super::allocate::AllocateStrategy;
use super::trace::TRACE_TOPIC;

/// Shared by every producer and consumer of one client instance.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Name servers, `host:port` separated by `;` (failover in order).
    pub namesrv_addr: String,
    /// Instances with different names are distinct clients (distinct client ids) in one process.
    pub instance_name: String,
    /// The IP written into the client id and message ids; detected when empty.
    pub client_ip: String,
    /// Timeout of ordinary requests (routes, offsets, heartbeats).
    pub request_timeout: Duration,
    /// Route refresh period (`pollNameServerInterval`).
    pub poll_name_server_interval: Duration,
    /// Heartbeat period (`heartbeatBrokerInterval`).
    pub heartbeat_broker_interval: Duration,
    /// Connect to name servers and brokers with TLS (RocketMQ's `tls.enable`); `None`: plain.
    pub tls: Option<crate::tls::TlsClient>,
    /// ACL account every request is signed with (RocketMQ's `AclClientRPCHook`); `None` sends
    /// unsigned requests.
    pub credentials: Option<Credentials>,
    /// Where the cluster runs (Java `ClientConfig.accessChannel`); it only changes message
    /// trace: the topic records go to and the SubAfter layout (see [`AccessChannel`]).
    pub access_channel: AccessChannel,
}

/// Java's `AccessChannel`. `Local` (the default): trace records go to the configured trace
/// topic. `Cloud`: they go to `rmq_sys_TRACE_DATA_<regionId>` (the region the broker reports)
/// and SubAfter records leave out their last two fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessChannel {
    #[default]
    Local,
    Cloud,
}

impl ClientConfig {
    pub fn new(namesrv_addr: &str) -> Self {
        ClientConfig {
            namesrv_addr: namesrv_addr.to_string(),
            instance_name: "DEFAULT".to_string(),
            client_ip: String::new(),
            request_timeout: Duration::from_secs(3),
            poll_name_server_interval: Duration::from_secs(30),
            heartbeat_broker_interval: Duration::from_secs(30),
            tls: None,
            credentials: None,
            access_channel: AccessChannel::Local,
        }
    }

    /// Sign every request with `credentials` (an ACL account's access and secret key).
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }
}

#[derive(Debug, Clone)]
pub struct ProducerConfig {
    pub client: ClientConfig,
    pub group: String,
    /// Overall timeout of one send, retries included (`sendMsgTimeout`).
    pub send_timeout: Duration,
    /// Extra attempts on another broker after a failure (`retryTimesWhenSendFailed`).
    pub retry_times: u32,
    /// Largest accepted body (`maxMessageSize`, 4 MiB).
    pub max_message_size: usize,
    /// Avoid brokers that were slow or failed recently (`sendLatencyFaultEnable`).
    pub latency_fault_enable: bool,
    /// Write a Pub trace record per send (`enableMsgTrace`, off by default).
    pub enable_trace: bool,
    /// Where trace records go (`customizedTraceTopic`).
    pub trace_topic: String,
}

impl ProducerConfig {
    pub fn new(namesrv_addr: &str, group: &str) -> Self {
        ProducerConfig {
            client: ClientConfig::new(namesrv_addr),
            group: group.to_string(),
            send_timeout: Duration::from_secs(3),
            retry_times: 2,
            max_message_size: 4 * 1024 * 1024,
            latency_fault_enable: true,
            enable_trace: false,
            trace_topic: TRACE_TOPIC.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub client: ClientConfig,
    pub group: String,
    pub message_model: MessageModel,
    pub consume_from_where: ConsumeFromWhere,
    /// For `ConsumeFromTimestamp`: milliseconds since the epoch (default: 30 minutes ago).
    pub consume_timestamp: Option<i64>,
    pub allocate: AllocateStrategy,
    pub pull_batch_size: i32,
    pub pull_threshold_for_queue: usize,
    pub pull_threshold_size_for_queue: u64,
    pub consume_concurrently_max_span: i64,
    /// Listener calls running at once (concurrent mode).
    pub consume_thread_max: usize,
    /// Deliveries before a message goes to the DLQ (`maxReconsumeTimes`, 16).
    pub max_reconsume_times: i32,
    pub rebalance_interval: Duration,
    pub persist_offset_interval: Duration,
    pub lock_interval: Duration,
    /// A local lock older than this is treated as lost (`lockMaxLiveTime`, 30 s).
    pub lock_max_live: Duration,
    pub suspend_current_queue_time: Duration,
    /// Long-poll hold asked of the broker.
    pub long_poll_suspend: Duration,
    /// Back-off after a failed pull.
    pub pull_error_delay: Duration,
    /// Bound on waiting for in-flight listener calls at shutdown.
    pub shutdown_await: Duration,
    /// Broadcasting offsets live under `<dir>/<instance>/<group>/offsets.json`.
    pub offset_store_dir: PathBuf,
    /// Write SubBefore / SubAfter trace records per listener call (`enableMsgTrace`).
    pub enable_trace: bool,
    /// Where trace records go (`customizedTraceTopic`).
    pub trace_topic: String,
}

impl ConsumerConfig {
    pub fn new(namesrv_addr: &str, group: &str) -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        ConsumerConfig {
            client: ClientConfig::new(namesrv_addr),
            group: group.to_string(),
            message_model: MessageModel::Clustering,
            consume_from_where: ConsumeFromWhere::ConsumeFromLastOffset,
            consume_timestamp: None,
            allocate: AllocateStrategy::Averagely,
            pull_batch_size: 32,
            pull_threshold_for_queue: 1000,
            pull_threshold_size_for_queue: 100 * 1024 * 1024,
            consume_concurrently_max_span: 2000,
            consume_thread_max: 20,
            max_reconsume_times: 16,
            rebalance_interval: Duration::from_secs(20),
            persist_offset_interval: Duration::from_secs(5),
            lock_interval: Duration::from_secs(20),
            lock_max_live: Duration::from_secs(30),
            suspend_current_queue_time: Duration::from_secs(1),
            long_poll_suspend: Duration::from_secs(15),
            pull_error_delay: Duration::from_secs(3),
            shutdown_await: Duration::from_secs(10),
            offset_store_dir: home.join(".rocketmq_offsets"),
            enable_trace: false,
            trace_topic: TRACE_TOPIC.to_string(),
        }
    }
}
