//! `ReplicasActor`: a controller-mode broker's link to the controller group (RocketMQ 5's
//! `ReplicasManager`); the decisions are `logic::replicas`', the requests `controller_api`'s.
//!
//! - Start: the broker runs as SLAVE (no writes) until the controller says otherwise. Find the
//!   controller leader (CONTROLLER_GET_METADATA_INFO over `controllerAddr`), take the broker id
//!   from `<storePathRootDir>/brokerIdentity` or get one (GET_NEXT_BROKER_ID + APPLY_BROKER_ID,
//!   then saved: temp + fsync + rename), register (CONTROLLER_REGISTER_BROKER), and without a
//!   master ask for an election (CONTROLLER_ELECT_MASTER). Any failure: again 1 s later.
//! - Then: BROKER_HEARTBEAT to every controller every `brokerHeartbeatInterval`; the set's master
//!   (CONTROLLER_GET_REPLICA_INFO) every `syncBrokerMetadataPeriod`; the leader every
//!   `syncControllerMetadataPeriod` (and at once after a failed call); as master, the
//!   SyncStateSet every `checkSyncStateSetPeriod` (CONTROLLER_ALTER_SYNC_STATE_SET; a fenced
//!   answer asks for the replica info, which demotes this broker).
//! - Role switch, one at a time (a newer decision waits for the running one): to master = stop
//!   the slave side, the store's `become_master(epoch)`, role master (SYNC_MASTER with
//!   `allAckInSyncStateSet`, else ASYNC_MASTER) with broker id 0, start the master side,
//!   re-register. To slave = role slave first (writes refused), stop replication (slaves of this
//!   broker are disconnected), ask the new master for its HA address and epoch cache, the
//!   store's `prepare_as_slave`, start the slave side against it, re-register under this
//!   broker's id. A failed switch is tried again 1 s later unless a newer one replaced it.
//! - Handles: `RoleChanged` (NOTIFY_BROKER_ROLE_CHANGED from the controller, via its handler).
//! - Runs on: the broker's control arbiter; requests and store calls are spawned futures (store
//!   calls on blocking threads).

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tracing::{info, warn};

use super::context::{BrokerCtx, MasterAddrs};
use super::controller_api::{CallError, ControllerApi};
use super::logic::replicas::{
    BrokerIdentity, ControllerAddrs, Decision, MasterInfo, Replicas, SlaveProgress, IDENTITY_FILE,
};
use super::registrar::RegisterNow;
use super::replication::Replication;
use crate::clock::now_ms;
use crate::config::broker_controller::BrokerControllerConfig;
use crate::config::BrokerRole;
use crate::protocol::body::controller::SyncStateSet;
use crate::protocol::codes::response_code;
use crate::protocol::headers::controller::BrokerHeartbeatRequestHeader;

const RETRY: Duration = Duration::from_secs(1);

pub struct ReplicasActor {
    ctx: Arc<BrokerCtx>,
    api: ControllerApi,
    replication: Arc<Replication>,
    settings: BrokerControllerConfig,
    controllers: ControllerAddrs,
    /// `None` until the broker id is known and the broker registered.
    state: Option<Replicas>,
    booting: bool,
    finding_leader: bool,
    /// A role switch is under way; the newest decision that arrived meanwhile.
    switching: bool,
    queued: Option<Decision>,
    polling: bool,
    /// Controllers with a heartbeat in flight.
    beating: Arc<parking_lot::Mutex<std::collections::HashSet<String>>>,
}

