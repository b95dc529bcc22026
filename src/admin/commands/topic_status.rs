//! `topicStatus`: per-queue min/max offsets and last update time of a topic on every broker of
//! its route (`#Broker Name #QID #Min Offset #Max Offset #Last Updated`).

use serde::Serialize;

use super::format::{human_ms, trunc};
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    broker_name: String,
    queue_id: i32,
    min_offset: i64,
    max_offset: i64,
    last_update_timestamp: i64,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let stats = ctx.admin.topic_status(self.topic.trim()).await?;
        let rows: Vec<Row> = stats
            .offset_table
            .iter()
            .map(|(mq, o)| Row {
                broker_name: mq.broker_name.clone(),
                queue_id: mq.queue_id,
                min_offset: o.min_offset,
                max_offset: o.max_offset,
                last_update_timestamp: o.last_update_timestamp,
            })
            .collect();
        if self.out.json {
            ctx.json(&rows);
            return Ok(());
        }
        ctx.line(format!(
            "{:<32}  {:<4}  {:<20}  {:<20}    {}",
            "#Broker Name", "#QID", "#Min Offset", "#Max Offset", "#Last Updated"
        ));
        for r in rows {
            let when = if r.last_update_timestamp > 0 {
                human_ms(r.last_update_timestamp)
            } else {
                String::new()
            };
            ctx.line(format!(
                "{:<32}  {:<4}  {:<20}  {:<20}    {}",
                trunc(&r.broker_name, 32),
                r.queue_id,
                r.min_offset,
                r.max_offset,
                when
            ));
        }
        Ok(())
    }
}
