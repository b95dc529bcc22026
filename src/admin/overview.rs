//! Whole-broker views for the dashboard: every subscription group of a broker with its lag in a
//! fixed number of requests, however many groups there are. Per broker: the group table
//! (GET_ALL_SUBSCRIPTIONGROUP_CONFIG 201), every committed offset (GET_ALL_CONSUMER_OFFSET 43),
//! then the queue maxima of each topic that has offsets (GET_TOPIC_STATS_INFO 202, concurrently).
//! The request count grows with topics, never with groups (the Java dashboard's per-group 208 +
//! 203 calls are what make it time out at ~900 groups).

use std::collections::BTreeMap;

use futures::future::join_all;
use serde::{Deserialize, Serialize};

use super::client::{json_body, AdminClient};
use super::error::Result;
use crate::protocol::body::SubscriptionGroupConfig;
use crate::protocol::codes::request_code as rq;
use crate::protocol::RemotingCommand;

/// GET_ALL_CONSUMER_OFFSET (43) answer: `topic@group` -> queue id -> committed offset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AllConsumerOffsets {
    pub offset_table: BTreeMap<String, BTreeMap<i32, i64>>,
}

/// One group on one broker: its config and its progress on each topic it committed offsets for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSummary {
    pub group: String,
    pub broker_name: String,
    pub config: SubscriptionGroupConfig,
    /// Topic -> messages not yet consumed (sum over queues of max - committed, never negative).
    pub lag_by_topic: BTreeMap<String, i64>,
    pub lag: i64,
}

/// Lag of every `topic@group` entry of `offsets`, given each topic's queue maxima: group ->
/// topic -> lag. Entries whose topic has no maxima (deleted topic) count nothing.
pub fn lag_table(
    offsets: &AllConsumerOffsets,
    maxima: &BTreeMap<String, BTreeMap<i32, i64>>,
) -> BTreeMap<String, BTreeMap<String, i64>> {
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (key, queues) in &offsets.offset_table {
        let Some((topic, group)) = key.split_once('@') else {
            continue;
        };
        let Some(max) = maxima.get(topic) else {
            continue;
        };
        let lag: i64 = queues
            .iter()
            .map(|(q, committed)| (max.get(q).copied().unwrap_or(0) - committed).max(0))
            .sum();
        *out.entry(group.to_string())
            .or_default()
            .entry(topic.to_string())
            .or_default() += lag;
    }
    out
}

impl AdminClient {
    /// GET_ALL_CONSUMER_OFFSET (43) on the broker at `addr`.
    pub async fn all_consumer_offsets(&self, addr: &str) -> Result<AllConsumerOffsets> {
        let cmd = RemotingCommand::request(rq::GET_ALL_CONSUMER_OFFSET);
        let resp = self.call_ok(addr, cmd).await?;
        json_body("consumer offsets", &resp.body)
    }

    /// Every subscription group of the broker `broker_name` at `addr` with its lag (see the
    /// module doc for the requests made), sorted by group name.
    pub async fn broker_group_summaries(
        &self,
        broker_name: &str,
        addr: &str,
    ) -> Result<Vec<GroupSummary>> {
        let (groups, offsets) = futures::join!(
            self.subscription_groups(addr),
            self.all_consumer_offsets(addr)
        );
        let (groups, offsets) = (groups?, offsets?);
        let mut topics: Vec<&str> = offsets
            .offset_table
            .keys()
            .filter_map(|k| k.split_once('@').map(|(t, _)| t))
            .collect();
        topics.sort_unstable();
        topics.dedup();
        let stats = join_all(topics.iter().map(|t| self.topic_stats(addr, t))).await;
        let mut maxima = BTreeMap::new();
        for (topic, s) in topics.iter().zip(stats) {
            // A topic deleted since its offsets were committed has no stats: no lag to show.
            if let Ok(s) = s {
                let m: BTreeMap<i32, i64> = s
                    .offset_table
                    .iter()
                    .map(|(mq, o)| (mq.queue_id, o.max_offset))
                    .collect();
                maxima.insert(topic.to_string(), m);
            }
        }
        let mut lags = lag_table(&offsets, &maxima);
        Ok(groups
            .subscription_group_table
            .into_iter()
            .map(|(group, config)| {
                let lag_by_topic = lags.remove(&group).unwrap_or_default();
                GroupSummary {
                    lag: lag_by_topic.values().sum(),
                    group,
                    broker_name: broker_name.to_string(),
                    config,
                    lag_by_topic,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_sums_queues_and_ignores_unknown_topics() {
        let offsets: AllConsumerOffsets = json_body(
            "t",
            br#"{"offsetTable":{"T@g1":{0:5,1:2},"T@g2":{0:9},"Gone@g1":{0:1},"bad":{0:1}}}"#,
        )
        .unwrap();
        let maxima = BTreeMap::from([("T".to_string(), BTreeMap::from([(0, 8), (1, 2)]))]);
        let t = lag_table(&offsets, &maxima);
        assert_eq!(t["g1"]["T"], 3);
        assert_eq!(t["g2"]["T"], 0, "an offset past the max is no negative lag");
        assert!(!t["g1"].contains_key("Gone"));
    }
}
