//! `getNamesrvConfig`: every name server's configuration under `============<addr>============`.

use std::collections::BTreeMap;

use super::target::JsonOpt;
use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let mut all = BTreeMap::new();
        for (ns, r) in ctx.admin.namesrv_config().await {
            all.insert(ns, r?.entries);
        }
        if self.out.json {
            ctx.json(&all);
            return Ok(());
        }
        for (ns, entries) in &all {
            ctx.line(format!("============{ns}============"));
            for (k, v) in entries {
                ctx.line(format!("{k:<50}=  {v}"));
            }
        }
        Ok(())
    }
}
