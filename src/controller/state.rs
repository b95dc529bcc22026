//! The replicated controller state: per broker set its broker ids and addresses, the master
//! (id, masterEpoch) and the SyncStateSet (ids, syncStateSetEpoch). It changes only by applying a
//! [`Command`] taken from the Raft log, so every controller holds the same state; `apply` is pure
//! and deterministic and re-checks the epochs a command was planned against, so two commands
//! planned on the same old state cannot both win (the second one is fenced).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::error::ControllerError as E;

/// RocketMQ 5's `FIRST_BROKER_CONTROLLER_ID`: the first id handed out in a broker set.
pub const FIRST_BROKER_ID: i64 = 1;

/// One broker of a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerEntry {
    pub address: String,
    /// `registerCheckCode` of the APPLY_BROKER_ID that claimed the id (`address;time`).
    pub check_code: String,
}

/// A broker set (one brokerName): its members, master and SyncStateSet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BrokerSet {
    pub cluster_name: String,
    pub broker_name: String,
    pub brokers: BTreeMap<i64, BrokerEntry>,
    pub master: Option<i64>,
    pub master_epoch: i32,
    pub sync_state_set: BTreeSet<i64>,
    pub sync_state_set_epoch: i32,
}

impl BrokerSet {
    pub fn address(&self, id: i64) -> Option<&str> {
        self.brokers.get(&id).map(|b| b.address.as_str())
    }
    pub fn master_address(&self) -> Option<&str> {
        self.master.and_then(|m| self.address(m))
    }
    /// The id the next new broker gets: one past the largest, or the first id.
    pub fn next_broker_id(&self) -> i64 {
        self.brokers
            .keys()
            .next_back()
            .map_or(FIRST_BROKER_ID, |m| m + 1)
    }
}

/// A state change, as written to the Raft log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// APPLY_BROKER_ID: `broker_id` joins the set (creating the set for the first id).
    ApplyBrokerId {
        cluster_name: String,
        broker_name: String,
        broker_id: i64,
        address: String,
        check_code: String,
    },
    /// REGISTER_BROKER with a new address for a known id.
    UpdateAddress {
        broker_name: String,
        broker_id: i64,
        address: String,
    },
    /// A new master (`None`: the master is gone and none could be elected), planned against
    /// `expected_master_epoch`; the SyncStateSet becomes just the new master.
    ElectMaster {
        broker_name: String,
        new_master: Option<i64>,
        expected_master_epoch: i32,
    },
    /// ALTER_SYNC_STATE_SET by the master `master` of `master_epoch`.
    AlterSyncStateSet {
        broker_name: String,
        master: i64,
        master_epoch: i32,
        sync_state_set_epoch: i32,
        new_set: BTreeSet<i64>,
    },
    /// CLEAN_BROKER_DATA: drop `ids` (all of them: the whole set).
    CleanBrokerData {
        broker_name: String,
        ids: Option<BTreeSet<i64>>,
    },
}

impl Command {
    pub fn broker_name(&self) -> &str {
        match self {
            Command::ApplyBrokerId { broker_name, .. }
            | Command::UpdateAddress { broker_name, .. }
            | Command::ElectMaster { broker_name, .. }
            | Command::AlterSyncStateSet { broker_name, .. }
            | Command::CleanBrokerData { broker_name, .. } => broker_name,
        }
    }
}

/// What applying a command gave: the set as it is afterwards (`None` once it was cleaned away),
/// or why the command was refused.
pub type Applied = Result<Option<BrokerSet>, E>;

/// Every broker set by brokerName (RocketMQ keys the controller's tables by brokerName).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ControllerState {
    pub sets: BTreeMap<String, BrokerSet>,
}

fn fenced_master(set: &BrokerSet, expected: i32) -> E {
    E::FencedMasterEpoch(format!(
        "the master epoch of {} is {}, not {expected}",
        set.broker_name, set.master_epoch
    ))
}

impl ControllerState {
    pub fn set(&self, broker_name: &str) -> Option<&BrokerSet> {
        self.sets.get(broker_name)
    }