impl ReplicasActor {
    pub fn new(ctx: Arc<BrokerCtx>, replication: Arc<Replication>, api: ControllerApi) -> Self {
        let settings = ctx.cfg.controller.clone();
        ReplicasActor {
            controllers: ControllerAddrs::parse(&settings.controller_addr),
            ctx,
            api,
            replication,
            settings,
            state: None,
            booting: false,
            finding_leader: false,
            switching: false,
            queued: None,
            polling: false,
            beating: Arc::default(),
        }
    }

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    /// Look for the leader (unless a search is running).
    fn find_leader(&mut self, ctx: &mut Context<Self>) {
        if self.finding_leader {
            return;
        }
        self.finding_leader = true;
        let (api, addrs) = (self.api.clone(), self.controllers.all().to_vec());
        ctx.spawn(
            async move {
                for addr in addrs {
                    match api.metadata(&addr).await {
                        Ok((is_leader, leader)) if is_leader || leader.is_some() => {
                            return Some((addr, is_leader, leader))
                        }
                        Ok(_) => {}
                        Err(e) => tracing::debug!(error = %e, "controller metadata"),
                    }
                }
                None
            }
            .into_actor(self)
            .map(|found, act, _| {
                act.finding_leader = false;
                match found {
                    Some((addr, is_leader, leader)) => {
                        let before = act.controllers.leader().map(str::to_string);
                        let now = act
                            .controllers
                            .on_metadata(&addr, is_leader, leader.as_deref());
                        if before.as_deref() != now {
                            info!(leader = ?now, "controller leader");
                        }
                    }
                    None => {
                        warn!(controllers = ?act.controllers.all(), "no controller leader found")
                    }
                }
            }),
        );
    }

    /// The leader, or start looking for it.
    fn leader(&mut self, ctx: &mut Context<Self>) -> Option<String> {
        let l = self.controllers.leader().map(str::to_string);
        if l.is_none() {
            self.find_leader(ctx);
        }
        l
    }

    fn call_failed(&mut self, what: &str, e: &CallError, ctx: &mut Context<Self>) {
        warn!(error = %e, "controller {what} failed");
        if e.lost_leader() {
            self.controllers.forget_leader();
            self.find_leader(ctx);
        }
    }

    /// Broker id and registration; retried until it succeeds.
    fn boot(&mut self, ctx: &mut Context<Self>) {
        if self.booting || self.state.is_some() {
            return;
        }
        let Some(leader) = self.leader(ctx) else {
            ctx.run_later(RETRY, |act, ctx| act.boot(ctx));
            return;
        };
        self.booting = true;
        let api = self.api.clone();
        let path = self.ctx.cfg.store.store_path_root_dir.join(IDENTITY_FILE);
        ctx.spawn(
            async move {
                let id = broker_id(&api, &leader, path).await?;
                let info = api.register(&leader, id).await.map_err(BootError::Call)?;
                Ok::<_, BootError>((id, info))
            }
            .into_actor(self)
            .map(|res, act, ctx| {
                act.booting = false;
                match res {
                    Ok((id, info)) => {
                        info!(broker_id = id, master = ?info.master_addr, epoch = info.master_epoch, "registered with the controller");
                        act.ctx.role.set(BrokerRole::Slave, id);
                        act.state = Some(Replicas::new(id));
                        act.on_master_info(info, ctx);
                    }
                    Err(e) => {
                        if let BootError::Call(c) = &e {
                            act.call_failed("registration", c, ctx);
                        } else {
                            warn!(error = %e, "controller registration failed");
                        }
                        ctx.run_later(RETRY, |act, ctx| act.boot(ctx));
                    }
                }
            }),
        );
    }

    fn on_master_info(&mut self, info: MasterInfo, ctx: &mut Context<Self>) {
        let Some(state) = self.state.as_mut() else {
            return;
        };
        match state.on_master_info(&info, now_ms()) {
            Decision::Keep => self.publish_required(),
            Decision::Elect => self.elect(ctx),
            d => self.switch(d, ctx),
        }
    }

    fn elect(&mut self, ctx: &mut Context<Self>) {
        let (Some(id), Some(leader)) = (self.state.as_ref().map(|s| s.self_id()), self.leader(ctx))
        else {
            return;
        };
        let api = self.api.clone();
        ctx.spawn(
            async move { api.elect(&leader, id).await }
                .into_actor(self)
                .map(|res, act, ctx| {
                    match res {
                        Ok(info) if info.master_id.is_some() => {
                            return act.on_master_info(info, ctx)
                        }
                        Ok(_) => warn!("the controller elected no master yet"),
                        Err(e) => act.call_failed("election", &e, ctx),
                    }
                    // As RocketMQ's broker retries its start-up election: ask again soon rather
                    // than at the next `syncBrokerMetadataPeriod` (a master elected meanwhile,
                    // whose push missed this broker, is learnt then).
                    ctx.run_later(RETRY, |act, ctx| act.poll_replica_info(ctx));
                }),
        );
    }

