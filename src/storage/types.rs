//! The types of the store's API: what the broker hands in (`MessageToStore`,
//! `MessageBatchToStore`) and gets back (`PutResult`, `GetResult`). Kept apart from the facade's
//! logic so the broker's authors can read the contract in one place.

use std::net::SocketAddr;

use bytes::Bytes;

use super::flush::Durability;
use crate::clock::now_ms;
use crate::protocol::message::MessageExt;

/// One message to append.
#[derive(Debug, Clone)]
pub struct MessageToStore {
    pub topic: String,
    pub queue_id: i32,
    pub flag: i32,
    /// Stored verbatim, except that the IPv6 host bits follow the addresses.
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_host: SocketAddr,
    pub reconsume_times: i32,
    pub prepared_transaction_offset: i64,
    pub body: Bytes,
    /// The properties string as it is to be stored (docs/protocol.md §5.4).
    pub properties: String,
    /// Consume-queue tags code; `None` = hash of the TAGS property. The broker sets the delivery
    /// time here for SCHEDULE_TOPIC_XXXX.
    pub tags_code: Option<i64>,
    /// The WAIT property: under SYNC_FLUSH, `false` acknowledges without waiting for the flush.
    pub wait_store_msg_ok: bool,
}

impl MessageToStore {
    /// A message with neutral defaults (local hosts, no flags).
    pub fn new(topic: &str, queue_id: i32, body: impl Into<Bytes>, properties: &str) -> Self {
        MessageToStore {
            topic: topic.to_string(),
            queue_id,
            flag: 0,
            sys_flag: 0,
            born_timestamp: now_ms(),
            born_host: SocketAddr::from(([127, 0, 0, 1], 0)),
            store_host: SocketAddr::from(([127, 0, 0, 1], 10911)),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: body.into(),
            properties: properties.to_string(),
            tags_code: None,
            wait_store_msg_ok: true,
        }
    }
}

/// What a stored message carries over from where it came from: a send request (its header and
/// the producer's address) or a stored record that is stored again (sent back, or due after a
/// delay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageOrigin {
    pub flag: i32,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_host: SocketAddr,
    pub reconsume_times: i32,
}

impl MessageOrigin {
    /// The fields of a stored record, as they were stored.
    pub fn of_record(m: &MessageExt) -> Self {
        MessageOrigin {
            flag: m.flag,
            sys_flag: m.sys_flag,
            born_timestamp: m.born_timestamp,
            born_host: m.born_host,
            store_host: m.store_host,
            reconsume_times: m.reconsume_times,
        }
    }
}

impl MessageToStore {
    /// The one constructor of a message the broker stores (a send, a sent-back copy, a delayed
    /// message come due): `origin`'s fields, then where it goes and what it carries. The tags
    /// code is the hash of TAGS and the append waits for durability; set `tags_code` /
    /// `wait_store_msg_ok` to change either.
    pub fn from_record(
        origin: MessageOrigin,
        topic: String,
        queue_id: i32,
        body: Bytes,
        properties: String,
    ) -> Self {
        MessageToStore {
            topic,
            queue_id,
            flag: origin.flag,
            sys_flag: origin.sys_flag,
            born_timestamp: origin.born_timestamp,
            born_host: origin.born_host,
            store_host: origin.store_host,
            reconsume_times: origin.reconsume_times,
            prepared_transaction_offset: 0,
            body,
            properties,
            tags_code: None,
            wait_store_msg_ok: true,
        }
    }
}

/// A batch send (code 320): `body` is the batch body (§5.2), `properties` the batch-level
/// properties appended to each message's own.
#[derive(Debug, Clone)]
pub struct MessageBatchToStore {
    pub topic: String,
    pub queue_id: i32,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_host: SocketAddr,
    pub body: Bytes,
    pub properties: String,
    pub wait_store_msg_ok: bool,
}

/// Result of an append (RocketMQ's `AppendMessageResult`).
#[derive(Debug, Clone)]
pub struct PutResult {
    /// Physical offset of the (first) record.
    pub phys_offset: i64,
    /// Bytes appended (all records of a batch).
    pub wrote_bytes: i64,
    /// Queue offset of the (first) record.
    pub queue_offset: i64,
    pub store_timestamp: i64,
    /// Offset msg id; comma-joined ids for a batch.
    pub msg_id: String,
    pub msg_count: usize,
    /// Await (or `wait()`) before acknowledging under SYNC_FLUSH.
    pub durability: Durability,
}

/// `GetMessageStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetStatus {
    Found,
    NoMatchedMessage,
    MessageWasRemoving,
    OffsetFoundNull,
    OffsetOverflowBadly,
    OffsetOverflowOne,
    OffsetTooSmall,
    NoMatchedLogicQueue,
    NoMessageInQueue,
}

/// Result of `get_message` (docs/protocol.md §7.3).
#[derive(Debug, Clone)]
pub struct GetResult {
    pub status: GetStatus,
    pub next_begin_offset: i64,
    pub min_offset: i64,
    pub max_offset: i64,
    /// Whole records, zero-copy slices of the CommitLog mapping.
    pub messages: Vec<Bytes>,
    /// Queue offset of each message.
    pub queue_offsets: Vec<i64>,
}

impl GetResult {
    pub fn total_bytes(&self) -> usize {
        self.messages.iter().map(|b| b.len()).sum()
    }
}

/// Tag filter on the consume-queue tags code.
pub type TagsFilter<'a> = &'a dyn Fn(i64) -> bool;
