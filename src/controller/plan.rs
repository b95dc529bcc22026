//! The leader's side of each state-changing request: check it against the applied state and the
//! liveness table, pick the new master (the election policy), and turn it into a [`Command`] for
//! the Raft log. Pure functions; [`ControllerState::apply`] re-checks the epochs when the command
//! comes out of the log.

use std::collections::BTreeSet;

use super::error::ControllerError as E;
use super::live::Liveness;
use super::state::{check_alter, check_apply_broker_id, BrokerSet, Command, ControllerState};
use crate::protocol::body::controller::SyncStateSet;

/// What an election request comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElectPlan {
    /// The current master is alive and stays (CONTROLLER_MASTER_STILL_EXIST); nothing to write.
    StillMaster(BrokerSet),
    /// Write this ElectMaster command.
    Write(Command),
}

fn registered<'a>(state: &'a ControllerState, name: &str) -> Result<&'a BrokerSet, E> {
    state.set(name).ok_or_else(|| {
        E::NeedToBeRegistered(format!(
            "broker set {name} is not registered in the controller"
        ))
    })
}

/// The election policy (RocketMQ 5's DefaultElectPolicy): among `candidates` that are alive, the
/// old master if it still is and no one is designated; else the designated broker if alive;
/// else the best rank (electionPriority, then largest epoch, then largest maxOffset, then id).
fn pick(
    set: &BrokerSet,
    candidates: &BTreeSet<i64>,
    designated: Option<i64>,
    live: &dyn Liveness,
) -> Option<i64> {
    let alive: Vec<i64> = candidates
        .iter()
        .copied()
        .filter(|id| set.brokers.contains_key(id) && live.is_alive(&set.broker_name, *id))
        .collect();
    if let Some(old) = set.master.filter(|m| alive.contains(m)) {
        if designated.is_none_or(|d| d == old) {
            return Some(old);
        }
    }
    if let Some(d) = designated {
        return alive.contains(&d).then_some(d);
    }
    alive
        .into_iter()
        .min_by_key(|id| (live.rank(&set.broker_name, *id), *id))
}

/// CONTROLLER_ELECT_MASTER: `broker_id` is the asking broker (-1: the controller's own scan).
pub fn plan_elect(
    state: &ControllerState,
    broker_name: &str,
    broker_id: i64,
    designate: bool,
    unclean: bool,
    live: &dyn Liveness,
) -> Result<ElectPlan, E> {
    let set = registered(state, broker_name)?;
    let first_time = set.master.is_none() && set.master_epoch == 0;
    let mut new_master = (first_time && set.brokers.contains_key(&broker_id)).then_some(broker_id);
    if new_master.is_none() {
        let designated = designate.then_some(broker_id);
        new_master = pick(set, &set.sync_state_set, designated, live);
        if new_master.is_none() && unclean {
            let all: BTreeSet<i64> = set.brokers.keys().copied().collect();
            new_master = pick(set, &all, designated, live);
        }
    }
    if new_master.is_some() && new_master == set.master {
        return Ok(ElectPlan::StillMaster(set.clone()));
    }
    if new_master.is_none() && broker_id != -1 {
        return Err(E::ElectMasterFailed(format!(
            "no alive broker of {broker_name} can become master (candidates: SyncStateSet {:?}{})",
            set.sync_state_set,
            if unclean { ", then every replica" } else { "" }
        )));
    }
    Ok(ElectPlan::Write(Command::ElectMaster {
        broker_name: broker_name.to_string(),
        new_master,
        expected_master_epoch: set.master_epoch,
    }))
}

