//! The per-topic and per-(topic, group) counter sets. A handler looks its set up once per
//! request in a read-mostly map (`BrokerStats::topic`, `BrokerStats::group`) and then counts with
//! relaxed atomic adds; the sets are created on first use and never removed while the broker
//! runs (as RocketMQ's stats tables).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::histogram::{Histogram, MESSAGE_SIZE_BOUNDS};
use super::item::StatsItem;
use crate::protocol::codes::message_sys_flag as sysf;
use crate::protocol::message::properties;

/// A system consumer group in RIP-46's `is_system` sense (RocketMQ 5's
/// `BrokerMetricsManager.isSystemGroup`: a `CID_RMQ_SYS_` name, any case).
pub fn is_system_group(group: &str) -> bool {
    group
        .get(..12)
        .is_some_and(|p| p.eq_ignore_ascii_case("CID_RMQ_SYS_"))
}

/// RIP-46 `message_type` of a sent message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Normal,
    Delay,
    Transaction,
}

pub const MESSAGE_TYPES: [MessageType; 3] = [
    MessageType::Normal,
    MessageType::Delay,
    MessageType::Transaction,
];

impl MessageType {
    /// A transaction half message by its sys flag, a delayed one by a DELAY level above 0.
    /// (RocketMQ 4.x has no FIFO marker on a message, so `fifo` is never reported.)
    pub fn of(sys_flag: i32, props: Option<&str>) -> MessageType {
        if sys_flag & sysf::TRANSACTION_TYPE_MASK == sysf::TRANSACTION_PREPARED_TYPE {
            return MessageType::Transaction;
        }
        let delayed = props
            .and_then(|p| properties::find(p, properties::DELAY))
            .and_then(|d| d.trim().parse::<i64>().ok())
            .is_some_and(|d| d > 0);
        if delayed {
            MessageType::Delay
        } else {
            MessageType::Normal
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Normal => "normal",
            MessageType::Delay => "delay",
            MessageType::Transaction => "transaction",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What is counted per topic: RocketMQ's TOPIC_PUT_NUMS / TOPIC_PUT_SIZE, and RIP-46's
/// messages and bytes in by message type, message sizes, and transaction ends.
#[derive(Debug)]
pub struct TopicCounters {
    pub is_system: bool,
    pub put_nums: StatsItem,
    pub put_size: StatsItem,
    messages_in: [AtomicU64; 3],
    bytes_in: [AtomicU64; 3],
    sizes: [Histogram; 3],
    pub commits: AtomicU64,
    pub rollbacks: AtomicU64,
}

impl TopicCounters {
    pub fn new(is_system: bool, now_ms: i64) -> TopicCounters {
        TopicCounters {
            is_system,
            put_nums: StatsItem::new(now_ms),
            put_size: StatsItem::new(now_ms),
            messages_in: Default::default(),
            bytes_in: Default::default(),
            sizes: std::array::from_fn(|_| Histogram::new(MESSAGE_SIZE_BOUNDS)),
            commits: AtomicU64::new(0),
            rollbacks: AtomicU64::new(0),
        }
    }

    /// `msgs` messages of `bytes` in all stored by one send.
    pub fn on_put(&self, kind: MessageType, msgs: u64, bytes: u64) {
        self.put_nums.add(msgs, 1);
        self.put_size.add(bytes, 1);
        let i = kind.index();
        self.messages_in[i].fetch_add(msgs, Relaxed);
        self.bytes_in[i].fetch_add(bytes, Relaxed);
        if let Some(each) = bytes.checked_div(msgs) {
            self.sizes[i].observe_n(each, msgs);
        }
    }

    pub fn messages_in(&self, kind: MessageType) -> u64 {
        self.messages_in[kind.index()].load(Relaxed)
    }

    pub fn bytes_in(&self, kind: MessageType) -> u64 {
        self.bytes_in[kind.index()].load(Relaxed)
    }

    pub fn sizes(&self, kind: MessageType) -> &Histogram {
        &self.sizes[kind.index()]
    }
}

/// What is counted per (topic, consumer group): GROUP_GET_NUMS / GROUP_GET_SIZE /
/// SNDBCK_PUT_NUMS (key `topic@group`), and the group's messages sent to its DLQ.
#[derive(Debug)]
pub struct GroupCounters {
    pub is_system: bool,
    pub get_nums: StatsItem,
    pub get_size: StatsItem,
    pub send_back: StatsItem,
    pub to_dlq: AtomicU64,
}

impl GroupCounters {
    pub fn new(is_system: bool, now_ms: i64) -> GroupCounters {
        GroupCounters {
            is_system,
            get_nums: StatsItem::new(now_ms),
            get_size: StatsItem::new(now_ms),
            send_back: StatsItem::new(now_ms),
            to_dlq: AtomicU64::new(0),
        }
    }

    /// One pull that handed over `msgs` messages of `bytes` in all.
    pub fn on_get(&self, msgs: u64, bytes: u64) {
        self.get_nums.add(msgs, 1);
        self.get_size.add(bytes, 1);
    }

    pub fn items(&self) -> [&StatsItem; 3] {
        [&self.get_nums, &self.get_size, &self.send_back]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_types_from_flag_and_delay() {
        assert_eq!(MessageType::of(0, None), MessageType::Normal);
        assert_eq!(
            MessageType::of(sysf::TRANSACTION_PREPARED_TYPE, None),
            MessageType::Transaction
        );
        assert_eq!(
            MessageType::of(0, Some("DELAY\u{1}3\u{2}")),
            MessageType::Delay
        );
        assert_eq!(
            MessageType::of(0, Some("DELAY\u{1}0\u{2}")),
            MessageType::Normal
        );
    }

    #[test]
    fn system_groups_by_prefix() {
        assert!(is_system_group("CID_RMQ_SYS_TRANS"));
        assert!(is_system_group("cid_rmq_sys_x"));
        assert!(!is_system_group("CID_RMQ"));
        assert!(!is_system_group("MG"));
    }

    #[test]
    fn topic_counters_split_by_type() {
        let t = TopicCounters::new(false, 0);
        t.on_put(MessageType::Normal, 4, 400);
        t.on_put(MessageType::Delay, 1, 2000);
        assert_eq!(t.put_nums.value(), 5);
        assert_eq!(t.put_nums.times(), 2);
        assert_eq!(t.put_size.value(), 2400);
        assert_eq!(t.messages_in(MessageType::Normal), 4);
        assert_eq!(t.bytes_in(MessageType::Delay), 2000);
        assert_eq!(t.sizes(MessageType::Normal).count(), 4);
        assert_eq!(t.sizes(MessageType::Transaction).count(), 0);
    }
}
