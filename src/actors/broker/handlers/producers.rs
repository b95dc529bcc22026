//! GET_PRODUCER_CONNECTION_LIST (204) and GET_ALL_PRODUCER_INFO (328): the producers the
//! client table (in the `HeartbeatActor`) knows, as mqadmin's producerConnection / producer
//! commands and the exporter read them.

use std::sync::Arc;

use super::{json_body, mailbox, ok, HandlerResult};
use crate::actors::admin_error::AdminError;
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::heartbeat::{GetProducerConnection, GetProducerTable};
use crate::protocol::headers::admin::GetProducerConnectionListRequestHeader;
use crate::protocol::RemotingCommand;

/// 204: the group's live connections; none -> SYSTEM_ERROR "the producer group[g] not exist".
pub async fn connections(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: GetProducerConnectionListRequestHeader = req.header()?;
    let conn = ctx
        .heartbeat
        .send(GetProducerConnection(h.producer_group.clone()))
        .await
        .map_err(mailbox)?;
    match conn {
        Some(c) if !c.connection_set.is_empty() => Ok(ok(req).with_body(json_body(&c))),
        _ => Err(AdminError::ProducerGroupNotExist(h.producer_group).into()),
    }
}

/// 328: every live producer, by group (`ProducerTableInfo`).
pub async fn all(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let table = ctx
        .heartbeat
        .send(GetProducerTable)
        .await
        .map_err(mailbox)?;
    Ok(ok(req).with_body(table.encode()))
}
