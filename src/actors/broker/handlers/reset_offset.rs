//! INVOKE_BROKER_TO_RESET_OFFSET (222, mqadmin resetOffsetByTime, the dashboard's reset): compute
//! each write queue's offset for the timestamp (`logic::reset_offset`), push
//! RESET_CONSUMER_CLIENT_OFFSET (220, oneway) with the offsets to every online consumer of the
//! group, and answer the same offsets. A request sent with language CPP (mqadmin's `-c`) pushes
//! the list form C++ clients read, as RocketMQ does.
//! No consumer online: CONSUMER_NOT_ONLINE, on which mqadmin falls back to committing the
//! offsets itself (UPDATE_CONSUMER_OFFSET), as with RocketMQ.

use std::sync::Arc;

use super::{mailbox, ok, HandlerResult};
use crate::actors::admin_error::AdminError;
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::heartbeat::ConsumerConnections;
use crate::actors::broker::logic::reset_offset::{plan, QueueState, ResetError};
use crate::actors::net::Outbound;
use crate::error::ServiceError;
use crate::protocol::body::broker::ResetOffsetBody;
use crate::protocol::codes::request_code;
use crate::protocol::command::LanguageCode;
use crate::protocol::headers::admin::ResetOffsetRequestHeader;
use crate::protocol::RemotingCommand;

pub async fn handle(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: ResetOffsetRequestHeader = req.header()?;
    let queues = ctx
        .topics
        .read()
        .get(&h.topic)
        .map(|c| c.write_queue_nums)
        .ok_or_else(|| AdminError::Reset(ResetError::NoTopic(h.topic.clone())))?;
    let states: Vec<QueueState> = (0..queues)
        .map(|q| QueueState {
            queue_id: q,
            committed: ctx.offsets.lock().query(&h.group, &h.topic, q),
            target: if h.timestamp == -1 {
                ctx.store.max_offset(&h.topic, q)
            } else {
                ctx.store.offset_by_time(&h.topic, q, h.timestamp)
            },
        })
        .collect();
    let offsets = plan(
        &h.topic,
        &ctx.cfg.broker_name,
        &h.group,
        &states,
        h.is_force,
    )
    .map_err(AdminError::Reset)?;
    let body = ResetOffsetBody {
        offset_table: offsets,
    };
    let consumers = ctx
        .heartbeat
        .send(ConsumerConnections {
            group: h.group.clone(),
            client_id: None,
        })
        .await
        .map_err(mailbox)?;
    if consumers.is_empty() {
        return Err(ServiceError::ConsumerNotOnline(h.group));
    }
    let header = ResetOffsetRequestHeader::to_client(&h.topic, &h.group, h.timestamp);
    let encoded = if req.language == LanguageCode::Cpp {
        body.for_c().encode()
    } else {
        body.to_fastjson().into_bytes()
    };
    for conn in &consumers {
        let mut push =
            RemotingCommand::request_with(request_code::RESET_CONSUMER_CLIENT_OFFSET, &header)
                .with_body(encoded.clone());
        push.mark_oneway();
        conn.do_send(Outbound(push));
    }
    tracing::info!(group = %h.group, topic = %h.topic, timestamp = h.timestamp,
        consumers = consumers.len(), "reset offset pushed to the group's consumers");
    Ok(ok(req).with_body(body.to_fastjson().into_bytes()))
}
