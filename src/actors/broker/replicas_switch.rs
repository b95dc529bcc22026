//! The `ReplicasActor`'s role switches (see its module doc for the steps and their order).

use std::sync::Arc;

use actix::prelude::*;
use tracing::{info, warn};

use super::*;
use crate::storage::MessageStore;

/// Run a blocking store step off the arbiter.
async fn blocking<T: Send + 'static>(
    store: &Arc<MessageStore>,
    f: impl FnOnce(&MessageStore) -> Result<T, crate::storage::StoreError> + Send + 'static,
) -> Result<T, String> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

impl ReplicasActor {
    /// Carry out `d`, or queue it behind the switch under way.
    pub(super) fn switch(&mut self, d: Decision, ctx: &mut Context<Self>) {
        if self.switching {
            self.queued = Some(d);
            return;
        }
        let Some(self_id) = self.state.as_ref().map(|s| s.self_id()) else {
            return;
        };
        self.switching = true;
        let bctx = self.ctx.clone();
        let replication = self.replication.clone();
        let fut = match d.clone() {
            Decision::BecomeMaster { epoch } => {
                // With allAckInSyncStateSet: the replicas the first send as master waits for.
                let required = (self.settings.all_ack_in_sync_state_set).then(|| {
                    self.state
                        .as_ref()
                        .map(|s| s.required_acks())
                        .unwrap_or_default()
                });
                Box::pin(to_master(bctx, replication, epoch, required))
                    as futures::future::BoxFuture<_>
            }
            Decision::BecomeSlave {
                master_addr, epoch, ..
            } => {
                // Writes stop before anything else.
                self.ctx.role.set(BrokerRole::Slave, self_id);
                let api = self.api.clone();
                Box::pin(to_slave(bctx, replication, api, master_addr, epoch))
            }
            Decision::Keep | Decision::Elect => return,
        };
        ctx.spawn(fut.into_actor(self).map(move |res, act, ctx| {
            act.switching = false;
            match res {
                Ok(()) => {
                    info!(role = %act.ctx.role.role(), broker_id = act.ctx.role.broker_id(), epoch = act.ctx.role.master_epoch(), "role switched");
                    act.publish_required();
                    if let Some(r) = act.ctx.registrar.get() {
                        r.do_send(RegisterNow);
                    }
                }
                Err(e) => {
                    warn!(decision = ?d, error = %e, "role switch failed; trying again");
                    if act.queued.is_none() {
                        act.queued = Some(d);
                        ctx.run_later(RETRY, |act, ctx| act.run_queued(ctx));
                        return;
                    }
                }
            }
            act.run_queued(ctx);
        }));
    }

    fn run_queued(&mut self, ctx: &mut Context<Self>) {
        if self.switching {
            return;
        }
        if let Some(d) = self.queued.take() {
            self.switch(d, ctx);
        }
    }
}

async fn to_master(
    ctx: Arc<BrokerCtx>,
    replication: Arc<Replication>,
    epoch: i32,
    required: Option<std::collections::BTreeSet<i64>>,
) -> Result<(), String> {
    let sync = required.is_some();
    let was_master = !ctx.role.is_slave();
    if !was_master {
        replication.stop();
        *ctx.ha.master.write() = MasterAddrs::default();
    }
    let start = blocking(&ctx.store, move |s| s.become_master(epoch)).await?;
    info!(epoch, start, "becoming master");
    ctx.role.set_master_epoch(epoch);
    if sync {
        // Before the role: the first send as master already waits for the set.
        ctx.ha.acks.set_required(required);
    }
    let role = if sync {
        BrokerRole::SyncMaster
    } else {
        BrokerRole::AsyncMaster
    };
    ctx.role.set(role, 0);
    if !was_master {
        replication
            .start_master()
            .map_err(|e| format!("HA listener: {e}"))?;
    }
    Ok(())
}

async fn to_slave(
    ctx: Arc<BrokerCtx>,
    replication: Arc<Replication>,
    api: ControllerApi,
    master: String,
    epoch: i32,
) -> Result<(), String> {
    replication.stop();
    ctx.ha.acks.set_required(None);
    let ha_addr = api.ha_address(&master).await.map_err(|e| e.to_string())?;
    let cache = api.epoch_cache(&master).await.map_err(|e| e.to_string())?;
    let end = blocking(&ctx.store, move |s| s.prepare_as_slave(&cache)).await?;
    info!(master = %master, ha = %ha_addr, epoch, resume_at = end, "becoming slave");
    ctx.role.set_master_epoch(epoch);
    *ctx.ha.master.write() = MasterAddrs {
        broker_addr: Some(master),
        ha_addr: Some(ha_addr),
    };
    replication.start_slave();
    Ok(())
}
