//! LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42): the per-group queue locks orderly consumers hold
//! (expiring after `rebalanceLockMaxLiveTime`, 60 s).

use std::sync::Arc;

use super::{json_body, ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::clock::now_ms;
use crate::protocol::body::broker::{
    LockBatchRequestBody, LockBatchResponseBody, UnlockBatchRequestBody,
};
use crate::protocol::RemotingCommand;

pub fn lock(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let body = LockBatchRequestBody::decode(&req.body)?;
    let granted = ctx.locks.lock().try_lock_batch(
        &body.consumer_group,
        &body.mq_set,
        &body.client_id,
        now_ms(),
    );
    Ok(ok(req).with_body(json_body(&LockBatchResponseBody {
        lock_ok_mq_set: granted.into_iter().collect(),
    })))
}

pub fn unlock(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let body = UnlockBatchRequestBody::decode(&req.body)?;
    ctx.locks
        .lock()
        .unlock_batch(&body.consumer_group, &body.mq_set, &body.client_id);
    Ok(ok(req))
}
