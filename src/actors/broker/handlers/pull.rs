//! PULL_MESSAGE (11), with long polling.
//!
//! On the connection's arbiter, with no actor hop: check group, topic and queue; pick the tag
//! filter (the request's own subscription, or the one the group registered by heartbeat, read from
//! the `HeartbeatActor`'s published snapshot with Java's checks); read from the store with the
//! tag-hash filter, then drop hash collisions by an exact tag check; map the store status to the
//! pull answer; the reply's body is the store's record slices (`body_parts`, written without a
//! copy). If nothing is there and the consumer allows suspension, park the pull with the
//! queue's `QueueActor` and read again when woken or when the hold time ends. Every answer carries
//! `suggestWhichBrokerId` (logic::pull_result): with `slaveReadEnable`, a read far behind the
//! CommitLog's end points the consumer at the group's slow-consumer broker (a slave). A slave
//! serves pulls like a master but never stores the piggybacked commit offset.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::{mailbox, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::logic::pull_result::{
    pull_answer, suggest_pulling_from_slave, suggest_which_broker_id, GetStatus, GroupReadRoute,
    PullAnswer, StoreRead,
};
use crate::actors::broker::logic::topics::TopicError;
use crate::actors::broker::queue::HoldPull;
use crate::actors::broker::stats::record_pull;
use crate::clock::now_ms;
use crate::error::ServiceError;
use crate::protocol::body::{perm, SubscriptionGroupConfig};
use crate::protocol::codes::{pull_sys_flag, response_code};
use crate::protocol::filter::TagFilter;
use crate::protocol::headers::pull::{PullMessageRequestHeader, PullMessageResponseHeader};
use crate::protocol::message::decode_record;
use crate::protocol::validate::{check_group, check_topic};
use crate::protocol::RemotingCommand;
use crate::storage::GetResult;

pub async fn handle(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: PullMessageRequestHeader = req.header()?;
    check_topic(&h.topic)?;
    check_group(&h.consumer_group)?;
    if !ctx.readable() {
        return Err(ServiceError::NoPermission(format!(
            "the broker[{}] pulling message is forbidden",
            ctx.cfg.broker_name
        )));
    }
    let (consume_broadcast_enable, route) = group_config(ctx, &h.consumer_group)?;
    check_topic_queue(ctx, &h)?;
    let filter = subscription_filter(ctx, &h, consume_broadcast_enable)?;

    if pull_sys_flag::has_commit_offset(h.sys_flag) && ctx.role.broker_id() == 0 {
        ctx.offsets
            .lock()
            .commit(&h.consumer_group, &h.topic, h.queue_id, h.commit_offset)?;
    }

    let max = h.max_msg_nums.clamp(1, 1024) as usize;
    let read_started = std::time::Instant::now();
    let (mut answer, mut result) = read(ctx, &h, &filter, max, route);
    let read_ms = read_started.elapsed().as_millis() as u64;
    let may_suspend = h.sys_flag & pull_sys_flag::FLAG_SUSPEND != 0;
    if answer.long_poll && may_suspend {
        let hold_ms = if ctx.hot.long_polling_enable.load(Relaxed) {
            h.suspend_timeout_millis.clamp(0, 60_000) as u64
        } else {
            ctx.hot.short_polling_time_mills.load(Relaxed)
        };
        let (tx, rx) = oneshot::channel();
        ctx.queues
            .get(&h.topic, h.queue_id)
            .send(HoldPull {
                offset: h.queue_offset,
                deadline_ms: now_ms() + hold_ms as i64,
                filter: if filter.is_all() {
                    None
                } else {
                    Some(filter.clone())
                },
                wake: tx,
            })
            .await
            .map_err(mailbox)?;
        let _ = tokio::time::timeout(Duration::from_millis(hold_ms), rx).await;
        (answer, result) = read(ctx, &h, &filter, max, route);
    }

    record_pull(ctx, &h.topic, &h.consumer_group, &result.messages, read_ms);
    let mut resp = req
        .response_to(answer.code, Some(answer.remark.to_string()))
        .with_header(&PullMessageResponseHeader {
            suggest_which_broker_id: answer.suggest_which_broker_id,
            next_begin_offset: answer.next_begin_offset,
            min_offset: answer.min_offset,
            max_offset: answer.max_offset,
        });
    if answer.code == response_code::SUCCESS {
        // The stored records, back to back: slices of the mapped CommitLog that the connection's
        // outbox writes as they are (no copy of the messages on the broker).
        resp.body_parts = std::mem::take(&mut result.messages);
    }
    Ok(resp)
}

/// Java's subscription-group checks: the group exists (auto-created when allowed, else
/// SUBSCRIPTION_GROUP_NOT_EXIST) and may consume (else NO_PERMISSION). Returns the group's
/// `consumeBroadcastEnable` and its read routing (`brokerId`, `whichBrokerWhenConsumeSlowly`).
/// A known group is read under the read lock without copying its
/// config; the write lock is taken only to create one.
fn group_config(ctx: &BrokerCtx, group: &str) -> Result<(bool, GroupReadRoute), ServiceError> {
    let route = |g: &SubscriptionGroupConfig| GroupReadRoute {
        broker_id: g.broker_id,
        which_broker_when_consume_slowly: g.which_broker_when_consume_slowly,
    };
    let known = ctx
        .groups
        .read()
        .get(group)
        .map(|g| (g.consume_enable, g.consume_broadcast_enable, route(g)));
    let (consume_enable, broadcast_enable, read_route) = match known {
        Some(flags) => flags,
        None => {
            let created = ctx.groups.write().get_or_create(group, now_ms());
            let Some((config, created)) = created else {
                return Err(ServiceError::SubscriptionGroupNotExist(format!(
                    "subscription group [{group}] does not exist"
                )));
            };
            if created {
                ctx.groups_changed();
            }
            (
                config.consume_enable,
                config.consume_broadcast_enable,
                route(&config),
            )
        }
    };
    if !consume_enable {
        return Err(ServiceError::NoPermission(format!(
            "subscription group no permission, {group}"
        )));
    }
    Ok((broadcast_enable, read_route))
}

