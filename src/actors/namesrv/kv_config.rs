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
