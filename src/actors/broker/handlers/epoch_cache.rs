//! GET_BROKER_EPOCH_CACHE (1007): this broker's epoch history and CommitLog end (RocketMQ 5's
//! `EpochEntryCache` JSON: clusterName, brokerName, brokerId, epochList [{epoch, startOffset,
//! endOffset}], maxOffset). The last entry ends at maxOffset where RocketMQ leaves
//! Long.MAX_VALUE; readers clamp either to maxOffset. Controller-mode peers and `mqadmin
//! getBrokerEpoch` read it; a broker that never ran in controller mode answers an empty list.
//! RocketMQ 5 refuses the request outside controller mode; answering it always costs nothing and
//! lets tools inspect any broker.
//!
//! Runs on the connection's arbiter: one short lock of the store's epoch list, no I/O.

use std::sync::Arc;

use super::{ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::protocol::RemotingCommand;

pub fn handle(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let cfg = &ctx.cfg;
    let cache = ctx.store.epoch_cache(
        &cfg.broker_cluster_name,
        &cfg.broker_name,
        ctx.role.broker_id(),
    );
    Ok(ok(req).with_body(cache.encode()))
}
