//! `deleteAclConfig`: remove one ACL account from a broker, or from every broker (masters and
//! slaves) of a cluster.

use super::target::Target;
use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Access key of the account to delete.
    #[arg(short = 'a', long = "accessKey")]
    access_key: String,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let ak = self.access_key.trim();
        for addr in self.target.all_brokers(&ctx.admin).await? {
            ctx.admin.delete_acl_config(&addr, ak).await?;
            ctx.line(format!(
                "delete plain access config account from {addr} success."
            ));
        }
        ctx.line(format!("account's accesskey is:{ak}"));
        Ok(())
    }
}
