//! The broker's configuration (`broker -c FILE --set key=value`): broker keys plus every store
//! key (`StoreConfig`, flattened), all under RocketMQ's `broker.conf` names.

use serde::{Deserialize, Serialize};

use super::metrics::MetricsConfig;
use super::net::NetConfig;
use super::{check_min, check_range, ConfigError, ConfigKeys};
use crate::storage::StoreConfig;

/// `brokerRole`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BrokerRole {
    AsyncMaster,
    SyncMaster,
    Slave,
}

impl std::fmt::Display for BrokerRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BrokerRole::AsyncMaster => "ASYNC_MASTER",
            BrokerRole::SyncMaster => "SYNC_MASTER",
            BrokerRole::Slave => "SLAVE",
        })
    }
}

/// Broker settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerConfig {
    /// `brokerClusterName`.
    pub broker_cluster_name: String,
    /// `brokerName`: the broker group (master and slaves share it).
    pub broker_name: String,
    /// `brokerId`: 0 = master, > 0 = slave.
    pub broker_id: i64,
    /// `brokerRole`: `ASYNC_MASTER`, `SYNC_MASTER` or `SLAVE`.
    pub broker_role: BrokerRole,
    /// `namesrvAddr`: name servers, `host:port` separated by `;`.
    pub namesrv_addr: String,
    /// Address to bind.
    pub listen_addr: String,
    /// `listenPort`: 10911; 0 picks a free port.
    pub listen_port: u16,
    /// `brokerIP1`: the address clients are told (routes, message ids). Must be reachable by
    /// clients; the default suits a single machine.
    #[serde(rename = "brokerIP1")]
    pub broker_ip1: String,
    /// Run a name server in this process and register with it (a one-command deployment).
    pub standalone: bool,
    /// Port of the embedded name server in standalone mode (0 = any free port).
    pub namesrv_listen_port: u16,
    /// `brokerPermission`: 6 = read + write.
    pub broker_permission: i32,
    pub auto_create_topic_enable: bool,
    pub auto_create_subscription_group: bool,
    /// Queues of the TBW102 template topic.
    pub default_topic_queue_nums: i32,
    pub cluster_topic_enable: bool,
    pub broker_topic_enable: bool,
    /// A send that waited longer than this (ms) before it could be handled gets SYSTEM_BUSY.
    pub wait_time_mills_in_send_queue: u64,
    /// Register with the name servers this often (ms).
    pub register_name_server_period: u64,
    /// Register using the compressed body.
    pub compressed_register: bool,
    /// Scan client connections this often (ms).
    pub client_scan_interval: u64,
    /// Drop a client silent this long (ms).
    pub client_channel_expired_time: u64,
    pub long_polling_enable: bool,
    pub short_polling_time_mills: u64,
    /// Orderly-consumption locks expire after this long (ms).
    pub rebalance_lock_max_live_time: u64,
    /// Sent back in send responses (`MSG_REGION`).
    pub region_id: String,
    /// Sent back in send responses (`TRACE_ON`).
    pub trace_on: bool,
    /// `traceTopicEnable`: create the message-trace topic (`msgTraceTopicName`, 1 queue) at start.
    pub trace_topic_enable: bool,
    /// `msgTraceTopicName`: the trace topic created when `traceTopicEnable`.
    pub msg_trace_topic_name: String,
    /// Persist consumer offsets this often (ms).
    pub flush_consumer_offset_interval: u64,
    /// Consumer groups, and separately producer groups, one client connection may be in; a
    /// heartbeat that would pass it is refused (RocketMQ has no such bound).
    pub max_groups_per_client: usize,
    /// Subscriptions one consumer group may list in a heartbeat; more is refused.
    pub max_subscriptions_per_group: usize,
    /// I/O arbiters for connections (0 = one per core).
    pub io_threads: usize,
    /// `tracing` filter.
    pub log_level: String,
    /// `haListenPort`: the master's replication port; -1 = listenPort + 1, 0 = a free port.
    pub ha_listen_port: i32,
    /// `haMasterAddress`: a slave's fixed master HA address, `host:port`. Empty: the slave
    /// learns (and follows) its master's HA address from the name server's REGISTER_BROKER answer.
    pub ha_master_address: String,
    /// `brokerIP2`: the host a master's slaves reach its HA port on (empty = `brokerIP1`).
    #[serde(rename = "brokerIP2")]
    pub broker_ip2: String,
    /// `haSlaveFallbehindMax` (bytes): a SYNC_MASTER answers SLAVE_NOT_AVAILABLE at once when its
    /// slave is further behind than this.
    pub ha_slave_fallbehind_max: u64,
    /// `slaveTimeout` (ms): how long a SYNC_MASTER send waits for its slave's ack before
    /// FLUSH_SLAVE_TIMEOUT.
    pub slave_timeout: u64,
    /// `slaveReadEnable`: a master suggests its slave (`suggestWhichBrokerId`) to a consumer
    /// pulling data far behind the CommitLog's end.
    pub slave_read_enable: bool,
    /// `haSendHeartbeatInterval` (ms): a master sends an empty transfer, a slave a report, after
    /// this long without anything else to send.
    pub ha_send_heartbeat_interval: u64,
    /// `haHousekeepingInterval` (ms): an HA connection silent this long is closed.
    pub ha_housekeeping_interval: u64,
    /// `haTransferBatchSize`: the most CommitLog bytes in one master -> slave transfer.
    pub ha_transfer_batch_size: usize,
    /// `haReconnectInterval` (ms, actormq's own; RocketMQ fixes it at 5 s): a slave whose
    /// connection attempt failed tries again after this long.
    pub ha_reconnect_interval: u64,
    /// `transactionTimeOut` (ms): a half message this old (from its birth) without a commit or
    /// rollback is checked back with its producer group.
    pub transaction_time_out: u64,
    /// `transactionCheckInterval` (ms): how often the master scans half messages to check back.
    pub transaction_check_interval: u64,
    /// `transactionCheckMax`: after this many check-backs a half message is moved to
    /// `TRANS_CHECK_MAX_TIME_TOPIC` and never checked again.
    pub transaction_check_max: i32,
    #[serde(flatten)]
    pub net: NetConfig,
    /// The dashboard keys: served by the embedded name server, so standalone mode only.
    #[serde(flatten)]
    pub dashboard: super::dashboard::DashboardConfig,
    #[serde(flatten)]
    pub store: StoreConfig,
    #[serde(flatten)]
    pub metrics: MetricsConfig,
    #[serde(flatten)]
    pub tls: super::tls::TlsConfig,
    #[serde(flatten)]
    pub acl: super::acl::AclConfig,
    /// The controller-mode keys (`enableControllerMode`, `controllerAddr`, ...).
    #[serde(flatten)]
    pub controller: super::broker_controller::BrokerControllerConfig,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            broker_cluster_name: "DefaultCluster".into(),
            broker_name: "broker-a".into(),
            broker_id: 0,
            broker_role: BrokerRole::AsyncMaster,
            namesrv_addr: String::new(),
            listen_addr: "0.0.0.0".into(),
            listen_port: 10911,
            broker_ip1: "127.0.0.1".into(),
            standalone: false,
            namesrv_listen_port: 9876,
            broker_permission: 6,
            auto_create_topic_enable: true,
            auto_create_subscription_group: true,
            default_topic_queue_nums: 8,
            cluster_topic_enable: true,
            broker_topic_enable: true,
            wait_time_mills_in_send_queue: 200,
            register_name_server_period: 30_000,
            compressed_register: false,
            client_scan_interval: 10_000,
            client_channel_expired_time: 120_000,
            long_polling_enable: true,
            short_polling_time_mills: 1_000,
            rebalance_lock_max_live_time: 60_000,
            region_id: "DefaultRegion".into(),
            trace_on: true,
            trace_topic_enable: false,
            msg_trace_topic_name: "RMQ_SYS_TRACE_TOPIC".into(),
            flush_consumer_offset_interval: 5_000,
            max_groups_per_client: 1_000,
            max_subscriptions_per_group: 1_000,
            io_threads: 0,
            log_level: "info".into(),
            ha_listen_port: -1,
            ha_master_address: String::new(),
            broker_ip2: String::new(),
            ha_slave_fallbehind_max: 256 * 1024 * 1024,
            slave_timeout: 3_000,
            slave_read_enable: false,
            ha_send_heartbeat_interval: 5_000,
            ha_housekeeping_interval: 20_000,
            ha_transfer_batch_size: crate::protocol::ha::DEFAULT_TRANSFER_BATCH_SIZE,
            ha_reconnect_interval: 5_000,
            transaction_time_out: 6_000,
            transaction_check_interval: 60_000,
            transaction_check_max: 15,
            net: NetConfig::default(),
            dashboard: Default::default(),
            store: StoreConfig::default(),
            metrics: MetricsConfig::default(),
            tls: Default::default(),
            acl: Default::default(),
            controller: Default::default(),
        }
    }
}

