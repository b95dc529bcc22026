//! CLONE_GROUP_OFFSET (314, mqadmin cloneGroupOffset): copy a group's committed offsets to
//! another group, on one topic or on every topic the source has offsets on (which topics: see
//! `logic::admin_views::clone_topics`). The copy is persisted with the next offset snapshot,
//! which is requested at once.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::logic::admin_views::clone_topics;
use crate::protocol::headers::admin::CloneGroupOffsetRequestHeader;
use crate::protocol::validate::check_group;
use crate::protocol::RemotingCommand;

pub fn handle(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: CloneGroupOffsetRequestHeader = req.header()?;
    // The destination becomes a key of the persisted offset table.
    check_group(&h.dest_group)?;
    let online: Option<BTreeSet<String>> = ctx
        .subscriptions
        .load()
        .group(&h.src_group)
        .map(|g| g.subscriptions().keys().cloned().collect());
    let src_topics = ctx.offsets.lock().topics_of_group(&h.src_group);
    let topics = {
        let table = ctx.topics.read();
        clone_topics(
            h.topic(),
            src_topics,
            online,
            h.offline.unwrap_or(false),
            |t| table.contains(t),
        )
    };
    {
        let mut offsets = ctx.offsets.lock();
        for t in &topics {
            offsets.clone_offsets(&h.src_group, &h.dest_group, t);
        }
    }
    ctx.persist_offsets();
    tracing::info!(src = %h.src_group, dest = %h.dest_group, ?topics, "group offsets cloned");
    Ok(ok(req))
}
