//! The name server's KV configuration (PUT/GET/DELETE_KV_CONFIG, GET_KVLIST_BY_NAMESPACE):
//! namespace -> key -> value, kept in memory. Namespace `ORDER_TOPIC_CONFIG` maps a topic to its
//! `orderTopicConf` string, which route answers carry.

use std::collections::BTreeMap;

/// Namespace whose entries become a route's `orderTopicConf`.
pub const ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

#[derive(Debug, Default)]
pub struct KvConfig {
    table: BTreeMap<String, BTreeMap<String, String>>,
}

impl KvConfig {
    pub fn put(&mut self, namespace: &str, key: &str, value: &str) {
        self.table
            .entry(namespace.to_string())
            .or_default()
            .insert(key.to_string(), value.to_string());
    }

    pub fn get(&self, namespace: &str, key: &str) -> Option<&str> {
        self.table.get(namespace)?.get(key).map(String::as_str)
    }

    pub fn delete(&mut self, namespace: &str, key: &str) {
        if let Some(ns) = self.table.get_mut(namespace) {
            ns.remove(key);
            if ns.is_empty() {
                self.table.remove(namespace);
            }
        }
    }

    pub fn list(&self, namespace: &str) -> Option<&BTreeMap<String, String>> {
        self.table.get(namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_delete_list() {
        let mut kv = KvConfig::default();
        assert_eq!(kv.get("ns", "k"), None);
        kv.put("ns", "k", "v");
        kv.put("ns", "k2", "v2");
        kv.put("ns", "k", "v3");
        assert_eq!(kv.get("ns", "k"), Some("v3"));
        assert_eq!(kv.list("ns").unwrap().len(), 2);
        kv.delete("ns", "k");
        kv.delete("ns", "k2");
        assert!(kv.list("ns").is_none());
        kv.delete("none", "x");
    }
}

/// `KVConfigSerializeWrapper`, the JSON of RocketMQ's `kvConfig.json`.
#[derive(serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Wrapper {
    config_table: BTreeMap<String, BTreeMap<String, String>>,
}

impl KvConfig {
    /// `{"configTable":{"<namespace>":{"<key>":"<value>"}}}`, as RocketMQ's name server writes it.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&Wrapper {
            config_table: self.table.clone(),
        })
        .expect("serializable")
    }

    pub fn from_json(text: &str) -> Result<KvConfig, String> {
        let w: Wrapper = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(KvConfig {
            table: w.config_table,
        })
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;

    #[test]
    fn json_round_trip_in_rocketmqs_shape() {
        let mut kv = KvConfig::default();
        kv.put(ORDER_TOPIC_CONFIG, "T", "broker-a:4");
        let j = kv.to_json();
        assert!(j.contains("\"configTable\""), "{j}");
        let back = KvConfig::from_json(&j).unwrap();
        assert_eq!(back.get(ORDER_TOPIC_CONFIG, "T"), Some("broker-a:4"));
        assert!(KvConfig::from_json("{broken").is_err());
    }
}
