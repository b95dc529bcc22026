//! `queryMsgByOffset`: the message at a queue offset (pulled as TOOLS_CONSUMER from the broker
//! set named), in the detail layout.

use super::target::JsonOpt;
use super::view::{print_detail_and_track, MessageView};
use super::Ctx;
use crate::admin::client::select_broker_addr;
use crate::admin::error::{AdminError, Result};
use crate::protocol::body::MessageQueue;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    topic: String,
    /// Broker name.
    #[arg(short = 'b', long = "brokerName")]
    broker_name: String,
    /// Queue id.
    #[arg(short = 'i', long = "queueId")]
    queue_id: i32,
    /// Queue offset.
    #[arg(short = 'o', long = "offset")]
    offset: i64,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let (topic, broker) = (self.topic.trim(), self.broker_name.trim());
        let route = ctx.admin.route_of(topic).await?;
        let addr = route
            .broker_datas
            .iter()
            .find(|b| b.broker_name == broker)
            .and_then(select_broker_addr)
            .ok_or_else(|| {
                AdminError::NotFound(format!("broker {broker} is not in the route of {topic}"))
            })?;
        let mq = MessageQueue::new(topic, broker, self.queue_id);
        let r = ctx.admin.pull_from(&addr, &mq, "*", self.offset, 1).await?;
        let m = r.msgs.into_iter().next().ok_or_else(|| {
            AdminError::NotFound(format!("no message at offset {} of {mq}", self.offset))
        })?;
        if self.out.json {
            ctx.json(&MessageView::of(&m));
        } else {
            print_detail_and_track(ctx, &m).await;
        }
        Ok(())
    }
}
