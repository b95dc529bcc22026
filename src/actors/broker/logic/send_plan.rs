//! The send path's broker rules (protocol.md §7.2) as plain data: which sends are refused.

use std::fmt;

use crate::protocol::message::MAX_TOPIC_LEN;

/// A send the broker's rules refuse; `crate::error` chooses the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendRefusal {
    /// A transactional half message (PREPARED sys flag or `TRAN_MSG=true`): not supported yet.
    HalfMessage,
    /// A batch whose topic is longer than a record's topic field allows.
    BatchTopicTooLong,
    /// A batch sent to `%RETRY%<group>` (Java refuses these: MESSAGE_ILLEGAL).
    BatchToRetryTopic(String),
    /// A batch with a DELAY level.
    BatchWithDelay,
}

impl fmt::Display for SendRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendRefusal::HalfMessage => write!(
                f,
                "transactional (half) messages are not supported by this broker yet"
            ),
            SendRefusal::BatchTopicTooLong => {
                write!(f, "the batch topic is longer than {MAX_TOPIC_LEN} bytes")
            }
            SendRefusal::BatchToRetryTopic(t) => {
                write!(f, "batch request does not support retry group {t}")
            }
            SendRefusal::BatchWithDelay => {
                write!(f, "delay levels are not supported for batch messages")
            }
        }
    }
}

impl std::error::Error for SendRefusal {}
