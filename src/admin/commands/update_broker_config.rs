//! `updateBrokerConfig`: set one config key on a broker or on every master of a cluster; the
//! broker's remark (whether the key applied now or at the next start) follows the success line.

use super::target::Target;
use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Config key.
    #[arg(short = 'k', long = "key")]
    key: String,
    /// Config value.
    #[arg(short = 'v', long = "value")]
    value: String,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let pair = [(self.key.trim().to_string(), self.value.trim().to_string())];
        for addr in self.target.masters(&ctx.admin).await? {
            let remark = ctx.admin.update_broker_config(&addr, &pair).await?;
            ctx.line(match remark.filter(|r| !r.is_empty()) {
                Some(r) => format!("update broker config success, {addr} ({r})"),
                None => format!("update broker config success, {addr}"),
            });
        }
        Ok(())
    }
}
