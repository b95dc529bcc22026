//! Whole-broker views for the dashboard: every subscription group of a broker with its lag in
//! two requests per broker, however many groups and topics there are: the group table
//! (GET_ALL_SUBSCRIPTIONGROUP_CONFIG 201) and every group's per-queue progress
//! (GET_BROKER_CONSUME_STATS 317, the body mqadmin's `statsAll` reads), concurrently. The Java
//! dashboard's per-group 208 + 203 calls are what make it time out at ~900 groups.

use std::collections::BTreeMap;

use serde::Serialize;

use super::client::AdminClient;
use super::error::Result;
use crate::protocol::body::stats::ConsumeStatsList;
use crate::protocol::body::{ConsumeStats, SubscriptionGroupConfig};
use crate::protocol::codes::request_code as rq;
use crate::protocol::headers::GetConsumeStatsInBrokerHeader;
use crate::protocol::RemotingCommand;

/// One group on one broker: its config and its progress on each topic it consumes there.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSummary {
    pub group: String,
    pub broker_name: String,
    pub config: SubscriptionGroupConfig,
    /// Topic -> messages not yet consumed (sum over queues of broker - consumer offset, never
    /// negative), as `consumerProgress` counts it.
    pub lag_by_topic: BTreeMap<String, i64>,
    pub lag: i64,
}

/// group -> topic -> lag, from a broker's consume stats.
pub fn lag_table(list: &ConsumeStatsList) -> BTreeMap<String, BTreeMap<String, i64>> {
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (group, stats) in &list.consume_stats_list {
        let by_topic = out.entry(group.clone()).or_default();
        for s in stats {
            add_lag(by_topic, s);
        }
    }
    out
}

fn add_lag(by_topic: &mut BTreeMap<String, i64>, s: &ConsumeStats) {
    for (mq, w) in &s.offset_table {
        *by_topic.entry(mq.topic.clone()).or_default() +=
            (w.broker_offset - w.consumer_offset).max(0);
    }
}

impl AdminClient {
    /// GET_BROKER_CONSUME_STATS (317) on the broker at `addr`: every group's progress.
    pub async fn broker_consume_stats(&self, addr: &str) -> Result<ConsumeStatsList> {
        let h = GetConsumeStatsInBrokerHeader { is_order: false };
        let cmd = RemotingCommand::request_with(rq::GET_BROKER_CONSUME_STATS, &h);
        let resp = self.call_ok(addr, cmd).await?;
        Ok(ConsumeStatsList::from_fastjson(&resp.body)?)
    }

    /// Every subscription group of the broker `broker_name` at `addr` with its lag (see the
    /// module doc for the requests made), sorted by group name.
    pub async fn broker_group_summaries(
        &self,
        broker_name: &str,
        addr: &str,
    ) -> Result<Vec<GroupSummary>> {
        let (groups, stats) = futures::join!(
            self.subscription_groups(addr),
            self.broker_consume_stats(addr)
        );
        let (groups, stats) = (groups?, stats?);
        let mut lags = lag_table(&stats);
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
    fn lag_sums_queues_per_topic_and_is_never_negative() {
        use crate::protocol::body::{MessageQueue, OffsetWrapper};
        let w = |b, c| OffsetWrapper {
            broker_offset: b,
            consumer_offset: c,
            last_timestamp: 0,
        };
        let mut s = ConsumeStats::default();
        s.offset_table
            .insert(MessageQueue::new("T", "b", 0), w(8, 5));
        s.offset_table
            .insert(MessageQueue::new("T", "b", 1), w(2, 0));
        s.offset_table
            .insert(MessageQueue::new("U", "b", 0), w(3, 9));
        let list = ConsumeStatsList {
            consume_stats_list: vec![("g1".into(), vec![s]), ("g2".into(), vec![])],
            ..Default::default()
        };
        let t = lag_table(&list);
        assert_eq!(t["g1"]["T"], 5);
        assert_eq!(t["g1"]["U"], 0, "an offset past the max is no negative lag");
        assert!(t["g2"].is_empty());
    }
}
