//! `consumeMessage`: pull up to `-c` messages of a topic (all queues, one broker's queue with
//! `-b -i`, from an offset with `-o`, between store times with `-s/-e`) and print them. Offsets
//! are not committed.

use super::format::{parse_time, StoreTimes};
use super::target::JsonOpt;
use super::view::{mq_text, msg_line, pull_status_name, MessageView};
use super::Ctx;
use crate::admin::client::route_queues;
use crate::admin::error::{AdminError, Result};
use crate::admin::message::TOOLS_CONSUMER_GROUP;
use crate::client::broker_api::PullStatus;
use crate::clock::now_ms;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    topic: String,
    /// Broker name.
    #[arg(short = 'b', long = "brokerName")]
    broker_name: Option<String>,
    /// Queue id (needs -b).
    #[arg(short = 'i', long = "queueId", requires = "broker_name")]
    queue_id: Option<i32>,
    /// Queue offset to start from (needs -i).
    #[arg(short = 'o', long = "offset", requires = "queue_id")]
    offset: Option<i64>,
    /// Consumer group the pulls are made as (default TOOLS_CONSUMER; offsets are not
    /// committed, as in RocketMQ).
    #[arg(short = 'g', long = "consumerGroup")]
    group: Option<String>,
    /// Begin store time: millis or yyyy-MM-dd#HH:mm:ss:SSS (UTC).
    #[arg(short = 's', long = "beginTimestamp")]
    begin: Option<String>,
    /// End store time: millis or yyyy-MM-dd#HH:mm:ss:SSS (UTC).
    #[arg(short = 'e', long = "endTimestamp")]
    end: Option<String>,
    /// Number of messages to consume.
    #[arg(short = 'c', long = "MessageNumber", default_value_t = 128)]
    count: i64,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    fn times(&self) -> Result<(Option<i64>, Option<i64>)> {
        let begin = self.begin.as_deref().map(parse_time).transpose()?;
        let end = self.end.as_deref().map(parse_time).transpose()?;
        let now = now_ms();
        if begin.is_some_and(|b| b > now) || end.is_some_and(|e| e > now) {
            return Err(AdminError::Invalid("timestamps must be before now".into()));
        }
        if let (Some(b), Some(e)) = (begin, end) {
            if b > e {
                return Err(AdminError::Invalid(
                    "the begin timestamp must be <= the end timestamp".into(),
                ));
            }
        }
        if self.count <= 0 {
            return Err(AdminError::Invalid("-c must be positive".into()));
        }
        Ok((begin, end))
    }

    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let (begin, end) = self.times()?;
        // With -o the begin time does not apply (as RocketMQ: the offset wins).
        let times = StoreTimes {
            begin: begin.filter(|_| self.offset.is_none()),
            end,
        };
        let topic = self.topic.trim();
        let route = ctx.admin.route_of(topic).await?;
        let queues: Vec<_> = route_queues(&route, topic)
            .into_iter()
            .filter(|(mq, _)| {
                self.broker_name
                    .as_deref()
                    .is_none_or(|b| mq.broker_name == b.trim())
            })
            .filter(|(mq, _)| self.queue_id.is_none_or(|q| mq.queue_id == q))
            .collect();
        if queues.is_empty() {
            return Err(AdminError::NotFound(format!(
                "no such queue of topic {topic}"
            )));
        }
        let mut left = self.count;
        let mut all = Vec::new();
        for (mq, addr) in queues {
            if left <= 0 {
                break;
            }
            let mut min = match (self.offset, begin) {
                (Some(o), _) => o,
                (None, Some(t)) => ctx.admin.search_offset(&addr, &mq, t).await?,
                (None, None) => ctx.admin.min_offset(&addr, &mq).await?,
            };
            let max = times.read_until(match end {
                Some(t) => ctx.admin.search_offset(&addr, &mq, t).await?,
                None => ctx.admin.max_offset(&addr, &mq).await?,
            });
            while min < max && left > 0 {
                let n = (max - min).min(left).min(32) as i32;
                let group = self
                    .group
                    .as_deref()
                    .map_or(TOOLS_CONSUMER_GROUP, str::trim);
                let r = ctx.admin.pull_as(group, &addr, &mq, "*", min, n).await?;
                match r.status {
                    PullStatus::Found => {
                        if !self.out.json {
                            ctx.line("Consume ok");
                        }
                        let wanted = r.msgs.iter().filter(|m| times.contains(m.store_timestamp));
                        for m in wanted.take(left as usize) {
                            left -= 1;
                            if self.out.json {
                                all.push(MessageView::of(m));
                            } else {
                                ctx.line(msg_line(m, true));
                            }
                        }
                    }
                    PullStatus::NoMatchedMsg => {}
                    PullStatus::NoNewMsg | PullStatus::OffsetIllegal => {
                        if !self.out.json {
                            ctx.line(format!(
                                "{} print msg finished. status={}, offset={}",
                                mq_text(&mq),
                                pull_status_name(r.status),
                                r.next_begin_offset
                            ));
                        }
                        break;
                    }
                }
                if r.next_begin_offset <= min {
                    break;
                }
                min = r.next_begin_offset;
            }
        }
        if self.out.json {
            ctx.json(&all);
        }
        Ok(())
    }
}
