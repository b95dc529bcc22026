//! Broker statistics bodies: `BrokerStatsData` (VIEW_BROKER_STATS_DATA 315) and
//! `ConsumeStatsList` (GET_BROKER_CONSUME_STATS 317), in fastjson's shapes (properties in
//! alphabetical order; ConsumeStats keeps its MessageQueue object keys).

use serde::{Deserialize, Serialize};

use super::broker::{bad, parse_root, ConsumeStats};
use crate::protocol::ProtocolError;

/// One window of a stats item: the sum added in it, per second, and per addition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct BrokerStatsItem {
    pub avgpt: f64,
    pub sum: u64,
    pub tps: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerStatsData {
    pub stats_day: BrokerStatsItem,
    pub stats_hour: BrokerStatsItem,
    pub stats_minute: BrokerStatsItem,
}

/// Every group's consume stats on one broker: a list of one-entry maps group -> its topics'
/// ConsumeStats (Java's `List<Map<String, List<ConsumeStats>>>`), and the lag over all of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsumeStatsList {
    pub broker_addr: String,
    pub consume_stats_list: Vec<(String, Vec<ConsumeStats>)>,
    pub total_diff: i64,
}

impl ConsumeStatsList {
    /// `{"brokerAddr":..,"consumeStatsList":[{"group":[<ConsumeStats>,..]},..],"totalDiff":N}`.
    pub fn to_fastjson(&self) -> String {
        let list: Vec<String> = self
            .consume_stats_list
            .iter()
            .map(|(group, stats)| {
                let items: Vec<String> = stats.iter().map(ConsumeStats::to_fastjson).collect();
                format!(
                    "{{{}:[{}]}}",
                    serde_json::to_string(group).expect("a string"),
                    items.join(",")
                )
            })
            .collect();
        format!(
            "{{\"brokerAddr\":{},\"consumeStatsList\":[{}],\"totalDiff\":{}}}",
            serde_json::to_string(&self.broker_addr).expect("a string"),
            list.join(","),
            self.total_diff
        )
    }

    /// Read [`Self::to_fastjson`]'s shape (and Java's).
    pub fn from_fastjson(body: &[u8]) -> Result<Self, ProtocolError> {
        const WHAT: &str = "consume stats list";
        let root = parse_root(WHAT, body)?;
        let mut out = ConsumeStatsList {
            broker_addr: root["brokerAddr"].as_str().unwrap_or_default().to_string(),
            total_diff: root["totalDiff"].as_i64().unwrap_or(0),
            ..Default::default()
        };
        let entries = match &root["consumeStatsList"] {
            serde_json::Value::Null => return Ok(out),
            serde_json::Value::Array(a) => a,
            _ => return Err(bad(WHAT, "'consumeStatsList' is not a list")),
        };
        for entry in entries {
            let map = entry
                .as_object()
                .ok_or_else(|| bad(WHAT, "an entry is not an object"))?;
            for (group, stats) in map {
                let stats = stats
                    .as_array()
                    .ok_or_else(|| bad(WHAT, format!("the stats of {group} are not a list")))?
                    .iter()
                    .map(ConsumeStats::from_value)
                    .collect::<Result<Vec<_>, _>>()?;
                out.consume_stats_list.push((group.clone(), stats));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::body::fastjson::normalize_keys;
    use crate::protocol::body::{MessageQueue, OffsetWrapper};

    #[test]
    fn broker_stats_data_is_alphabetical_camel_case() {
        let d = BrokerStatsData {
            stats_minute: BrokerStatsItem {
                avgpt: 1.0,
                sum: 6,
                tps: 0.1,
            },
            ..Default::default()
        };
        let text = serde_json::to_string(&d).unwrap();
        assert!(
            text.starts_with("{\"statsDay\":{\"avgpt\":0.0,\"sum\":0,\"tps\":0.0}"),
            "{text}"
        );
        assert!(
            text.ends_with("\"statsMinute\":{\"avgpt\":1.0,\"sum\":6,\"tps\":0.1}}"),
            "{text}"
        );
    }

    #[test]
    fn consume_stats_list_reads_back_as_json() {
        let mut stats = ConsumeStats::default();
        stats.offset_table.insert(
            MessageQueue::new("T", "b", 0),
            OffsetWrapper {
                broker_offset: 5,
                consumer_offset: 2,
                last_timestamp: 0,
            },
        );
        let list = ConsumeStatsList {
            broker_addr: "127.0.0.1:10911".into(),
            consume_stats_list: vec![("G".into(), vec![stats]), ("H".into(), vec![])],
            total_diff: 3,
        };
        let json = normalize_keys(list.to_fastjson().as_bytes()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["totalDiff"], 3);
        assert_eq!(v["brokerAddr"], "127.0.0.1:10911");
        let first = &v["consumeStatsList"][0]["G"][0];
        assert_eq!(first["offsetTable"].as_object().unwrap().len(), 1);
        assert_eq!(v["consumeStatsList"][1]["H"], serde_json::json!([]));
        assert_eq!(
            ConsumeStatsList::from_fastjson(list.to_fastjson().as_bytes()).unwrap(),
            list
        );
    }
}
