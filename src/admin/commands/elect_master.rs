//! `electMaster` (RocketMQ 5's ReElectMasterSubCommand): ask the controller leader to make one
//! broker of a set its master (an admin-designated CONTROLLER_ELECT_MASTER), then print the new
//! master, epochs and the set's members as RocketMQ does.

use serde_json::json;

use super::target::{ControllerOpt, JsonOpt};
use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub ctl: ControllerOpt,
    /// The id of the broker which is to become master.
    #[arg(short = 'b', long = "brokerId")]
    broker_id: i64,
    /// The broker set (RocketMQ's option is `-bn`; `--bn` and `--brokerName` here).
    #[arg(long = "brokerName", visible_alias = "bn")]
    broker_name: String,
    /// The cluster of the broker set.
    #[arg(short = 'c', long = "clusterName")]
    cluster: String,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let (cluster, name) = (self.cluster.trim(), self.broker_name.trim());
        let (h, body) = ctx
            .admin
            .elect_master(self.ctl.controller.trim(), cluster, name, self.broker_id)
            .await?;
        let members = body
            .broker_member_group
            .map(|g| g.broker_addrs)
            .unwrap_or_default();
        if self.out.json {
            ctx.json(&json!({
                "clusterName": cluster,
                "brokerName": name,
                "masterBrokerId": h.master_broker_id,
                "masterAddress": h.master_address,
                "masterEpoch": h.master_epoch,
                "syncStateSetEpoch": h.sync_state_set_epoch,
                "brokerAddrs": members,
            }));
            return Ok(());
        }
        let opt = |o: Option<i32>| o.map_or("null".to_string(), |v| v.to_string());
        let mut out = format!("\n#ClusterName\t{cluster}\n#BrokerName\t{name}");
        out += &format!(
            "\n#BrokerMasterAddr\t{}",
            h.master_address.as_deref().unwrap_or("null")
        );
        out += &format!("\n#MasterEpoch\t{}", opt(h.master_epoch));
        out += &format!("\n#SyncStateSetEpoch\t{}\n", opt(h.sync_state_set_epoch));
        for (id, addr) in &members {
            out += &format!("\t#Broker\t{id}\t{addr}\n");
        }
        ctx.text(out);
        Ok(())
    }
}
