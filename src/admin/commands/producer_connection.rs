//! `producerConnection`: a producer group's connections to the first broker of a topic's route
//! (`%04d clientId clientAddr language version`).

use super::target::JsonOpt;
use super::view::version_desc;
use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Producer group name.
    #[arg(short = 'g', long = "producerGroup")]
    group: String,
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    topic: String,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let pc = ctx
            .admin
            .group_producer_connection(self.group.trim(), self.topic.trim())
            .await?;
        if self.out.json {
            ctx.json(&pc);
            return Ok(());
        }
        let mut conns = pc.connection_set.clone();
        conns.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        for (i, c) in conns.iter().enumerate() {
            ctx.line(format!(
                "{:04}  {:<32} {:<22} {:<8} {}",
                i + 1,
                c.client_id,
                c.client_addr,
                c.language,
                version_desc(c.version)
            ));
        }
        Ok(())
    }
}
