//! Starting a broker in controller mode (`enableControllerMode=true`): it begins as a SLAVE
//! without an id (the controller assigns both), keeps its HA listener for its whole life, and
//! hands replication and the role to the `ReplicasActor`. Outside controller mode the role is
//! the config's and replication runs one fixed side (`startup`).

use std::sync::Arc;

use actix::prelude::*;
use actix_rt::Arbiter;

use super::context::{BrokerCtx, RoleCell};
use super::controller_api::{ControllerApi, Me};
use super::replicas::ReplicasActor;
use super::replication::{HaSettings, Replication};
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
pub fn start(
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
    );
    let actor = ReplicasActor::new(ctx.clone(), replication.clone(), api).start();
    let _ = ctx.replicas.set(actor);
    ReplicationHandle::Switching(replication)
}
