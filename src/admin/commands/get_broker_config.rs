//! `getBrokerConfig`: a broker's configuration (`%-50s=  %s`), or every broker of a cluster, each
//! under RocketMQ 4.9's banner: `============<addr>============` for `-b`, and for `-c`
//! `============Master: <addr>============` then `============My Master: <m>=====Slave:
//! <s>============` for each slave of that master.

use std::collections::BTreeMap;

use super::target::{JsonOpt, Target};
use super::Ctx;
use crate::admin::broker::ConfigTable;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    out: JsonOpt,
}

fn print(ctx: &mut Ctx, addr: &str, t: &ConfigTable) {
    if t.entries.is_empty() {
        ctx.line(format!("Broker[{addr}] has no config property!"));
        return;
    }
    for (k, v) in &t.entries {
        ctx.line(format!("{k:<50}=  {v}"));
    }
    ctx.line("");
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let mut all: BTreeMap<String, (String, ConfigTable)> = BTreeMap::new();
        for (addr, banner) in self.banners(ctx).await? {
            let t = ctx.admin.broker_config(&addr).await?;
            all.insert(addr, (banner, t));
        }
        if self.out.json {
            match (&self.target.broker_addr, all.values().next()) {
                (Some(_), Some((_, t))) => ctx.json(&t.entries),
                _ => ctx.json(
                    &all.iter()
                        .map(|(a, (_, t))| (a.clone(), t.entries.clone()))
                        .collect::<BTreeMap<_, _>>(),
                ),
            }
            return Ok(());
        }
        for (addr, (banner, t)) in &all {
            ctx.line(banner);
            print(ctx, addr, t);
        }
        Ok(())
    }

    /// Each broker to show and its banner line (masters first within a set, as RocketMQ).
    async fn banners(&self, ctx: &Ctx) -> Result<Vec<(String, String)>> {
        let Some(cluster) = self.target.cluster_name.as_deref() else {
            let addrs = self.target.all_brokers(&ctx.admin).await?;
            return Ok(addrs
                .into_iter()
                .map(|a| (a.clone(), format!("============{a}============")))
                .collect());
        };
        let brokers = ctx.admin.cluster_brokers(cluster.trim()).await?;
        let master_of = |name: &str| {
            brokers
                .iter()
                .find(|(n, id, _)| n == name && *id == 0)
                .map_or("null", |(_, _, a)| a.as_str())
                .to_string()
        };
        Ok(brokers
            .iter()
            .map(|(name, id, addr)| {
                let banner = match id {
                    0 => format!("============Master: {addr}============"),
                    _ => format!(
                        "============My Master: {}=====Slave: {addr}============",
                        master_of(name)
                    ),
                };
                (addr.clone(), banner)
            })
            .collect())
    }
}
