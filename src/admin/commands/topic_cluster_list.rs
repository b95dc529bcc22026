//! `topicClusterList`: the clusters a topic's brokers belong to, one per line.

use std::collections::BTreeSet;

use super::target::JsonOpt;
use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    topic: String,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let route = ctx.admin.route_of(self.topic.trim()).await?;
        let info = ctx.admin.cluster_info().await?;
        let names: BTreeSet<&String> = route.broker_datas.iter().map(|b| &b.broker_name).collect();
        let clusters: BTreeSet<String> = info
            .cluster_addr_table
            .iter()
            .filter(|(_, brokers)| brokers.iter().any(|b| names.contains(b)))
            .map(|(c, _)| c.clone())
            .collect();
        if self.out.json {
            ctx.json(&clusters);
        } else {
            for c in clusters {
                ctx.line(c);
            }
        }
        Ok(())
    }
}
