//! `queryMsgByUniqueKey`: the message with a unique key (client msg id) in a topic, in the
//! detail layout; `-a` prints every copy found (up to 32 per broker).

use super::target::JsonOpt;
use super::view::{print_detail_and_track, push_to_client, MessageView};
use super::Ctx;
use crate::admin::error::{AdminError, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Unique key (client message id).
    #[arg(short = 'i', long = "msgId")]
    msg_id: String,
    /// Topic of the message.
    #[arg(short = 't', long = "topic")]
    topic: String,
    /// Consumer group to push the message to (with -d).
    #[arg(short = 'g', long = "consumerGroup", requires = "client_id")]
    group: Option<String>,
    /// Client id of that group's consumer (with -g).
    #[arg(short = 'd', long = "clientId", requires = "group")]
    client_id: Option<String>,
    /// Print every message found.
    #[arg(short = 'a', long = "showAll")]
    show_all: bool,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let (topic, id) = (self.topic.trim(), self.msg_id.trim());
        let mut msgs = ctx.admin.query_by_unique_key(topic, id).await?;
        if msgs.is_empty() {
            return Err(AdminError::NotFound(format!(
                "no message with unique key {id} in topic {topic}"
            )));
        }
        if !self.show_all {
            msgs.truncate(1);
        }
        if let (Some(g), Some(c)) = (&self.group, &self.client_id) {
            return push_to_client(ctx, &msgs[0], g.trim(), c.trim(), self.out.json).await;
        }
        if self.out.json {
            let v: Vec<MessageView> = msgs.iter().map(MessageView::of).collect();
            ctx.json(&v);
            return Ok(());
        }
        for m in &msgs {
            print_detail_and_track(ctx, m).await;
        }
        Ok(())
    }
}
