//! What a slave's metadata sync asks its master (RocketMQ's AdminBrokerProcessor answers; the
//! slave side is `slave_sync.rs`): GET_ALL_CONSUMER_OFFSET (43), GET_ALL_DELAY_OFFSET (45),
//! GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201). GET_ALL_TOPIC_CONFIG (21) is in `admin.rs`. Any broker
//! answers them (admin tools ask them too).
//!
//! Bodies as RocketMQ writes them: `{"offsetTable":{"topic@group":{0:12}}}` (bare integer keys),
//! the text of `delayOffset.json` (`{"offsetTable":{1:0}}`), and
//! `{"subscriptionGroupTable":{...},"dataVersion":{...}}`.

use std::sync::Arc;

use super::{mailbox, ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::schedule::GetDelayOffsets;
use crate::error::ServiceError;
use crate::protocol::RemotingCommand;

/// GET_ALL_CONSUMER_OFFSET: the whole committed-offset table.
pub fn all_consumer_offsets(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let body = ctx.offsets.lock().to_json();
    Ok(ok(req).with_body(body.into_bytes()))
}

/// GET_ALL_DELAY_OFFSET: the `ScheduleActor`'s table, as `delayOffset.json` text.
pub async fn all_delay_offsets(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let schedule = ctx
        .schedule
        .get()
        .ok_or_else(|| ServiceError::ServiceNotAvailable("the broker is starting".into()))?;
    let body = schedule.send(GetDelayOffsets).await.map_err(mailbox)?;
    Ok(ok(req).with_body(body.into_bytes()))
}

/// GET_ALL_SUBSCRIPTIONGROUP_CONFIG: every group and the table's data version.
pub fn all_subscription_groups(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let body = ctx.groups.read().to_json();
    Ok(ok(req).with_body(body.into_bytes()))
}
