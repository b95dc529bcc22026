//! Committed consumer offsets (docs/protocol.md §7.4): `topic@group` → queue id → next offset to consume.
//!
//! The table is the in-memory side of `consumerOffset.json` and of GET_ALL_CONSUMER_OFFSET. Java
//! writes it with **bare integer keys** (`{"offsetTable":{"t@g":{0:12}}}`), which is not JSON, so
//! [`ConsumerOffsetTable::to_json`] writes that form with the fastjson helper and
//! [`ConsumerOffsetTable::from_json`] reads it (and the quoted-key form) through the key
//! normalizer. Offsets are kept as committed: Java 4.x does not refuse a smaller offset either.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::protocol::body::fastjson::{bare_key_map, normalize_keys};
use crate::protocol::ProtocolError;

/// Separator between topic and group in the table's keys.
pub const TOPIC_GROUP_SEPARATOR: char = '@';

/// `topic@group`.
pub fn key(topic: &str, group: &str) -> String {
    format!("{topic}{TOPIC_GROUP_SEPARATOR}{group}")
}

fn split_key(k: &str) -> Option<(&str, &str)> {
    k.split_once(TOPIC_GROUP_SEPARATOR)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Wire {
    offset_table: BTreeMap<String, BTreeMap<i32, i64>>,
}

/// A commit refused because its offset is negative.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "commitOffset {offset} of consumer group {group} on topic {topic} queue {queue_id} is \
     negative; offsets start at 0"
)]
pub struct NegativeOffset {
    pub group: String,
    pub topic: String,
    pub queue_id: i32,
    pub offset: i64,
}

/// The consumer-offset table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerOffsetTable {
    table: BTreeMap<String, BTreeMap<i32, i64>>,
}

