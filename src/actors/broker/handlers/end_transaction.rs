//! END_TRANSACTION (37, usually oneway): a producer commits or rolls back its half message.
//!
//! Runs on the connection's arbiter, like a send: a slave refuses (SLAVE_NOT_AVAILABLE); the
//! half message is looked up by `commitLogOffset` and checked (`logic::transaction::check_end`:
//! half topic, PGROUP, queue and physical offsets; a mismatch is SYSTEM_ERROR with the reason);
//! a commit re-stores it at its real topic and queue (`commit_message`), then commit and
//! rollback both append the op record. Unknown (0) does nothing. Store reads and appends are
//! memory operations; the appends do not wait for durability (RocketMQ's end path does not).

use std::sync::Arc;

use super::{ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::logic::topics::TRANS_OP_HALF_TOPIC;
use crate::actors::broker::logic::transaction::{
    check_end, commit_message, end_action, op_record, EndAction, EndTxError,
};
use crate::actors::net::ConnInfo;
use crate::clock::now_ms;
use crate::error::ServiceError;
use crate::protocol::body::perm;
use crate::protocol::headers::EndTransactionRequestHeader;
use crate::protocol::message::properties as prop;
use crate::protocol::RemotingCommand;
use crate::storage::MessageOrigin;

pub fn handle(ctx: &Arc<BrokerCtx>, req: &RemotingCommand, conn: &ConnInfo) -> HandlerResult {
    if ctx.role.is_slave() {
        return Err(ServiceError::SlaveCannotEndTransaction(
            ctx.cfg.broker_name.clone(),
        ));
    }
    let h: EndTransactionRequestHeader = req.header()?;
    let action = end_action(h.commit_or_rollback);
    if action == EndAction::Nothing {
        tracing::debug!(
            group = %h.producer_group,
            msg_id = %h.msg_id,
            state = h.commit_or_rollback,
            from_check = h.from_transaction_check.unwrap_or(false),
            "transaction state unknown: left for the check-back"
        );
        return Ok(ok(req));
    }
    let half = ctx
        .store
        .lookup_message(h.commit_log_offset)
        .ok_or(EndTxError::NoHalfMessage {
            commit_log_offset: h.commit_log_offset,
        })?;
    check_end(&h, &half)?;
    if action == EndAction::Commit {
        let msg = commit_message(&half, &ctx.delay, now_ms())?;
        ctx.store.put_message(msg)?;
    }
    ensure_system_topic(ctx, TRANS_OP_HALF_TOPIC);
    ctx.store
        .put_message(op_record(half.queue_offset, broker_origin(ctx)))?;
    let real_topic = half.property(prop::REAL_TOPIC).unwrap_or(&half.topic);
    ctx.stats
        .on_end_transaction(real_topic, action == EndAction::Commit);
    tracing::debug!(
        group = %h.producer_group,
        msg_id = %h.msg_id,
        peer = %conn.peer,
        commit = action == EndAction::Commit,
        half_offset = half.queue_offset,
        "transaction ended"
    );
    Ok(ok(req))
}

/// Make sure a transaction system topic is in the topic table (one queue, read-write), as
/// RocketMQ creates them on first use, so it can be pulled and queried like any topic.
pub fn ensure_system_topic(ctx: &BrokerCtx, topic: &str) {
    if ctx.topics.read().get(topic).is_some() {
        return;
    }
    let rw = perm::READ | perm::WRITE;
    let created = ctx
        .topics
        .write()
        .ensure(topic, ("queueNums", 1), rw, 0, now_ms());
    match created {
        Ok((config, true)) => {
            ctx.prepare_queues(&config);
            ctx.topics_changed();
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(topic, error = %e, "cannot create a transaction topic"),
    }
}

/// The origin of a record the broker writes on its own (op records).
pub fn broker_origin(ctx: &BrokerCtx) -> MessageOrigin {
    MessageOrigin {
        flag: 0,
        sys_flag: 0,
        born_timestamp: now_ms(),
        born_host: ctx.store_host,
        store_host: ctx.store_host,
        reconsume_times: 0,
    }
}
