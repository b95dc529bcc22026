//! The controller's request handlers (RocketMQ 5 `ControllerRequestProcessor`): decode, plan on
//! the leader's applied state ([`super::plan`]), write through Raft, build the reply. Shared by
//! the `controller` binary and the name server hosting a controller; they run on the calling
//! connection's arbiter and hop to the controller's runtime only inside [`Controller`] calls.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::error::ControllerError as E;
use super::live::Liveness;
use super::node::Controller;
use super::plan::{self, ElectPlan};
use super::state::BrokerSet;
use crate::actors::reply::HandlerResult;
use crate::clock::now_ms;
use crate::error::ServiceError;
use crate::protocol::body::controller::{
    decode_broker_names, BrokerMemberGroup, BrokerReplicasInfo, ElectMasterResponseBody,
    ReplicaIdentity, ReplicasInfo, SyncStateSet,
};
use crate::protocol::codes::{request_code as code, response_code as rc};
use crate::protocol::headers::*;
use crate::protocol::RemotingCommand;

/// Whether `code` is one the controller answers.
pub fn is_controller_code(c: i32) -> bool {
    matches!(
        c,
        code::BROKER_HEARTBEAT
            | code::CONTROLLER_ALTER_SYNC_STATE_SET
            | code::CONTROLLER_ELECT_MASTER
            | code::CONTROLLER_REGISTER_BROKER
            | code::CONTROLLER_GET_REPLICA_INFO
            | code::CONTROLLER_GET_METADATA_INFO
            | code::CONTROLLER_GET_SYNC_STATE_DATA
            | code::UPDATE_CONTROLLER_CONFIG
            | code::GET_CONTROLLER_CONFIG
            | code::CLEAN_BROKER_DATA
            | code::CONTROLLER_GET_NEXT_BROKER_ID
            | code::CONTROLLER_APPLY_BROKER_ID
    )
}

/// Answer one controller request; `conn_id` identifies the connection (for liveness).
pub async fn handle(ctl: &Arc<Controller>, req: &RemotingCommand, conn_id: u64) -> HandlerResult {
    match req.code {
        code::BROKER_HEARTBEAT => heartbeat(ctl, req, conn_id),
        code::CONTROLLER_ALTER_SYNC_STATE_SET => alter_sync_state_set(ctl, req).await,
        code::CONTROLLER_ELECT_MASTER => elect_master(ctl, req).await,
        code::CONTROLLER_REGISTER_BROKER => register_broker(ctl, req).await,
        code::CONTROLLER_GET_REPLICA_INFO => replica_info(ctl, req).await,
        code::CONTROLLER_GET_METADATA_INFO => Ok(ok(req).with_header(&ctl.metadata().await)),
        code::CONTROLLER_GET_SYNC_STATE_DATA => sync_state_data(ctl, req).await,
        code::UPDATE_CONTROLLER_CONFIG => super::config_codes::update(ctl, req),
        code::GET_CONTROLLER_CONFIG => super::config_codes::get(ctl, req),
        code::CLEAN_BROKER_DATA => clean_broker_data(ctl, req).await,
        code::CONTROLLER_GET_NEXT_BROKER_ID => next_broker_id(ctl, req).await,
        code::CONTROLLER_APPLY_BROKER_ID => apply_broker_id(ctl, req).await,
        other => Err(ServiceError::NotSupported(other)),
    }
}

fn ok(req: &RemotingCommand) -> RemotingCommand {
    req.response_to(rc::SUCCESS, None)
}

/// The set a successful write left behind.
fn written(applied: Result<Option<BrokerSet>, E>) -> Result<BrokerSet, ServiceError> {
    applied?.ok_or_else(|| E::MetadataNotExist("the broker set is gone".into()).into())
}

fn heartbeat(ctl: &Controller, req: &RemotingCommand, conn_id: u64) -> HandlerResult {
    let h: BrokerHeartbeatRequestHeader = req.header()?;
    let Some(id) = h.broker_id else {
        return Err(E::InvalidRequest("heartbeat without brokerId".into()).into());
    };
    ctl.live.lock().heartbeat(&h, id, conn_id, now_ms());
    Ok(ok(req))
}

