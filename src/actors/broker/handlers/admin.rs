//! Admin requests: UPDATE_AND_CREATE_TOPIC (17), UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200),
//! GET_ALL_TOPIC_CONFIG (21), GET_TOPIC_STATS_INFO (202),
//! GET_CONSUMER_CONNECTION_LIST (203), GET_CONSUME_STATS (208), DELETE_TOPIC_IN_BROKER (215).

use std::sync::Arc;

use super::{json_body, mailbox, ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::heartbeat::{GetConsumerConnection, GroupsSubscribing};
use crate::actors::broker::logic::topics::TopicError;
use crate::clock::now_ms;
use crate::error::ServiceError;
use crate::protocol::body::broker::{
    ConsumeStats, MessageQueue, OffsetWrapper, TopicOffset, TopicStatsTable,
};
use crate::protocol::body::{SubscriptionGroupConfig, TopicConfig};
use crate::protocol::headers::admin::{
    CreateTopicRequestHeader, DeleteTopicRequestHeader, GetConsumeStatsRequestHeader,
    GetConsumerConnectionListRequestHeader, GetTopicStatsInfoRequestHeader,
};
use crate::protocol::validate::check_topic;
use crate::protocol::{ProtocolError, RemotingCommand};

pub fn create_topic(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: CreateTopicRequestHeader = req.header()?;
    let config = TopicConfig {
        order: h.is_order(),
        perm: h.perm,
        read_queue_nums: h.read_queue_nums,
        topic_filter_type: h.topic_filter_type.clone(),
        topic_name: h.topic.clone(),
        topic_sys_flag: h.topic_sys_flag.unwrap_or(0),
        write_queue_nums: h.write_queue_nums,
    };
    // Name, queue counts (at most MAX_QUEUE_NUMS) and perm are checked before anything is kept.
    ctx.topics.write().update(config.clone(), now_ms())?;
    ctx.prepare_queues(&config);
    tracing::info!(topic = %h.topic, "topic created or updated");
    ctx.topics_changed();
    Ok(ok(req))
}

/// DELETE_TOPIC_IN_BROKER: forget the topic, its consumer offsets and its consume queues (the
/// store moves their files aside at once and removes them on its own thread), so a topic
/// re-created under the same name starts empty.
pub fn delete_topic(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: DeleteTopicRequestHeader = req.header()?;
    check_topic(&h.topic)?;
    if ctx.topics.read().is_system_topic(&h.topic) {
        return Err(TopicError::SystemTopic(h.topic).into());
    }
    let removed = ctx.topics.write().delete(&h.topic, now_ms()).is_some();
    ctx.offsets.lock().remove_topic(&h.topic);
    let queues = ctx.store.delete_topic(&h.topic)?;
    if removed {
        ctx.topics_changed();
    }
    tracing::info!(topic = %h.topic, queues, "topic deleted");
    Ok(ok(req))
}

pub fn create_group(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let config: SubscriptionGroupConfig = serde_json::from_slice(&req.body)
        .map_err(|e| ProtocolError::MalformedBody(format!("subscription group config: {e}")))?;
    // Name rule and retryQueueNums limit, before anything is kept.
    ctx.groups.write().create_or_update(config, now_ms())?;
    ctx.groups_changed();
    Ok(ok(req))
}

pub fn all_topic_config(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let wrapper = ctx.topics.read().wrapper();
    Ok(ok(req).with_body(json_body(&wrapper)))
}

pub fn topic_stats(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: GetTopicStatsInfoRequestHeader = req.header()?;
    let config = ctx
        .topics
        .read()
        .get(&h.topic)
        .cloned()
        .ok_or_else(|| ServiceError::TopicNotExist(format!("topic[{}] not exist", h.topic)))?;
    let mut stats = TopicStatsTable::default();
    for q in 0..config.write_queue_nums {
        let max = ctx.store.max_offset(&h.topic, q);
        let last = if max > 0 {
            ctx.store.store_time(&h.topic, q, max - 1).unwrap_or(0)
        } else {
            0
        };
        stats.offset_table.insert(
            MessageQueue::new(&h.topic, &ctx.cfg.broker_name, q),
            TopicOffset {
                last_update_timestamp: last,
                max_offset: max,
                min_offset: ctx.store.min_offset(&h.topic, q),
            },
        );
    }
    Ok(ok(req).with_body(stats.to_fastjson().into_bytes()))
}

pub async fn consumer_connections(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: GetConsumerConnectionListRequestHeader = req.header()?;
    let conn = ctx
        .heartbeat
        .send(GetConsumerConnection(h.consumer_group.clone()))
        .await
        .map_err(mailbox)?;
    match conn {
        Some(c) if !c.connection_set.is_empty() => Ok(ok(req).with_body(json_body(&c))),
        _ => Err(ServiceError::ConsumerNotOnline(h.consumer_group)),
    }
}

pub async fn consume_stats(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: GetConsumeStatsRequestHeader = req.header()?;
    let topics: Vec<String> = match h.topic.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => vec![t.to_string()],
        _ => ctx
            .offsets
            .lock()
            .topics_of_group(&h.consumer_group)
            .into_iter()
            .collect(),
    };
    let mut stats = ConsumeStats::default();
    for topic in topics {
        let Some(config) = ctx.topics.read().get(&topic).cloned() else {
            continue;
        };
        // Java skips topics the group neither subscribes to nor has offsets for.
        let subscribed = ctx
            .heartbeat
            .send(GroupsSubscribing(topic.clone()))
            .await
            .map_err(mailbox)?
            .contains(&h.consumer_group);
        let has_offsets = ctx
            .offsets
            .lock()
            .query_all(&h.consumer_group, &topic)
            .is_some();
        if !subscribed && !has_offsets {
            continue;
        }
        for q in 0..config.write_queue_nums {
            let broker_offset = ctx.store.max_offset(&topic, q);
            let consumer_offset = ctx
                .offsets
                .lock()
                .query(&h.consumer_group, &topic, q)
                .unwrap_or(0);
            let last_timestamp = if consumer_offset > 0 {
                ctx.store
                    .store_time(&topic, q, consumer_offset - 1)
                    .unwrap_or(0)
            } else {
                0
            };
            stats.offset_table.insert(
                MessageQueue::new(&topic, &ctx.cfg.broker_name, q),
                OffsetWrapper {
                    broker_offset,
                    consumer_offset,
                    last_timestamp,
                },
            );
        }
    }
    Ok(ok(req).with_body(stats.to_fastjson().into_bytes()))
}