/// CONTROLLER_ALTER_SYNC_STATE_SET, checked as RocketMQ 5 does.
pub fn plan_alter(
    state: &ControllerState,
    broker_name: &str,
    master: i64,
    master_epoch: i32,
    body: &SyncStateSet,
    live: &dyn Liveness,
) -> Result<Command, E> {
    let set = state.set(broker_name).ok_or_else(|| {
        E::AlterSyncStateSetFailed(format!("broker set {broker_name} is not registered"))
    })?;
    let new_set = &body.sync_state_set;
    if *new_set == set.sync_state_set {
        return Err(E::AlterSyncStateSetFailed(
            "the new SyncStateSet equals the current one".into(),
        ));
    }
    check_alter(set, master, master_epoch, body.sync_state_set_epoch)?;
    for id in new_set {
        if !set.brokers.contains_key(id) {
            return Err(E::InvalidReplicas(format!(
                "replica {id} is not registered"
            )));
        }
        if !live.is_alive(broker_name, *id) {
            return Err(E::BrokerNotAlive(format!("replica {id} is not alive")));
        }
    }
    if !new_set.contains(&master) {
        return Err(E::AlterSyncStateSetFailed(format!(
            "the new SyncStateSet must contain the master {master}"
        )));
    }
    Ok(Command::AlterSyncStateSet {
        broker_name: broker_name.to_string(),
        master,
        master_epoch,
        sync_state_set_epoch: body.sync_state_set_epoch,
        new_set: new_set.clone(),
    })
}

/// CONTROLLER_REGISTER_BROKER: the set as it is, plus an address update when it changed.
pub fn plan_register(
    state: &ControllerState,
    broker_name: &str,
    broker_id: i64,
    address: &str,
) -> Result<(BrokerSet, Option<Command>), E> {
    let set = registered(state, broker_name)?;
    let Some(entry) = set.brokers.get(&broker_id) else {
        return Err(E::NeedToBeRegistered(format!(
            "broker id {broker_id} is not registered in broker set {broker_name}"
        )));
    };
    let update = (entry.address != address).then(|| Command::UpdateAddress {
        broker_name: broker_name.to_string(),
        broker_id,
        address: address.to_string(),
    });
    Ok((set.clone(), update))
}

/// CONTROLLER_APPLY_BROKER_ID: the broker's address is the part of the check code before `;`.
pub fn plan_apply_broker_id(
    state: &ControllerState,
    cluster_name: &str,
    broker_name: &str,
    broker_id: i64,
    check_code: &str,
) -> Result<Command, E> {
    check_apply_broker_id(state.set(broker_name), broker_name, broker_id, check_code)?;
    let address = check_code.split(';').next().unwrap_or_default();
    Ok(Command::ApplyBrokerId {
        cluster_name: cluster_name.to_string(),
        broker_name: broker_name.to_string(),
        broker_id,
        address: address.to_string(),
        check_code: check_code.to_string(),
    })
}

/// CLEAN_BROKER_DATA: ids `1;2` or the whole set; living brokers only with `clean_living`.
pub fn plan_clean(
    state: &ControllerState,
    broker_name: &str,
    ids: Option<&str>,
    clean_living: bool,
    live: &dyn Liveness,
) -> Result<Command, E> {
    let ids: Option<BTreeSet<i64>> = match ids.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(
            text.split(';')
                .map(|s| s.trim().parse::<i64>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    E::InvalidCleanBrokerMetadata(format!(
                        "brokerControllerIdsToClean '{text}' is not a ';'-separated id list"
                    ))
                })?,
        ),
    };
    let set = state.set(broker_name).ok_or_else(|| {
        E::InvalidCleanBrokerMetadata(format!("broker set {broker_name} does not exist"))
    })?;
    if !clean_living {
        let living = match &ids {
            None => set.brokers.keys().any(|id| live.is_alive(broker_name, *id)),
            Some(ids) => ids.iter().any(|id| live.is_alive(broker_name, *id)),
        };
        if living {
            return Err(E::InvalidCleanBrokerMetadata(format!(
                "a broker of {broker_name} to clean is still alive"
            )));
        }
    }
    Ok(Command::CleanBrokerData {
        broker_name: broker_name.to_string(),
        ids,
    })
}

/// Sets whose master is not alive while another member is: the scan elects for these.
pub fn needs_reelect(state: &ControllerState, live: &dyn Liveness) -> Vec<String> {
    state
        .sets
        .values()
        .filter(|s| {
            s.master.is_some_and(|m| !live.is_alive(&s.broker_name, m))
                && s.brokers
                    .keys()
                    .any(|id| live.is_alive(&s.broker_name, *id))
        })
        .map(|s| s.broker_name.clone())
        .collect()
}
