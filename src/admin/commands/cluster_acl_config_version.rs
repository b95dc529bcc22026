//! `clusterAclConfigVersion`: the ACL rules' version (counter and last update) of a broker or of
//! every master of a cluster, one row per rules file.

use super::format::human_s;
use super::target::{JsonOpt, Target};
use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let mut infos = Vec::new();
        for addr in self.target.masters(&ctx.admin).await? {
            infos.push(ctx.admin.acl_version(&addr).await?);
        }
        if self.out.json {
            ctx.json(&infos);
            return Ok(());
        }
        let cluster = self.target.cluster_name.is_some();
        if cluster {
            ctx.line(row([
                "#Cluster Name",
                "#Broker Name",
                "#Broker Addr",
                "#AclFilePath",
                "#AclConfigVersionNum",
                "#AclLastUpdateTime",
            ]));
        }
        for i in &infos {
            for (path, v) in &i.all_acl_config_data_version {
                let (counter, time) = (v.counter.to_string(), human_s(v.timestamp));
                ctx.line(row([
                    &i.cluster_name,
                    &i.broker_name,
                    &i.broker_addr,
                    path,
                    &counter,
                    &time,
                ]));
            }
        }
        ctx.line(if cluster {
            "get cluster's plain access config version success."
        } else {
            "get broker's plain access config version success."
        });
        Ok(())
    }
}

/// RocketMQ's columns: `%-16s  %-22s  %-22s  %-20s  %-22s  %-22s`.
fn row(c: [&str; 6]) -> String {
    format!(
        "{:<16}  {:<22}  {:<22}  {:<20}  {:<22}  {:<22}",
        c[0], c[1], c[2], c[3], c[4], c[5]
    )
}
