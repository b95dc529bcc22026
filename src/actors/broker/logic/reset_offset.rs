//! INVOKE_BROKER_TO_RESET_OFFSET (222): the offsets to push to a group's consumers, computed per
//! write queue as RocketMQ 4.9's Broker2Client.resetOffset does. The broker does not write its
//! own offset table: the consumers apply the pushed offsets (RESET_CONSUMER_CLIENT_OFFSET, 220)
//! and commit them as they consume.

use std::collections::BTreeMap;

use crate::protocol::body::broker::MessageQueue;

/// One write queue as the broker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueState {
    pub queue_id: i32,
    /// The group's committed offset; `None` when it has none.
    pub committed: Option<i64>,
    /// The offset for the requested time (`timestamp = -1`: the queue's max offset).
    pub target: i64,
}

/// Why a reset cannot be computed (SYSTEM_ERROR, Java's remark).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResetError {
    #[error("[reset-offset] reset offset failed, no topic in this broker. topic={0}")]
    NoTopic(String),
    /// Java requires a committed offset on every queue (its `queryOffset` answers -1).
    #[error("THe consumer group <{0}> not exist")]
    NoOffsets(String),
}

/// The offset of each queue: the target when `force`, or when the target is before the
/// committed offset (a reset never moves a group forward unless forced), else the committed one.
/// A negative target counts as 0.
pub fn plan(
    topic: &str,
    broker_name: &str,
    group: &str,
    queues: &[QueueState],
    force: bool,
) -> Result<BTreeMap<MessageQueue, i64>, ResetError> {
    let mut out = BTreeMap::new();
    for q in queues {
        let committed = q
            .committed
            .ok_or_else(|| ResetError::NoOffsets(group.to_string()))?;
        let target = q.target.max(0);
        let offset = if force || target < committed {
            target
        } else {
            committed
        };
        out.insert(MessageQueue::new(topic, broker_name, q.queue_id), offset);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(queue_id: i32, committed: Option<i64>, target: i64) -> QueueState {
        QueueState {
            queue_id,
            committed,
            target,
        }
    }

    #[test]
    fn force_takes_the_target_otherwise_only_backwards() {
        let qs = [q(0, Some(10), 4), q(1, Some(10), 20), q(2, Some(3), -5)];
        let forced = plan("t", "b", "g", &qs, true).unwrap();
        assert_eq!(forced.values().copied().collect::<Vec<_>>(), vec![4, 20, 0]);
        let soft = plan("t", "b", "g", &qs, false).unwrap();
        assert_eq!(soft.values().copied().collect::<Vec<_>>(), vec![4, 10, 0]);
        assert_eq!(soft.keys().next().unwrap(), &MessageQueue::new("t", "b", 0));
    }

    #[test]
    fn a_queue_without_offset_is_refused() {
        let e = plan("t", "b", "g", &[q(0, None, 1)], true).unwrap_err();
        assert_eq!(e.to_string(), "THe consumer group <g> not exist");
    }
}
