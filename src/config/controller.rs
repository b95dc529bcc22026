//! Controller keys (RocketMQ 5 `ControllerConfig`): the Raft group (`controllerDLeger*`: the
//! names RocketMQ kept from DLedger), where it stores its log, and the election switches. One
//! [`ControllerConfig`] is flattened into the name server's config (with
//! `enableControllerInNamesrv`) and into [`ControllerServerConfig`], the `controller` binary's.

use serde::{Deserialize, Serialize};

use super::net::NetConfig;
use super::{check_min, ConfigError, ConfigKeys};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ControllerConfig {
    /// The Raft group's name.
    pub controller_d_leger_group: String,
    /// `n0-host:port;n1-host:port;...`: every controller's id and Raft address.
    pub controller_d_leger_peers: String,
    /// This controller's id among the peers.
    pub controller_d_leger_self_id: String,
    /// Where the Raft log, vote and snapshots are kept.
    pub controller_store_path: String,
    /// Elect a master outside the SyncStateSet when no member of it is alive (may lose data).
    pub enable_elect_unclean_master: bool,
    /// Push NOTIFY_BROKER_ROLE_CHANGED to a set's brokers after its master changed.
    pub notify_broker_role_changed: bool,
    /// actormq's own: a secret every controller of the group shares; each Raft connection
    /// then opens with a mutual HMAC handshake (`controller::raft_auth`). Empty = open Raft
    /// ports, as RocketMQ's. Shown masked wherever the config is printed.
    #[serde(serialize_with = "super::dashboard::masked")]
    pub controller_raft_secret: String,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            controller_d_leger_group: "DefaultControllerGroup".into(),
            controller_d_leger_peers: "n0-127.0.0.1:9880".into(),
            controller_d_leger_self_id: "n0".into(),
            controller_store_path: std::env::var("HOME")
                .map(|h| format!("{h}/DledgerController"))
                .unwrap_or_else(|_| "DledgerController".into()),
            enable_elect_unclean_master: false,
            notify_broker_role_changed: true,
            controller_raft_secret: String::new(),
        }
    }
}

/// One controller of the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub id: String,
    /// The Raft address (`host:port`).
    pub addr: String,
}

fn bad_peers(value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::BadValue {
        key: "controllerDLegerPeers".into(),
        value: value.into(),
        reason: reason.into(),
    }
}

impl ControllerConfig {
    /// The peers, sorted by id (their Raft node numbers are the positions in this order).
    pub fn peers(&self) -> Result<Vec<Peer>, ConfigError> {
        let text = &self.controller_d_leger_peers;
        let mut peers = Vec::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, addr) = part
                .split_once('-')
                .ok_or_else(|| bad_peers(text, format!("'{part}' is not id-host:port")))?;
            let port_ok = addr
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if id.is_empty() || !port_ok {
                return Err(bad_peers(text, format!("'{part}' is not id-host:port")));
            }
            if peers.iter().any(|p: &Peer| p.id == id) {
                return Err(bad_peers(text, format!("id '{id}' appears twice")));
            }
            peers.push(Peer {
                id: id.to_string(),
                addr: addr.to_string(),
            });
        }
        if peers.is_empty() {
            return Err(bad_peers(text, "no peer given"));
        }
        peers.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(peers)
    }

    /// This node's position among [`Self::peers`].
    pub fn self_index(&self, peers: &[Peer]) -> Result<usize, ConfigError> {
        peers
            .iter()
            .position(|p| p.id == self.controller_d_leger_self_id)
            .ok_or_else(|| ConfigError::BadValue {
                key: "controllerDLegerSelfId".into(),
                value: self.controller_d_leger_self_id.clone(),
                reason: format!(
                    "not among the ids of controllerDLegerPeers '{}'",
                    self.controller_d_leger_peers
                ),
            })
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let peers = self.peers()?;
        self.self_index(&peers)?;
        if self.controller_store_path.trim().is_empty() {
            return Err(ConfigError::BadValue {
                key: "controllerStorePath".into(),
                value: String::new(),
                reason: "the controller needs a directory for its Raft log".into(),
            });
        }
        Ok(())
    }
}

/// The `controller` binary's configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ControllerServerConfig {
    /// Address the request port binds.
    pub listen_addr: String,
    /// The request port brokers and admin tools use (0 = a free port, printed at start).
    pub listen_port: u16,
    /// How often the leader looks for brokers whose heartbeats stopped (ms).
    pub scan_not_active_broker_interval: u64,
    /// `tracing` filter.
    pub log_level: String,
    #[serde(flatten)]
    pub net: NetConfig,
    /// `tlsMode` and friends for the request port; `tlsEnable` for the role-change pushes.
    #[serde(flatten)]
    pub tls: super::tls::TlsConfig,
    /// `aclEnable`: the state-changing controller requests need a signed admin account, as on a
    /// name server hosting a controller; `accessKey`/`secretKey` sign the role-change pushes.
    #[serde(flatten)]
    pub acl: super::acl::AclConfig,
    #[serde(flatten)]
    pub controller: ControllerConfig,
}

impl Default for ControllerServerConfig {
    fn default() -> Self {
        ControllerServerConfig {
            listen_addr: "0.0.0.0".into(),
            listen_port: 9878,
            scan_not_active_broker_interval: 5_000,
            // openraft logs every vote at info.
            log_level: "info,openraft=warn".into(),
            net: NetConfig::default(),
            tls: Default::default(),
            acl: Default::default(),
            controller: ControllerConfig::default(),
        }
    }
}

impl ConfigKeys for ControllerServerConfig {
    const IGNORED: &'static [&'static str] = &["rocketmqHome", "controllerType", "configStorePath"];

    fn validate(&self) -> Result<(), ConfigError> {
        self.net.validate()?;
        self.tls.validate()?;
        self.acl.validate()?;
        check_min(
            "scanNotActiveBrokerInterval",
            self.scan_not_active_broker_interval,
            1,
        )?;
        self.controller.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(peers: &str, me: &str) -> ControllerConfig {
        ControllerConfig {
            controller_d_leger_peers: peers.into(),
            controller_d_leger_self_id: me.into(),
            ..Default::default()
        }
    }

    #[test]
    fn peers_parse_sorted_and_bad_ones_are_named() {
        let c = cfg("n1-127.0.0.1:2;n0-127.0.0.1:1", "n1");
        let peers = c.peers().unwrap();
        assert_eq!(peers[0].id, "n0");
        assert_eq!(c.self_index(&peers).unwrap(), 1);
        assert!(c.validate().is_ok());
        for bad in ["", "n0", "n0-host", "n0-host:x", "n0-a:1;n0-b:2", "-a:1"] {
            let e = cfg(bad, "n0").validate().unwrap_err().to_string();
            assert!(e.contains("controllerDLegerPeers"), "{bad}: {e}");
        }
        let e = cfg("n0-a:1", "n5").validate().unwrap_err().to_string();
        assert!(e.contains("controllerDLegerSelfId"), "{e}");
    }

    #[test]
    fn keys_use_rocketmq_names() {
        let v = serde_json::to_value(ControllerServerConfig::default()).unwrap();
        for k in [
            "controllerDLegerGroup",
            "controllerDLegerPeers",
            "controllerDLegerSelfId",
            "controllerStorePath",
            "enableElectUncleanMaster",
            "notifyBrokerRoleChanged",
            "scanNotActiveBrokerInterval",
            "listenPort",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
    }
}
