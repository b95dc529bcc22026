//! Starting the broker's role-dependent actors (`startup` calls [`start_role_actors`]). Outside
//! controller mode the role is the config's and replication runs one fixed side. In controller
//! mode (`enableControllerMode=true`) a broker begins as a SLAVE without an id (the controller
//! assigns both), keeps its HA listener for its whole life, and hands replication and the role
//! to the `ReplicasActor`.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix::prelude::*;
use actix_rt::Arbiter;

use super::context::{BrokerCtx, RoleCell};
use super::controller_api::{ControllerApi, Me};
use super::logic::delay::DelayLevels;
use super::persist::Persister;
use super::replicas::ReplicasActor;
use super::replication::{HaRole, HaSettings, Replication, ReplicationActor};
use super::schedule::ScheduleActor;
use super::slave_sync::SlaveSyncActor;
use super::transaction::TransactionActor;
use crate::config::{BrokerConfig, BrokerRole};
use crate::tls::TlsSides;

/// The role a broker starts with.
pub fn initial_role(cfg: &BrokerConfig) -> RoleCell {
    if cfg.controller.enable_controller_mode {
        RoleCell::new(BrokerRole::Slave, -1)
    } else {
        RoleCell::new(cfg.broker_role, cfg.broker_id)
    }
}

/// Replication as the broker runs it: one fixed side, or controller mode's switching sides.
pub enum ReplicationHandle {
    Fixed(Arbiter),
    Switching(Arc<Replication>),
}

impl ReplicationHandle {
    pub fn stop(&self) {
        match self {
            ReplicationHandle::Fixed(a) => {
                a.stop();
            }
            ReplicationHandle::Switching(r) => r.stop(),
        }
    }
}

/// Start the controller link; replication starts when the controller names a role.
fn start_switching(
    ctx: &Arc<BrokerCtx>,
    listener: std::net::TcpListener,
    tls: TlsSides,
) -> ReplicationHandle {
    let cfg = &ctx.cfg;
    let replication = Arc::new(Replication::new(
        listener,
        ctx.store.clone(),
        ctx.ha.clone(),
        ctx.role.clone(),
        HaSettings::from_config(cfg),
        tls,
    ));
    let api = ControllerApi::new(
        Me {
            cluster: cfg.broker_cluster_name.clone(),
            broker_name: cfg.broker_name.clone(),
            broker_addr: ctx.broker_addr.clone(),
        },
        ctx.tls_client.clone(),
        cfg.acl.credentials(),
    );
    let actor = ReplicasActor::new(ctx.clone(), replication.clone(), api).start();
    let _ = ctx.replicas.set(actor);
    ReplicationHandle::Switching(replication)
}

/// The actors whose work depends on the role: delayed delivery and transaction check-back
/// (master), metadata sync (slave), and replication on its own arbiter (see `replication.rs`).
/// A slave delivers no delayed message (its CommitLog is written by replication only) and takes
/// its metadata from its master. In controller mode the role changes at run time: every role's
/// actors run and look at the role cell, and the `ReplicasActor` runs replication.
pub fn start_role_actors(
    ctx: &Arc<BrokerCtx>,
    delay: DelayLevels,
    delay_offsets: BTreeMap<i32, i64>,
    persister: Persister,
    ha_listener: Option<std::net::TcpListener>,
    tls: TlsSides,
) -> (Addr<ScheduleActor>, ReplicationHandle) {
    let cfg = &ctx.cfg;
    let switching = cfg.controller.enable_controller_mode;
    let slave = ctx.role.is_slave() && !switching;
    let schedule = ScheduleActor::new(ctx.store.clone(), delay, delay_offsets, persister, !slave)
        .following(switching.then(|| ctx.role.clone()))
        .start();
    let _ = ctx.schedule.set(schedule.clone());
    if ctx.role.is_slave() {
        SlaveSyncActor::new(ctx.clone(), schedule.clone()).start();
    }
    if !slave {
        // Transaction check-back runs on the master only (as RocketMQ).
        TransactionActor::new(ctx.clone()).start();
    }
    let replication = match (switching, ha_listener) {
        (true, Some(l)) => start_switching(ctx, l, tls),
        (_, l) => {
            let arbiter = Arbiter::new();
            let role = match l {
                Some(l) => HaRole::Master(l),
                None => {
                    HaRole::Slave(Some(cfg.ha_master_address.clone()).filter(|a| !a.is_empty()))
                }
            };
            let (store, settings, ha) = (
                ctx.store.clone(),
                HaSettings::from_config(cfg),
                ctx.ha.clone(),
            );
            ReplicationActor::start_in_arbiter(&arbiter.handle(), move |_| {
                ReplicationActor::new(store, ha, settings, role).with_tls(tls)
            });
            ReplicationHandle::Fixed(arbiter)
        }
    };
    (schedule, replication)
}
