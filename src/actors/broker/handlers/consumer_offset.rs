//! QUERY_CONSUMER_OFFSET (14) and UPDATE_CONSUMER_OFFSET (15). The offset table is shared state
//! (a short lock), persisted by the `Persister` thread every `flushConsumerOffsetInterval`.

use std::sync::Arc;

use super::{ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::logic::pull_result::{query_offset_answer, OffsetQueryAnswer};
use crate::error::ServiceError;
use crate::protocol::headers::offset::{
    OffsetResponseHeader, QueryConsumerOffsetRequestHeader, UpdateConsumerOffsetRequestHeader,
};
use crate::protocol::validate::{check_group, check_topic};
use crate::protocol::RemotingCommand;

pub fn query(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: QueryConsumerOffsetRequestHeader = req.header()?;
    let stored = ctx
        .offsets
        .lock()
        .query(&h.consumer_group, &h.topic, h.queue_id);
    // No committed offset: SUCCESS with 0 while the queue still starts at 0 and its first message
    // is not on disk (a new group then reads a fresh queue from its start), else QUERY_NOT_FOUND.
    let min = ctx.store.min_offset(&h.topic, h.queue_id);
    let on_disk = stored.is_none() && ctx.store.offset_on_disk(&h.topic, h.queue_id, 0);
    match query_offset_answer(stored, min, on_disk) {
        OffsetQueryAnswer::Offset(offset) => {
            Ok(ok(req).with_header(&OffsetResponseHeader { offset }))
        }
        OffsetQueryAnswer::NotFound => Err(ServiceError::NotFound(
            "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first".into(),
        )),
    }
}

pub fn update(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: UpdateConsumerOffsetRequestHeader = req.header()?;
    // Only names a request could use elsewhere are kept (they are persisted as keys).
    check_topic(&h.topic)?;
    check_group(&h.consumer_group)?;
    ctx.offsets
        .lock()
        .commit(&h.consumer_group, &h.topic, h.queue_id, h.commit_offset)?;
    Ok(ok(req))
}
