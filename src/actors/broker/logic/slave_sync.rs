//! A slave's view of its master, and what its metadata sync replaces when (RocketMQ's
//! `SlaveSynchronize` and the `RegisterBrokerResult` handling of `BrokerController`;
//! docs/protocol.md §8).
//!
//! * Learning the master: every REGISTER_BROKER answer names the master's remoting address
//!   (`masterAddr`) and HA address (`haServerAddr`). An answer without `haServerAddr` keeps the
//!   known one (RocketMQ updates the HA address only when one is given); `masterAddr` follows the
//!   answer, so a master that left the name server stops the metadata sync.
//! * Syncing, from that master unless it is unknown or this broker itself:
//!   - topics (GET_ALL_TOPIC_CONFIG): the whole table is replaced by the master's, and its data
//!     version taken over, only when the versions differ; topics new to the slave are reported so
//!     their queues can be prepared;
//!   - consumer offsets (GET_ALL_CONSUMER_OFFSET): every `topic@group` entry the master has
//!     replaces the slave's (RocketMQ's `putAll`: entries only the slave has stay);
//!   - delay offsets (GET_ALL_DELAY_OFFSET): the master's table replaces the slave's;
//!   - subscription groups (GET_ALL_SUBSCRIPTIONGROUP_CONFIG): replaced when the versions differ.
//!
//! Every decision returns the new value only when something changes, so the caller persists
//! exactly then.

use std::collections::BTreeMap;

use crate::actors::broker::context::MasterAddrs;
use crate::actors::broker::logic::groups::{SubscriptionGroupTable, SubscriptionGroupWrapper};
use crate::actors::broker::logic::offsets::ConsumerOffsetTable;
use crate::actors::broker::logic::topics::TopicTable;
use crate::protocol::body::fastjson::normalize_keys;
use crate::protocol::body::{TopicConfig, TopicConfigSerializeWrapper};
use crate::protocol::validate::InvalidInput;
use crate::protocol::ProtocolError;
use crate::storage::metadata::{parse_fastjson, DelayOffsetFile};

/// A topic table replaced by the master's.
#[derive(Debug)]
pub struct TopicsReplaced {
    pub table: TopicTable,
    /// Topics the slave did not have (their queues are to be prepared).
    pub added: Vec<TopicConfig>,
    /// Entries of the master's table that break the input rules, left out.
    pub refused: Vec<(String, InvalidInput)>,
}

/// A subscription-group table replaced by the master's.
#[derive(Debug)]
pub struct GroupsReplaced {
    pub table: SubscriptionGroupTable,
    pub refused: Vec<(String, InvalidInput)>,
}

/// The slave's sync decisions. `self_addr` is this broker's remoting address: a master answered
/// as itself is never synced from.
#[derive(Debug, Clone)]
pub struct SlaveSync {
    self_addr: String,
}

impl SlaveSync {
    pub fn new(self_addr: impl Into<String>) -> Self {
        SlaveSync {
            self_addr: self_addr.into(),
        }
    }

    /// The master after a REGISTER_BROKER answer (`answer`, as its header said), or `None` when
    /// nothing changes.
    pub fn learn(current: &MasterAddrs, answer: &MasterAddrs) -> Option<MasterAddrs> {
        let present = |a: &Option<String>| a.clone().filter(|s| !s.is_empty());
        let next = MasterAddrs {
            broker_addr: present(&answer.broker_addr),
            ha_addr: present(&answer.ha_addr).or_else(|| current.ha_addr.clone()),
        };
        (next != *current).then_some(next)
    }

    /// The master's remoting address to sync from: `None` while unknown or when it is us.
    pub fn master_to_sync(&self, master: &MasterAddrs) -> Option<String> {
        master
            .broker_addr
            .clone()
            .filter(|a| !a.is_empty() && *a != self.self_addr)
    }

    /// GET_ALL_TOPIC_CONFIG answered `master`: the replacement table when the versions differ.
    /// The new table starts from the slave's built-ins (the same as the master's: same cluster and
    /// broker name), then holds exactly the master's entries.
    pub fn topics(
        &self,
        current: &TopicTable,
        master: TopicConfigSerializeWrapper,
        now_ms: i64,
    ) -> Option<TopicsReplaced> {
        if current.data_version() == master.data_version {
            return None;
        }
        let added = master
            .topic_config_table
            .values()
            .filter(|t| !current.contains(&t.topic_name))
            .cloned()
            .collect();
        let mut table = TopicTable::new(current.config().clone(), now_ms);
        let refused = table.load(master);
        Some(TopicsReplaced {
            table,
            added,
            refused,
        })
    }

    /// GET_ALL_SUBSCRIPTIONGROUP_CONFIG answered `master`: the replacement when the versions
    /// differ (`auto_create` is the slave's `autoCreateSubscriptionGroup`).
    pub fn groups(
        &self,
        current: &SubscriptionGroupTable,
        auto_create: bool,
        master: SubscriptionGroupWrapper,
        now_ms: i64,
    ) -> Option<GroupsReplaced> {
        if current.data_version() == master.data_version {
            return None;
        }
        let mut table = SubscriptionGroupTable::new(auto_create, now_ms);
        let refused = table.load(master);
        Some(GroupsReplaced { table, refused })
    }

    /// GET_ALL_CONSUMER_OFFSET answered `master`: the slave's table with every entry of the
    /// master's put over it, when that changes anything.
    pub fn offsets(
        &self,
        current: &ConsumerOffsetTable,
        master: &ConsumerOffsetTable,
    ) -> Option<ConsumerOffsetTable> {
        let mut merged = current.snapshot();
        merged.extend(master.snapshot());
        let merged = ConsumerOffsetTable::from_table(merged);
        (merged != *current).then_some(merged)
    }

    /// GET_ALL_DELAY_OFFSET answered `master`: it replaces the slave's table when different.
    pub fn delay_offsets(
        current: &BTreeMap<i32, i64>,
        master: BTreeMap<i32, i64>,
    ) -> Option<BTreeMap<i32, i64>> {
        (master != *current).then_some(master)
    }
}

/// The body of GET_ALL_TOPIC_CONFIG (standard JSON or fastjson).
pub fn parse_topics(body: &[u8]) -> Result<TopicConfigSerializeWrapper, ProtocolError> {
    let text = normalize_keys(body)?;
    serde_json::from_str(&text)
        .map_err(|e| ProtocolError::MalformedBody(format!("topic config wrapper: {e}")))
}

/// The body of GET_ALL_SUBSCRIPTIONGROUP_CONFIG.
pub fn parse_groups(body: &[u8]) -> Result<SubscriptionGroupWrapper, ProtocolError> {
    let text = normalize_keys(body)?;
    SubscriptionGroupTable::wrapper_from_json(text.as_bytes())
}

/// The body of GET_ALL_DELAY_OFFSET: the text of `delayOffset.json` (`{"offsetTable":{1:0}}`).
pub fn parse_delay_offsets(body: &[u8]) -> Result<BTreeMap<i32, i64>, ProtocolError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| ProtocolError::MalformedBody(format!("delay offsets: {e}")))?;
    parse_fastjson::<DelayOffsetFile>(text)
        .map(|f| f.offset_table)
        .map_err(|e| ProtocolError::MalformedBody(format!("delay offsets: {e}")))
}

#[cfg(test)]
#[path = "slave_sync_tests.rs"]
mod tests;
