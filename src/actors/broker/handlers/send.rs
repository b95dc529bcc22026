//! SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320).
//!
//! Runs on the connection's arbiter: check the topic (auto-creating it from its template when
//! allowed), choose the queue, plan what to store with the broker's rules
//! (`logic::send_plan`: half messages to RMQ_SYS_TRANS_HALF_TOPIC, retry-topic sends past the limit to the DLQ, DELAY
//! levels diverted to SCHEDULE_TOPIC_XXXX), append to the store, and under SYNC_FLUSH await the
//! group commit, on a SYNC_MASTER a slave's ack (`logic::replica_acks`), before answering. No
//! thread hop on the way.

use crate::config::BrokerRole;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;

use super::HandlerResult;
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::logic::replica_acks::AckWait;
use crate::actors::broker::logic::retry::retry_group;
use crate::actors::broker::logic::send_plan::{
    check_batch, plan_send, request_properties, SendInput,
};
use crate::actors::broker::logic::topics::check_send_queue;
use crate::actors::broker::stats::PutProbe;
use crate::actors::net::ConnInfo;
use crate::clock::now_ms;
use crate::error::ServiceError;
use crate::protocol::body::TopicConfig;
use crate::protocol::codes::{request_code, response_code};
use crate::protocol::headers::send::{
    send_request_header, SendMessageRequestHeader, SendMessageResponseHeader,
};
use crate::protocol::RemotingCommand;
use crate::storage::{MessageBatchToStore, MessageOrigin, PutResult};

pub async fn handle(
    ctx: &Arc<BrokerCtx>,
    req: &RemotingCommand,
    conn: &ConnInfo,
    received: Instant,
) -> HandlerResult {
    let h = send_request_header(req.code, &req.ext_fields)?;
    let waited = received.elapsed().as_millis() as u64;
    if waited > ctx.hot.wait_time_mills_in_send_queue.load(Relaxed) {
        ctx.stats.busy_rejections.fetch_add(1, Relaxed);
        return Err(ServiceError::Busy(format!(
            "[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: {waited}ms"
        )));
    }
    if ctx.role.is_slave() {
        return Err(ServiceError::SlaveRefusesWrites(
            ctx.cfg.broker_name.clone(),
        ));
    }
    if !ctx.writeable() {
        return Err(ServiceError::BrokerNotWriteable(
            ctx.cfg.broker_name.clone(),
        ));
    }
    let queue_id = choose_queue(ctx, &h)?;
    let probe = PutProbe::start(ctx, &h.topic, h.sys_flag, h.properties.as_deref());
    let (put, wait) = probe.checked(
        &ctx.stats,
        if req.code == request_code::SEND_BATCH_MESSAGE || h.batch.unwrap_or(false) {
            put_batch(ctx, req, h, queue_id, conn)
        } else {
            put_single(ctx, req, h, queue_id, conn)
        },
    )?;
    // SYNC_MASTER: the replica wait starts now, beside the flush (as RocketMQ's combined
    // futures); a flush timeout is reported before a replica failure.
    let replica = (wait && ctx.role.role() == BrokerRole::SyncMaster).then(|| {
        let end = (put.phys_offset + put.wrote_bytes) as u64;
        ctx.ha
            .acks
            .wait_for(end, ctx.hot.ha_slave_fallbehind_max.load(Relaxed))
    });
    let stored = match put.durability.clone().flushed().await {
        Ok(()) => match replica {
            Some(w) => replicated(ctx, w).await,
            None => Ok(()),
        },
        Err(e) => Err(ServiceError::from(e)),
    };
    // A timeout still reports the send result (the message is stored).
    let response = match stored {
        Ok(()) => req.response_to(response_code::SUCCESS, None),
        Err(e) if e.message_stored() => e.into_response(req),
        Err(e) => return Err(e),
    };
    probe.stored(&ctx.stats, put.msg_count as u64, put.wrote_bytes as u64);
    Ok(response.with_header(&SendMessageResponseHeader {
        msg_id: put.msg_id,
        queue_id,
        queue_offset: put.queue_offset,
        transaction_id: None,
        region: ctx.hot.region_id.load().as_ref().clone(),
        trace_on: ctx.hot.trace_on.load(Relaxed),
    }))
}

