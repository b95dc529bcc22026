//! `sendMessage`: send one message with the client library's producer (group
//! `DEFAULT_PRODUCER`), to any queue or to `-b broker -i queue`; prints
//! `#Broker Name #QID #Send Result #MsgId`.

use serde::Serialize;

use super::format::java_bool;
use super::target::JsonOpt;
use super::Ctx;
use crate::admin::error::Result;
use crate::client::{Message, MessageQueue, Producer, ProducerConfig};

/// The producer group the tool sends as.
pub const PRODUCER_GROUP: &str = "DEFAULT_PRODUCER";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    topic: String,
    /// UTF-8 message body.
    #[arg(short = 'p', long = "body")]
    body: String,
    /// Message keys.
    #[arg(short = 'k', long = "key")]
    keys: Option<String>,
    /// Message tags.
    #[arg(short = 'c', long = "tags")]
    tags: Option<String>,
    /// Send to this broker (used with -i, as in RocketMQ).
    #[arg(short = 'b', long = "broker")]
    broker: Option<String>,
    /// Send to this queue id (needs -b).
    #[arg(short = 'i', long = "qid", requires = "broker")]
    qid: Option<i32>,
    /// Message trace enable (true|false).
    #[arg(short = 'm', long = "msgTraceEnable")]
    trace: Option<String>,
    #[command(flatten)]
    out: JsonOpt,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Sent {
    broker_name: String,
    queue_id: i32,
    send_result: String,
    msg_id: String,
    offset_msg_id: String,
    queue_offset: i64,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let topic = self.topic.trim();
        let mut msg = Message::new(topic, self.body.clone().into_bytes());
        if let Some(t) = &self.tags {
            msg = msg.with_tags(t.trim());
        }
        if let Some(k) = &self.keys {
            msg = msg.with_keys(k.trim());
        }
        let mut config = ProducerConfig::new(&ctx.namesrv, PRODUCER_GROUP);
        config.client.credentials = ctx.admin.credentials();
        config.client.tls = ctx.admin.tls();
        config.client.instance_name = format!("mqadmin-{}", std::process::id());
        config.client.request_timeout = ctx.admin.timeout();
        config.enable_trace = self.trace.as_deref().is_some_and(java_bool);
        let producer = Producer::start(config).await?;
        let result = match (&self.broker, self.qid) {
            (Some(b), Some(q)) => {
                producer
                    .send_to_queue(msg, MessageQueue::new(topic, b.trim(), q))
                    .await
            }
            _ => producer.send(msg).await,
        };
        let _ = producer.shutdown().await;
        let r = result?;
        let sent = Sent {
            broker_name: r.queue.broker_name.clone(),
            queue_id: r.queue.queue_id,
            send_result: r.status.to_string(),
            msg_id: r.msg_id.clone(),
            offset_msg_id: r.offset_msg_id.clone(),
            queue_offset: r.queue_offset,
        };
        if self.out.json {
            ctx.json(&sent);
            return Ok(());
        }
        let row = |a: &str, b: &str, c: &str, d: &str| format!("{a:<32}  {b:<4}  {c:<20}    {d}");
        ctx.line(row("#Broker Name", "#QID", "#Send Result", "#MsgId"));
        ctx.line(row(
            &sent.broker_name,
            &sent.queue_id.to_string(),
            &sent.send_result,
            &sent.msg_id,
        ));
        Ok(())
    }
}
