//! `queryMsgById`: messages by offset msg id (comma-separated list) in RocketMQ's detail layout
//! with per-group track; `-t` also tries each id as a unique key of that topic.

use super::target::JsonOpt;
use super::view::{print_detail_and_track, push_to_client, MessageView};
use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Message id(s), comma separated.
    #[arg(short = 'i', long = "msgId")]
    msg_id: String,
    /// Topic, to also look the id up as a unique key.
    #[arg(short = 't', long = "topic")]
    topic: Option<String>,
    /// Consumer group to push the message to (with -d).
    #[arg(short = 'g', long = "consumerGroup", requires = "client_id")]
    group: Option<String>,
    /// Client id of that group's consumer (with -g).
    #[arg(short = 'd', long = "clientId", requires = "group")]
    client_id: Option<String>,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let mut views = Vec::new();
        for id in self
            .msg_id
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let m = ctx.admin.view_by_id(self.topic.as_deref(), id).await?;
            if let (Some(g), Some(c)) = (&self.group, &self.client_id) {
                push_to_client(ctx, &m, g.trim(), c.trim(), self.out.json).await?;
                continue;
            }
            if self.out.json {
                views.push(MessageView::of(&m));
            } else {
                print_detail_and_track(ctx, &m).await;
            }
        }
        if self.out.json {
            ctx.json(&views);
        }
        Ok(())
    }
}
