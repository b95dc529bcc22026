//! Transactional messages (docs/protocol.md §7.8) as rules: no store, no clock, no actor here.
//!
//! * A half message (PREPARED sys flag or `TRAN_MSG=true`) is stored in
//!   `RMQ_SYS_TRANS_HALF_TOPIC` queue 0 with its real place in REAL_TOPIC / REAL_QID, its
//!   transaction bits reset to NOT (so the half queue's consume queue indexes it) and every
//!   other property kept (TRAN_MSG, PGROUP, a DELAY level that applies after commit).
//! * END_TRANSACTION names the half message by its physical and queue offsets; the stored
//!   message must carry the request's producer group and both offsets. Commit re-stores it at
//!   its real place (sys flag COMMIT, prepared offset = the half message's physical offset,
//!   TRAN_MSG / REAL_TOPIC / REAL_QID dropped, a DELAY level diverted as any send); commit and
//!   rollback both write an op record: `RMQ_SYS_TRANS_OP_HALF_TOPIC` queue 0, tag `d`, body =
//!   the half queue offset in decimal.
//! * The check-back scan ([`judge`], [`OpWindow`]) decides, half message by half message in
//!   queue order, whether it is ended (an op record names it), to be given up (checked
//!   `transactionCheckMax` times: moved to `TRANS_CHECK_MAX_TIME_TOPIC`), to be checked (older
//!   than `transactionTimeOut` from its birth: re-stored at the half queue's end with
//!   TRANSACTION_CHECK_TIMES + 1, then CHECK_TRANSACTION_STATE sent for the copy), or where the
//!   scan stops (stored during this pass, or too young). Scan progress is kept as consumer
//!   offsets of `CID_RMQ_SYS_TRANS` on the half and op topics.

use std::collections::{HashSet, VecDeque};
use std::fmt;

use bytes::Bytes;

use super::delay::DelayLevels;
use super::send_plan::{divert_if_delayed, Draft};
use super::topics::{TRANS_CHECK_MAX_TIME_TOPIC, TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC};
use crate::protocol::codes::message_sys_flag as sys;
use crate::protocol::headers::{CheckTransactionStateRequestHeader, EndTransactionRequestHeader};
use crate::protocol::message::properties::{self as prop, Properties};
use crate::protocol::message::MessageExt;
use crate::storage::{MessageOrigin, MessageToStore};

/// The group whose consumer offsets hold the check-back scan's progress (RocketMQ's).
pub const TRANS_SYS_GROUP: &str = "CID_RMQ_SYS_TRANS";
/// The one half queue (and op queue) RocketMQ uses.
pub const HALF_QUEUE_ID: i32 = 0;
/// The op record's tag ("removed").
pub const OP_REMOVE_TAG: &str = "d";

/// Whether a send is a half message.
pub fn is_half(sys_flag: i32, props: &Properties) -> bool {
    sys::transaction_value(sys_flag) == sys::TRANSACTION_PREPARED_TYPE
        || props
            .get(prop::TRAN_MSG)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Move a half message's draft to the half queue, remembering its real place.
pub(crate) fn divert_half(draft: &mut Draft) {
    draft.props.insert(prop::REAL_TOPIC, &draft.topic);
    draft
        .props
        .insert(prop::REAL_QID, &draft.queue_id.to_string());
    draft.topic = TRANS_HALF_TOPIC.to_string();
    draft.queue_id = HALF_QUEUE_ID;
    draft.tags_code = None;
}

/// The sys flag a message is stored with: a half message's transaction bits are reset to NOT
/// (RocketMQ's `parseHalfMessageInner`), so the half queue indexes it.
pub fn stored_sys_flag(topic: &str, sys_flag: i32) -> i32 {
    if topic == TRANS_HALF_TOPIC {
        sys::reset_transaction_value(sys_flag, sys::TRANSACTION_NOT_TYPE)
    } else {
        sys_flag
    }
}

/// What an END_TRANSACTION asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndAction {
    Commit,
    Rollback,
    /// Unknown (0) or anything else: nothing to do (RocketMQ does nothing either).
    Nothing,
}