impl BrokerConfig {
    /// The queue counts in the config obey the one per-topic limit
    /// (`protocol::validate::MAX_QUEUE_NUMS`).
    pub fn check_queue_counts(&self) -> Result<(), crate::protocol::validate::InvalidInput> {
        crate::protocol::validate::check_queue_nums(
            "defaultTopicQueueNums",
            self.default_topic_queue_nums,
        )
    }

    /// The heartbeat bounds.
    pub fn heartbeat_limits(
        &self,
    ) -> crate::actors::broker::logic::heartbeat_rules::HeartbeatLimits {
        crate::actors::broker::logic::heartbeat_rules::HeartbeatLimits {
            max_groups_per_client: self.max_groups_per_client,
            max_subscriptions_per_group: self.max_subscriptions_per_group,
        }
    }

    /// Roles and ids of features actormq does not run yet, and name-server addresses.
    fn check_supported(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, value: String, reason: &str| ConfigError::BadValue {
            key: key.into(),
            value,
            reason: reason.into(),
        };
        if self.controller.enable_controller_mode {
            return self.check_controller_mode();
        }
        match (self.broker_role, self.broker_id) {
            (BrokerRole::AsyncMaster | BrokerRole::SyncMaster, id) if id != 0 => {
                return Err(bad("brokerId", id.to_string(), "a master has brokerId 0"))
            }
            (BrokerRole::Slave, id) if id <= 0 => {
                return Err(bad(
                    "brokerId",
                    id.to_string(),
                    "a slave has a brokerId above 0 (0 is the master's)",
                ))
            }
            _ => {}
        }
        if !self.ha_master_address.is_empty() {
            check_host_port(&self.ha_master_address).map_err(|reason| {
                bad("haMasterAddress", self.ha_master_address.clone(), &reason)
            })?;
        }
        if self.broker_role == BrokerRole::Slave
            && self.ha_master_address.is_empty()
            && self.namesrv_addrs().is_empty()
            && !self.standalone
        {
            return Err(bad(
                "haMasterAddress",
                String::new(),
                "a slave needs haMasterAddress, or namesrvAddr to learn its master from",
            ));
        }
        for addr in self.namesrv_addrs() {
            check_host_port(&addr).map_err(|reason| ConfigError::BadValue {
                key: "namesrvAddr".into(),
                value: self.namesrv_addr.clone(),
                reason,
            })?;
        }
        Ok(())
    }

