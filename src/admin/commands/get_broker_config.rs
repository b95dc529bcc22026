//! `getBrokerConfig`: a broker's configuration (`%-50s=  %s`), or every broker of a cluster
//! under `============<addr>============` banners.

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
        let mut all: BTreeMap<String, ConfigTable> = BTreeMap::new();
        for addr in self.target.all_brokers(&ctx.admin).await? {
            let t = ctx.admin.broker_config(&addr).await?;
            all.insert(addr, t);
        }
        if self.out.json {
            match (&self.target.broker_addr, all.values().next()) {
                (Some(_), Some(t)) => ctx.json(&t.entries),
                _ => ctx.json(
                    &all.iter()
                        .map(|(a, t)| (a.clone(), t.entries.clone()))
                        .collect::<BTreeMap<_, _>>(),
                ),
            }
            return Ok(());
        }
        let banner = self.target.cluster_name.is_some();
        for (addr, t) in &all {
            if banner {
                ctx.line(format!("============{addr}============"));
            }
            print(ctx, addr, t);
        }
        Ok(())
    }
}
