//! `queryMsgByKey`: messages of a topic with a user key, from every broker of its route
//! (`#Message ID #QID #Offset`).

use super::target::JsonOpt;
use super::view::MessageView;
use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    topic: String,
    /// Message key.
    #[arg(short = 'k', long = "msgKey")]
    key: String,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let msgs = ctx
            .admin
            .query_by_key(self.topic.trim(), self.key.trim())
            .await?;
        if self.out.json {
            let v: Vec<MessageView> = msgs.iter().map(MessageView::of).collect();
            ctx.json(&v);
            return Ok(());
        }
        ctx.line(format!(
            "{:<50} {:>4} {:>40}",
            "#Message ID", "#QID", "#Offset"
        ));
        for m in &msgs {
            ctx.line(format!(
                "{:<50} {:>4} {:>40}",
                m.msg_id(),
                m.queue_id,
                m.queue_offset
            ));
        }
        Ok(())
    }
}
