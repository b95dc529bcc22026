//! Topic and subscription-group configuration shapes shared by the name server (registration
//! bodies), the broker (admin requests) and the store's metadata files (`topics.json`,
//! `subscriptionGroup.json`). Field names are RocketMQ's getter names, so the JSON is what Java
//! writes and reads.

use serde::{Deserialize, Serialize};

/// Permission bits (`PermName`).
pub mod perm {
    pub const PRIORITY: i32 = 0x8;
    pub const READ: i32 = 0x4;
    pub const WRITE: i32 = 0x2;
    pub const INHERIT: i32 = 0x1;

    pub fn readable(perm: i32) -> bool {
        perm & READ != 0
    }
    pub fn writeable(perm: i32) -> bool {
        perm & WRITE != 0
    }
    pub fn inherited(perm: i32) -> bool {
        perm & INHERIT != 0
    }
}

/// `DataVersion`: bumped whenever a broker's topic set changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DataVersion {
    pub counter: i64,
    /// RocketMQ 5: a controller-mode broker's master epoch (the name server keeps the master
    /// with the newest); written only when set, so 4.x JSON stays as it was.
    #[serde(skip_serializing_if = "is_zero")]
    pub state_version: i64,
    pub timestamp: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

impl DataVersion {
    /// Advance the version (a topic changed) at time `now_ms`.
    pub fn next(&mut self, now_ms: i64) {
        self.counter += 1;
        self.timestamp = now_ms;
    }
}

/// `TopicConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicConfig {
    pub order: bool,
    pub perm: i32,
    pub read_queue_nums: i32,
    /// `SINGLE_TAG` or `MULTI_TAG`.
    pub topic_filter_type: String,
    pub topic_name: String,
    pub topic_sys_flag: i32,
    pub write_queue_nums: i32,
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            order: false,
            perm: perm::READ | perm::WRITE,
            read_queue_nums: 16,
            topic_filter_type: "SINGLE_TAG".to_string(),
            topic_name: String::new(),
            topic_sys_flag: 0,
            write_queue_nums: 16,
        }
    }
}

impl TopicConfig {
    /// A topic with `queues` read and write queues and read+write permission.
    pub fn new(name: &str, queues: i32) -> Self {
        TopicConfig {
            topic_name: name.to_string(),
            read_queue_nums: queues,
            write_queue_nums: queues,
            ..Default::default()
        }
    }
}

/// `SubscriptionGroupConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionGroupConfig {
    pub broker_id: i64,
    pub consume_broadcast_enable: bool,
    pub consume_enable: bool,
    pub consume_from_min_enable: bool,
    pub group_name: String,
    pub notify_consumer_ids_changed_enable: bool,
    pub retry_max_times: i32,
    pub retry_queue_nums: i32,
    pub which_broker_when_consume_slowly: i64,
}

impl Default for SubscriptionGroupConfig {
    fn default() -> Self {
        SubscriptionGroupConfig {
            broker_id: 0,
            consume_broadcast_enable: true,
            consume_enable: true,
            consume_from_min_enable: true,
            group_name: String::new(),
            notify_consumer_ids_changed_enable: true,
            retry_max_times: 16,
            retry_queue_nums: 1,
            which_broker_when_consume_slowly: 1,
        }
    }
}

impl SubscriptionGroupConfig {
    pub fn new(group: &str) -> Self {
        SubscriptionGroupConfig {
            group_name: group.to_string(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_config_json_is_javas_shape() {
        let t = TopicConfig::new("TopicTest", 4);
        let j = serde_json::to_string(&t).unwrap();
        assert_eq!(
            j,
            r#"{"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"TopicTest","topicSysFlag":0,"writeQueueNums":4}"#
        );
        let back: TopicConfig = serde_json::from_str(&j).unwrap();
        assert_eq!(back, t);
        // Missing fields take Java's defaults.
        let p: TopicConfig = serde_json::from_str(r#"{"topicName":"x"}"#).unwrap();
        assert_eq!(p.read_queue_nums, 16);
    }
}
