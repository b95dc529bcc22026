//! NOTIFY_BROKER_ROLE_CHANGED (1008): the controller tells a controller-mode broker that its set
//! has a new master (header: master id, address, epoch, SyncStateSet epoch; body: the
//! SyncStateSet). Handed to the `ReplicasActor`, which switches at once unless the epoch is not
//! newer than the one it knows. Answered SUCCESS as RocketMQ does, also by a broker not in
//! controller mode (nothing to switch).

use std::sync::Arc;

use super::{ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::logic::replicas::MasterInfo;
use crate::actors::broker::replicas::RoleChanged;
use crate::protocol::body::controller::SyncStateSet;
use crate::protocol::headers::controller::NotifyBrokerRoleChangedRequestHeader;
use crate::protocol::RemotingCommand;

pub fn handle(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: NotifyBrokerRoleChangedRequestHeader = req.header()?;
    let set = if req.body.is_empty() {
        None
    } else {
        let mut s = SyncStateSet::decode(&req.body)?;
        s.sync_state_set_epoch = s.sync_state_set_epoch.max(h.sync_state_set_epoch);
        Some(s)
    };
    if let Some(replicas) = ctx.replicas.get() {
        replicas.do_send(RoleChanged(MasterInfo {
            master_id: h.master_broker_id,
            master_addr: h.master_address,
            master_epoch: h.master_epoch,
            sync_state_set: set,
        }));
    }
    Ok(ok(req))
}
