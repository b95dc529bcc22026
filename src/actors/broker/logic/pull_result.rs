//! From a store read to a PULL_MESSAGE answer, and the QUERY_CONSUMER_OFFSET "no offset" rule
//! (docs/protocol.md §7.3, §7.4).
//!
//! The store reports one of nine statuses (`storage::GetStatus`, re-exported here); the pull
//! handler must turn that into a response code, a remark (Java's status name), a `nextBeginOffset`
//! and the decision whether to park the pull (long polling). [`pull_answer`] is that table as one
//! pure function over a [`StoreRead`] (plain numbers, no store handle), testable row by row
//! against docs/protocol.md §7.3.
//!
//! Offset corrections (`nextBeginOffset` moved to min/max/0) apply when `correct_offsets`: the
//! handler passes true on a master (brokerId 0, the only role run until replication exists), as
//! Java corrects on a master or on a slave with `offsetCheckInSlave`; otherwise the requested
//! offset is kept and an OFFSET_MOVED answer becomes PULL_RETRY_IMMEDIATELY. Java's master also
//! records each correction as a message in `OFFSET_MOVED_EVENT`; nothing reads those here, so this
//! broker does not write them.
//!
//! Reads from a slave (docs/protocol.md §8): [`suggest_pulling_from_slave`] is the store's "this
//! read is far behind the CommitLog's end" fact, [`suggest_which_broker_id`] the broker id the
//! answer tells the consumer to pull from next.

use crate::protocol::codes::response_code;

pub use crate::storage::GetStatus;

/// Java's name of a status (sent as the pull response's remark).
pub fn status_name(status: GetStatus) -> &'static str {
    match status {
        GetStatus::Found => "FOUND",
        GetStatus::NoMatchedMessage => "NO_MATCHED_MESSAGE",
        GetStatus::NoMessageInQueue => "NO_MESSAGE_IN_QUEUE",
        GetStatus::OffsetTooSmall => "OFFSET_TOO_SMALL",
        GetStatus::OffsetOverflowOne => "OFFSET_OVERFLOW_ONE",
        GetStatus::OffsetOverflowBadly => "OFFSET_OVERFLOW_BADLY",
        GetStatus::OffsetFoundNull => "OFFSET_FOUND_NULL",
        GetStatus::MessageWasRemoving => "MESSAGE_WAS_REMOVING",
        GetStatus::NoMatchedLogicQueue => "NO_MATCHED_LOGIC_QUEUE",
    }
}

/// What the store read produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreRead {
    pub status: GetStatus,
    /// The offset the pull asked for.
    pub requested_offset: i64,
    pub min_offset: i64,
    pub max_offset: i64,
    /// Where the scan ended: `offset + units scanned` for FOUND / NO_MATCHED_MESSAGE /
    /// MESSAGE_WAS_REMOVING, the next consume-queue file's first offset for OFFSET_FOUND_NULL.
    /// Ignored for the other statuses.
    pub scan_end_offset: i64,
}

/// The pull response to send (or to park, when `long_poll` and the request allows suspension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullAnswer {
    pub code: i32,
    pub next_begin_offset: i64,
    pub min_offset: i64,
    pub max_offset: i64,
    pub suggest_which_broker_id: i64,
    /// PULL_NOT_FOUND: may be held for long polling if the SUSPEND flag is set.
    pub long_poll: bool,
    /// Remark: the store status name.
    pub remark: &'static str,
}

/// Map a store read to the pull answer. `correct_offsets` = master, or slave with
/// `offsetCheckInSlave`.
pub fn pull_answer(read: &StoreRead, correct_offsets: bool) -> PullAnswer {
    use GetStatus::*;
    let req = read.requested_offset;
    let corrected = match read.status {
        NoMessageInQueue | NoMatchedLogicQueue => 0,
        OffsetTooSmall => read.min_offset,
        OffsetOverflowOne => req,
        OffsetOverflowBadly => read.max_offset,
        Found | NoMatchedMessage | MessageWasRemoving | OffsetFoundNull => read.scan_end_offset,
    };
    let next_begin_offset = match read.status {
        // Scan progress is not a correction; it always applies.
        Found | NoMatchedMessage | MessageWasRemoving => read.scan_end_offset,
        _ if correct_offsets => corrected,
        _ => req,
    };
    let mut code = match read.status {
        Found => response_code::SUCCESS,
        NoMatchedMessage | MessageWasRemoving => response_code::PULL_RETRY_IMMEDIATELY,
        NoMessageInQueue | NoMatchedLogicQueue if req != 0 => response_code::PULL_OFFSET_MOVED,
        NoMessageInQueue | NoMatchedLogicQueue => response_code::PULL_NOT_FOUND,
        OffsetOverflowOne | OffsetFoundNull => response_code::PULL_NOT_FOUND,
        OffsetTooSmall | OffsetOverflowBadly => response_code::PULL_OFFSET_MOVED,
    };
    if code == response_code::PULL_OFFSET_MOVED && !correct_offsets {
        code = response_code::PULL_RETRY_IMMEDIATELY;
    }
    PullAnswer {
        code,
        next_begin_offset,
        min_offset: read.min_offset,
        max_offset: read.max_offset,
        suggest_which_broker_id: 0,
        long_poll: code == response_code::PULL_NOT_FOUND,
        remark: status_name(read.status),
    }
}