async fn alter_sync_state_set(ctl: &Arc<Controller>, req: &RemotingCommand) -> HandlerResult {
    let h: AlterSyncStateSetRequestHeader = req.header()?;
    let body = SyncStateSet::decode(&req.body)?;
    let cmd = ctl
        .read(|s| {
            let mut live = ctl.live.lock();
            plan::plan_alter(
                s,
                &h.broker_name,
                h.master_broker_id,
                h.master_epoch,
                &body,
                live.at(now_ms()),
            )
        })
        .await??;
    let set = written(ctl.write(cmd).await?)?;
    let reply = SyncStateSet {
        sync_state_set: set.sync_state_set.clone(),
        sync_state_set_epoch: set.sync_state_set_epoch,
    };
    Ok(ok(req)
        .with_header(&AlterSyncStateSetResponseHeader {
            new_sync_state_set_epoch: set.sync_state_set_epoch,
        })
        .with_body(reply.encode()))
}

fn elect_header(set: &BrokerSet) -> ElectMasterResponseHeader {
    ElectMasterResponseHeader {
        master_broker_id: set.master,
        master_address: set.master_address().map(str::to_string),
        master_epoch: Some(set.master_epoch),
        sync_state_set_epoch: Some(set.sync_state_set_epoch),
    }
}

fn member_group(set: &BrokerSet) -> BrokerMemberGroup {
    BrokerMemberGroup {
        broker_addrs: set
            .brokers
            .iter()
            .map(|(id, b)| (*id, b.address.clone()))
            .collect(),
        broker_name: set.broker_name.clone(),
        cluster: set.cluster_name.clone(),
    }
}

/// Elect for `broker_name` (`broker_id` -1: the controller's own scan) and write the result;
/// `Ok(Err(set))`: the master stays. Notifies the set's brokers of a new master.
pub async fn elect(
    ctl: &Arc<Controller>,
    broker_name: &str,
    broker_id: i64,
    designate: bool,
) -> Result<Result<BrokerSet, BrokerSet>, ServiceError> {
    let unclean = ctl.flags.unclean.load(Ordering::Relaxed);
    let planned = ctl
        .read(|s| {
            let mut live = ctl.live.lock();
            plan::plan_elect(
                s,
                broker_name,
                broker_id,
                designate,
                unclean,
                live.at(now_ms()),
            )
        })
        .await??;
    let cmd = match planned {
        ElectPlan::StillMaster(set) => return Ok(Err(set)),
        ElectPlan::Write(cmd) => cmd,
    };
    let set = written(ctl.write(cmd).await?)?;
    let Some(master) = set.master else {
        return Err(E::MasterNotAvailable(format!(
            "the master of {broker_name} is down and no broker could be elected"
        ))
        .into());
    };
    tracing::info!(broker = %broker_name, master, epoch = set.master_epoch, "new master elected");
    if ctl.flags.notify.load(Ordering::Relaxed) {
        super::notify::role_changed(ctl, &set);
    }
    Ok(Ok(set))
}

async fn elect_master(ctl: &Arc<Controller>, req: &RemotingCommand) -> HandlerResult {
    let h: ElectMasterRequestHeader = req.header()?;
    let designate = h.designate_elect.unwrap_or(false);
    let (code, set) = match elect(ctl, &h.broker_name, h.broker_id, designate).await? {
        Ok(set) => (rc::SUCCESS, set),
        Err(set) => (rc::CONTROLLER_MASTER_STILL_EXIST, set),
    };
    // As RocketMQ: the members only with a new master; ElectMasterResponseBody::encode writes
    // them where both RocketMQ's brokers and its mqadmin look.
    let body = ElectMasterResponseBody {
        broker_member_group: (code == rc::SUCCESS).then(|| member_group(&set)),
        sync_state_set: set.sync_state_set.clone(),
    };
    let remark = (code != rc::SUCCESS).then(|| {
        format!(
            "the master {:?} of {} is still alive",
            set.master, set.broker_name
        )
    });
    Ok(req
        .response_to(code, remark)
        .with_header(&elect_header(&set))
        .with_body(body.encode()))
}

async fn register_broker(ctl: &Arc<Controller>, req: &RemotingCommand) -> HandlerResult {
    let h: RegisterBrokerToControllerRequestHeader = req.header()?;
    let (mut set, update) = ctl
        .read(|s| plan::plan_register(s, &h.broker_name, h.broker_id, &h.broker_address))
        .await??;
    if let Some(cmd) = update {
        set = written(ctl.write(cmd).await?)?;
    }
    let master_alive = set
        .master
        .is_some_and(|m| ctl.live.lock().at(now_ms()).is_alive(&set.broker_name, m));
    let mut header = RegisterBrokerToControllerResponseHeader {
        cluster_name: Some(set.cluster_name.clone()),
        broker_name: Some(set.broker_name.clone()),
        ..Default::default()
    };
    if master_alive {
        header.master_broker_id = set.master;
        header.master_address = set.master_address().map(str::to_string);
        header.master_epoch = Some(set.master_epoch);
        header.sync_state_set_epoch = Some(set.sync_state_set_epoch);
    }
    let body = SyncStateSet {
        sync_state_set: set.sync_state_set.clone(),
        sync_state_set_epoch: set.sync_state_set_epoch,
    };
    Ok(ok(req).with_header(&header).with_body(body.encode()))
}