    /// The port the HA listener binds (`haListenPort`; -1 means `listenPort` + 1, as RocketMQ's
    /// 10912 beside 10911, and a free port when `listenPort` is 0).
    pub fn ha_bind_port(&self) -> u16 {
        u16::try_from(self.ha_listen_port).unwrap_or(match self.listen_port {
            0 => 0,
            p => p.wrapping_add(1),
        })
    }

    /// The host in this broker's HA address (`brokerIP2`, else `brokerIP1`).
    pub fn ha_host(&self) -> &str {
        if self.broker_ip2.is_empty() {
            &self.broker_ip1
        } else {
            &self.broker_ip2
        }
    }

    /// The name-server addresses.
    pub fn namesrv_addrs(&self) -> Vec<String> {
        self.namesrv_addr
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

impl ConfigKeys for BrokerConfig {
    const OFF_ONLY: &'static [(&'static str, &'static str, &'static str)] = &[
        (
            "enablePropertyFilter",
            "false",
            "actormq has no SQL92 property filter yet",
        ),
        (
            "transientStorePoolEnable",
            "false",
            "actormq has no transient store pool",
        ),
    ];
    const IGNORED: &'static [&'static str] = &[
        "rocketmqHome",
        "brokerIP2",
        "storePathCommitLog",
        "storePathConsumeQueue",
        "storePathIndex",
        "storeCheckpoint",
        "abortFile",
        "sendMessageThreadPoolNums",
        "pullMessageThreadPoolNums",
        "queryMessageThreadPoolNums",
        "adminBrokerThreadPoolNums",
        "clientManageThreadPoolNums",
        "consumerManageThreadPoolNums",
        "heartbeatThreadPoolNums",
        "endTransactionThreadPoolNums",
        "useReentrantLockWhenPutMessage",
        "transientStorePoolSize",
        "fastFailIfNoBufferInStorePool",
        "serverWorkerThreads",
        "serverCallbackExecutorThreads",
        "serverSelectorThreads",
        "serverOnewaySemaphoreValue",
        "serverAsyncSemaphoreValue",
        "serverSocketSndBufSize",
        "serverSocketRcvBufSize",
        "serverPooledByteBufAllocatorEnable",
        "useEpollNativeSelector",
        "filterServerNums",
    ];

    fn validate(&self) -> Result<(), ConfigError> {
        self.check_supported()?;
        self.check_queue_counts()
            .map_err(|e| ConfigError::BadValue {
                key: "defaultTopicQueueNums".into(),
                value: self.default_topic_queue_nums.to_string(),
                reason: e.to_string(),
            })?;
        self.net.validate()?;
        self.metrics.validate()?;
        self.dashboard.validate()?;
        self.tls.validate()?;
        self.acl.validate()?;
        self.controller.validate()?;
        if self.dashboard.dashboard_enable && !self.standalone {
            return Err(ConfigError::BadValue {
                key: "dashboardEnable".into(),
                value: "true".into(),
                reason: "the dashboard is served by the name server: enable it there, or run the broker standalone".into(),
            });
        }
        // Java clamps the disk ratios into 10..=95; a value outside (0 or 1 % would force-delete
        // unconsumed data at once) is a mistake worth stopping for.
        let st = &self.store;
        check_range(
            "diskMaxUsedSpaceRatio",
            st.disk_max_used_space_ratio,
            10..=95,
        )?;
        check_range(
            "diskSpaceWarningLevelRatio",
            st.disk_space_warning_level_ratio,
            10..=95,
        )?;
        check_range(
            "diskSpaceCleanForciblyRatio",
            st.disk_space_clean_forcibly_ratio,
            10..=95,
        )?;
        check_range(
            "registerNameServerPeriod",
            self.register_name_server_period,
            1_000..=60_000,
        )?;
        check_min("clientScanInterval", self.client_scan_interval, 10)?;
        check_min(
            "flushConsumerOffsetInterval",
            self.flush_consumer_offset_interval,
            100,
        )?;
        check_range("haListenPort", self.ha_listen_port, -1..=65535)?;
        check_min(
            "haSendHeartbeatInterval",
            self.ha_send_heartbeat_interval,
            10,
        )?;
        check_min("haHousekeepingInterval", self.ha_housekeeping_interval, 100)?;
        check_range(
            "haTransferBatchSize",
            self.ha_transfer_batch_size,
            1..=crate::protocol::ha::MAX_TRANSFER_BODY,
        )?;
        check_min("slaveTimeout", self.slave_timeout, 10)?;
        check_min("haReconnectInterval", self.ha_reconnect_interval, 10)?;
        check_min("haSlaveFallbehindMax", self.ha_slave_fallbehind_max, 1)?;
        check_range(
            "accessMessageInMemoryMaxRatio",
            self.store.access_message_in_memory_max_ratio,
            0..=100,
        )?;
        check_min(
            "transactionCheckInterval",
            self.transaction_check_interval,
            10,
        )?;
        check_range(
            "transactionCheckMax",
            self.transaction_check_max,
            1..=10_000,
        )?;
        check_min("maxGroupsPerClient", self.max_groups_per_client, 1)?;
        check_min(
            "maxSubscriptionsPerGroup",
            self.max_subscriptions_per_group,
            1,
        )
    }
}

/// `host:port` with a port in 1..=65535.
pub(super) fn check_host_port(addr: &str) -> Result<(), String> {
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| format!("'{addr}' has no port: write host:port, e.g. {addr}:9876"))?;
    match port.parse::<u16>() {
        Ok(p) if p > 0 && !host.is_empty() => Ok(()),
        _ => Err(format!("'{addr}' is not host:port with a port in 1..65535")),
    }
}

#[cfg(test)]
#[path = "broker_tests.rs"]
mod tests;