pub fn end_action(commit_or_rollback: i32) -> EndAction {
    match commit_or_rollback {
        sys::TRANSACTION_COMMIT_TYPE => EndAction::Commit,
        sys::TRANSACTION_ROLLBACK_TYPE => EndAction::Rollback,
        _ => EndAction::Nothing,
    }
}

/// Why an END_TRANSACTION is refused; `crate::error` chooses the code (SYSTEM_ERROR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndTxError {
    /// No record, or no half message, at the physical offset.
    NoHalfMessage { commit_log_offset: i64 },
    /// The half message belongs to another producer group.
    GroupMismatch { stored: String, request: String },
    /// `tranStateTableOffset` is not the half message's queue offset.
    QueueOffsetMismatch { stored: i64, request: i64 },
    /// `commitLogOffset` is not the half message's physical offset.
    CommitLogOffsetMismatch { stored: i64, request: i64 },
    /// The half message has no usable REAL_TOPIC / REAL_QID.
    NoRealTopic { commit_log_offset: i64 },
}

impl fmt::Display for EndTxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndTxError::NoHalfMessage { commit_log_offset } => write!(
                f,
                "find prepared transaction message failed: no half message at commit log offset {commit_log_offset}"
            ),
            EndTxError::GroupMismatch { stored, request } => write!(
                f,
                "the producer group wrong: the half message belongs to {stored}, the request names {request}"
            ),
            EndTxError::QueueOffsetMismatch { stored, request } => write!(
                f,
                "the transaction state table offset wrong: the half message is at {stored}, the request names {request}"
            ),
            EndTxError::CommitLogOffsetMismatch { stored, request } => write!(
                f,
                "the commit log offset wrong: the half message is at {stored}, the request names {request}"
            ),
            EndTxError::NoRealTopic { commit_log_offset } => write!(
                f,
                "the half message at {commit_log_offset} has no REAL_TOPIC/REAL_QID"
            ),
        }
    }
}

impl std::error::Error for EndTxError {}

/// RocketMQ's checks of an END_TRANSACTION against the record found at its physical offset.
pub fn check_end(h: &EndTransactionRequestHeader, half: &MessageExt) -> Result<(), EndTxError> {
    if half.topic != TRANS_HALF_TOPIC {
        return Err(EndTxError::NoHalfMessage {
            commit_log_offset: h.commit_log_offset,
        });
    }
    let stored = half.property(prop::PGROUP).unwrap_or("");
    if stored != h.producer_group {
        return Err(EndTxError::GroupMismatch {
            stored: stored.to_string(),
            request: h.producer_group.clone(),
        });
    }
    if half.queue_offset != h.tran_state_table_offset {
        return Err(EndTxError::QueueOffsetMismatch {
            stored: half.queue_offset,
            request: h.tran_state_table_offset,
        });
    }
    if half.commit_log_offset != h.commit_log_offset {
        return Err(EndTxError::CommitLogOffsetMismatch {
            stored: half.commit_log_offset,
            request: h.commit_log_offset,
        });
    }
    Ok(())
}

/// The message a commit stores: the half message at its real place, sys flag COMMIT, the half
/// message's physical offset as prepared offset, a DELAY level diverted as for any send.
pub fn commit_message(
    half: &MessageExt,
    delay: &DelayLevels,
    now_ms: i64,
) -> Result<MessageToStore, EndTxError> {
    let mut props = half.properties();
    let real = real_place(&props);
    let Some((topic, queue_id)) = real else {
        return Err(EndTxError::NoRealTopic {
            commit_log_offset: half.commit_log_offset,
        });
    };
    for name in [prop::TRAN_MSG, prop::REAL_TOPIC, prop::REAL_QID] {
        props.remove(name);
    }
    let mut draft = Draft::new(topic, queue_id, props);
    divert_if_delayed(&mut draft, delay, now_ms);
    let plan = draft.finish();
    let mut origin = MessageOrigin::of_record(half);
    origin.sys_flag = sys::reset_transaction_value(half.sys_flag, sys::TRANSACTION_COMMIT_TYPE);
    let mut msg = plan.into_message(origin, half.body.clone(), false);
    msg.prepared_transaction_offset = half.commit_log_offset;
    Ok(msg)
}

