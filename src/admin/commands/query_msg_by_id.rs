//! `queryMsgById`: messages by offset msg id (comma-separated list) in RocketMQ's detail layout
//! with per-group track; `-f charset` adds the body as text (RocketMQ 5); `-t` also tries each id
//! as a unique key of that topic; `-g -d` push a message to one consumer
//! (CONSUME_MESSAGE_DIRECTLY); `-s true` sends it again to its topic with a producer of group
//! `ReSendMsgById`, and `-u unitName` gives that producer RocketMQ's unit client id
//! (`ip@instance@unitName`), as RocketMQ's command does.

use serde::Serialize;

use super::format::java_bool;
use super::target::JsonOpt;
use super::view::{print_detail_body_and_track, push_to_client, BodyCharset, MessageView};
use super::Ctx;
use crate::admin::error::Result;
use crate::client::{Message, Producer, ProducerConfig};
use crate::protocol::message::{properties as prop, MessageExt};

/// The producer group `-s` resends as (RocketMQ's).
const RESEND_GROUP: &str = "ReSendMsgById";

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
    /// Resend the message(s) to their topic (true|false).
    #[arg(short = 's', long = "sendMessage")]
    resend: Option<String>,
    /// Unit name of the resending producer (with -s): its client id ends in `@unitName`.
    #[arg(short = 'u', long = "unitName")]
    unit_name: Option<String>,
    /// Also print the body as text in this charset (UTF-8, ISO-8859-1, US-ASCII).
    #[arg(short = 'f', long = "bodyFormat")]
    body_format: Option<String>,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        if self.group.is_none() {
            if let Some(r) = &self.resend {
                // As RocketMQ: `-s` without `true` does nothing.
                return if java_bool(r) {
                    self.resend(ctx).await
                } else {
                    Ok(())
                };
            }
        }
        let charset = self
            .body_format
            .as_deref()
            .map(BodyCharset::parse)
            .transpose()?;
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
                print_detail_body_and_track(ctx, &m, charset).await;
            }
        }
        if self.out.json {
            ctx.json(&views);
        }
        Ok(())
    }
}

/// One resent message (`--json`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Resent {
    original_msg_id: String,
    /// The resending producer's client id (`ip@instance[@unitName]`).
    client_id: String,
    send_status: String,
    topic: String,
    msg_id: String,
    offset_msg_id: String,
    broker_name: String,
    queue_id: i32,
    queue_offset: i64,
}

impl Args {
    async fn resend(&self, ctx: &mut Ctx) -> Result<()> {
        let mut config = ProducerConfig::new(&ctx.namesrv, RESEND_GROUP);
        config.client.credentials = ctx.admin.credentials();
        config.client.tls = ctx.admin.tls();
        // RocketMQ appends a producer's unit name to its client id; the instance name carries it.
        config.client.instance_name = match self.unit_name.as_deref().map(str::trim) {
            Some(u) if !u.is_empty() => format!("mqadmin-resend-{}@{u}", std::process::id()),
            _ => format!("mqadmin-resend-{}", std::process::id()),
        };
        config.client.request_timeout = ctx.admin.timeout();
        let producer = Producer::start(config).await?;
        let mut all = Vec::new();
        let ids = self
            .msg_id
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty());
        for id in ids {
            let sent = match ctx.admin.view_by_id(self.topic.as_deref(), id).await {
                Ok(m) => producer.send(resend_message(&m)).await.map_err(Into::into),
                Err(e) => Err(e),
            };
            let r = match sent {
                Ok(r) => r,
                Err(e) => {
                    let _ = producer.shutdown().await;
                    return Err(e);
                }
            };
            let row = Resent {
                original_msg_id: id.to_string(),
                client_id: producer.client_id().to_string(),
                send_status: r.status.to_string(),
                topic: r.queue.topic,
                msg_id: r.msg_id,
                offset_msg_id: r.offset_msg_id,
                broker_name: r.queue.broker_name,
                queue_id: r.queue.queue_id,
                queue_offset: r.queue_offset,
            };
            if !self.out.json {
                ctx.line(format!("prepare resend msg. originalMsgId={id}"));
                ctx.line(format!(
                    "SendResult [sendStatus={}, msgId={}, offsetMsgId={}, messageQueue=MessageQueue \
                     [topic={}, brokerName={}, queueId={}], queueOffset={}]",
                    row.send_status,
                    row.msg_id,
                    row.offset_msg_id,
                    row.topic,
                    row.broker_name,
                    row.queue_id,
                    row.queue_offset
                ));
            }
            all.push(row);
        }
        let _ = producer.shutdown().await;
        if self.out.json {
            ctx.json(&all);
        }
        Ok(())
    }
}

/// The message to send again: topic, flag, body, tags, keys and the user's properties of the
/// stored one. Its UNIQ_KEY is not copied, so the copy gets its own message id (RocketMQ's
/// resend keeps the original's).
fn resend_message(m: &MessageExt) -> Message {
    let mut out = Message::new(&m.topic, m.body.clone());
    out.flag = m.flag;
    for (k, v) in prop::iter(&m.properties) {
        match k {
            prop::TAGS => out.tags = Some(v.to_string()),
            prop::KEYS => {
                out.keys = v
                    .split(' ')
                    .filter(|k| !k.is_empty())
                    .map(str::to_string)
                    .collect()
            }
            prop::UNIQ_KEY => {}
            _ => {
                out.properties.insert(k.to_string(), v.to_string());
            }
        }
    }
    out
}