/// RocketMQ's `suggestPullingFromSlave` (DefaultMessageStore.getMessage): the last message a pull
/// read starts more than `accessMessageInMemoryMaxRatio` % of physical memory behind the
/// CommitLog's end, so it is likely read from disk rather than the page cache. False when the pull
/// read no unit (`last_pulled_phys` None).
pub fn suggest_pulling_from_slave(
    commit_log_max_offset: i64,
    last_pulled_phys: Option<i64>,
    total_memory: u64,
    ratio_percent: u64,
) -> bool {
    let Some(phys) = last_pulled_phys else {
        return false;
    };
    let behind = commit_log_max_offset.saturating_sub(phys).max(0) as u128;
    behind > total_memory as u128 * ratio_percent as u128 / 100
}

/// The subscription group's read-routing settings (`SubscriptionGroupConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupReadRoute {
    /// `brokerId`: where the group normally pulls (0, the master).
    pub broker_id: i64,
    /// `whichBrokerWhenConsumeSlowly`: where it pulls while reading far behind (1, a slave).
    pub which_broker_when_consume_slowly: i64,
}

/// The `suggestWhichBrokerId` of a pull answer (PullMessageProcessor): with `slaveReadEnable`, the
/// group's slow-consumer broker when the store suggested a slave, else the group's own broker id;
/// without it, 0 (the master). A slave without `slaveReadEnable` answers 0 too (Java sets the
/// master there explicitly) and still serves the pull.
pub fn suggest_which_broker_id(
    slave_read_enable: bool,
    suggested_from_slave: bool,
    group: GroupReadRoute,
) -> i64 {
    match (slave_read_enable, suggested_from_slave) {
        (true, true) => group.which_broker_when_consume_slowly,
        (true, false) => group.broker_id,
        (false, _) => 0,
    }
}

/// QUERY_CONSUMER_OFFSET's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetQueryAnswer {
    /// SUCCESS with this offset.
    Offset(i64),
    /// QUERY_NOT_FOUND (22).
    NotFound,
}

impl OffsetQueryAnswer {
    pub fn code(self) -> i32 {
        match self {
            OffsetQueryAnswer::Offset(_) => response_code::SUCCESS,
            OffsetQueryAnswer::NotFound => response_code::QUERY_NOT_FOUND,
        }
    }
}