/// Wait for a slave's ack of a SYNC_MASTER send, at most `slaveTimeout`.
async fn replicated(ctx: &BrokerCtx, wait: AckWait) -> Result<(), ServiceError> {
    let timeout_ms = ctx.hot.slave_timeout.load(Relaxed);
    let timeout = Duration::from_millis(timeout_ms);
    match wait {
        AckWait::Done => Ok(()),
        AckWait::SlaveNotAvailable => Err(ServiceError::SlaveNotAvailable(format!(
            "{} slave(s) connected, acknowledged up to {}",
            ctx.ha.acks.slaves(),
            ctx.ha.acks.acked()
        ))),
        AckWait::Pending(rx) => match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(ServiceError::FlushSlaveTimeout { timeout_ms }),
        },
    }
}

/// Topic checks and queue choice (under one read lock, without copying the topic's config);
/// an unknown topic is auto-created first. Returns the queue the send is answered with.
fn choose_queue(ctx: &BrokerCtx, h: &SendMessageRequestHeader) -> Result<i32, ServiceError> {
    // Only a negative queue id asks the broker to pick.
    let random: u32 = if h.queue_id < 0 {
        rand::thread_rng().gen()
    } else {
        0
    };
    {
        let topics = ctx.topics.read();
        topics.check_send(&h.topic)?;
        if let Some(config) = topics.get(&h.topic) {
            return Ok(check_send_queue(config, h.queue_id, random)?);
        }
    }
    let config = auto_create(ctx, h)?;
    Ok(check_send_queue(&config, h.queue_id, random)?)
}

/// Create a topic a send names: a retry topic as the group's heartbeat would, any other from
/// the request's template topic (when auto-creation allows).
fn auto_create(ctx: &BrokerCtx, h: &SendMessageRequestHeader) -> Result<TopicConfig, ServiceError> {
    let now = now_ms();
    let created = match retry_group(&h.topic) {
        Some(group) => {
            let queues = ctx
                .groups
                .read()
                .get(group)
                .map(|g| g.retry_queue_nums)
                .unwrap_or(1);
            ctx.topics.write().ensure_retry_topic(group, queues, 0, now)
        }
        None => ctx.topics.write().create_on_send(
            &h.topic,
            &h.default_topic,
            h.default_topic_queue_nums,
            0,
            now,
        ),
    };
    let (config, was_created) = created?;
    if was_created {
        tracing::info!(topic = %h.topic, queues = config.write_queue_nums, "topic auto-created");
        ctx.prepare_queues(&config);
        ctx.topics_changed();
    }
    Ok(config)
}

/// Plan a single message, create its DLQ topic if the plan redirects it there, append.
fn put_single(
    ctx: &BrokerCtx,
    req: &RemotingCommand,
    h: SendMessageRequestHeader,
    queue_id: i32,
    conn: &ConnInfo,
) -> Result<(PutResult, bool), ServiceError> {
    let (properties, wait) =
        request_properties(h.properties.as_deref(), &ctx.cfg.broker_cluster_name);
    let group_retry_max = retry_group(&h.topic)
        .and_then(|group| ctx.groups.read().get(group).map(|g| g.retry_max_times));
    let origin = MessageOrigin {
        flag: h.flag,
        sys_flag: h.sys_flag,
        born_timestamp: h.born_timestamp,
        born_host: conn.peer,
        store_host: ctx.store_host,
        reconsume_times: h.reconsume_times.unwrap_or(0),
    };
    let input = SendInput {
        topic: h.topic,
        queue_id,
        sys_flag: h.sys_flag,
        reconsume_times: h.reconsume_times,
        header_max_reconsume_times: h.max_reconsume_times,
        client_version: req.version,
        group_retry_max,
        properties,
    };
    let plan = plan_send(input, &ctx.delay, now_ms())?;
    if let Some(group) = &plan.dead_letter_of {
        let (_, created) = ctx.topics.write().ensure_dlq_topic(group, now_ms())?;
        if created {
            ctx.topics_changed();
        }
    }
    let msg = plan.store.into_message(origin, req.body.clone(), wait);
    Ok((ctx.store.put_message(msg)?, wait))
}

fn put_batch(
    ctx: &BrokerCtx,
    req: &RemotingCommand,
    h: SendMessageRequestHeader,
    queue_id: i32,
    conn: &ConnInfo,
) -> Result<(PutResult, bool), ServiceError> {
    let (props, wait) = request_properties(h.properties.as_deref(), &ctx.cfg.broker_cluster_name);
    check_batch(&h.topic, &props)?;
    let batch = MessageBatchToStore {
        topic: h.topic,
        queue_id,
        sys_flag: h.sys_flag,
        born_timestamp: h.born_timestamp,
        born_host: conn.peer,
        store_host: ctx.store_host,
        body: req.body.clone(),
        properties: props.encode(),
        wait_store_msg_ok: wait,
    };
    Ok((ctx.store.put_batch(batch)?, wait))
}
