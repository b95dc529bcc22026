//! The name server's configuration (`namesrv -c FILE --set key=value`).

use serde::{Deserialize, Serialize};

use super::dashboard::DashboardConfig;
use super::net::NetConfig;
use super::{check_min, ConfigError, ConfigKeys};

/// Name-server settings. Key names follow RocketMQ's `NamesrvConfig`/`NettyServerConfig` where
/// one exists.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NamesrvConfig {
    /// Address to bind.
    pub listen_addr: String,
    /// Port to bind; 0 picks a free port (the bound one is printed).
    pub listen_port: u16,
    /// How often the broker-liveness scan runs (ms). RocketMQ: 10 s.
    pub scan_not_active_broker_interval: u64,
    /// A broker not heard from for this long is dropped (ms). RocketMQ: 120 s.
    pub broker_channel_expired_time: u64,
    #[serde(flatten)]
    pub net: NetConfig,
    /// `tracing` filter (e.g. `info`, `actormq=debug`).
    pub log_level: String,
    /// `kvConfigPath`: where the KV config (PUT_KV_CONFIG...) is kept; empty = memory only.
    pub kv_config_path: String,
    #[serde(flatten)]
    pub dashboard: DashboardConfig,
    #[serde(flatten)]
    pub tls: super::tls::TlsConfig,
    #[serde(flatten)]
    pub acl: super::acl::AclConfig,
    /// Host a controller of controller mode (RocketMQ 5) on this name server's port.
    pub enable_controller_in_namesrv: bool,
    #[serde(flatten)]
    pub controller: super::controller::ControllerConfig,
}

impl Default for NamesrvConfig {
    fn default() -> Self {
        NamesrvConfig {
            listen_addr: "0.0.0.0".into(),
            listen_port: 9876,
            scan_not_active_broker_interval: 10_000,
            broker_channel_expired_time: 120_000,
            net: NetConfig::default(),
            log_level: "info".into(),
            kv_config_path: std::env::var("HOME")
                .map(|h| format!("{h}/namesrv/kvConfig.json"))
                .unwrap_or_default(),
            dashboard: DashboardConfig::default(),
            tls: Default::default(),
            acl: Default::default(),
            enable_controller_in_namesrv: false,
            controller: Default::default(),
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
        self.net.validate()?;
        self.dashboard.validate()?;
        self.tls.validate()?;
        self.acl.validate()?;
        if self.enable_controller_in_namesrv {
            self.controller.validate()?;
        }
        check_min(
            "scanNotActiveBrokerInterval",
            self.scan_not_active_broker_interval,
            1,
        )?;
        Ok(())
    }
}
