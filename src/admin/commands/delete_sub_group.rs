//! `deleteSubGroup`: delete a subscription group from one broker, or from every master of a
//! cluster together with its `%RETRY%` and `%DLQ%` topics.

use super::format::java_bool;
use super::target::Target;
use super::Ctx;
use crate::admin::error::Result;
use crate::client::message::{dlq_topic, retry_topic};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Subscription group name.
    #[arg(short = 'g', long = "groupName")]
    group: String,
    /// Also remove the group's offsets (true|false).
    #[arg(short = 'r', long = "removeOffset")]
    remove_offset: Option<String>,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let group = self.group.trim();
        let remove = self.remove_offset.as_deref().is_some_and(java_bool);
        if let Some(addr) = &self.target.broker_addr {
            let addr = addr.trim();
            ctx.admin
                .delete_subscription_group(addr, group, remove)
                .await?;
            ctx.line(format!(
                "delete subscription group [{group}] from broker [{addr}] success."
            ));
            return Ok(());
        }
        let cluster = self.target.cluster_name.as_deref().unwrap_or("").trim();
        let masters = ctx.admin.cluster_masters(cluster).await?;
        for addr in &masters {
            ctx.admin
                .delete_subscription_group(addr, group, remove)
                .await?;
            ctx.line(format!(
                "delete subscription group [{group}] from broker [{addr}] in cluster [{cluster}] success."
            ));
        }
        for topic in [retry_topic(group), dlq_topic(group)] {
            for addr in &masters {
                ctx.admin.delete_topic_in_broker(addr, &topic).await?;
            }
            ctx.line(format!(
                "delete topic [{topic}] from cluster [{cluster}] success."
            ));
            ctx.admin.delete_topic_in_namesrv(&topic).await?;
            ctx.line(format!("delete topic [{topic}] from NameServer success."));
        }
        Ok(())
    }
}
