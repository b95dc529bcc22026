//! `updateNamesrvConfig`: set one config key on every name server.

use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Config key.
    #[arg(short = 'k', long = "key")]
    key: String,
    /// Config value.
    #[arg(short = 'v', long = "value")]
    value: String,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let (k, v) = (self.key.trim(), self.value.trim());
        ctx.admin
            .update_namesrv_config(&[(k.to_string(), v.to_string())])
            .await?;
        // Java prints the address list with `List.toString`: `[a, b]`.
        ctx.line(format!(
            "update name server config success![{}]\n{k} : {v}",
            ctx.admin.namesrv_addrs().join(", ")
        ));
        Ok(())
    }
}