    /// CONTROLLER_GET_REPLICA_INFO; also how a fenced master learns its successor.
    fn poll_replica_info(&mut self, ctx: &mut Context<Self>) {
        if self.state.is_none() || self.polling {
            return;
        }
        let Some(leader) = self.leader(ctx) else {
            return;
        };
        self.polling = true;
        let api = self.api.clone();
        ctx.spawn(
            async move { api.replica_info(&leader).await }
                .into_actor(self)
                .map(|res, act, ctx| {
                    act.polling = false;
                    match res {
                        Ok(info) => act.on_master_info(info, ctx),
                        Err(e)
                            if e.code()
                                == Some(response_code::CONTROLLER_BROKER_METADATA_NOT_EXIST) =>
                        {
                            warn!(
                                "the controller does not know this broker set: registering again"
                            );
                            act.state = None;
                            act.boot(ctx);
                        }
                        Err(e) => act.call_failed("replica info", &e, ctx),
                    }
                }),
        );
    }

    fn heartbeat(&mut self, _ctx: &mut Context<Self>) {
        let Some(state) = self.state.as_ref() else {
            return;
        };
        let store = &self.ctx.store;
        let max = store.commit_log_max_offset().max(0);
        let confirm = if state.is_master() {
            state.confirm_offset(max as u64, &self.progress()) as i64
        } else {
            max
        };
        let h = BrokerHeartbeatRequestHeader {
            cluster_name: self.api.me.cluster.clone(),
            broker_addr: self.api.me.broker_addr.clone(),
            broker_name: self.api.me.broker_name.clone(),
            broker_id: Some(state.self_id()),
            epoch: Some(store.epoch_entries().last().map_or(0, |e| e.epoch)),
            max_offset: Some(max),
            confirm_offset: Some(confirm),
            heartbeat_timeout_mills: Some(self.settings.controller_heart_beat_timeout_mills as i64),
            election_priority: Some(self.settings.broker_election_priority),
        };
        for addr in self.controllers.all() {
            // One heartbeat in flight per controller (a frozen one must not pile them up).
            if !self.beating.lock().insert(addr.clone()) {
                continue;
            }
            let (api, addr, h) = (self.api.clone(), addr.clone(), h.clone());
            let beating = self.beating.clone();
            actix_rt::spawn(async move {
                api.heartbeat(&addr, h).await;
                beating.lock().remove(&addr);
            });
        }
    }

    fn progress(&self) -> Vec<SlaveProgress> {
        self.ctx
            .ha
            .acks
            .progress()
            .into_iter()
            .map(|(broker_id, ack, caught_up_ms, connected)| SlaveProgress {
                broker_id,
                ack,
                caught_up_ms,
                connected,
            })
            .collect()
    }

    /// With `allAckInSyncStateSet`, sends wait for the replicas the logic names.
    fn publish_required(&self) {
        let Some(state) = self.state.as_ref().filter(|s| s.is_master()) else {
            return;
        };
        if self.settings.all_ack_in_sync_state_set {
            self.ctx.ha.acks.set_required(Some(state.required_acks()));
        }
    }

