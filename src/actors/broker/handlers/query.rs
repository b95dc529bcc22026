//! VIEW_MESSAGE_BY_ID (33: one record by physical offset, decoded from an offset msg id) and
//! QUERY_MESSAGE (12: records by key or UNIQ_KEY within a time range, from the index).

use std::sync::Arc;

use bytes::BytesMut;

use super::{ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::error::{OffsetLookup, ServiceError};
use crate::protocol::headers::query::{
    QueryMessageRequestHeader, QueryMessageResponseHeader, ViewMessageRequestHeader,
};
use crate::protocol::RemotingCommand;

/// UNIQ_KEY queries return at most this many (Java's `defaultQueryMaxNum`).
const DEFAULT_QUERY_MAX_NUM: usize = 32;

pub fn view(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: ViewMessageRequestHeader = req.header()?;
    let record = ctx
        .store
        .lookup(h.offset)
        .ok_or(ServiceError::NoMessageAtOffset {
            offset: h.offset,
            lookup: OffsetLookup::View,
        })?;
    Ok(ok(req).with_body(record))
}

pub fn query(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: QueryMessageRequestHeader = req.header()?;
    let max = if h.unique_key_query {
        DEFAULT_QUERY_MAX_NUM
    } else {
        h.max_num.clamp(1, 64 * 1024) as usize
    };
    let found = ctx
        .store
        .query_by_key(&h.topic, &h.key, max, h.begin_timestamp, h.end_timestamp);
    if found.is_empty() {
        return Err(ServiceError::NotFound(format!(
            "can not find message, maybe time range not correct: topic {} key {}",
            h.topic, h.key
        )));
    }
    let mut body = BytesMut::with_capacity(found.iter().map(|b| b.len()).sum());
    for b in &found {
        body.extend_from_slice(b);
    }
    Ok(ok(req)
        .with_header(&QueryMessageResponseHeader {
            index_last_update_timestamp: crate::clock::now_ms(),
            index_last_update_phyoffset: ctx.store.commit_log_max_offset(),
        })
        .with_body(body.freeze()))
}
