//! Subscription groups (`subscriptionGroup.json`, UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
//! DELETE_SUBSCRIPTIONGROUP, GET_ALL_SUBSCRIPTIONGROUP_CONFIG).
//!
//! Groups are auto-created on first use when `autoCreateSubscriptionGroup` is on (docs/protocol.md
//! §7.1); the method that does so tells the caller whether it created one, so the actor knows to
//! persist. As with topics, every change bumps a [`DataVersion`] and the table does no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::protocol::body::{DataVersion, SubscriptionGroupConfig};
use crate::protocol::validate::{check_group, check_retry_queue_nums, InvalidInput};
use crate::protocol::ProtocolError;

/// Groups every Java broker has from the start.
const BUILTIN_GROUPS: [&str; 8] = [
    "TOOLS_CONSUMER",
    "FILTERSRV_CONSUMER",
    "SELF_TEST_C_GROUP",
    "CID_ONS-HTTP-PROXY",
    "CID_ONSAPI_PULL",
    "CID_ONSAPI_PERMISSION",
    "CID_ONSAPI_OWNER",
    "CID_RMQ_SYS_TRANS",
];

/// `SubscriptionGroupWrapper`: the file and GET_ALL_SUBSCRIPTIONGROUP_CONFIG shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionGroupWrapper {
    pub data_version: DataVersion,
    pub subscription_group_table: BTreeMap<String, SubscriptionGroupConfig>,
}

/// A group config that may be stored: a legal name and `retryQueueNums` within the limit.
fn check_stored(config: &SubscriptionGroupConfig) -> Result<(), InvalidInput> {
    check_group(&config.group_name)?;
    check_retry_queue_nums(config.retry_queue_nums)
}

/// The subscription-group table.
#[derive(Debug, Clone)]
pub struct SubscriptionGroupTable {
    auto_create: bool,
    groups: BTreeMap<String, SubscriptionGroupConfig>,
    data_version: DataVersion,
}

impl SubscriptionGroupTable {
    /// `autoCreateSubscriptionGroup` as the table applies it.
    pub fn auto_create(&self) -> bool {
        self.auto_create
    }

    /// Change `autoCreateSubscriptionGroup` at run time (read at each lookup, as RocketMQ).
    pub fn set_auto_create(&mut self, on: bool) {
        self.auto_create = on;
    }

    /// The built-in groups; `auto_create` is `autoCreateSubscriptionGroup`.
    pub fn new(auto_create: bool, now_ms: i64) -> Self {
        SubscriptionGroupTable {
            auto_create,
            groups: BUILTIN_GROUPS
                .iter()
                .map(|g| (g.to_string(), SubscriptionGroupConfig::new(g)))
                .collect(),
            data_version: DataVersion {
                state_version: 0,
                counter: 0,
                timestamp: now_ms,
            },
        }
    }

    pub fn get(&self, group: &str) -> Option<&SubscriptionGroupConfig> {
        self.groups.get(group)
    }

    pub fn iter(&self) -> impl Iterator<Item = &SubscriptionGroupConfig> {
        self.groups.values()
    }

    pub fn data_version(&self) -> DataVersion {
        self.data_version
    }

    /// The group's config, auto-creating a default one when allowed and the name is legal. `None`
    /// means SUBSCRIPTION_GROUP_NOT_EXIST. The flag says whether it was created (→ persist).
    pub fn get_or_create(
        &mut self,
        group: &str,
        now_ms: i64,
    ) -> Option<(SubscriptionGroupConfig, bool)> {
        if let Some(g) = self.groups.get(group) {
            return Some((g.clone(), false));
        }
        if !self.auto_create || check_group(group).is_err() {
            return None;
        }
        let config = SubscriptionGroupConfig::new(group);
        self.update(config.clone(), now_ms);
        Some((config, true))
    }

    /// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: check the name and `retryQueueNums`, then create or
    /// replace. Returns the previous config.
    pub fn create_or_update(
        &mut self,
        config: SubscriptionGroupConfig,
        now_ms: i64,
    ) -> Result<Option<SubscriptionGroupConfig>, InvalidInput> {
        check_stored(&config)?;
        Ok(self.update(config, now_ms))
    }

    /// Create or replace without checks (built-ins, auto-creation of a checked name); returns
    /// the previous config.
    pub fn update(
        &mut self,
        config: SubscriptionGroupConfig,
        now_ms: i64,
    ) -> Option<SubscriptionGroupConfig> {
        self.data_version.next(now_ms);
        self.groups.insert(config.group_name.clone(), config)
    }

    /// Remove a group; bumps the version only when it existed.
    pub fn delete(&mut self, group: &str, now_ms: i64) -> Option<SubscriptionGroupConfig> {
        let removed = self.groups.remove(group);
        if removed.is_some() {
            self.data_version.next(now_ms);
        }
        removed
    }

    pub fn wrapper(&self) -> SubscriptionGroupWrapper {
        SubscriptionGroupWrapper {
            data_version: self.data_version,
            subscription_group_table: self.groups.clone(),
        }
    }