    /// The master's SyncStateSet review.
    fn check_sync_state_set(&mut self, ctx: &mut Context<Self>) {
        if self.switching {
            return;
        }
        let progress = self.progress();
        let max = self.ctx.store.commit_log_max_offset().max(0) as u64;
        let not_caught_up = self.settings.ha_max_time_slave_not_catchup as i64;
        let Some(state) = self.state.as_mut() else {
            return;
        };
        let Some(next) = state.check_set(now_ms(), not_caught_up, max, &progress) else {
            return;
        };
        let Some(leader) = self.controllers.leader().map(str::to_string) else {
            self.find_leader(ctx);
            return;
        };
        let (id, epoch, set_epoch) = (
            state.self_id(),
            state.master_epoch(),
            state.sync_state_set_epoch(),
        );
        info!(from = ?state.sync_state_set(), to = ?next, "proposing a new SyncStateSet");
        state.begin_alter(next.clone());
        self.publish_required();
        let body = SyncStateSet {
            sync_state_set: next,
            sync_state_set_epoch: set_epoch,
        };
        let api = self.api.clone();
        ctx.spawn(
            async move { api.alter_sync_state_set(&leader, id, epoch, body).await }
                .into_actor(self)
                .map(|res, act, ctx| {
                    let Some(state) = act.state.as_mut() else {
                        return;
                    };
                    match res {
                        Ok(new_epoch) => state.altered(new_epoch),
                        Err(e) => {
                            state.alter_failed();
                            if e.code() == Some(response_code::CONTROLLER_FENCED_MASTER_EPOCH) {
                                warn!(error = %e, "fenced: another master was elected");
                                act.poll_replica_info(ctx);
                            } else {
                                act.call_failed("SyncStateSet change", &e, ctx);
                            }
                        }
                    }
                    act.publish_required();
                }),
        );
    }
}

#[derive(Debug, thiserror::Error)]
enum BootError {
    #[error("{0}")]
    Call(CallError),
    #[error("{IDENTITY_FILE}: {0}")]
    File(String),
}

/// The broker id: from the identity file, else a new one from the controller (then saved).
async fn broker_id(
    api: &ControllerApi,
    leader: &str,
    path: std::path::PathBuf,
) -> Result<i64, BootError> {
    let (cluster, name) = (api.me.cluster.clone(), api.me.broker_name.clone());
    let read = path.clone();
    let saved = tokio::task::spawn_blocking(move || match std::fs::read_to_string(&read) {
        Ok(text) => BrokerIdentity::decode(&text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    })
    .await
    .map_err(|e| BootError::File(e.to_string()))?
    .map_err(BootError::File)?;
    if let Some(id) = saved {
        id.check(&cluster, &name).map_err(BootError::File)?;
        return Ok(id.broker_id);
    }
    let id = api.next_broker_id(leader).await.map_err(BootError::Call)?;
    api.apply_broker_id(leader, id)
        .await
        .map_err(BootError::Call)?;
    let text = BrokerIdentity {
        cluster,
        broker_name: name,
        broker_id: id,
    }
    .encode();
    tokio::task::spawn_blocking(move || crate::storage::metadata::write_atomic(&path, &text))
        .await
        .map_err(|e| BootError::File(e.to_string()))?
        .map_err(|e| BootError::File(e.to_string()))?;
    info!(
        broker_id = id,
        "broker id assigned by the controller and saved"
    );
    Ok(id)
}

impl Actor for ReplicasActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(64);
        self.boot(ctx);
        let s = self.settings.clone();
        ctx.run_interval(Self::ms(s.broker_heartbeat_interval), |act, ctx| {
            act.heartbeat(ctx)
        });
        ctx.run_interval(Self::ms(s.sync_broker_metadata_period), |act, ctx| {
            act.poll_replica_info(ctx)
        });
        ctx.run_interval(Self::ms(s.sync_controller_metadata_period), |act, ctx| {
            act.find_leader(ctx)
        });
        ctx.run_interval(Self::ms(s.check_sync_state_set_period), |act, ctx| {
            act.check_sync_state_set(ctx)
        });
    }
}

/// NOTIFY_BROKER_ROLE_CHANGED from the controller. Sender: its handler (`role_changed.rs`).
#[derive(Message)]
#[rtype(result = "()")]
pub struct RoleChanged(pub MasterInfo);

impl Handler<RoleChanged> for ReplicasActor {
    type Result = ();
    fn handle(&mut self, m: RoleChanged, ctx: &mut Self::Context) {
        info!(master = ?m.0.master_addr, epoch = m.0.master_epoch, "role change notified by the controller");
        self.on_master_info(m.0, ctx);
    }
}

#[path = "replicas_switch.rs"]
mod switch;
