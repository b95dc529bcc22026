//! `getSyncStateSet` (RocketMQ 5): per broker set, the master (id, address, epoch), the
//! SyncStateSet epoch and size, and each replica in and out of the set, as the controller
//! leader reports them (CONTROLLER_GET_SYNC_STATE_DATA). `-b` names broker sets; `-c` takes every
//! broker set of a cluster from the name server (asked again each round). `-i` repeats the
//! print every so many seconds until killed, as RocketMQ 5's command does.

use std::collections::BTreeSet;

use super::interval::IntervalOpt;
use super::target::{ControllerOpt, JsonOpt};
use super::Ctx;
use crate::admin::error::{AdminError, Result};
use crate::protocol::body::controller::{BrokerReplicasInfo, ReplicaIdentity};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub ctl: ControllerOpt,
    /// Which cluster (its broker sets, from the name server).
    #[arg(short = 'c', long = "clusterName")]
    cluster: Option<String>,
    /// Which broker set(s), comma separated.
    #[arg(short = 'b', long = "brokerName")]
    broker_name: Option<String>,
    #[command(flatten)]
    every: IntervalOpt,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    /// With `-b` (which wins over `-c`, as in RocketMQ) only the controller is asked (no name
    /// server needed); `-c` alone needs one.
    pub fn controllers_only(&self) -> Option<&str> {
        (self.broker_name.is_some() || self.cluster.is_none())
            .then_some(self.ctl.controller.as_str())
    }

    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        self.every
            .repeat(ctx, async |ctx| self.once(ctx).await)
            .await
    }

    /// One query and print.
    async fn once(&self, ctx: &mut Ctx) -> Result<()> {
        let names: Vec<String> = match (&self.broker_name, &self.cluster) {
            (Some(b), _) => b.split(',').map(|s| s.trim().to_string()).collect(),
            (None, Some(c)) => {
                let info = ctx.admin.cluster_info().await?;
                let set: BTreeSet<String> = info
                    .cluster_addr_table
                    .get(c.trim())
                    .ok_or_else(|| AdminError::NotFound(format!("cluster {c}")))?
                    .iter()
                    .cloned()
                    .collect();
                set.into_iter().collect()
            }
            (None, None) => {
                return Err(AdminError::Invalid(
                    "give -b brokerName or -c clusterName".into(),
                ))
            }
        };
        let controller = crate::admin::controller::controller_list(&self.ctl.controller)
            .into_iter()
            .next()
            .ok_or_else(|| AdminError::Invalid("-a names no controller".into()))?;
        let info = ctx.admin.sync_state_data(&controller, &names).await?;
        if self.out.json {
            ctx.json(&info);
        } else {
            ctx.text(render(&info));
        }
        Ok(())
    }
}

/// Java's `ReplicaIdentity.toString`.
fn identity(r: &ReplicaIdentity) -> String {
    let alive = r.alive.map_or("null".to_string(), |a| a.to_string());
    format!(
        "ReplicaIdentity{{brokerName='{}', brokerId={}, brokerAddress='{}', alive={alive}}}",
        r.broker_name, r.broker_id, r.broker_address
    )
}

/// RocketMQ 5.3's layout.
fn render(info: &BrokerReplicasInfo) -> String {
    let mut out = String::new();
    for (name, set) in &info.replicas_info_table {
        out += &format!(
            "\n#brokerName\t{name}\n#MasterBrokerId\t{}\n#MasterAddr\t{}\n#MasterEpoch\t{}\n\
             #SyncStateSetEpoch\t{}\n#SyncStateSetNums\t{}\n",
            set.master_broker_id
                .map_or("null".into(), |i| i.to_string()),
            set.master_address.as_deref().unwrap_or("null"),
            set.master_epoch,
            set.sync_state_set_epoch,
            set.in_sync_replicas.len()
        );
        for r in &set.in_sync_replicas {
            out += &format!("\nInSyncReplica:\t{}\n", identity(r));
        }
        for r in &set.not_in_sync_replicas {
            out += &format!("\nNotInSyncReplica:\t{}\n", identity(r));
        }
    }
    out
}
