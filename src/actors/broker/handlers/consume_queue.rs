//! QUERY_CONSUME_QUEUE (321, mqadmin queryCq): `count` consume-queue units of one queue from
//! `index`, with the queue's bounds and, when a group is named, its subscription and whether
//! each unit passes its TAG filter (RocketMQ's AdminBrokerProcessor.queryConsumeQueue).

use std::sync::Arc;

use super::{ok, HandlerResult};
use crate::actors::admin_error::AdminError;
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::logic::admin_views::queue_entry;
use crate::protocol::body::admin::QueryConsumeQueueResponseBody;
use crate::protocol::filter::TagFilter;
use crate::protocol::headers::admin::QueryConsumeQueueRequestHeader;
use crate::protocol::RemotingCommand;

/// More units than this per request are not read (a dump is for eyes, not for bulk export).
const MAX_COUNT: i32 = 1024;

pub fn handle(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: QueryConsumeQueueRequestHeader = req.header()?;
    let cq = ctx.store.find_queue(&h.topic, h.queue_id).ok_or_else(|| {
        AdminError::ConsumeQueueNotExist {
            topic: h.topic.clone(),
            queue_id: h.queue_id,
        }
    })?;
    let mut body = QueryConsumeQueueResponseBody {
        max_queue_index: cq.max_offset() as i64,
        min_queue_index: cq.min_offset() as i64,
        ..Default::default()
    };
    let mut filter = None;
    if let Some(group) = h.consumer_group.as_deref().filter(|g| !g.is_empty()) {
        let snapshot = ctx.subscriptions.load();
        let sub = snapshot
            .group(group)
            .and_then(|g| g.subscriptions().get(&h.topic).cloned());
        match &sub {
            None => body.filter_data = Some(format!("{group}@{} is not online!", h.topic)),
            Some(s) => filter = TagFilter::from_subscription(s),
        }
        body.subscription_data = sub;
    }
    let missing = || AdminError::IndexNotExist {
        topic: h.topic.clone(),
        queue_id: h.queue_id,
        index: h.index,
    };
    let start = u64::try_from(h.index).map_err(|_| missing())?;
    if h.index < body.min_queue_index || h.index >= body.max_queue_index {
        return Err(missing().into());
    }
    for i in 0..h.count.clamp(0, MAX_COUNT) as u64 {
        match cq.get(start + i) {
            Some(unit) => body.queue_data.push(queue_entry(unit, filter.as_ref())),
            None => break,
        }
    }
    Ok(ok(req).with_body(body.encode()))
}
