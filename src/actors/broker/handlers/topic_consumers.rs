//! QUERY_TOPIC_CONSUME_BY_WHO (300), QUERY_CONSUME_TIME_SPAN (303) and
//! GET_SYSTEM_TOPIC_LIST_FROM_BROKER (305): read-only views over the client table, the offset
//! table and the store (rules in `logic::admin_views`).

use std::sync::Arc;

use super::{json_body, mailbox, ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::heartbeat::GroupsSubscribing;
use crate::actors::broker::logic::admin_views::{consumers_of_topic, time_span, QueueTimes};
use crate::clock::now_ms;
use crate::error::ServiceError;
use crate::protocol::body::admin::QueryConsumeTimeSpanBody;
use crate::protocol::body::broker::MessageQueue;
use crate::protocol::body::TopicList;
use crate::protocol::headers::admin::{
    QueryConsumeTimeSpanRequestHeader, QueryTopicConsumeByWhoRequestHeader,
};
use crate::protocol::RemotingCommand;

/// 300: groups online on the topic plus groups with offsets on it (`GroupList`).
pub async fn consume_by_who(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: QueryTopicConsumeByWhoRequestHeader = req.header()?;
    let online = ctx
        .heartbeat
        .send(GroupsSubscribing(h.topic.clone()))
        .await
        .map_err(mailbox)?;
    let with_offsets = ctx.offsets.lock().groups_of_topic(&h.topic);
    Ok(ok(req).with_body(json_body(&consumers_of_topic(online, with_offsets))))
}

/// 303: per write queue, the stored time range and how far the group has consumed.
pub fn time_span_of(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: QueryConsumeTimeSpanRequestHeader = req.header()?;
    let queues = ctx
        .topics
        .read()
        .get(&h.topic)
        .map(|c| c.write_queue_nums)
        .ok_or_else(|| ServiceError::TopicNotExist(format!("topic[{}] not exist", h.topic)))?;
    let s = &ctx.store;
    let now = now_ms();
    let mut body = QueryConsumeTimeSpanBody::default();
    for q in 0..queues {
        let max_offset = s.max_offset(&h.topic, q);
        let consumer_offset = ctx.offsets.lock().query(&h.group, &h.topic, q).unwrap_or(0);
        let time = |off: i64| s.store_time(&h.topic, q, off).unwrap_or(-1);
        let t = QueueTimes {
            min_time: s.earliest_store_time(&h.topic, q).unwrap_or(-1),
            max_time: time(max_offset - 1),
            consumer_offset,
            max_offset,
            last_consumed_time: time(consumer_offset - 1),
            next_time: time(consumer_offset),
        };
        let mq = MessageQueue::new(&h.topic, &ctx.cfg.broker_name, q);
        body.consume_time_span_set.push(time_span(mq, t, now));
    }
    Ok(ok(req).with_body(body.encode()))
}

/// 305: the broker's system topics (TBW102, SCHEDULE_TOPIC_XXXX, the cluster and broker names...).
pub fn system_topics(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let list = TopicList {
        broker_addr: None,
        topic_list: ctx.topics.read().system_topics().into_iter().collect(),
    };
    Ok(ok(req).with_body(json_body(&list)))
}
