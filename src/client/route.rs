//! The client's route table: topic -> `TopicRouteData` as last fetched from the name servers, and
//! the derived views the producer and consumers need (writable queues for publishing, readable
//! queues for rebalancing, broker name -> master address). Plain data; the `ClientInstance` actor
//! refreshes it and everyone else reads it through a shared lock.

use std::collections::{BTreeMap, HashMap};

use super::broker_select::{self, FoundBroker};
use crate::protocol::body::{perm, MessageQueue, TopicRouteData};

/// The template topic the broker auto-creates new topics from (docs/protocol.md §7.1).
pub const AUTO_CREATE_TOPIC: &str = "TBW102";
/// Queues per broker a producer uses for a topic created from the template.
pub const DEFAULT_TOPIC_QUEUE_NUMS: i32 = 4;
const MASTER_ID: i64 = 0;

#[derive(Debug, Default)]
pub struct RouteTable {
    routes: HashMap<String, TopicRouteData>,
    /// broker name -> (broker id -> address), merged from every route.
    brokers: HashMap<String, BTreeMap<i64, String>>,
}

impl RouteTable {
    /// Store a topic's route; returns whether it differs from the previous one.
    pub fn update(&mut self, topic: &str, route: TopicRouteData) -> bool {
        for b in &route.broker_datas {
            self.brokers
                .insert(b.broker_name.clone(), b.broker_addrs.clone());
        }
        let changed = self.routes.get(topic) != Some(&route);
        self.routes.insert(topic.to_string(), route);
        changed
    }

    pub fn get(&self, topic: &str) -> Option<&TopicRouteData> {
        self.routes.get(topic)
    }

    pub fn topics(&self) -> Vec<String> {
        self.routes.keys().cloned().collect()
    }

    pub fn master_addr(&self, broker_name: &str) -> Option<String> {
        self.brokers.get(broker_name)?.get(&MASTER_ID).cloned()
    }

    /// The broker to pull from in set `broker_name`: `broker_id` (the last suggestion), else any
    /// broker of the set (`broker_select::in_subscribe` with onlyThisBroker = false).
    pub fn subscribe_addr(&self, broker_name: &str, broker_id: i64) -> Option<FoundBroker> {
        broker_select::in_subscribe(self.brokers.get(broker_name)?, broker_id, false)
    }

    /// The broker for offsets in set `broker_name`: the master, else any broker of the set.
    pub fn admin_addr(&self, broker_name: &str) -> Option<FoundBroker> {
        broker_select::in_admin(self.brokers.get(broker_name)?)
    }

