//! `wipeWritePerm` / `addWritePerm`: take write permission away from (or give it back to) a
//! broker set's topics on every name server, reporting per name server.

use super::Ctx;
use crate::admin::error::{AdminError, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Broker name.
    #[arg(short = 'b', long = "brokerName")]
    broker_name: String,
}

impl Args {
    /// `add` = addWritePerm, else wipeWritePerm. Fails if any name server failed.
    pub async fn run(&self, ctx: &mut Ctx, add: bool) -> Result<()> {
        let broker = self.broker_name.trim();
        let (results, verb) = if add {
            (ctx.admin.add_write_perm(broker).await, "add")
        } else {
            (ctx.admin.wipe_write_perm(broker).await, "wipe")
        };
        let mut first_err = None;
        for (ns, r) in results {
            match r {
                Ok(n) => ctx.line(format!(
                    "{verb} write perm of broker[{broker}] in name server[{ns}] OK, {n}"
                )),
                Err(e) => {
                    ctx.line(format!(
                        "{verb} write perm of broker[{broker}] in name server[{ns}] Failed"
                    ));
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            None => Ok(()),
            Some(e) => Err(AdminError::Invalid(format!("{verb}WritePerm failed: {e}"))),
        }
    }
}