fn real_place(props: &Properties) -> Option<(String, i32)> {
    let topic = props.get(prop::REAL_TOPIC)?.to_string();
    let queue_id = props.get(prop::REAL_QID)?.trim().parse().ok()?;
    Some((topic, queue_id))
}

/// The op record ending the half message at `half_queue_offset` (commit, rollback, or a copy
/// taking its place).
pub fn op_record(half_queue_offset: i64, origin: MessageOrigin) -> MessageToStore {
    let mut props = Properties::new();
    props.insert(prop::TAGS, OP_REMOVE_TAG);
    let mut msg = MessageToStore::from_record(
        origin,
        TRANS_OP_HALF_TOPIC.to_string(),
        HALF_QUEUE_ID,
        Bytes::from(half_queue_offset.to_string()),
        props.encode(),
    );
    msg.sys_flag = 0;
    msg.flag = 0;
    msg.reconsume_times = 0;
    msg.wait_store_msg_ok = false;
    msg
}

/// The half queue offset an op record names, if it is one (tag `d`, decimal body).
pub fn op_half_offset(op: &MessageExt) -> Option<i64> {
    if op.tags() != Some(OP_REMOVE_TAG) {
        return None;
    }
    std::str::from_utf8(&op.body).ok()?.trim().parse().ok()
}

/// The check-back settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckRules {
    /// `transactionTimeOut` (ms).
    pub timeout_ms: i64,
    /// `transactionCheckMax`.
    pub check_max: i32,
}

/// What the scan does with one half message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HalfAction {
    /// An op record ends it: move on.
    Ended,
    /// Checked `transactionCheckMax` times: move it to TRANS_CHECK_MAX_TIME_TOPIC, move on.
    GiveUp,
    /// Re-store it at the half queue's end with this TRANSACTION_CHECK_TIMES, then send
    /// CHECK_TRANSACTION_STATE for the copy; move on.
    Check { times: i32 },
    /// Its own CHECK_IMMUNITY_TIME_IN_SECONDS has not passed: re-store it unchanged at the
    /// queue's end so the scan can move on.
    Postpone,
    /// Stop here: stored during this pass, or younger than the timeout (and so is every later
    /// one, the queue being in time order).
    Stop,
}

/// How many times a half message was checked (TRANSACTION_CHECK_TIMES; absent or bad = 0).
pub fn check_times(m: &MessageExt) -> i32 {
    m.property(prop::TRANSACTION_CHECK_TIMES)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Decide one half message at `queue_offset`. `ended` holds the half offsets op records name;
/// `pass_start_ms` is when this pass began (copies it stored are left for the next pass).
pub fn judge(
    m: &MessageExt,
    queue_offset: i64,
    ended: &HashSet<i64>,
    rules: CheckRules,
    pass_start_ms: i64,
    now_ms: i64,
) -> HalfAction {
    if ended.contains(&queue_offset) {
        return HalfAction::Ended;
    }
    if m.store_timestamp >= pass_start_ms {
        return HalfAction::Stop;
    }
    let times = check_times(m);
    if times >= rules.check_max {
        return HalfAction::GiveUp;
    }
    let age = now_ms - m.born_timestamp;
    let immunity = m
        .property(prop::CHECK_IMMUNITY_TIME_IN_SECONDS)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|s| s.saturating_mul(1000));
    match immunity {
        Some(immunity) if age >= 0 && age < immunity => HalfAction::Postpone,
        None if age >= 0 && age < rules.timeout_ms => HalfAction::Stop,
        _ => HalfAction::Check { times: times + 1 },
    }
}