/// A stored offset ≥ 0 is the answer. Without one: offset 0 if the queue's min offset ≤ 0 and the
/// unit at offset 0 is not swapped out to disk (`offset_zero_on_disk` is false also when the queue
/// has no unit 0 at all, e.g. it is empty — Java's `checkInDiskByConsumeOffset`); else NotFound.
pub fn query_offset_answer(
    stored: Option<i64>,
    min_offset: i64,
    offset_zero_on_disk: bool,
) -> OffsetQueryAnswer {
    match stored {
        Some(o) if o >= 0 => OffsetQueryAnswer::Offset(o),
        _ if min_offset <= 0 && !offset_zero_on_disk => OffsetQueryAnswer::Offset(0),
        _ => OffsetQueryAnswer::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::GetStatus::*;
    use super::*;
    use response_code::*;

    fn read(status: GetStatus, req: i64, min: i64, max: i64, scan_end: i64) -> StoreRead {
        StoreRead {
            status,
            requested_offset: req,
            min_offset: min,
            max_offset: max,
            scan_end_offset: scan_end,
        }
    }

    fn ans(r: StoreRead) -> (i32, i64, bool) {
        let a = pull_answer(&r, true);
        (a.code, a.next_begin_offset, a.long_poll)
    }

    #[test]
    fn protocol_table_rows_on_a_master() {
        // Empty queue: 21 unless the request was for offset 0.
        assert_eq!(
            ans(read(NoMessageInQueue, 5, 0, 0, -1)),
            (PULL_OFFSET_MOVED, 0, false)
        );
        assert_eq!(
            ans(read(NoMessageInQueue, 0, 0, 0, -1)),
            (PULL_NOT_FOUND, 0, true)
        );
        assert_eq!(
            ans(read(OffsetTooSmall, 3, 10, 20, -1)),
            (PULL_OFFSET_MOVED, 10, false)
        );
        assert_eq!(
            ans(read(OffsetOverflowOne, 20, 10, 20, -1)),
            (PULL_NOT_FOUND, 20, true)
        );
        assert_eq!(
            ans(read(OffsetOverflowBadly, 50, 10, 20, -1)),
            (PULL_OFFSET_MOVED, 20, false)
        );
        assert_eq!(ans(read(Found, 10, 0, 20, 14)), (SUCCESS, 14, false));
        assert_eq!(
            ans(read(NoMatchedMessage, 10, 0, 20, 20)),
            (PULL_RETRY_IMMEDIATELY, 20, false)
        );
        assert_eq!(
            ans(read(NoMatchedLogicQueue, 7, 0, 0, -1)),
            (PULL_OFFSET_MOVED, 0, false)
        );
        assert_eq!(
            ans(read(NoMatchedLogicQueue, 0, 0, 0, -1)),
            (PULL_NOT_FOUND, 0, true)
        );
        assert_eq!(
            ans(read(OffsetFoundNull, 10, 0, 400_000, 300_000)),
            (PULL_NOT_FOUND, 300_000, true)
        );
        assert_eq!(
            ans(read(MessageWasRemoving, 10, 0, 20, 13)),
            (PULL_RETRY_IMMEDIATELY, 13, false)
        );
    }

    #[test]
    fn answer_carries_offsets_and_remark() {
        let a = pull_answer(&read(OffsetTooSmall, 3, 10, 20, -1), true);
        assert_eq!(
            (a.min_offset, a.max_offset, a.suggest_which_broker_id),
            (10, 20, 0)
        );
        assert_eq!(a.remark, "OFFSET_TOO_SMALL");
        let a = pull_answer(&read(Found, 0, 0, 1, 1), true);
        assert_eq!(a.remark, "FOUND");
    }

    #[test]
    fn slave_without_offset_check_keeps_offsets() {
        let s = |r| {
            let a = pull_answer(&r, false);
            (a.code, a.next_begin_offset, a.long_poll)
        };
        assert_eq!(
            s(read(OffsetTooSmall, 3, 10, 20, -1)),
            (PULL_RETRY_IMMEDIATELY, 3, false)
        );
        assert_eq!(
            s(read(OffsetOverflowBadly, 50, 10, 20, -1)),
            (PULL_RETRY_IMMEDIATELY, 50, false)
        );
        assert_eq!(
            s(read(NoMessageInQueue, 5, 0, 0, -1)),
            (PULL_RETRY_IMMEDIATELY, 5, false)
        );
        assert_eq!(
            s(read(OffsetFoundNull, 10, 0, 20, 30)),
            (PULL_NOT_FOUND, 10, true)
        );
        // Scan progress still applies.
        assert_eq!(s(read(Found, 10, 0, 20, 12)), (SUCCESS, 12, false));
    }

    #[test]
    fn slave_is_suggested_only_when_the_read_is_far_behind() {
        const GIB: u64 = 1 << 30;
        // 40 % of 10 GiB = 4 GiB.
        assert!(!suggest_pulling_from_slave(
            5 * GIB as i64,
            Some(GIB as i64),
            10 * GIB,
            40
        ));
        assert!(suggest_pulling_from_slave(
            6 * GIB as i64,
            Some(GIB as i64),
            10 * GIB,
            40
        ));
        // Exactly at the limit is still in memory.
        assert!(!suggest_pulling_from_slave(
            4 * GIB as i64,
            Some(0),
            10 * GIB,
            40
        ));
        // Ratio 0: any message read is behind the end.
        assert!(suggest_pulling_from_slave(100, Some(60), 10 * GIB, 0));
        assert!(!suggest_pulling_from_slave(100, None, 10 * GIB, 0));
        assert!(!suggest_pulling_from_slave(100, Some(100), 10 * GIB, 0));
    }

    #[test]
    fn suggested_broker_id_follows_slave_read_enable_and_the_group() {
        let g = GroupReadRoute {
            broker_id: 0,
            which_broker_when_consume_slowly: 1,
        };
        assert_eq!(suggest_which_broker_id(true, true, g), 1);
        assert_eq!(suggest_which_broker_id(true, false, g), 0);
        assert_eq!(suggest_which_broker_id(false, true, g), 0);
        assert_eq!(suggest_which_broker_id(false, false, g), 0);
        let g = GroupReadRoute {
            broker_id: 2,
            which_broker_when_consume_slowly: 3,
        };
        assert_eq!(suggest_which_broker_id(true, true, g), 3);
        assert_eq!(suggest_which_broker_id(true, false, g), 2);
        assert_eq!(suggest_which_broker_id(false, true, g), 0);
    }

    #[test]
    fn query_offset_rule() {
        assert_eq!(
            query_offset_answer(Some(12), 100, true),
            OffsetQueryAnswer::Offset(12)
        );
        assert_eq!(
            query_offset_answer(Some(0), 5, true),
            OffsetQueryAnswer::Offset(0)
        );
        // Nothing stored: 0 only while the queue starts at 0 and unit 0 is in memory.
        assert_eq!(
            query_offset_answer(None, 0, false),
            OffsetQueryAnswer::Offset(0)
        );
        assert_eq!(
            query_offset_answer(None, 0, true),
            OffsetQueryAnswer::NotFound
        );
        assert_eq!(
            query_offset_answer(None, 1, false),
            OffsetQueryAnswer::NotFound
        );
        // A negative stored offset counts as none.
        assert_eq!(
            query_offset_answer(Some(-1), 0, false),
            OffsetQueryAnswer::Offset(0)
        );
        assert_eq!(
            query_offset_answer(Some(-1), 3, false),
            OffsetQueryAnswer::NotFound
        );
        assert_eq!(OffsetQueryAnswer::NotFound.code(), 22);
        assert_eq!(OffsetQueryAnswer::Offset(0).code(), 0);
    }
}