impl ConsumerOffsetTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// A table holding `table` (`"topic@group"` -> queue -> offset), as read from
    /// `consumerOffset.json`.
    pub fn from_table(table: BTreeMap<String, BTreeMap<i32, i64>>) -> Self {
        ConsumerOffsetTable { table }
    }

    /// A copy of the whole table, for persisting.
    pub fn snapshot(&self) -> BTreeMap<String, BTreeMap<i32, i64>> {
        self.table.clone()
    }

    /// Store `offset` for the group on one queue (UPDATE_CONSUMER_OFFSET, pull commit flag).
    /// A negative offset is refused: no queue has one, and storing it would make the group's
    /// next QUERY_CONSUMER_OFFSET answer a position that does not exist.
    pub fn commit(
        &mut self,
        group: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
    ) -> Result<(), NegativeOffset> {
        if offset < 0 {
            return Err(NegativeOffset {
                group: group.to_string(),
                topic: topic.to_string(),
                queue_id,
                offset,
            });
        }
        self.table
            .entry(key(topic, group))
            .or_default()
            .insert(queue_id, offset);
        Ok(())
    }

    /// The stored offset, if any (QUERY_CONSUMER_OFFSET; see `pull_result::query_offset_answer`).
    pub fn query(&self, group: &str, topic: &str, queue_id: i32) -> Option<i64> {
        self.table
            .get(&key(topic, group))
            .and_then(|q| q.get(&queue_id))
            .copied()
    }

    /// All stored offsets of the group on a topic.
    pub fn query_all(&self, group: &str, topic: &str) -> Option<&BTreeMap<i32, i64>> {
        self.table.get(&key(topic, group))
    }

    /// Forget every offset of a group (DELETE_SUBSCRIPTIONGROUP with removeOffset). Returns how
    /// many `topic@group` entries went.
    pub fn remove_group(&mut self, group: &str) -> usize {
        let before = self.table.len();
        self.table
            .retain(|k, _| split_key(k).is_none_or(|(_, g)| g != group));
        before - self.table.len()
    }

    /// Forget every group's offsets on a topic (topic deleted).
    pub fn remove_topic(&mut self, topic: &str) -> usize {
        let before = self.table.len();
        self.table
            .retain(|k, _| split_key(k).is_none_or(|(t, _)| t != topic));
        before - self.table.len()
    }

    /// Groups with offsets on `topic` (QUERY_TOPIC_CONSUME_BY_WHO).
    pub fn groups_of_topic(&self, topic: &str) -> BTreeSet<String> {
        self.table
            .keys()
            .filter_map(|k| split_key(k))
            .filter(|(t, _)| *t == topic)
            .map(|(_, g)| g.to_string())
            .collect()
    }

    /// Topics the group has offsets on (GET_CONSUME_STATS without a topic).
    pub fn topics_of_group(&self, group: &str) -> BTreeSet<String> {
        self.table
            .keys()
            .filter_map(|k| split_key(k))
            .filter(|(_, g)| *g == group)
            .map(|(t, _)| t.to_string())
            .collect()
    }

    /// Every group with the topics it has offsets for, in one pass over the table (for
    /// whole-broker views, where calling [`Self::topics_of_group`] per group is quadratic).
    pub fn topics_by_group(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (t, g) in self.table.keys().filter_map(|k| split_key(k)) {
            out.entry(g.to_string()).or_default().insert(t.to_string());
        }
        out
    }

    /// Copy `src` group's offsets on `topic` to `dst` (CLONE_GROUP_OFFSET).
    pub fn clone_offsets(&mut self, src: &str, dst: &str, topic: &str) {
        if let Some(q) = self.table.get(&key(topic, src)).cloned() {
            self.table.insert(key(topic, dst), q);
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// `{"offsetTable":{"t@g":{0:12,1:3}}}`, bare integer keys as Java writes them.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"offsetTable\":{");
        for (i, (k, queues)) in self.table.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(k).expect("string"));
            out.push(':');
            out.push_str(&bare_key_map(queues));
        }
        out.push_str("}}");
        out
    }

    /// Read `consumerOffset.json` / GET_ALL_CONSUMER_OFFSET, bare or quoted keys, pretty or not.
    pub fn from_json(body: &[u8]) -> Result<Self, ProtocolError> {
        let text = normalize_keys(body)?;
        let w: Wire = serde_json::from_str(&text)
            .map_err(|e| ProtocolError::MalformedBody(format!("consumer offsets: {e}")))?;
        Ok(ConsumerOffsetTable {
            table: w.offset_table,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_and_query() {
        let mut t = ConsumerOffsetTable::new();
        assert_eq!(t.query("g", "T", 0), None);
        t.commit("g", "T", 0, 12).unwrap();
        t.commit("g", "T", 0, 10).unwrap(); // smaller offsets are stored as given, like Java
        t.commit("g", "T", 3, 7).unwrap();
        assert_eq!(t.query("g", "T", 0), Some(10));
        assert_eq!(t.query("g", "T", 1), None);
        assert_eq!(t.query("h", "T", 0), None);
        assert_eq!(t.query_all("g", "T").unwrap().len(), 2);
        let e = t.commit("g", "T", 0, -1).unwrap_err();
        assert!(e.to_string().contains("commitOffset -1"), "{e}");
        assert_eq!(
            t.query("g", "T", 0),
            Some(10),
            "a refused commit changes nothing"
        );
    }

    #[test]
    fn groups_topics_and_removal() {
        let mut t = ConsumerOffsetTable::new();
        t.commit("g1", "A", 0, 1).unwrap();
        t.commit("g2", "A", 0, 1).unwrap();
        t.commit("g1", "B", 0, 1).unwrap();
        t.commit("g12", "B", 0, 1).unwrap();
        assert_eq!(
            t.groups_of_topic("A").into_iter().collect::<Vec<_>>(),
            vec!["g1", "g2"]
        );
        assert_eq!(
            t.topics_of_group("g1").into_iter().collect::<Vec<_>>(),
            vec!["A", "B"]
        );
        let all = t.topics_by_group();
        assert_eq!(all.len(), 3);
        for g in ["g1", "g2", "g12"] {
            assert_eq!(all[g], t.topics_of_group(g), "{g}");
        }
        t.clone_offsets("g1", "g3", "B");
        assert_eq!(t.query("g3", "B", 0), Some(1));
        assert_eq!(t.remove_group("g1"), 2);
        assert_eq!(
            t.query("g12", "B", 0),
            Some(1),
            "a group with a common prefix stays"
        );
        assert_eq!(t.remove_topic("B"), 2);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn json_uses_bare_integer_keys_and_reads_both_forms() {
        let mut t = ConsumerOffsetTable::new();
        t.commit("g", "T", 0, 12).unwrap();
        t.commit("g", "T", 1, 3).unwrap();
        t.commit("g", "%RETRY%g", 0, 0).unwrap();
        let j = t.to_json();
        assert_eq!(
            j,
            r#"{"offsetTable":{"%RETRY%g@g":{0:0},"T@g":{0:12,1:3}}}"#
        );
        assert_eq!(ConsumerOffsetTable::from_json(j.as_bytes()).unwrap(), t);
        // Java's pretty file form, and a quoted-key form.
        let pretty =
            "{\n\t\"offsetTable\":{\n\t\t\"T@g\":{0:12,1:3\n\t\t},\"%RETRY%g@g\":{0:0}\n\t}\n}";
        assert_eq!(
            ConsumerOffsetTable::from_json(pretty.as_bytes()).unwrap(),
            t
        );
        let quoted =
            r#"{"offsetTable":{"T@g":{"0":12,"1":3},"%RETRY%g@g":{"0":0}},"dataVersion":{}}"#;
        assert_eq!(
            ConsumerOffsetTable::from_json(quoted.as_bytes()).unwrap(),
            t
        );
        assert_eq!(
            ConsumerOffsetTable::new().to_json(),
            r#"{"offsetTable":{}}"#
        );
        assert!(ConsumerOffsetTable::from_json(br#"{"offsetTable":{"T@g":{x:1}}}"#).is_err());
    }
}
