//! `resetOffsetByTime`: move a group's offsets of a topic to a time (`now`, millis or
//! `yyyy-MM-dd#HH:mm:ss:SSS`, UTC); the brokers push the offsets to online consumers, and when
//! none is online the offsets are written directly (RocketMQ's fallback, with its own table).

use super::format::{java_bool, parse_time, trunc};
use super::Ctx;
use crate::admin::error::Result;
use crate::admin::offset::{ResetMode, RESET_TO_MAX};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Consumer group.
    #[arg(short = 'g', long = "group")]
    group: String,
    /// Topic.
    #[arg(short = 't', long = "topic")]
    topic: String,
    /// Timestamp: now | millis | yyyy-MM-dd#HH:mm:ss:SSS.
    #[arg(short = 's', long = "timestamp")]
    timestamp: String,
    /// Force the rollback (true|false).
    #[arg(short = 'f', long = "force", default_value = "true")]
    force: String,
    /// Reset C++ clients (the brokers answer both kinds of client).
    #[arg(short = 'c', long = "cplus")]
    cplus: bool,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let (group, topic, ts_text) = (self.group.trim(), self.topic.trim(), self.timestamp.trim());
        let ts = if ts_text == "now" {
            RESET_TO_MAX
        } else {
            parse_time(ts_text)?
        };
        let force = java_bool(&self.force);
        let r = ctx
            .admin
            .reset_offset_by_time(topic, group, ts, force)
            .await?;
        match r.mode {
            ResetMode::Online => {
                ctx.line(format!("rollback consumer offset by specified group[{group}], topic[{topic}], force[{force}], timestamp(string)[{ts_text}], timestamp(long)[{ts}]"));
                ctx.line(format!(
                    "{:<40}  {:<40}  {:<40}",
                    "#brokerName", "#queueId", "#offset"
                ));
                for (mq, off) in &r.offsets {
                    ctx.line(format!(
                        "{:<40}  {:<40}  {:<40}",
                        trunc(&mq.broker_name, 32),
                        mq.queue_id,
                        off
                    ));
                }
            }
            ResetMode::Offline => {
                ctx.line(format!("rollback consumer offset by specified consumerGroup[{group}], topic[{topic}], force[{force}], timestamp(string)[{ts_text}], timestamp(long)[{ts}]"));
                let row = |c: [&str; 6]| {
                    format!(
                        "{:<20}  {:<20}  {:<20}  {:<20}  {:<20}  {:<20}",
                        c[0], c[1], c[2], c[3], c[4], c[5]
                    )
                };
                ctx.line(row([
                    "#brokerName",
                    "#queueId",
                    "#brokerOffset",
                    "#consumerOffset",
                    "#timestampOffset",
                    "#rollbackOffset",
                ]));
                for s in &r.rollback {
                    ctx.line(row([
                        &trunc(&s.broker_name, 32),
                        &s.queue_id.to_string(),
                        &s.broker_offset.to_string(),
                        &s.consumer_offset.to_string(),
                        &s.timestamp_offset.to_string(),
                        &s.rollback_offset.to_string(),
                    ]));
                }
            }
        }
        Ok(())
    }
}
