//! `getControllerMetaData` (RocketMQ 5): a controller's Raft group, leader id and address, and
//! peers, in RocketMQ's `#Key<TAB>value` lines.

use serde_json::json;

use super::target::{ControllerOpt, JsonOpt};
use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub ctl: ControllerOpt,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let m = ctx
            .admin
            .controller_metadata(self.ctl.controller.trim())
            .await?;
        let text = |o: &Option<String>| o.clone().unwrap_or_else(|| "null".into());
        if self.out.json {
            ctx.json(&json!({
                "group": m.group,
                "controllerLeaderId": m.controller_leader_id,
                "controllerLeaderAddress": m.controller_leader_address,
                "isLeader": m.is_leader,
                "peers": m.peers,
            }));
            return Ok(());
        }
        let mut out = format!("\n#ControllerGroup\t{}", text(&m.group));
        out += &format!("\n#ControllerLeaderId\t{}", text(&m.controller_leader_id));
        out += &format!(
            "\n#ControllerLeaderAddress\t{}",
            text(&m.controller_leader_address)
        );
        for peer in m
            .peers
            .iter()
            .flat_map(|p| p.split(';'))
            .filter(|p| !p.is_empty())
        {
            out += &format!("\n#Peer:\t{peer}");
        }
        ctx.line(out);
        Ok(())
    }
}
