//! `printMsg`: every message of a topic (optionally between two store times, filtered by tag
//! expression), queue by queue, as RocketMQ's `MSGID: ... BODY: ...` lines.

use super::format::{java_bool, parse_time, StoreTimes};
use super::target::JsonOpt;
use super::view::{mq_text, msg_line, pull_status_name, MessageView};
use super::Ctx;
use crate::admin::client::route_queues;
use crate::admin::error::{AdminError, Result};
use crate::client::broker_api::PullStatus;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    topic: String,
    /// Charset of the bodies (UTF-8 only).
    #[arg(short = 'c', long = "charsetName", default_value = "UTF-8")]
    charset: String,
    /// Subscribe expression, e.g. 'TagA || TagB'.
    #[arg(short = 's', long = "subExpression", default_value = "*")]
    sub: String,
    /// Begin store time: millis or yyyy-MM-dd#HH:mm:ss:SSS (UTC).
    #[arg(short = 'b', long = "beginTimestamp")]
    begin: Option<String>,
    /// End store time: millis or yyyy-MM-dd#HH:mm:ss:SSS (UTC).
    #[arg(short = 'e', long = "endTimestamp")]
    end: Option<String>,
    /// Print the bodies (true|false).
    #[arg(short = 'd', long = "printBody")]
    print_body: Option<String>,
    #[command(flatten)]
    out: JsonOpt,
}

/// Pulls per call.
const BATCH: i32 = 32;

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        if !self.charset.trim().eq_ignore_ascii_case("UTF-8") {
            return Err(AdminError::Invalid(format!(
                "charset {} is not supported (UTF-8 only)",
                self.charset
            )));
        }
        let begin = self.begin.as_deref().map(parse_time).transpose()?;
        let end = self.end.as_deref().map(parse_time).transpose()?;
        let times = StoreTimes { begin, end };
        let body = self.print_body.as_deref().is_none_or(java_bool);
        let topic = self.topic.trim();
        let route = ctx.admin.route_of(topic).await?;
        let mut all = Vec::new();
        for (mq, addr) in route_queues(&route, topic) {
            let min = match begin {
                Some(t) => ctx.admin.search_offset(&addr, &mq, t).await?,
                None => ctx.admin.min_offset(&addr, &mq).await?,
            };
            let found = match end {
                Some(t) => ctx.admin.search_offset(&addr, &mq, t).await?,
                None => ctx.admin.max_offset(&addr, &mq).await?,
            };
            let max = times.read_until(found);
            if !self.out.json {
                ctx.line(format!(
                    "minOffset={min}, maxOffset={found}, {}",
                    mq_text(&mq)
                ));
            }
            let mut offset = min;
            while offset < max {
                let r = ctx
                    .admin
                    .pull_from(&addr, &mq, &self.sub, offset, BATCH)
                    .await?;
                let next = r.next_begin_offset;
                match r.status {
                    PullStatus::Found => {
                        let wanted = r
                            .msgs
                            .iter()
                            .filter(|m| m.queue_offset < max && times.contains(m.store_timestamp));
                        for m in wanted {
                            if self.out.json {
                                all.push(MessageView::of(m));
                            } else {
                                ctx.line(msg_line(m, body));
                            }
                        }
                    }
                    PullStatus::NoMatchedMsg if !self.out.json => ctx.line(format!(
                        "{} no matched msg. status=NO_MATCHED_MSG, offset={next}",
                        mq_text(&mq)
                    )),
                    PullStatus::NoMatchedMsg => {}
                    PullStatus::NoNewMsg | PullStatus::OffsetIllegal => {
                        if !self.out.json {
                            ctx.line(format!(
                                "{} print msg finished. status={}, offset={next}",
                                mq_text(&mq),
                                pull_status_name(r.status)
                            ));
                        }
                        break;
                    }
                }
                if next <= offset {
                    break;
                }
                offset = next;
            }
            if !self.out.json {
                ctx.line("--------------------------------------------------------");
            }
        }
        if self.out.json {
            ctx.json(&all);
        }
        Ok(())
    }
}
