//! NOTIFY_BROKER_ROLE_CHANGED (1008): after a set's master changed, tell each of its live
//! brokers at its registered address, off the request path (a task on the controller's runtime,
//! one short-lived connection per broker, bounded waits). A broker that misses it still learns
//! the master from its next GET_REPLICA_INFO.
//!
//! Each push goes out as the controller's host (`Controller::outbound`): signed with its
//! `accessKey`/`secretKey` and over TLS when its `tlsEnable` is set, so brokers with
//! `aclEnable=true` (1008 needs an admin account there) or `tlsMode=enforcing` take it.

use std::sync::Arc;
use std::time::Duration;

use super::live::Liveness;
use super::node::Controller;
use super::state::BrokerSet;
use crate::clock::now_ms;
use crate::protocol::codes::request_code;
use crate::protocol::headers::NotifyBrokerRoleChangedRequestHeader;
use crate::protocol::RemotingCommand;
use crate::remoting::client::RemotingClient;

const NOTIFY_TIMEOUT: Duration = Duration::from_secs(3);

/// Push the new role information of `set` to its live brokers (returns at once).
pub fn role_changed(ctl: &Arc<Controller>, set: &BrokerSet) {
    let header = NotifyBrokerRoleChangedRequestHeader {
        master_address: set.master_address().map(str::to_string),
        master_epoch: set.master_epoch,
        sync_state_set_epoch: set.sync_state_set_epoch,
        master_broker_id: set.master,
    };
    let targets: Vec<String> = {
        let mut live = ctl.live.lock();
        let live = live.at(now_ms());
        set.brokers
            .iter()
            .filter(|(id, _)| live.is_alive(&set.broker_name, **id))
            .map(|(_, b)| b.address.clone())
            .collect()
    };
    for addr in targets {
        let cmd = RemotingCommand::request_with(request_code::NOTIFY_BROKER_ROLE_CHANGED, &header);
        let out = ctl.outbound.clone();
        ctl.spawn(async move {
            let sent = async {
                let client =
                    RemotingClient::connect_with(&addr, NOTIFY_TIMEOUT, None, out.tls.as_ref())
                        .await?
                        .signed_with(out.credentials);
                client.call(cmd, NOTIFY_TIMEOUT).await
            };
            match sent.await {
                Ok(r) if r.code != 0 => tracing::info!(
                    broker = %addr, code = r.code, remark = r.remark.as_deref().unwrap_or(""),
                    "role change notification refused"
                ),
                Ok(_) => tracing::debug!(broker = %addr, "role change notified"),
                Err(e) => {
                    tracing::info!(broker = %addr, error = %e, "role change notification failed")
                }
            }
        });
    }
}