/// The topic exists and is readable, and the queue id is within its read queues.
fn check_topic_queue(ctx: &BrokerCtx, h: &PullMessageRequestHeader) -> Result<(), ServiceError> {
    let (topic_perm, read_queue_nums) = ctx
        .topics
        .read()
        .get(&h.topic)
        .map(|t| (t.perm, t.read_queue_nums))
        .ok_or_else(|| {
            ServiceError::TopicNotExist(format!(
                "topic[{}] not exist, apply first please!",
                h.topic
            ))
        })?;
    if !perm::readable(topic_perm) {
        return Err(ServiceError::NoPermission(format!(
            "the topic[{}] pulling message is forbidden",
            h.topic
        )));
    }
    if h.queue_id < 0 || h.queue_id >= read_queue_nums {
        return Err(TopicError::QueueIdIllegal {
            topic: h.topic.clone(),
            queue_id: h.queue_id,
            queues: read_queue_nums,
        }
        .into());
    }
    Ok(())
}

/// The filter of this pull: the request's expression with the subscription flag, else the one the
/// group registered through its heartbeats, from the published snapshot, with Java's checks
/// (`SubscriptionSnapshot::pull_subscription`: group online, broadcast allowed, topic subscribed,
/// registration not older than the pull).
fn subscription_filter(
    ctx: &BrokerCtx,
    h: &PullMessageRequestHeader,
    consume_broadcast_enable: bool,
) -> Result<TagFilter, ServiceError> {
    if pull_sys_flag::has_subscription(h.sys_flag) {
        let ty = h.expression_type.as_deref().unwrap_or("TAG");
        if !ty.eq_ignore_ascii_case("TAG") {
            return Err(ServiceError::FilterNotSupported(ty.to_string()));
        }
        return Ok(TagFilter::parse(h.subscription.as_deref().unwrap_or("*")));
    }
    let snapshot = ctx.subscriptions.load();
    let sub = snapshot.pull_subscription(
        &h.consumer_group,
        &h.topic,
        h.sub_version,
        consume_broadcast_enable,
    )?;
    TagFilter::from_subscription(sub)
        .ok_or_else(|| ServiceError::FilterNotSupported(sub.expression_type.clone()))
}

/// One store read with hash filter and exact tag check, mapped to the pull answer (with the
/// broker id to pull from next).
fn read(
    ctx: &BrokerCtx,
    h: &PullMessageRequestHeader,
    filter: &TagFilter,
    max: usize,
    route: GroupReadRoute,
) -> (PullAnswer, GetResult) {
    let mut result = if filter.is_all() {
        ctx.store
            .get_message(&h.topic, h.queue_id, h.queue_offset, max, None)
    } else {
        let f = |code: i64| filter.matches_code(code);
        ctx.store
            .get_message(&h.topic, h.queue_id, h.queue_offset, max, Some(&f))
    };
    if !filter.is_all() && !result.messages.is_empty() {
        // The hash matched; drop tag-hash collisions with an exact check of the TAGS property.
        let keep: Vec<usize> = (0..result.messages.len())
            .filter(|i| match decode_record(&result.messages[*i]) {
                Ok(m) => filter.matches_tag(m.tags()),
                Err(_) => true,
            })
            .collect();
        if keep.len() != result.messages.len() {
            result.messages = keep.iter().map(|i| result.messages[*i].clone()).collect();
            result.queue_offsets = keep.iter().map(|i| result.queue_offsets[*i]).collect();
            if result.messages.is_empty() {
                result.status = GetStatus::NoMatchedMessage;
            }
        }
    }
    let mut answer = pull_answer(
        &StoreRead {
            status: result.status,
            requested_offset: h.queue_offset,
            min_offset: result.min_offset,
            max_offset: result.max_offset,
            scan_end_offset: result.next_begin_offset,
        },
        ctx.role.broker_id() == 0,
    );
    answer.suggest_which_broker_id = suggest_which_broker_id(
        ctx.hot.slave_read_enable.load(Relaxed),
        read_far_behind(ctx, h, &result),
        route,
    );
    (answer, result)
}

/// Whether this read ended far behind the CommitLog's end (the store's "suggest pulling from
/// slave"): only a read that scanned units (FOUND, NO_MATCHED_MESSAGE, MESSAGE_WAS_REMOVING) has a
/// last pulled physical offset.
fn read_far_behind(ctx: &BrokerCtx, h: &PullMessageRequestHeader, result: &GetResult) -> bool {
    if !ctx.hot.slave_read_enable.load(Relaxed) {
        return false;
    }
    let scanned = matches!(
        result.status,
        GetStatus::Found | GetStatus::NoMatchedMessage | GetStatus::MessageWasRemoving
    ) && result.next_begin_offset > h.queue_offset;
    let last = scanned
        .then(|| {
            ctx.store
                .phys_offset_at(&h.topic, h.queue_id, result.next_begin_offset - 1)
        })
        .flatten();
    suggest_pulling_from_slave(
        ctx.store.commit_log_max_offset(),
        last,
        ctx.store.total_physical_memory(),
        ctx.store.tunables.access_in_memory_max_ratio.load(Relaxed),
    )
}
