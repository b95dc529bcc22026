//! The broker's controller-mode keys (RocketMQ 5, RIP-44; flattened into `BrokerConfig` so they
//! stay top-level): whether the broker takes its role from a controller group, where the
//! controllers are, how often it talks to them, and the SyncStateSet rules of a master.
//! The rules between these keys and `brokerRole`/`brokerId` are judged in `broker.rs`.

use serde::{Deserialize, Serialize};

use super::broker::{check_host_port, BrokerConfig, BrokerRole};
use super::{check_min, ConfigError};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BrokerControllerConfig {
    /// `enableControllerMode`: the controller group decides master and slaves.
    pub enable_controller_mode: bool,
    /// `controllerAddr`: the controllers' request addresses, `;`-separated (with
    /// `enableControllerInNamesrv`, the name servers').
    pub controller_addr: String,
    /// `allAckInSyncStateSet`: a send is SEND_OK only once every SyncStateSet member has it.
    pub all_ack_in_sync_state_set: bool,
    /// `syncBrokerMetadataPeriod` (ms): ask the controller for the set's master this often.
    pub sync_broker_metadata_period: u64,
    /// `checkSyncStateSetPeriod` (ms): a master reviews its SyncStateSet this often.
    pub check_sync_state_set_period: u64,
    /// `syncControllerMetadataPeriod` (ms): look for the controller leader this often.
    pub sync_controller_metadata_period: u64,
    /// `controllerHeartBeatTimeoutMills` (ms): told to the controller in every heartbeat; it
    /// counts the broker dead after this long without one.
    pub controller_heart_beat_timeout_mills: u64,
    /// `brokerHeartbeatInterval` (ms): heartbeat to the controllers this often.
    pub broker_heartbeat_interval: u64,
    /// `haMaxTimeSlaveNotCatchup` (ms): a SyncStateSet member not caught up for this long leaves.
    pub ha_max_time_slave_not_catchup: u64,
    /// `brokerElectionPriority`: lower is preferred when the controller elects.
    pub broker_election_priority: i32,
}

impl Default for BrokerControllerConfig {
    fn default() -> Self {
        BrokerControllerConfig {
            enable_controller_mode: false,
            controller_addr: String::new(),
            all_ack_in_sync_state_set: false,
            sync_broker_metadata_period: 5_000,
            check_sync_state_set_period: 5_000,
            sync_controller_metadata_period: 10_000,
            controller_heart_beat_timeout_mills: 10_000,
            broker_heartbeat_interval: 1_000,
            ha_max_time_slave_not_catchup: 15_000,
            broker_election_priority: i32::MAX,
        }
    }
}

impl BrokerControllerConfig {
    /// The controllers' addresses.
    pub fn controller_addrs(&self) -> Vec<String> {
        self.controller_addr
            .split(';')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        check_min(
            "syncBrokerMetadataPeriod",
            self.sync_broker_metadata_period,
            100,
        )?;
        check_min(
            "checkSyncStateSetPeriod",
            self.check_sync_state_set_period,
            100,
        )?;
        check_min(
            "syncControllerMetadataPeriod",
            self.sync_controller_metadata_period,
            100,
        )?;
        check_min(
            "controllerHeartBeatTimeoutMills",
            self.controller_heart_beat_timeout_mills,
            100,
        )?;
        check_min(
            "brokerHeartbeatInterval",
            self.broker_heartbeat_interval,
            10,
        )?;
        check_min(
            "haMaxTimeSlaveNotCatchup",
            self.ha_max_time_slave_not_catchup,
            100,
        )?;
        if self.enable_controller_mode && self.controller_addrs().is_empty() {
            return Err(ConfigError::BadValue {
                key: "controllerAddr".into(),
                value: self.controller_addr.clone(),
                reason: "enableControllerMode = true needs the controllers' addresses \
                         (host:port;host:port)"
                    .into(),
            });
        }
        Ok(())
    }
}

impl BrokerConfig {
    /// Controller mode: the controller assigns ids and roles, so the config may say
    /// `brokerId = -1` and `brokerRole = SLAVE` (RocketMQ 5's quick-start files) or leave both out
    /// (the defaults ASYNC_MASTER / 0 cannot be told from "left out"); anything else is a mistake.
    pub(super) fn check_controller_mode(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, value: String, reason: &str| ConfigError::BadValue {
            key: key.into(),
            value,
            reason: reason.into(),
        };
        if self.broker_role == BrokerRole::SyncMaster {
            return Err(bad(
                "brokerRole",
                self.broker_role.to_string(),
                "with enableControllerMode = true the controller decides the role: set \
                 brokerRole = SLAVE or leave it out",
            ));
        }
        if self.broker_id > 0 || self.broker_id < -1 {
            return Err(bad(
                "brokerId",
                self.broker_id.to_string(),
                "with enableControllerMode = true the controller assigns broker ids: set \
                 brokerId = -1 or leave it out",
            ));
        }
        if !self.ha_master_address.is_empty() {
            return Err(bad(
                "haMasterAddress",
                self.ha_master_address.clone(),
                "with enableControllerMode = true the master is the one the controller names",
            ));
        }
        if self.standalone {
            return Err(bad(
                "standalone",
                "true".into(),
                "a standalone broker has no controller group: turn enableControllerMode off",
            ));
        }
        for addr in self
            .controller
            .controller_addrs()
            .into_iter()
            .chain(self.namesrv_addrs())
        {
            check_host_port(&addr)
                .map_err(|reason| bad("controllerAddr/namesrvAddr", addr.clone(), &reason))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_sets;

    #[test]
    fn controller_mode_takes_its_role_from_the_controller() {
        let load_sets = load_sets::<BrokerConfig>;
        let on = [
            "enableControllerMode=true",
            "controllerAddr=127.0.0.1:9878;127.0.0.1:9879",
        ];
        for extra in [
            &[][..],
            &["brokerId=-1", "brokerRole=SLAVE"][..],
            &["brokerRole=SLAVE"][..],
            &["brokerId=-1"][..],
        ] {
            let sets: Vec<&str> = on.iter().chain(extra).copied().collect();
            let (c, _) = load_sets(&sets).unwrap_or_else(|e| panic!("{sets:?}: {e}"));
            assert_eq!(c.controller.controller_addrs().len(), 2);
        }
        for (extra, key) in [
            (&["brokerRole=SYNC_MASTER"][..], "'brokerRole'"),
            (&["brokerId=2"][..], "'brokerId'"),
            (&["haMasterAddress=h:1"][..], "'haMasterAddress'"),
            (&["controllerAddr="][..], "'controllerAddr'"),
            (&["controllerAddr=nohost"][..], "nohost"),
            (
                &["brokerHeartbeatInterval=0"][..],
                "brokerHeartbeatInterval",
            ),
        ] {
            let sets: Vec<&str> = on.iter().chain(extra).copied().collect();
            let e = load_sets(&sets).unwrap_err().to_string();
            assert!(e.contains(key), "{sets:?}: {e}");
        }
        // Without controller mode brokerId -1 stays wrong.
        assert!(load_sets(&["brokerId=-1"]).is_err());
    }
}