    /// Every known broker address (heartbeats and unregistration go to all of them).
    pub fn all_broker_addrs(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .brokers
            .values()
            .flat_map(|m| m.values().cloned())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Any broker address serving `topic` (for GET_CONSUMER_LIST_BY_GROUP).
    pub fn any_broker_of(&self, topic: &str) -> Option<String> {
        let r = self.routes.get(topic)?;
        r.broker_datas
            .iter()
            .filter_map(|b| {
                b.broker_addrs
                    .get(&MASTER_ID)
                    .or_else(|| b.broker_addrs.values().next())
            })
            .next()
            .cloned()
    }

    /// Readable queues of `topic`, sorted (the rebalance input).
    pub fn subscribe_queues(&self, topic: &str) -> Vec<MessageQueue> {
        let Some(r) = self.routes.get(topic) else {
            return Vec::new();
        };
        let mut v: Vec<MessageQueue> = r
            .queue_datas
            .iter()
            .filter(|q| perm::readable(q.perm))
            .flat_map(|q| {
                (0..q.read_queue_nums).map(move |i| MessageQueue::new(topic, &q.broker_name, i))
            })
            .collect();
        v.sort();
        v
    }

    /// Writable queues of `topic` on brokers with a master, in broker-name order. When the topic has
    /// no route, `template` (the TBW102 route) gives `min(4, queues)` per broker.
    pub fn publish_queues(&self, topic: &str, from_template: bool) -> Vec<MessageQueue> {
        let source = if from_template {
            AUTO_CREATE_TOPIC
        } else {
            topic
        };
        let Some(r) = self.routes.get(source) else {
            return Vec::new();
        };
        let mut qds = r.queue_datas.clone();
        qds.sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
        let mut v = Vec::new();
        for q in qds.iter().filter(|q| perm::writeable(q.perm)) {
            let has_master = r
                .broker_datas
                .iter()
                .any(|b| b.broker_name == q.broker_name && b.broker_addrs.contains_key(&MASTER_ID));
            if !has_master {
                continue;
            }
            let n = if from_template {
                q.write_queue_nums.min(DEFAULT_TOPIC_QUEUE_NUMS)
            } else {
                q.write_queue_nums
            };
            v.extend((0..n).map(|i| MessageQueue::new(topic, &q.broker_name, i)));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::body::{BrokerData, QueueData};

    fn route(brokers: &[(&str, i32, i32, i32)]) -> TopicRouteData {
        TopicRouteData {
            broker_datas: brokers
                .iter()
                .map(|(n, ..)| BrokerData {
                    broker_addrs: [(0, format!("{n}:10911"))].into_iter().collect(),
                    broker_name: n.to_string(),
                    cluster: "C".into(),
                    ..Default::default()
                })
                .collect(),
            queue_datas: brokers
                .iter()
                .map(|(n, r, w, p)| QueueData {
                    broker_name: n.to_string(),
                    perm: *p,
                    read_queue_nums: *r,
                    write_queue_nums: *w,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn views_follow_perm_and_queue_counts() {
        let mut t = RouteTable::default();
        assert!(t.update("T", route(&[("b", 2, 3, 6), ("a", 4, 4, 4)])));
        assert!(!t.update("T", route(&[("b", 2, 3, 6), ("a", 4, 4, 4)])));
        let pubq = t.publish_queues("T", false);
        assert_eq!(pubq.len(), 3, "a is read-only");
        assert!(pubq.iter().all(|q| q.broker_name == "b"));
        let subq = t.subscribe_queues("T");
        assert_eq!(subq.len(), 6);
        assert_eq!(subq[0], MessageQueue::new("T", "a", 0));
        assert_eq!(t.master_addr("a").as_deref(), Some("a:10911"));
        assert_eq!(t.all_broker_addrs(), vec!["a:10911", "b:10911"]);
    }

    #[test]
    fn master_gone_from_the_route_leaves_reads_and_offsets_on_the_slave() {
        let mut t = RouteTable::default();
        let mut r = route(&[("a", 4, 4, 6)]);
        r.broker_datas[0]
            .broker_addrs
            .insert(1, "a-slave:10911".into());
        t.update("T", r.clone());
        assert_eq!(t.subscribe_addr("a", 0).unwrap().addr, "a:10911");
        assert_eq!(t.subscribe_addr("a", 1).unwrap().addr, "a-slave:10911");
        assert_eq!(t.admin_addr("a").unwrap().addr, "a:10911");
        assert_eq!(t.publish_queues("T", false).len(), 4);
        r.broker_datas[0].broker_addrs.remove(&0);
        assert!(t.update("T", r));
        assert_eq!(t.master_addr("a"), None);
        let s = t.subscribe_addr("a", 0).unwrap();
        assert_eq!((s.addr.as_str(), s.is_slave()), ("a-slave:10911", true));
        assert_eq!(t.admin_addr("a").unwrap().addr, "a-slave:10911");
        assert!(
            t.publish_queues("T", false).is_empty(),
            "sends go to masters only"
        );
        assert_eq!(t.subscribe_queues("T").len(), 4, "still readable");
        assert_eq!(t.subscribe_addr("b", 0), None);
    }

    #[test]
    fn template_route_caps_at_four_queues_per_broker() {
        let mut t = RouteTable::default();
        t.update(AUTO_CREATE_TOPIC, route(&[("a", 8, 8, 7)]));
        let q = t.publish_queues("New", true);
        assert_eq!(q.len(), 4);
        assert!(q.iter().all(|m| m.topic == "New"));
        assert!(t.publish_queues("New", false).is_empty());
    }
}
