//! DELETE_SUBSCRIPTIONGROUP (207): forget a subscription group's config (persisted) and, with
//! `removeOffset`, its committed offsets on every topic, as RocketMQ's AdminBrokerProcessor does.
//! Deleting an unknown group succeeds (nothing to do), as in Java.

use std::sync::Arc;

use super::{ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::clock::now_ms;
use crate::protocol::headers::admin::DeleteSubscriptionGroupRequestHeader;
use crate::protocol::RemotingCommand;

pub fn handle(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: DeleteSubscriptionGroupRequestHeader = req.header()?;
    let removed = ctx.groups.write().delete(&h.group_name, now_ms()).is_some();
    if removed {
        ctx.groups_changed();
    }
    let offsets = if h.remove_offset() {
        let n = ctx.offsets.lock().remove_group(&h.group_name);
        ctx.persist_offsets();
        n
    } else {
        0
    };
    tracing::info!(group = %h.group_name, removed, offsets, "subscription group deleted");
    Ok(ok(req))
}
