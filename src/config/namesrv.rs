//! The name server's configuration (`namesrv -c FILE --set key=value`).

use serde::{Deserialize, Serialize};

use super::{check_min, ConfigError, ConfigKeys};

/// Name-server settings. Key names follow RocketMQ's `NamesrvConfig`/`NettyServerConfig` where
/// one exists.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamesrvConfig {
    /// Address to bind.
    pub listen_addr: String,
    /// Port to bind; 0 picks a free port (the bound one is printed).
    pub listen_port: u16,
    /// How often the broker-liveness scan runs (ms). RocketMQ: 10 s.
    pub scan_not_active_broker_interval: u64,
    /// A broker not heard from for this long is dropped (ms). RocketMQ: 120 s.
    pub broker_channel_expired_time: u64,
    /// Largest frame accepted (bytes); larger closes the connection. RocketMQ: 16 MiB.
    pub frame_max_length: usize,
    /// Requests one connection may have in flight before it is answered SYSTEM_BUSY.
    pub max_inflight_per_connection: usize,
    /// Close a connection that read no request and wrote no byte for this long (s; 0 = never).
    /// RocketMQ: 120.
    pub server_channel_max_idle_time_seconds: u64,
    /// Bytes queued for one peer above which its connection stops reading requests until the
    /// peer has drained them to `writeBufferLowWaterMark`.
    pub write_buffer_high_water_mark: usize,
    pub write_buffer_low_water_mark: usize,
    /// Bytes that frames still arriving may hold across all connections; a connection whose next
    /// frame would pass it is closed.
    pub incomplete_frames_max_bytes: usize,
    /// `tracing` filter (e.g. `info`, `actormq=debug`).
    pub log_level: String,
    /// `kvConfigPath`: where the KV config (PUT_KV_CONFIG...) is kept; empty = memory only.
    pub kv_config_path: String,
}

impl Default for NamesrvConfig {
    fn default() -> Self {
        NamesrvConfig {
            listen_addr: "0.0.0.0".into(),
            listen_port: 9876,
            scan_not_active_broker_interval: 10_000,
            broker_channel_expired_time: 120_000,
            frame_max_length: 16 * 1024 * 1024,
            max_inflight_per_connection: 1024,
            server_channel_max_idle_time_seconds: 120,
            write_buffer_high_water_mark: 4 * 1024 * 1024,
            write_buffer_low_water_mark: 2 * 1024 * 1024,
            incomplete_frames_max_bytes: 128 * 1024 * 1024,
            log_level: "info".into(),
            kv_config_path: std::env::var("HOME")
                .map(|h| format!("{h}/namesrv/kvConfig.json"))
                .unwrap_or_default(),
        }
    }
}

impl ConfigKeys for NamesrvConfig {
    const IGNORED: &'static [&'static str] = &[
        "rocketmqHome",
        "configStorePath",
        "productEnvName",
        "clusterTest",
        "orderMessageEnable",
        "serverWorkerThreads",
        "serverCallbackExecutorThreads",
        "serverSelectorThreads",
        "serverOnewaySemaphoreValue",
        "serverAsyncSemaphoreValue",
        "serverSocketSndBufSize",
        "serverSocketRcvBufSize",
        "serverPooledByteBufAllocatorEnable",
        "useEpollNativeSelector",
    ];

    fn validate(&self) -> Result<(), ConfigError> {
        super::check_net_keys(
            self.write_buffer_high_water_mark,
            self.write_buffer_low_water_mark,
            self.incomplete_frames_max_bytes,
            self.frame_max_length,
        )?;
        check_min(
            "scanNotActiveBrokerInterval",
            self.scan_not_active_broker_interval,
            1,
        )?;
        check_min(
            "maxInflightPerConnection",
            self.max_inflight_per_connection,
            1,
        )
    }
}
