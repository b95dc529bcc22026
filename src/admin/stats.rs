//! Broker statistics: VIEW_BROKER_STATS_DATA (315), the per-minute/hour/day counters of one stats
//! item (`TOPIC_PUT_NUMS` keyed by topic, `GROUP_GET_NUMS` keyed by `topic@group`, ...), as
//! `statsAll`, the dashboard and the exporter read them.

use serde::{Deserialize, Serialize};

use super::client::{json_body, AdminClient};
use super::error::Result;
use crate::protocol::codes::request_code as rq;
use crate::protocol::RemotingCommand;

/// Messages put to a topic (key: topic).
pub const TOPIC_PUT_NUMS: &str = "TOPIC_PUT_NUMS";
/// Messages a group got from a topic (key: `topic@group`).
pub const GROUP_GET_NUMS: &str = "GROUP_GET_NUMS";

/// `BrokerStatsItem`: one window's sum, TPS and average per-call count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerStatsItem {
    pub avgpt: f64,
    pub sum: i64,
    pub tps: f64,
}

/// `BrokerStatsData` (VIEW_BROKER_STATS_DATA answer).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerStatsData {
    pub stats_day: BrokerStatsItem,
    pub stats_hour: BrokerStatsItem,
    pub stats_minute: BrokerStatsItem,
}

/// The header of VIEW_BROKER_STATS_DATA (`ViewBrokerStatsDataRequestHeader`).
fn header(stats_name: &str, stats_key: &str) -> RemotingCommand {
    let mut cmd = RemotingCommand::request(rq::VIEW_BROKER_STATS_DATA);
    cmd.set_ext("statsName", stats_name);
    cmd.set_ext("statsKey", stats_key);
    cmd
}

impl AdminClient {
    /// VIEW_BROKER_STATS_DATA (315) of `stats_name`/`stats_key` on the broker at `addr`. A stat
    /// the broker never counted is a SYSTEM_ERROR refusal ("The stats <X> <K> not exist").
    pub async fn view_stats(
        &self,
        addr: &str,
        stats_name: &str,
        stats_key: &str,
    ) -> Result<BrokerStatsData> {
        let resp = self.call_ok(addr, header(stats_name, stats_key)).await?;
        json_body("broker stats", &resp.body)
    }
}