async fn replica_info(ctl: &Arc<Controller>, req: &RemotingCommand) -> HandlerResult {
    let h: GetReplicaInfoRequestHeader = req.header()?;
    let set = ctl
        .read(|s| s.set(&h.broker_name).cloned())
        .await?
        .ok_or_else(|| {
            E::MetadataNotExist(format!("broker set {} does not exist", h.broker_name))
        })?;
    let body = SyncStateSet {
        sync_state_set: set.sync_state_set.clone(),
        sync_state_set_epoch: set.sync_state_set_epoch,
    };
    Ok(ok(req)
        .with_header(&GetReplicaInfoResponseHeader {
            master_broker_id: set.master,
            master_address: set.master_address().map(str::to_string),
            master_epoch: Some(set.master_epoch),
        })
        .with_body(body.encode()))
}

async fn sync_state_data(ctl: &Arc<Controller>, req: &RemotingCommand) -> HandlerResult {
    let names = decode_broker_names(&req.body)?;
    let sets: Vec<BrokerSet> = ctl
        .read(|s| names.iter().filter_map(|n| s.set(n).cloned()).collect())
        .await?;
    let mut info = BrokerReplicasInfo::default();
    let mut live = ctl.live.lock();
    let live = live.at(now_ms());
    for set in sets {
        let (mut in_sync, mut not_in_sync) = (Vec::new(), Vec::new());
        for (id, b) in &set.brokers {
            let r = ReplicaIdentity {
                alive: Some(live.is_alive(&set.broker_name, *id)),
                broker_address: b.address.clone(),
                broker_id: *id,
                broker_name: set.broker_name.clone(),
            };
            if set.sync_state_set.contains(id) {
                in_sync.push(r);
            } else {
                not_in_sync.push(r);
            }
        }
        let entry = ReplicasInfo {
            in_sync_replicas: in_sync,
            master_address: set.master_address().map(str::to_string),
            master_broker_id: set.master,
            master_epoch: set.master_epoch,
            not_in_sync_replicas: not_in_sync,
            sync_state_set_epoch: set.sync_state_set_epoch,
        };
        info.replicas_info_table
            .insert(set.broker_name.clone(), entry);
    }
    Ok(ok(req).with_body(info.encode()))
}

async fn clean_broker_data(ctl: &Arc<Controller>, req: &RemotingCommand) -> HandlerResult {
    let h: CleanControllerBrokerDataRequestHeader = req.header()?;
    let living = h.is_clean_living_broker.unwrap_or(false);
    let cmd = ctl
        .read(|s| {
            let mut live = ctl.live.lock();
            let ids = h.broker_controller_ids_to_clean.as_deref();
            plan::plan_clean(s, &h.broker_name, ids, living, live.at(now_ms()))
        })
        .await??;
    ctl.write(cmd).await??;
    Ok(ok(req))
}

async fn next_broker_id(ctl: &Arc<Controller>, req: &RemotingCommand) -> HandlerResult {
    let h: GetNextBrokerIdRequestHeader = req.header()?;
    let next = ctl
        .read(|s| {
            s.set(&h.broker_name)
                .map_or(super::state::FIRST_BROKER_ID, BrokerSet::next_broker_id)
        })
        .await?;
    Ok(ok(req).with_header(&GetNextBrokerIdResponseHeader {
        cluster_name: Some(h.cluster_name),
        broker_name: Some(h.broker_name),
        next_broker_id: Some(next),
    }))
}

async fn apply_broker_id(ctl: &Arc<Controller>, req: &RemotingCommand) -> HandlerResult {
    let h: ApplyBrokerIdRequestHeader = req.header()?;
    let cmd = ctl
        .read(|s| {
            plan::plan_apply_broker_id(
                s,
                &h.cluster_name,
                &h.broker_name,
                h.applied_broker_id,
                &h.register_check_code,
            )
        })
        .await??;
    ctl.write(cmd).await??;
    Ok(ok(req).with_header(&ApplyBrokerIdResponseHeader {
        cluster_name: Some(h.cluster_name),
        broker_name: Some(h.broker_name),
    }))
}