    /// Stored entries win over built-ins; the version becomes the stored one. Entries that break
    /// the input rules (an illegal name, `retryQueueNums` past the limit) are left out and
    /// returned so the caller can report them.
    pub fn load(&mut self, wrapper: SubscriptionGroupWrapper) -> Vec<(String, InvalidInput)> {
        let mut refused = Vec::new();
        for (name, config) in wrapper.subscription_group_table {
            match check_group(&name).and_then(|_| check_stored(&config)) {
                Ok(()) => {
                    self.groups.insert(name, config);
                }
                Err(e) => refused.push((name, e)),
            }
        }
        self.data_version = wrapper.data_version;
        refused
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.wrapper()).expect("serializable")
    }

    pub fn wrapper_from_json(body: &[u8]) -> Result<SubscriptionGroupWrapper, ProtocolError> {
        serde_json::from_slice(body)
            .map_err(|e| ProtocolError::MalformedBody(format!("subscription groups: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_create_rules() {
        let mut t = SubscriptionGroupTable::new(true, 5);
        assert!(t.get("TOOLS_CONSUMER").is_some());
        let (g, created) = t.get_or_create("cg1", 10).unwrap();
        assert!(created);
        assert_eq!(g.retry_max_times, 16);
        assert_eq!(
            t.data_version(),
            DataVersion {
                state_version: 0,
                counter: 1,
                timestamp: 10
            }
        );
        assert!(!t.get_or_create("cg1", 11).unwrap().1);
        assert_eq!(t.data_version().counter, 1);
        assert!(t.get_or_create("bad group", 12).is_none());
        assert!(t.get_or_create("../../escaped", 12).is_none());
        assert!(t.get_or_create(&"g".repeat(255), 12).unwrap().1);
        assert!(t.get_or_create(&"g".repeat(256), 12).is_none());

        let mut off = SubscriptionGroupTable::new(false, 0);
        assert!(off.get_or_create("cg1", 1).is_none());
        assert!(off.get_or_create("TOOLS_CONSUMER", 1).is_some());
        assert_eq!(off.data_version().counter, 0);
    }

    #[test]
    fn update_delete_and_json_shape() {
        let mut t = SubscriptionGroupTable::new(true, 0);
        let mut c = SubscriptionGroupConfig::new("g");
        c.retry_max_times = 3;
        assert!(t.update(c.clone(), 7).is_none());
        assert_eq!(t.update(c.clone(), 8).unwrap().retry_max_times, 3);
        assert!(t.delete("g", 9).is_some());
        assert!(t.delete("g", 10).is_none());
        assert_eq!(
            t.data_version(),
            DataVersion {
                state_version: 0,
                counter: 3,
                timestamp: 9
            }
        );
        t.update(c, 11);

        let j = t.to_json();
        assert!(j.starts_with(
            r#"{"dataVersion":{"counter":4,"timestamp":11},"subscriptionGroupTable":{"#
        ));
        assert!(j.contains(r#""g":{"brokerId":0,"consumeBroadcastEnable":true,"consumeEnable":true,"consumeFromMinEnable":true,"groupName":"g","notifyConsumerIdsChangedEnable":true,"retryMaxTimes":3,"#));
        let w = SubscriptionGroupTable::wrapper_from_json(j.as_bytes()).unwrap();
        let mut fresh = SubscriptionGroupTable::new(true, 0);
        assert!(fresh.load(w).is_empty());
        assert_eq!(fresh.get("g").unwrap().retry_max_times, 3);
        assert_eq!(fresh.data_version().counter, 4);
        assert!(SubscriptionGroupTable::wrapper_from_json(b"{").is_err());
    }

    #[test]
    fn admin_and_stored_groups_obey_the_rules() {
        let mut t = SubscriptionGroupTable::new(true, 0);
        let mut big = SubscriptionGroupConfig::new("BigRetryG");
        big.retry_queue_nums = i32::MAX;
        let e = t.create_or_update(big.clone(), 1).unwrap_err();
        assert!(e.to_string().contains("retryQueueNums 2147483647"), "{e}");
        let evil = SubscriptionGroupConfig::new("../../../../escaped");
        let e = t.create_or_update(evil.clone(), 1).unwrap_err();
        assert!(e.to_string().contains("illegal characters"), "{e}");
        assert_eq!(t.data_version().counter, 0);
        let mut off = SubscriptionGroupConfig::new("NoRetry");
        off.retry_queue_nums = 0;
        assert!(t.create_or_update(off, 2).unwrap().is_none());

        let mut w = SubscriptionGroupWrapper::default();
        for c in [big, evil, SubscriptionGroupConfig::new("fine")] {
            w.subscription_group_table.insert(c.group_name.clone(), c);
        }
        let refused: Vec<String> = t.load(w).into_iter().map(|r| r.0).collect();
        assert_eq!(refused, ["../../../../escaped", "BigRetryG"]);
        assert!(t.get("fine").is_some() && t.get("BigRetryG").is_none());
    }
}
