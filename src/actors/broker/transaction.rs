//! `TransactionActor`: checks back half messages whose producer never ended them (master only).
//!
//! - Owns: the op records read so far (`logic::transaction::OpWindow`, so each is read once),
//!   nothing durable of its own. Its scan progress lives in `BrokerCtx::offsets` as the
//!   consumer offsets of `CID_RMQ_SYS_TRANS` on RMQ_SYS_TRANS_HALF_TOPIC / _OP_HALF_TOPIC queue 0
//!   (saved at once after a pass that moved them, and with every offset flush), so a restart
//!   resumes where the last pass ended.
//! - Handles: its own timer, every `transactionCheckInterval`: one pass reads the op records
//!   appended since the last pass (the half offsets ended by commit, rollback or a newer copy),
//!   then the half queue from the half progress, and runs `logic::transaction::judge` on each
//!   message: ended -> skip; checked `transactionCheckMax` times -> moved to
//!   TRANS_CHECK_MAX_TIME_TOPIC; older than `transactionTimeOut` -> a copy with
//!   TRANSACTION_CHECK_TIMES + 1 appended at the half queue's end (RocketMQ's re-put), an op
//!   record ending the original, and CHECK_TRANSACTION_STATE for the copy; the pass stops at
//!   the first message stored during it or too young. A pass handles at most `MAX_PER_PASS` messages and runs again at once when it
//!   was cut short.
//! - Sends: `CheckTransactionState` to the `HeartbeatActor`, which writes the request (oneway)
//!   to one live producer connection of the message's PGROUP.
//! - Runs on: the broker's control arbiter. Store reads and appends are memory operations (no
//!   durability wait); the offset file is written by the `Persister` thread.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tracing::{debug, info, warn};

use super::context::BrokerCtx;
use super::handlers::end_transaction::{broker_origin, ensure_system_topic};
use super::heartbeat::CheckTransactionState;
use super::logic::topics::{TRANS_CHECK_MAX_TIME_TOPIC, TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC};
use super::logic::transaction::{
    check_request, give_up_message, half_copy, judge, op_half_offset, op_record, CheckRules,
    HalfAction, OpWindow, HALF_QUEUE_ID, TRANS_SYS_GROUP,
};
use crate::clock::now_ms;
use crate::protocol::codes::request_code;
use crate::protocol::message::properties as prop;
use crate::protocol::message::{decode_record, MessageExt};
use crate::protocol::RemotingCommand;
use crate::storage::{MessageToStore, StoreError};

/// Records read per store call.
const BATCH: usize = 32;
/// Half messages handled per pass; a longer backlog continues in an immediate next pass.
const MAX_PER_PASS: usize = 2048;

pub struct TransactionActor {
    ctx: Arc<BrokerCtx>,
    /// The op records read so far (from the op progress on).
    ops: OpWindow,
}

impl TransactionActor {
    pub fn new(ctx: Arc<BrokerCtx>) -> Self {
        TransactionActor {
            ctx,
            ops: OpWindow::default(),
        }
    }

    /// `transactionTimeOut` and `transactionCheckMax` as they are now (changeable at run time).
    fn rules(&self) -> CheckRules {
        CheckRules {
            timeout_ms: self.ctx.hot.transaction_time_out.load(Relaxed) as i64,
            check_max: self.ctx.hot.transaction_check_max.load(Relaxed),
        }
    }

    /// `transactionCheckInterval` as it is now.
    fn interval(&self) -> Duration {
        Duration::from_millis(self.ctx.hot.transaction_check_interval.load(Relaxed).max(1))
    }

    /// Run a pass after the current interval, then schedule the next one (an interval changed by
    /// UPDATE_BROKER_CONFIG applies from the next wait on).
    fn schedule(&self, ctx: &mut Context<Self>) {
        ctx.run_later(self.interval(), |act, ctx| {
            // Check-back is the master's (a controller-mode broker may be a slave for a while).
            if !act.ctx.role.is_slave() {
                let start = now_ms();
                if act.pass(start) {
                    ctx.notify(MorePass(start));
                }
            }
            act.schedule(ctx);
        });
    }

    fn progress(&self, topic: &str) -> i64 {
        let saved = self
            .ctx
            .offsets
            .lock()
            .query(TRANS_SYS_GROUP, topic, HALF_QUEUE_ID);
        let min = self.ctx.store.min_offset(topic, HALF_QUEUE_ID);
        saved.unwrap_or(min).max(min)
    }

    /// Read the op records appended since the last read into the window.
    fn read_ops(&mut self, half_start: i64) {
        let store = self.ctx.store.clone();
        let max = store.max_offset(TRANS_OP_HALF_TOPIC, HALF_QUEUE_ID);
        while self.ops.read_to() < max {
            let from = self.ops.read_to();
            let got = store.get_message(TRANS_OP_HALF_TOPIC, HALF_QUEUE_ID, from, BATCH, None);
            if got.messages.is_empty() {
                if got.next_begin_offset <= from {
                    break;
                }
                self.ops.skip_to(got.next_begin_offset);
                continue;
            }
            for (record, &q) in got.messages.iter().zip(&got.queue_offsets) {
                let half = decode_record(record).ok().and_then(|m| op_half_offset(&m));
                self.ops.push(q, half, half_start);
            }
        }
    }

