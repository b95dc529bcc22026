//! `deleteTopic`: delete a topic from every master of a cluster, then from every name server.

use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    topic: String,
    /// Delete the topic from this cluster.
    #[arg(short = 'c', long = "clusterName")]
    cluster_name: String,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let (topic, cluster) = (self.topic.trim(), self.cluster_name.trim());
        for addr in ctx.admin.cluster_masters(cluster).await? {
            ctx.admin.delete_topic_in_broker(&addr, topic).await?;
        }
        ctx.line(format!(
            "delete topic [{topic}] from cluster [{cluster}] success."
        ));
        ctx.admin.delete_topic_in_namesrv(topic).await?;
        ctx.line(format!("delete topic [{topic}] from NameServer success."));
        Ok(())
    }
}
