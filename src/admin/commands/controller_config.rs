//! `getControllerConfig` and `updateControllerConfig` (RocketMQ 5): each controller of the `-a`
//! list (`a;b`) answers its config under `============<addr>============`, or takes `-k`=`-v`.

use std::collections::BTreeMap;

use super::target::{ControllerOpt, JsonOpt};
use super::Ctx;
use crate::admin::controller::controller_list;
use crate::admin::error::{AdminError, Result};

fn controllers(list: &str) -> Result<Vec<String>> {
    let all = controller_list(list);
    if all.is_empty() {
        return Err(AdminError::Invalid("-a names no controller".into()));
    }
    Ok(all)
}

#[derive(clap::Args, Debug)]
pub struct GetArgs {
    #[command(flatten)]
    pub ctl: ControllerOpt,
    #[command(flatten)]
    out: JsonOpt,
}

impl GetArgs {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        // In the order of the -a list.
        let mut all = Vec::new();
        for c in controllers(&self.ctl.controller)? {
            let table = ctx.admin.controller_config(&c).await?;
            all.push((c, table.entries));
        }
        if self.out.json {
            ctx.json(&all.iter().cloned().collect::<BTreeMap<_, _>>());
            return Ok(());
        }
        for (c, entries) in &all {
            ctx.line(format!("============{c}============"));
            for (k, v) in entries {
                ctx.line(format!("{k:<50}=  {v}"));
            }
        }
        Ok(())
    }
}

#[derive(clap::Args, Debug)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub ctl: ControllerOpt,
    /// Config key.
    #[arg(short = 'k', long = "key")]
    key: String,
    /// Config value.
    #[arg(short = 'v', long = "value")]
    value: String,
}

impl UpdateArgs {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let list = controllers(&self.ctl.controller)?;
        let (k, v) = (self.key.trim().to_string(), self.value.trim().to_string());
        let pairs = [(k.clone(), v.clone())];
        for c in &list {
            ctx.admin.update_controller_config(c, &pairs).await?;
        }
        // RocketMQ prints the Java list: `[a, b]`.
        ctx.line(format!(
            "update controller config success![{}]\n{k} : {v}",
            list.join(", ")
        ));
        Ok(())
    }
}
