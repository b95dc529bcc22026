//! `updateGlobalWhiteAddr`: replace the ACL global white list (addresses whose requests skip
//! every check) on a broker, or on every broker (masters and slaves) of a cluster.

use super::target::Target;
use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// The new list, e.g. 10.10.103.*,192.168.0.* (an empty value clears it).
    #[arg(short = 'g', long = "globalWhiteRemoteAddresses")]
    addrs: String,
    /// The rules file to change (RocketMQ's multi-file layout); the broker's main file if absent.
    #[arg(short = 'p', long = "aclFileFullPath")]
    acl_file: Option<String>,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let file = self.acl_file.as_deref().map(str::trim);
        for addr in self.target.all_brokers(&ctx.admin).await? {
            ctx.admin
                .update_global_white_addrs(&addr, self.addrs.trim(), file)
                .await?;
            ctx.line(format!(
                "update global white remote addresses to {addr} success."
            ));
        }
        Ok(())
    }
}
