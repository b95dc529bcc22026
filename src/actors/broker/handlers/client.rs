//! HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38).
//!
//! A heartbeat also ensures, on this arbiter, what Java's broker ensures: the subscription group
//! exists (auto-created when allowed) and its retry topic `%RETRY%<group>` exists. The client table
//! itself lives in the `HeartbeatActor`, which notifies the group when its membership changes.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{json_body, mailbox, ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::heartbeat::{ClientHeartbeat, GetConsumerIds, UnregisterClient};
use crate::actors::broker::logic::client_table::ClientInfo;
use crate::actors::broker::logic::heartbeat_rules;
use crate::actors::net::ConnInfo;
use crate::clock::now_ms;
use crate::error::ServiceError;
use crate::protocol::body::broker::GetConsumerListByGroupResponseBody;
use crate::protocol::body::heartbeat::HeartbeatData;
use crate::protocol::headers::client::{
    GetConsumerListByGroupRequestHeader, UnregisterClientRequestHeader,
};
use crate::protocol::validate::check_group;
use crate::protocol::RemotingCommand;

fn client_info(req: &RemotingCommand, conn: &ConnInfo, client_id: String) -> ClientInfo {
    ClientInfo {
        conn: conn.id,
        client_id,
        addr: conn.peer.to_string(),
        language: req.language,
        version: req.version,
    }
}

pub async fn heartbeat(
    ctx: &Arc<BrokerCtx>,
    req: &RemotingCommand,
    conn: &ConnInfo,
) -> HandlerResult {
    let data = HeartbeatData::decode(&req.body)?;
    // Refuse an over-bound heartbeat before it creates anything.
    heartbeat_rules::check(&data, &ctx.cfg.heartbeat_limits())?;
    ensure_groups(ctx, &data)?;
    let client = client_info(req, conn, data.client_id.clone());
    ctx.heartbeat
        .send(ClientHeartbeat {
            client,
            conn: conn.addr.clone(),
            data,
        })
        .await
        .map_err(mailbox)??;
    Ok(ok(req))
}

/// Ensure each consumer group's subscription group (auto-created when allowed) and retry topic;
/// what changed is persisted once for the whole heartbeat.
fn ensure_groups(ctx: &Arc<BrokerCtx>, data: &HeartbeatData) -> Result<(), ServiceError> {
    let now = now_ms();
    let (mut groups_changed, mut topics_changed) = (false, false);
    let mut result: Result<(), ServiceError> = Ok(());
    // Each distinct name once.
    let names: BTreeSet<&str> = data
        .consumer_data_set
        .iter()
        .map(|c| c.group_name.as_str())
        .collect();
    for name in names {
        // The group names its retry topic, hence a directory: the name rule comes first.
        if let Err(e) = check_group(name) {
            result = Err(e.into());
            break;
        }
        let created = ctx.groups.write().get_or_create(name, now);
        let Some((group, was_created)) = created else {
            result = Err(ServiceError::SubscriptionGroupNotExist(format!(
                "subscription group [{name}] does not exist"
            )));
            break;
        };
        groups_changed |= was_created;
        if group.retry_queue_nums <= 0 {
            continue; // retries are off for this group: no retry topic
        }
        let ensured = ctx
            .topics
            .write()
            .ensure_retry_topic(name, group.retry_queue_nums, 0, now);
        match ensured {
            Ok((_, t)) => topics_changed |= t,
            // A legal group whose retry topic name is too long: the consumer still works.
            Err(e) => tracing::warn!(group = %name, "no retry topic: {e}"),
        }
    }
    if groups_changed {
        ctx.groups_changed();
    }
    if topics_changed {
        ctx.topics_changed();
    }
    result
}

pub async fn unregister(
    ctx: &Arc<BrokerCtx>,
    req: &RemotingCommand,
    conn: &ConnInfo,
) -> HandlerResult {
    let h: UnregisterClientRequestHeader = req.header()?;
    ctx.heartbeat
        .send(UnregisterClient {
            client_id: h.client_id,
            producer_group: h.producer_group,
            consumer_group: h.consumer_group,
            conn: conn.id,
        })
        .await
        .map_err(mailbox)?;
    Ok(ok(req))
}

pub async fn consumer_list(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: GetConsumerListByGroupRequestHeader = req.header()?;
    let ids = ctx
        .heartbeat
        .send(GetConsumerIds(h.consumer_group.clone()))
        .await
        .map_err(mailbox)?;
    if ids.is_empty() {
        return Err(ServiceError::NoConsumerInGroup(h.consumer_group));
    }
    Ok(
        ok(req).with_body(json_body(&GetConsumerListByGroupResponseBody {
            consumer_id_list: ids,
        })),
    )
}