    /// One pass begun at `start_ms` (a continued pass keeps its first part's start, so copies
    /// that part stored wait for the next interval); returns whether it was cut short.
    fn pass(&mut self, start_ms: i64) -> bool {
        let store = self.ctx.store.clone();
        let half_start = self.progress(TRANS_HALF_TOPIC);
        let half_max = store.max_offset(TRANS_HALF_TOPIC, HALF_QUEUE_ID);
        if half_start >= half_max {
            return false;
        }
        ensure_system_topic(&self.ctx, TRANS_HALF_TOPIC);
        ensure_system_topic(&self.ctx, TRANS_OP_HALF_TOPIC);
        let op_start = self.progress(TRANS_OP_HALF_TOPIC);
        self.ops.sync(op_start);
        self.read_ops(half_start);
        let rules = self.rules();
        let mut offset = half_start;
        let mut handled = 0;
        'scan: while offset < half_max && handled < MAX_PER_PASS {
            let got = store.get_message(TRANS_HALF_TOPIC, HALF_QUEUE_ID, offset, BATCH, None);
            if got.messages.is_empty() {
                if got.next_begin_offset <= offset {
                    break;
                }
                offset = got.next_begin_offset;
                continue;
            }
            for (record, &q) in got.messages.iter().zip(&got.queue_offsets) {
                let Ok(m) = decode_record(record) else {
                    warn!(offset = q, "undecodable half message skipped");
                    offset = q + 1;
                    continue;
                };
                let action = judge(&m, q, self.ops.ended(), rules, start_ms, now_ms());
                if action == HalfAction::Stop {
                    break 'scan;
                }
                if let Err(e) = self.apply(&m, action) {
                    warn!(offset = q, error = %e, "check-back: store refused; retried next pass");
                    break 'scan;
                }
                offset = q + 1;
                handled += 1;
            }
        }
        let op_next = self.ops.advance(offset);
        self.save(half_start, offset, op_start, op_next);
        handled >= MAX_PER_PASS
    }

    /// Carry out one decision (not `Stop`).
    fn apply(&self, m: &MessageExt, action: HalfAction) -> Result<(), StoreError> {
        let store = &self.ctx.store;
        match action {
            HalfAction::Ended | HalfAction::Stop => Ok(()),
            HalfAction::GiveUp => {
                info!(
                    msg_id = %m.msg_id(),
                    group = m.property(prop::PGROUP).unwrap_or(""),
                    "half message checked too often: moved to TRANS_CHECK_MAX_TIME_TOPIC"
                );
                ensure_system_topic(&self.ctx, TRANS_CHECK_MAX_TIME_TOPIC);
                store.put_message(give_up_message(m))?;
                self.end(m)
            }
            HalfAction::Postpone => {
                store.put_message(half_copy(m, None))?;
                self.end(m)
            }
            HalfAction::Check { times } => {
                let put = store.put_message(half_copy(m, Some(times)))?;
                self.end(m)?;
                match store.lookup_message(put.phys_offset) {
                    Some(copy) => self.send_check(&copy),
                    None => warn!(
                        offset = put.phys_offset,
                        "re-stored half message unreadable"
                    ),
                }
                Ok(())
            }
        }
    }

    /// The op record that ends `m` at its half offset.
    fn end(&self, m: &MessageExt) -> Result<(), StoreError> {
        let op: MessageToStore = op_record(m.queue_offset, broker_origin(&self.ctx));
        self.ctx.store.put_message(op).map(|_| ())
    }

    fn send_check(&self, copy: &MessageExt) {
        let Some(group) = copy.property(prop::PGROUP).map(str::to_string) else {
            warn!(msg_id = %copy.msg_id(), "half message without PGROUP: nobody to check with");
            return;
        };
        let (header, shown) = check_request(copy);
        let request = RemotingCommand::request_with(request_code::CHECK_TRANSACTION_STATE, &header)
            .with_body(shown.encode().freeze());
        let (msg_id, offset) = (copy.msg_id(), copy.queue_offset);
        debug!(group = %group, msg_id = %msg_id, offset, "checking back a transaction");
        self.ctx
            .heartbeat
            .do_send(CheckTransactionState { group, request });
    }

    fn save(&self, half_from: i64, half_to: i64, op_from: i64, op_to: i64) {
        if half_from == half_to && op_from == op_to {
            return;
        }
        {
            let mut offsets = self.ctx.offsets.lock();
            for (topic, offset) in [(TRANS_HALF_TOPIC, half_to), (TRANS_OP_HALF_TOPIC, op_to)] {
                // Offsets from the store are never negative.
                let _ = offsets.commit(TRANS_SYS_GROUP, topic, HALF_QUEUE_ID, offset);
            }
        }
        self.ctx.persist_offsets();
    }
}

impl Actor for TransactionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(16);
        let rules = self.rules();
        info!(
            interval_ms = self.interval().as_millis() as u64,
            timeout_ms = rules.timeout_ms,
            check_max = rules.check_max,
            "transaction check-back started"
        );
        self.schedule(ctx);
    }
}

/// The last pass was cut short: run another now. Sender: the actor itself.
#[derive(Message)]
#[rtype(result = "()")]
struct MorePass(i64);

impl Handler<MorePass> for TransactionActor {
    type Result = ();
    fn handle(&mut self, m: MorePass, ctx: &mut Self::Context) {
        if self.pass(m.0) {
            ctx.notify(MorePass(m.0));
        }
    }
}