/// A copy of a half message to append at the half queue's end (check or postpone), with
/// TRANSACTION_CHECK_TIMES set to `times` when given. Born time and everything else are kept.
pub fn half_copy(m: &MessageExt, times: Option<i32>) -> MessageToStore {
    let mut props = m.properties();
    if let Some(t) = times {
        props.insert(prop::TRANSACTION_CHECK_TIMES, &t.to_string());
    }
    let mut msg = MessageToStore::from_record(
        MessageOrigin::of_record(m),
        TRANS_HALF_TOPIC.to_string(),
        HALF_QUEUE_ID,
        m.body.clone(),
        props.encode(),
    );
    msg.wait_store_msg_ok = false;
    msg
}

/// The message a given-up half message becomes (TRANS_CHECK_MAX_TIME_TOPIC queue 0).
pub fn give_up_message(m: &MessageExt) -> MessageToStore {
    let mut msg = MessageToStore::from_record(
        MessageOrigin::of_record(m),
        TRANS_CHECK_MAX_TIME_TOPIC.to_string(),
        0,
        m.body.clone(),
        m.properties.clone(),
    );
    msg.wait_store_msg_ok = false;
    msg
}

/// CHECK_TRANSACTION_STATE header and body for a stored half message `copy` (its own
/// offsets): the body is the message as stored, shown at its real topic and queue.
pub fn check_request(copy: &MessageExt) -> (CheckTransactionStateRequestHeader, MessageExt) {
    let uniq = copy.property(prop::UNIQ_KEY).map(str::to_string);
    let header = CheckTransactionStateRequestHeader {
        tran_state_table_offset: copy.queue_offset,
        commit_log_offset: copy.commit_log_offset,
        msg_id: uniq.clone(),
        transaction_id: uniq,
        offset_msg_id: Some(copy.offset_msg_id()),
    };
    let mut shown = copy.clone();
    if let Some((topic, queue_id)) = real_place(&copy.properties()) {
        shown.topic = topic;
        shown.queue_id = queue_id;
    }
    (header, shown)
}

/// The op records read so far, from the op progress on, kept between passes so each record is
/// read once however long the half queue's backlog.
#[derive(Debug, Default)]
pub struct OpWindow {
    /// The op queue offset the next read starts at.
    read_to: i64,
    /// `(op offset, named half offset)` in op-queue order; `None` names an unreadable record.
    list: VecDeque<(i64, Option<i64>)>,
    /// Half offsets at or past the half progress that an op record ends.
    ended: HashSet<i64>,
}

impl OpWindow {
    /// Line the window up with the saved op progress (at start, or after retention removed
    /// records): entries before it are dropped, and reading restarts there if it is ahead.
    pub fn sync(&mut self, op_progress: i64) {
        while self.list.front().is_some_and(|(o, _)| *o < op_progress) {
            self.list.pop_front();
        }
        if self.read_to < op_progress {
            self.list.clear();
            self.read_to = op_progress;
        }
    }

    /// Where the next read of the op queue starts.
    pub fn read_to(&self) -> i64 {
        self.read_to
    }

    /// One op record read at `op_offset`; `half_progress` is the scan's current start.
    pub fn push(&mut self, op_offset: i64, half: Option<i64>, half_progress: i64) {
        if let Some(h) = half.filter(|h| *h >= half_progress) {
            self.ended.insert(h);
        }
        self.list.push_back((op_offset, half));
        self.read_to = self.read_to.max(op_offset + 1);
    }

    /// Skip a gap of the op queue (records gone) up to `offset`.
    pub fn skip_to(&mut self, offset: i64) {
        self.read_to = self.read_to.max(offset);
    }

    pub fn ended(&self) -> &HashSet<i64> {
        &self.ended
    }

    /// The scan reached `half_progress`: forget the op records naming half offsets below it,
    /// up to the first one still needed, and answer the new op progress.
    pub fn advance(&mut self, half_progress: i64) -> i64 {
        while let Some(&(_, half)) = self.list.front() {
            match half {
                Some(h) if h >= half_progress => break,
                _ => {
                    self.list.pop_front();
                }
            }
        }
        self.ended.retain(|h| *h >= half_progress);
        self.list.front().map_or(self.read_to, |(o, _)| *o)
    }
}

#[cfg(test)]
#[path = "transaction_tests.rs"]
mod tests;
