//! GET_CONSUMER_RUNNING_INFO (307) and CONSUME_MESSAGE_DIRECTLY (309): requests for one consumer
//! client (group, clientId) that the broker relays on that client's connection, answering the
//! client's own response (RocketMQ's AdminBrokerProcessor.callConsumer). For 309 the broker first
//! reads the message named by the offsetMsgId and sends its stored bytes as the body, with
//! `brokerName` added to the header, as RocketMQ does.
//!
//! The relay waits at most `CALL_TIMEOUT` (Java's 10 s); no answer in that time is
//! CONSUME_MSG_TIMEOUT, a closed connection or a client that is not connected SYSTEM_ERROR, each
//! with a remark saying which (Java's codes).

use std::sync::Arc;
use std::time::Duration;

use super::{mailbox, HandlerResult};
use crate::actors::admin_error::AdminError;
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::heartbeat::ConsumerConnections;
use crate::actors::net::{Call, CallError};
use crate::error::{OffsetLookup, ServiceError};
use crate::protocol::codes::request_code;
use crate::protocol::headers::admin::ConsumeMessageDirectlyResultRequestHeader;
use crate::protocol::headers::client::GetConsumerRunningInfoRequestHeader;
use crate::protocol::message::msgid::decode_offset_msg_id;
use crate::protocol::{ProtocolError, RemotingCommand};

/// How long the broker waits for the client's answer.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn handle(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let mut relayed = RemotingCommand::request(req.code);
    relayed.ext_fields = req.ext_fields.clone();
    let (group, client_id) = if req.code == request_code::GET_CONSUMER_RUNNING_INFO {
        let h: GetConsumerRunningInfoRequestHeader = req.header()?;
        relayed.body = req.body.clone();
        (h.consumer_group, h.client_id)
    } else {
        let h: ConsumeMessageDirectlyResultRequestHeader = req.header()?;
        let msg_id = h.msg_id.ok_or(ProtocolError::MissingField("msgId"))?;
        let (_, offset) = decode_offset_msg_id(&msg_id)?;
        relayed.body = ctx
            .store
            .lookup(offset)
            .ok_or(ServiceError::NoMessageAtOffset {
                offset,
                lookup: OffsetLookup::View,
            })?;
        relayed
            .ext_fields
            .insert("brokerName".into(), ctx.cfg.broker_name.clone());
        (
            h.consumer_group,
            h.client_id.ok_or(ProtocolError::MissingField("clientId"))?,
        )
    };
    let conns = ctx
        .heartbeat
        .send(ConsumerConnections {
            group: group.clone(),
            client_id: Some(client_id.clone()),
        })
        .await
        .map_err(mailbox)?;
    let Some(conn) = conns.into_iter().next() else {
        return Err(AdminError::ClientCall(format!(
            "The Consumer <{group}> <{client_id}> not online"
        ))
        .into());
    };
    let answer = conn
        .send(Call {
            cmd: relayed,
            timeout: CALL_TIMEOUT,
        })
        .await
        .map_err(|_| {
            AdminError::ClientCall(format!(
                "consumer <{group}> <{client_id}>: its connection closed"
            ))
        })?
        .map_err(|e| match e {
            CallError::Timeout(_) => {
                AdminError::ClientTimeout(format!("consumer <{group}> <{client_id}> Timeout: {e}"))
            }
            CallError::Closed => {
                AdminError::ClientCall(format!("consumer <{group}> <{client_id}>: {e}"))
            }
        })?;
    // The client's answer goes back as it came, under the admin's opaque.
    let mut resp = req.response_to(answer.code, answer.remark);
    resp.ext_fields = answer.ext_fields;
    resp.body = answer.body;
    Ok(resp)
}
