//! `brokerStatus`: a broker's runtime KV table, sorted (`%-32s: %s`); with `-c` every broker of
//! the cluster, each line prefixed by its address.

use std::collections::BTreeMap;

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
        let mut all: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for addr in self.target.all_brokers(&ctx.admin).await? {
            let kv = ctx.admin.runtime_info(&addr).await?.table;
            all.insert(addr, kv);
        }
        if self.out.json {
            match (&self.target.broker_addr, all.values().next()) {
                (Some(_), Some(kv)) => ctx.json(kv),
                _ => ctx.json(&all),
            }
            return Ok(());
        }
        let cluster = self.target.cluster_name.is_some();
        for (addr, kv) in &all {
            for (k, v) in kv {
                if cluster {
                    ctx.line(format!("{addr:<24} {k:<32}: {v}"));
                } else {
                    ctx.line(format!("{k:<32}: {v}"));
                }
            }
        }
        Ok(())
    }
}
