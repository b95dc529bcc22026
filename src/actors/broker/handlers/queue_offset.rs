//! Queue-level lookups: GET_MAX_OFFSET (30), GET_MIN_OFFSET (31), SEARCH_OFFSET_BY_TIMESTAMP
//! (29), GET_EARLIEST_MSG_STORETIME (32). Read-only store calls on the connection's arbiter.

use std::sync::Arc;

use super::{ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::protocol::codes::request_code;
use crate::protocol::headers::offset::{
    GetEarliestMsgStoretimeRequestHeader, GetEarliestMsgStoretimeResponseHeader,
    GetMaxOffsetRequestHeader, GetMinOffsetRequestHeader, OffsetResponseHeader,
    SearchOffsetRequestHeader,
};
use crate::protocol::RemotingCommand;

pub fn handle(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let s = &ctx.store;
    let offset = match req.code {
        request_code::GET_MAX_OFFSET => {
            let h: GetMaxOffsetRequestHeader = req.header()?;
            s.max_offset(&h.topic, h.queue_id)
        }
        request_code::GET_MIN_OFFSET => {
            let h: GetMinOffsetRequestHeader = req.header()?;
            s.min_offset(&h.topic, h.queue_id)
        }
        request_code::SEARCH_OFFSET_BY_TIMESTAMP => {
            let h: SearchOffsetRequestHeader = req.header()?;
            s.offset_by_time(&h.topic, h.queue_id, h.timestamp)
        }
        _ => {
            let h: GetEarliestMsgStoretimeRequestHeader = req.header()?;
            // Java answers SUCCESS with -1 for a queue without messages.
            let ts = s.earliest_store_time(&h.topic, h.queue_id).unwrap_or(-1);
            return Ok(
                ok(req).with_header(&GetEarliestMsgStoretimeResponseHeader { timestamp: ts })
            );
        }
    };
    Ok(ok(req).with_header(&OffsetResponseHeader { offset }))
}
