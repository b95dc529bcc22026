//! `consumerConnection`: a group's online consumers (`#ClientId #ClientAddr #Language #Version`),
//! their subscriptions, consume type, message model and where they start.

use super::target::JsonOpt;
use super::view::version_desc;
use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Consumer group name.
    #[arg(short = 'g', long = "consumerGroup")]
    group: String,
    /// Ask this broker instead of the first of the group's route.
    #[arg(short = 'b', long = "brokerAddr")]
    broker_addr: Option<String>,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let group = self.group.trim();
        let cc = match &self.broker_addr {
            Some(a) => ctx.admin.consumer_connection(a.trim(), group).await?,
            None => ctx.admin.group_consumer_connection(group).await?,
        };
        if self.out.json {
            ctx.json(&cc);
            return Ok(());
        }
        ctx.line(format!(
            "{:<36} {:<22} {:<10} {}",
            "#ClientId", "#ClientAddr", "#Language", "#Version"
        ));
        let mut conns = cc.connection_set.clone();
        conns.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        for c in &conns {
            ctx.line(format!(
                "{:<36} {:<22} {:<10} {}",
                c.client_id,
                c.client_addr,
                c.language,
                version_desc(c.version)
            ));
        }
        ctx.text("\nBelow is subscription:\n");
        ctx.line(format!("{:<20} {}", "#Topic", "#SubExpression"));
        for (topic, sub) in &cc.subscription_table {
            ctx.line(format!("{:<20} {}", topic, sub.sub_string));
        }
        ctx.line("");
        ctx.line(format!("ConsumeType: {}", cc.consume_type.name()));
        ctx.line(format!("MessageModel: {}", cc.message_model.name()));
        ctx.line(format!(
            "ConsumeFromWhere: {}",
            cc.consume_from_where.name()
        ));
        Ok(())
    }
}
