//! SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320).
//!
//! Runs on the connection's arbiter: check the topic (auto-creating it from its template when
//! allowed), choose the queue, apply the broker's rules (retry-topic sends past the limit go to the
//! DLQ; a DELAY level diverts the message to SCHEDULE_TOPIC_XXXX), append to the store, and under
//! SYNC_FLUSH await the group commit before answering. No thread hop on the way.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use rand::Rng;

use super::HandlerResult;
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::logic::retry::{
    max_reconsume_times, retry_group, retry_topic_send, RetrySend,
};
use crate::actors::broker::logic::send_plan::SendRefusal;
use crate::actors::broker::logic::topics::{check_send_queue, SCHEDULE_TOPIC};
use crate::actors::namesrv::now_ms;
use crate::actors::net::ConnInfo;
use crate::error::ServiceError;
use crate::protocol::codes::{message_sys_flag, request_code, response_code};
use crate::protocol::headers::send::{
    send_request_header, SendMessageRequestHeader, SendMessageResponseHeader,
};
use crate::protocol::message::properties::{self as prop, Properties};
use crate::protocol::message::MAX_TOPIC_LEN;
use crate::protocol::RemotingCommand;
use crate::storage::{MessageBatchToStore, MessageToStore, PutResult};

pub async fn handle(
    ctx: &Arc<BrokerCtx>,
    req: &RemotingCommand,
    conn: &ConnInfo,
    received: Instant,
) -> HandlerResult {
    let h = send_request_header(req.code, &req.ext_fields)?;
    let waited = received.elapsed().as_millis() as u64;
    if waited > ctx.cfg.wait_time_mills_in_send_queue {
        ctx.stats
            .busy_rejections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Err(ServiceError::Busy(format!(
            "[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: {waited}ms"
        )));
    }
    if !ctx.writeable() {
        return Err(ServiceError::BrokerNotWriteable(
            ctx.cfg.broker_name.clone(),
        ));
    }
    let (topic, queue_id) = resolve_topic_and_queue(ctx, &h)?;
    let result = if req.code == request_code::SEND_BATCH_MESSAGE || h.batch.unwrap_or(false) {
        put_batch(ctx, req, &h, &topic, queue_id, conn)?
    } else {
        put_single(ctx, req, &h, topic, queue_id, conn)?
    };
    // A flush timeout still reports the send result (the message is stored).
    let response = match result.1.durability.clone().flushed().await {
        Ok(()) => req.response_to(response_code::SUCCESS, None),
        Err(e) => match ServiceError::from(e) {
            e if e.message_stored() => e.into_response(req),
            e => return Err(e),
        },
    };
    ctx.stats.put_messages.fetch_add(
        result.1.msg_count as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    ctx.stats.put_bytes.fetch_add(
        result.1.wrote_bytes as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    Ok(response.with_header(&SendMessageResponseHeader {
        msg_id: result.1.msg_id.clone(),
        queue_id: result.0,
        queue_offset: result.1.queue_offset,
        transaction_id: None,
        region: ctx.cfg.region_id.clone(),
        trace_on: ctx.cfg.trace_on,
    }))
}

/// Topic checks, auto-creation and queue choice. Returns the topic and the queue to write.
fn resolve_topic_and_queue(
    ctx: &BrokerCtx,
    h: &SendMessageRequestHeader,
) -> Result<(String, i32), ServiceError> {
    let now = now_ms();
    {
        let topics = ctx.topics.read();
        topics.check_send(&h.topic)?;
    }
    let existing = ctx.topics.read().get(&h.topic).cloned();
    let config = match existing {
        Some(c) => c,
        None => {
            let is_retry = retry_group(&h.topic).is_some();
            let created = if is_retry {
                // A retry topic appears on a consumer's heartbeat; a send to one we lack creates it.
                let group = retry_group(&h.topic).unwrap_or_default().to_string();
                let queues = ctx
                    .groups
                    .read()
                    .get(&group)
                    .map(|g| g.retry_queue_nums)
                    .unwrap_or(1);
                ctx.topics
                    .write()
                    .ensure_retry_topic(&group, queues, 0, now)
            } else {
                ctx.topics.write().create_on_send(
                    &h.topic,
                    &h.default_topic,
                    h.default_topic_queue_nums,
                    0,
                    now,
                )
            };
            let (config, was_created) = created?;
            if was_created {
                tracing::info!(topic = %h.topic, queues = config.write_queue_nums, "topic auto-created");
                ctx.prepare_queues(&config);
                ctx.topics_changed();
            }
            config
        }
    };
    let queue_id = check_send_queue(&config, h.queue_id, rand::thread_rng().gen())?;
    Ok((h.topic.clone(), queue_id))
}

/// The stored properties: the client's, without WAIT (honoured, not stored), plus CLUSTER.
/// Returns (properties, wait).
fn stored_properties(ctx: &BrokerCtx, raw: Option<&str>) -> (Properties, bool) {
    let mut props = Properties::decode(raw.unwrap_or(""));
    let wait = props
        .remove(prop::WAIT)
        .map(|v| !v.eq_ignore_ascii_case("false"))
        .unwrap_or(true);
    props.insert(prop::CLUSTER, &ctx.cfg.broker_cluster_name);
    (props, wait)
}

fn put_single(
    ctx: &BrokerCtx,
    req: &RemotingCommand,
    h: &SendMessageRequestHeader,
    topic: String,
    queue_id: i32,
    conn: &ConnInfo,
) -> Result<(i32, PutResult), ServiceError> {
    let tx_type = message_sys_flag::transaction_value(h.sys_flag);
    let (mut props, wait) = stored_properties(ctx, h.properties.as_deref());
    if tx_type == message_sys_flag::TRANSACTION_PREPARED_TYPE
        || props
            .get(prop::TRAN_MSG)
            .map(|v| v.eq_ignore_ascii_case("true"))
            == Some(true)
    {
        return Err(SendRefusal::HalfMessage.into());
    }
    let mut msg = MessageToStore::new(&topic, queue_id, req.body.clone(), "");
    msg.flag = h.flag;
    msg.sys_flag = h.sys_flag;
    msg.born_timestamp = h.born_timestamp;
    msg.born_host = conn.peer;
    msg.store_host = ctx.store_host;
    msg.reconsume_times = h.reconsume_times.unwrap_or(0);
    msg.wait_store_msg_ok = wait;

    // A send to %RETRY%<group> at or past the group's limit goes to the DLQ.
    if let Some(group) = retry_group(&topic) {
        let retry_max = ctx
            .groups
            .read()
            .get(group)
            .map(|g| g.retry_max_times)
            .unwrap_or(16);
        let max = max_reconsume_times(retry_max, h.max_reconsume_times, req.version);
        if let RetrySend::DeadLetter { topic: dlq } =
            retry_topic_send(group, h.reconsume_times, max)
        {
            let (_, created) = ctx.topics.write().ensure_dlq_topic(group, now_ms())?;
            if created {
                ctx.topics_changed();
            }
            props.remove(prop::DELAY);
            msg.topic = dlq;
            msg.queue_id = 0;
        }
    }

    // A delay level diverts the message to SCHEDULE_TOPIC_XXXX until it is due.
    if tx_type != message_sys_flag::TRANSACTION_ROLLBACK_TYPE {
        divert_if_delayed(ctx, &mut msg, &mut props);
    }
    msg.properties = props.encode();
    let answered_queue = queue_id;
    let put = ctx.store.put_message(msg)?;
    Ok((answered_queue, put))
}

/// The broker's delay rule: a message with a DELAY level is stored in SCHEDULE_TOPIC_XXXX, queue
/// `level - 1`, with its real topic and queue in REAL_TOPIC / REAL_QID and its delivery time as the
/// consume-queue tags code; the schedule actor moves it back when due. Levels past the last clamp.
pub fn divert_if_delayed(ctx: &BrokerCtx, msg: &mut MessageToStore, props: &mut Properties) {
    let level: i32 = props
        .get(prop::DELAY)
        .and_then(|d| d.trim().parse().ok())
        .unwrap_or(0);
    if level <= 0 {
        return;
    }
    let level = ctx.delay.clamp(level);
    props.insert(prop::DELAY, &level.to_string());
    props.insert(prop::REAL_TOPIC, &msg.topic);
    props.insert(prop::REAL_QID, &msg.queue_id.to_string());
    msg.tags_code = Some(ctx.delay.deliver_at(now_ms(), level));
    msg.topic = SCHEDULE_TOPIC.to_string();
    msg.queue_id = ctx.delay.queue_id(level);
}

fn put_batch(
    ctx: &BrokerCtx,
    req: &RemotingCommand,
    h: &SendMessageRequestHeader,
    topic: &str,
    queue_id: i32,
    conn: &ConnInfo,
) -> Result<(i32, PutResult), ServiceError> {
    if topic.len() > MAX_TOPIC_LEN {
        return Err(SendRefusal::BatchTopicTooLong.into());
    }
    if retry_group(topic).is_some() {
        return Err(SendRefusal::BatchToRetryTopic(topic.to_string()).into());
    }
    let (props, wait) = stored_properties(ctx, h.properties.as_deref());
    if props.get(prop::DELAY).is_some() {
        return Err(SendRefusal::BatchWithDelay.into());
    }
    let batch = MessageBatchToStore {
        topic: topic.to_string(),
        queue_id,
        sys_flag: h.sys_flag,
        born_timestamp: h.born_timestamp,
        born_host: conn.peer,
        store_host: ctx.store_host,
        body: Bytes::clone(&req.body),
        properties: props.encode(),
        wait_store_msg_ok: wait,
    };
    Ok((queue_id, ctx.store.put_batch(batch)?))
}
