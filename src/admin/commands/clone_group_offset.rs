//! `cloneGroupOffset`: copy one group's committed offsets of a topic to another group.

use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Source consumer group.
    #[arg(short = 's', long = "srcGroup")]
    src: String,
    /// Destination consumer group.
    #[arg(short = 'd', long = "destGroup")]
    dest: String,
    /// Topic.
    #[arg(short = 't', long = "topic")]
    topic: String,
    /// The group or the topic is offline (accepted for compatibility; offsets are always
    /// written directly).
    #[arg(short = 'o', long = "offline")]
    offline: Option<String>,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let (src, dest, topic) = (self.src.trim(), self.dest.trim(), self.topic.trim());
        ctx.admin.clone_group_offset(src, dest, topic).await?;
        ctx.line(format!(
            "clone group offset success. srcGroup[{src}], destGroup=[{dest}], topic[{topic}]"
        ));
        Ok(())
    }
}