    /// Apply one command; refused commands leave the state unchanged.
    pub fn apply(&mut self, cmd: &Command) -> Applied {
        if let Command::ApplyBrokerId {
            cluster_name,
            broker_name,
            broker_id,
            address,
            check_code,
        } = cmd
        {
            return Ok(Some(self.apply_broker_id(
                cluster_name,
                broker_name,
                *broker_id,
                address,
                check_code,
            )?));
        }
        let name = cmd.broker_name();
        let Some(set) = self.sets.get_mut(name) else {
            return Err(E::MetadataNotExist(format!(
                "broker set {name} is not registered in the controller"
            )));
        };
        match cmd {
            Command::ApplyBrokerId { .. } => unreachable!("handled above"),
            Command::UpdateAddress {
                broker_id, address, ..
            } => match set.brokers.get_mut(broker_id) {
                Some(b) => b.address.clone_from(address),
                None => {
                    return Err(E::NeedToBeRegistered(format!(
                        "broker id {broker_id} of {name} is not registered"
                    )))
                }
            },
            Command::ElectMaster {
                new_master,
                expected_master_epoch,
                ..
            } => {
                if set.master_epoch != *expected_master_epoch {
                    return Err(fenced_master(set, *expected_master_epoch));
                }
                set.master = *new_master;
                set.master_epoch += 1;
                if let Some(m) = new_master {
                    set.sync_state_set = [*m].into_iter().collect();
                    set.sync_state_set_epoch += 1;
                }
            }
            Command::AlterSyncStateSet {
                master,
                master_epoch,
                sync_state_set_epoch,
                new_set,
                ..
            } => {
                check_alter(set, *master, *master_epoch, *sync_state_set_epoch)?;
                set.sync_state_set.clone_from(new_set);
                set.sync_state_set_epoch += 1;
            }
            Command::CleanBrokerData { ids, .. } => return Ok(self.clean(name, ids.as_ref())),
        }
        Ok(self.sets.get(name).cloned())
    }

    fn apply_broker_id(
        &mut self,
        cluster_name: &str,
        broker_name: &str,
        id: i64,
        address: &str,
        check_code: &str,
    ) -> Result<BrokerSet, E> {
        check_apply_broker_id(self.sets.get(broker_name), broker_name, id, check_code)?;
        let set = self
            .sets
            .entry(broker_name.to_string())
            .or_insert_with(|| BrokerSet {
                cluster_name: cluster_name.to_string(),
                broker_name: broker_name.to_string(),
                ..Default::default()
            });
        set.brokers.insert(
            id,
            BrokerEntry {
                address: address.to_string(),
                check_code: check_code.to_string(),
            },
        );
        Ok(set.clone())
    }

    fn clean(&mut self, name: &str, ids: Option<&BTreeSet<i64>>) -> Option<BrokerSet> {
        let Some(ids) = ids.filter(|i| !i.is_empty()) else {
            self.sets.remove(name);
            return None;
        };
        let set = self.sets.get_mut(name)?;
        for id in ids {
            set.brokers.remove(id);
            set.sync_state_set.remove(id);
            if set.master == Some(*id) {
                set.master = None;
            }
        }
        if set.brokers.is_empty() {
            self.sets.remove(name);
            return None;
        }
        Some(set.clone())
    }
}

/// APPLY_BROKER_ID's rule: the first id of a new set must be [`FIRST_BROKER_ID`]; an id already
/// taken may only be re-applied by the broker that holds it (same check code).
pub fn check_apply_broker_id(
    set: Option<&BrokerSet>,
    broker_name: &str,
    id: i64,
    check_code: &str,
) -> Result<(), E> {
    match set {
        None if id != FIRST_BROKER_ID => Err(E::BrokerIdInvalid(format!(
            "broker set {broker_name} is not registered in the controller, so it cannot take broker id {id} (the first id is {FIRST_BROKER_ID})"
        ))),
        Some(s) if s.brokers.get(&id).is_some_and(|b| b.check_code != check_code) => {
            Err(E::BrokerIdInvalid(format!(
                "broker id {id} of {broker_name} belongs to another broker"
            )))
        }
        _ if id < FIRST_BROKER_ID => Err(E::BrokerIdInvalid(format!(
            "broker id {id} is invalid: ids start at {FIRST_BROKER_ID}"
        ))),
        _ => Ok(()),
    }
}

/// ALTER_SYNC_STATE_SET's fencing: the sender must be the current master of the current master
/// epoch, and must have seen the current SyncStateSet epoch.
pub fn check_alter(
    set: &BrokerSet,
    master: i64,
    master_epoch: i32,
    sss_epoch: i32,
) -> Result<(), E> {
    if set.master != Some(master) {
        return Err(E::InvalidMaster(format!(
            "the master of {} is {:?}, not {master}",
            set.broker_name, set.master
        )));
    }
    if set.master_epoch != master_epoch {
        return Err(fenced_master(set, master_epoch));
    }
    if set.sync_state_set_epoch != sss_epoch {
        return Err(E::FencedSyncStateSetEpoch(format!(
            "the SyncStateSet epoch of {} is {}, not {sss_epoch}",
            set.broker_name, set.sync_state_set_epoch
        )));
    }
    Ok(())
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
