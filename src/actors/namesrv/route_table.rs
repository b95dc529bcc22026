//! The name server's route table: which brokers are alive, which clusters they form, and which
//! queues each broker offers for each topic. A plain struct (no actix, no clock): the
//! `NameServer` actor owns one and passes `now` in, so every rule is unit-tested directly.
//!
//! Rules follow RocketMQ 4.x's `RouteInfoManager`: only a master (broker id 0) sets a topic's queue
//! data, and only when its data version changed or on its first registration; a slave's
//! registration only refreshes liveness and addresses. Removing a broker's last address removes
//! the broker name from its cluster and its queues from every topic; a topic left with no queue
//! disappears.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::protocol::body::{
    BrokerData, ClusterInfo, DataVersion, QueueData, TopicConfigSerializeWrapper, TopicList,
    TopicRouteData,
};

/// Identifies the connection a registration arrived on, so a closed connection drops its brokers.
pub type ConnId = u64;

/// Liveness record of one broker address.
#[derive(Debug, Clone)]
struct LiveBroker {
    last_update_ms: i64,
    data_version: DataVersion,
    ha_server_addr: String,
    conn: ConnId,
}

/// What a registration tells the broker back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterResult {
    /// For a slave: the master's HA address.
    pub ha_server_addr: Option<String>,
    /// For a slave: the master's main address.
    pub master_addr: Option<String>,
    /// The broker was not registered (live) before this registration.
    pub new_broker: bool,
}

/// A broker registration, as decoded from REGISTER_BROKER.
#[derive(Debug, Clone)]
pub struct Registration {
    pub cluster: String,
    pub broker_addr: String,
    pub broker_name: String,
    pub broker_id: i64,
    pub ha_server_addr: String,
    pub topics: Option<TopicConfigSerializeWrapper>,
    pub conn: ConnId,
}

/// The whole route state of one name server.
#[derive(Debug, Default)]
pub struct RouteTable {
    /// topic -> broker name -> queues.
    topics: BTreeMap<String, BTreeMap<String, QueueData>>,
    /// broker name -> addresses.
    brokers: BTreeMap<String, BrokerData>,
    /// cluster -> broker names.
    clusters: BTreeMap<String, BTreeSet<String>>,
    /// broker address -> liveness.
    live: HashMap<String, LiveBroker>,
}

impl RouteTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Register (or refresh) a broker.
    pub fn register(&mut self, r: Registration, now_ms: i64) -> RegisterResult {
        let new_broker = !self.live.contains_key(&r.broker_addr);
        self.clusters
            .entry(r.cluster.clone())
            .or_default()
            .insert(r.broker_name.clone());

        let data = self
            .brokers
            .entry(r.broker_name.clone())
            .or_insert_with(|| BrokerData {
                broker_addrs: BTreeMap::new(),
                broker_name: r.broker_name.clone(),
                cluster: r.cluster.clone(),
                ..Default::default()
            });
        // The same address under another id (a slave promoted, a master demoted): drop the old id.
        data.broker_addrs
            .retain(|id, addr| *addr != r.broker_addr || *id == r.broker_id);
        // RocketMQ 5: another address holding this id with a newer stateVersion (master epoch)
        // keeps it; a fenced old master cannot take the master's id back.
        let state_version = |t: &Option<TopicConfigSerializeWrapper>| {
            t.as_ref().map_or(0, |w| w.data_version.state_version)
        };
        if let Some(holder) = data
            .broker_addrs
            .get(&r.broker_id)
            .filter(|a| **a != r.broker_addr)
        {
            let held = self.live.get(holder).map(|l| l.data_version.state_version);
            if held.is_some_and(|v| v > state_version(&r.topics)) {
                tracing::warn!(
                    broker = %r.broker_name,
                    id = r.broker_id,
                    holder = %holder,
                    held = ?held,
                    addr = %r.broker_addr,
                    state_version = state_version(&r.topics),
                    "registration refused: the id is held by a broker with a newer stateVersion"
                );
                self.live.remove(&r.broker_addr);
                return RegisterResult {
                    new_broker,
                    ..Default::default()
                };
            }
        }
        let first = data
            .broker_addrs
            .insert(r.broker_id, r.broker_addr.clone())
            .is_none();

        if let Some(wrapper) = &r.topics {
            if r.broker_id == 0 {
                let changed = self
                    .live
                    .get(&r.broker_addr)
                    .map(|l| l.data_version != wrapper.data_version)
                    .unwrap_or(true);
                if changed || first {
                    for t in wrapper.topic_config_table.values() {
                        self.topics.entry(t.topic_name.clone()).or_default().insert(
                            r.broker_name.clone(),
                            QueueData {
                                broker_name: r.broker_name.clone(),
                                perm: t.perm,
                                read_queue_nums: t.read_queue_nums,
                                topic_sys_flag: t.topic_sys_flag,
                                write_queue_nums: t.write_queue_nums,
                            },
                        );
                    }
                }
            }
        }

        self.live.insert(
            r.broker_addr.clone(),
            LiveBroker {
                last_update_ms: now_ms,
                data_version: r.topics.map(|t| t.data_version).unwrap_or_default(),
                ha_server_addr: r.ha_server_addr,
                conn: r.conn,
            },
        );

        let mut result = RegisterResult {
            new_broker,
            ..Default::default()
        };
        if r.broker_id != 0 {
            if let Some(master) = self.brokers[&r.broker_name].broker_addrs.get(&0) {
                result.master_addr = Some(master.clone());
                result.ha_server_addr = self.live.get(master).map(|l| l.ha_server_addr.clone());
            }
        }
        result
    }

    /// Remove one broker address (UNREGISTER_BROKER, expiry, closed connection).
    pub fn unregister(&mut self, broker_addr: &str, broker_name: &str, broker_id: i64) {
        self.live.remove(broker_addr);
        let Some(data) = self.brokers.get_mut(broker_name) else {
            return;
        };
        if data.broker_addrs.get(&broker_id).map(String::as_str) == Some(broker_addr) {
            data.broker_addrs.remove(&broker_id);
        }
        if data.broker_addrs.is_empty() {
            let cluster = data.cluster.clone();
            self.brokers.remove(broker_name);
            if let Some(names) = self.clusters.get_mut(&cluster) {
                names.remove(broker_name);
                if names.is_empty() {
                    self.clusters.remove(&cluster);
                }
            }
            self.topics.retain(|_, queues| {
                queues.remove(broker_name);
                !queues.is_empty()
            });
        }
    }

    /// Remove every broker registered by address `addr` (all ids, all names).
    fn remove_addr(&mut self, addr: &str) {
        let owners: Vec<(String, i64)> = self
            .brokers
            .values()
            .flat_map(|d| {
                d.broker_addrs
                    .iter()
                    .filter(|(_, a)| a.as_str() == addr)
                    .map(|(id, _)| (d.broker_name.clone(), *id))
            })
            .collect();
        self.live.remove(addr);
        for (name, id) in owners {
            self.unregister(addr, &name, id);
        }
    }

    /// Drop brokers not heard from for `expiry_ms`; returns the addresses removed.
    pub fn scan_not_active(&mut self, now_ms: i64, expiry_ms: i64) -> Vec<String> {
        let dead: Vec<String> = self
            .live
            .iter()
            .filter(|(_, l)| now_ms - l.last_update_ms > expiry_ms)
            .map(|(a, _)| a.clone())
            .collect();
        for a in &dead {
            self.remove_addr(a);
        }
        dead
    }

    /// A connection closed: drop every broker that registered over it; returns their addresses.
    pub fn connection_closed(&mut self, conn: ConnId) -> Vec<String> {
        let gone: Vec<String> = self
            .live
            .iter()
            .filter(|(_, l)| l.conn == conn)
            .map(|(a, _)| a.clone())
            .collect();
        for a in &gone {
            self.remove_addr(a);
        }
        gone
    }

    /// The route of `topic`, if any broker serves it.
    pub fn route(&self, topic: &str) -> Option<TopicRouteData> {
        let queues = self.topics.get(topic)?;
        let queue_datas: Vec<QueueData> = queues.values().cloned().collect();
        let broker_datas: Vec<BrokerData> = queues
            .keys()
            .filter_map(|name| self.brokers.get(name).cloned())
            .collect();
        if queue_datas.is_empty() || broker_datas.is_empty() {
            return None;
        }
        Some(TopicRouteData {
            broker_datas,
            queue_datas,
            ..Default::default()
        })
    }

    pub fn cluster_info(&self) -> ClusterInfo {
        ClusterInfo {
            broker_addr_table: self.brokers.clone(),
            cluster_addr_table: self.clusters.clone(),
        }
    }

    pub fn all_topics(&self) -> TopicList {
        TopicList {
            broker_addr: None,
            topic_list: self.topics.keys().cloned().collect(),
        }
    }

    /// Topics served by any broker of `cluster`.
    pub fn topics_of_cluster(&self, cluster: &str) -> TopicList {
        let names = self.clusters.get(cluster).cloned().unwrap_or_default();
        TopicList {
            broker_addr: None,
            topic_list: self
                .topics
                .iter()
                .filter(|(_, q)| q.keys().any(|b| names.contains(b)))
                .map(|(t, _)| t.clone())
                .collect(),
        }
    }

    /// DELETE_TOPIC_IN_NAMESRV.
    pub fn delete_topic(&mut self, topic: &str) {
        self.topics.remove(topic);
    }

    /// WIPE_WRITE_PERM_OF_BROKER: clear the write bit of `broker_name`'s queues; returns how many.
    pub fn wipe_write_perm(&mut self, broker_name: &str) -> i32 {
        let mut n = 0;
        for queues in self.topics.values_mut() {
            if let Some(q) = queues.get_mut(broker_name) {
                q.perm &= !crate::protocol::body::perm::WRITE;
                n += 1;
            }
        }
        n
    }

    /// ADD_WRITE_PERM_OF_BROKER: set the write bit of `broker_name`'s queues again; returns how
    /// many (the mirror of [`wipe_write_perm`](Self::wipe_write_perm)).
    pub fn add_write_perm(&mut self, broker_name: &str) -> i32 {
        let mut n = 0;
        for queues in self.topics.values_mut() {
            if let Some(q) = queues.get_mut(broker_name) {
                q.perm |= crate::protocol::body::perm::WRITE;
                n += 1;
            }
        }
        n
    }

    /// GET_SYSTEM_TOPIC_LIST_FROM_NS: every cluster name and broker name (each is a topic on its
    /// brokers), with one broker address to ask for the brokers' own system topics.
    pub fn system_topics(&self) -> TopicList {
        let mut topic_list = std::collections::BTreeSet::new();
        for (cluster, names) in &self.clusters {
            topic_list.insert(cluster.clone());
            topic_list.extend(names.iter().cloned());
        }
        let broker_addr = self
            .brokers
            .values()
            .find_map(|b| b.broker_addrs.values().next().cloned());
        TopicList {
            broker_addr,
            topic_list,
        }
    }

    /// QUERY_DATA_VERSION: has the broker's data version changed since its last registration?
    /// If not, the query counts as a sign of life.
    pub fn query_data_version(
        &mut self,
        broker_addr: &str,
        version: &DataVersion,
        now_ms: i64,
    ) -> (bool, Option<DataVersion>) {
        match self.live.get_mut(broker_addr) {
            Some(l) if l.data_version == *version => {
                l.last_update_ms = now_ms;
                (false, Some(l.data_version))
            }
            Some(l) => (true, Some(l.data_version)),
            None => (true, None),
        }
    }

    /// Number of live broker addresses.
    pub fn live_count(&self) -> usize {
        self.live.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::body::TopicConfig;

    fn reg(
        name: &str,
        addr: &str,
        id: i64,
        version: i64,
        topics: &[(&str, i32)],
        conn: ConnId,
    ) -> Registration {
        let mut w = TopicConfigSerializeWrapper::default();
        w.data_version.counter = version;
        for (t, q) in topics {
            w.topic_config_table
                .insert(t.to_string(), TopicConfig::new(t, *q));
        }
        Registration {
            cluster: "DefaultCluster".into(),
            broker_addr: addr.into(),
            broker_name: name.into(),
            broker_id: id,
            ha_server_addr: format!("{addr}-ha"),
            topics: Some(w),
            conn,
        }
    }

    #[test]
    fn master_registration_publishes_routes() {
        let mut t = RouteTable::new();
        t.register(reg("a", "10.0.0.1:10911", 0, 1, &[("T", 4)], 1), 0);
        t.register(
            reg("b", "10.0.0.2:10911", 0, 1, &[("T", 8), ("U", 2)], 2),
            0,
        );
        let r = t.route("T").unwrap();
        assert_eq!(r.queue_datas.len(), 2);
        assert_eq!(r.broker_datas.len(), 2);
        assert_eq!(r.queue_datas[1].write_queue_nums, 8);
        assert!(t.route("nope").is_none());
        assert_eq!(t.all_topics().topic_list.len(), 2);
        let ci = t.cluster_info();
        assert_eq!(ci.cluster_addr_table["DefaultCluster"].len(), 2);
    }

    #[test]
    fn slave_registration_does_not_change_queues_and_learns_master() {
        let mut t = RouteTable::new();
        t.register(reg("a", "m:1", 0, 1, &[("T", 4)], 1), 0);
        let res = t.register(reg("a", "s:1", 1, 1, &[("T", 16), ("X", 1)], 2), 0);
        assert_eq!(res.master_addr.as_deref(), Some("m:1"));
        assert_eq!(res.ha_server_addr.as_deref(), Some("m:1-ha"));
        assert_eq!(t.route("T").unwrap().queue_datas[0].read_queue_nums, 4);
        assert!(t.route("X").is_none());
        assert_eq!(t.route("T").unwrap().broker_datas[0].broker_addrs.len(), 2);
    }

    #[test]
    fn unchanged_data_version_keeps_queue_data() {
        let mut t = RouteTable::new();
        t.register(reg("a", "m:1", 0, 1, &[("T", 4)], 1), 0);
        // Same version, different content: ignored (the broker did not bump its version).
        t.register(reg("a", "m:1", 0, 1, &[("T", 8)], 1), 10);
        assert_eq!(t.route("T").unwrap().queue_datas[0].read_queue_nums, 4);
        // New version: applied.
        t.register(reg("a", "m:1", 0, 2, &[("T", 8)], 1), 20);
        assert_eq!(t.route("T").unwrap().queue_datas[0].read_queue_nums, 8);
    }

    #[test]
    fn expiry_drops_silent_brokers_and_their_topics() {
        let mut t = RouteTable::new();
        t.register(reg("a", "m:1", 0, 1, &[("T", 4)], 1), 0);
        t.register(reg("b", "n:1", 0, 1, &[("T", 4), ("Only", 1)], 2), 100_000);
        assert!(t.scan_not_active(120_000, 120_000).is_empty());
        assert_eq!(t.scan_not_active(120_001, 120_000), vec!["m:1".to_string()]);
        let r = t.route("T").unwrap();
        assert_eq!(r.queue_datas.len(), 1);
        assert_eq!(r.queue_datas[0].broker_name, "b");
        assert_eq!(t.scan_not_active(300_000, 120_000), vec!["n:1".to_string()]);
        assert!(t.route("T").is_none() && t.route("Only").is_none());
        assert!(t.cluster_info().cluster_addr_table.is_empty());
        assert_eq!(t.live_count(), 0);
    }

    #[test]
    fn closed_connection_drops_its_brokers_only() {
        let mut t = RouteTable::new();
        t.register(reg("a", "m:1", 0, 1, &[("T", 4)], 7), 0);
        t.register(reg("b", "n:1", 0, 1, &[("T", 4)], 8), 0);
        assert_eq!(t.connection_closed(7), vec!["m:1".to_string()]);
        assert_eq!(t.route("T").unwrap().broker_datas[0].broker_name, "b");
        assert!(t.connection_closed(99).is_empty());
    }

    #[test]
    fn unregister_slave_keeps_master() {
        let mut t = RouteTable::new();
        t.register(reg("a", "m:1", 0, 1, &[("T", 4)], 1), 0);
        t.register(reg("a", "s:1", 1, 1, &[], 2), 0);
        t.unregister("s:1", "a", 1);
        let r = t.route("T").unwrap();
        assert_eq!(r.broker_datas[0].broker_addrs.len(), 1);
        t.unregister("m:1", "a", 0);
        assert!(t.route("T").is_none());
    }

    #[test]
    fn same_address_new_id_replaces_old_id() {
        let mut t = RouteTable::new();
        t.register(reg("a", "x:1", 1, 1, &[], 1), 0);
        t.register(reg("a", "x:1", 0, 1, &[("T", 4)], 1), 0);
        let addrs = &t.route("T").unwrap().broker_datas[0].broker_addrs;
        assert_eq!(addrs.len(), 1);
        assert_eq!(addrs[&0], "x:1");
    }

    #[test]
    fn an_older_state_version_cannot_take_the_master_id_back() {
        let mut t = RouteTable::new();
        let with_state = |addr: &str, id: i64, state: i64| {
            let mut r = reg("a", addr, id, 1, &[("T", 4)], 1);
            r.topics.as_mut().unwrap().data_version.state_version = state;
            r
        };
        t.register(with_state("m:1", 0, 1), 0);
        t.register(with_state("s:1", 2, 1), 0);
        // s:1 is elected (epoch 2) and re-registers as id 0: it replaces m:1 there and drops id 2.
        t.register(with_state("s:1", 0, 2), 0);
        let addrs = |t: &RouteTable| t.route("T").unwrap().broker_datas[0].broker_addrs.clone();
        assert_eq!(addrs(&t), BTreeMap::from([(0, "s:1".to_string())]));
        // The old master, fenced (epoch 1), registers as id 0 again: refused.
        let r = t.register(with_state("m:1", 0, 1), 0);
        assert_eq!(r.master_addr, None);
        assert_eq!(addrs(&t), BTreeMap::from([(0, "s:1".to_string())]));
        // As a slave under its own id it is taken, and told its master.
        let r = t.register(with_state("m:1", 1, 2), 0);
        assert_eq!(r.master_addr.as_deref(), Some("s:1"));
        assert_eq!(addrs(&t).len(), 2);
        // A newer epoch takes id 0 over.
        t.register(with_state("m:1", 0, 3), 0);
        assert_eq!(addrs(&t), BTreeMap::from([(0, "m:1".to_string())]));
    }

    #[test]
    fn data_version_query_refreshes_liveness() {
        let mut t = RouteTable::new();
        t.register(reg("a", "m:1", 0, 5, &[("T", 4)], 1), 0);
        let v = DataVersion {
            state_version: 0,
            counter: 5,
            timestamp: 0,
        };
        assert_eq!(t.query_data_version("m:1", &v, 100_000), (false, Some(v)));
        assert!(t.scan_not_active(200_000, 120_000).is_empty());
        let v6 = DataVersion {
            state_version: 0,
            counter: 6,
            timestamp: 0,
        };
        assert!(t.query_data_version("m:1", &v6, 200_000).0);
    }

    #[test]
    fn wipe_write_perm_and_delete_topic() {
        let mut t = RouteTable::new();
        t.register(reg("a", "m:1", 0, 1, &[("T", 4), ("U", 4)], 1), 0);
        assert_eq!(t.wipe_write_perm("a"), 2);
        assert_eq!(t.route("T").unwrap().queue_datas[0].perm, 4);
        assert_eq!(t.add_write_perm("a"), 2);
        assert_eq!(t.route("T").unwrap().queue_datas[0].perm, 6);
        assert_eq!(t.add_write_perm("nobody"), 0);
        let sys = t.system_topics();
        assert!(
            sys.topic_list.contains("a") && sys.broker_addr.is_some(),
            "{sys:?}"
        );
        t.delete_topic("T");
        assert!(t.route("T").is_none());
        assert_eq!(t.topics_of_cluster("DefaultCluster").topic_list.len(), 1);
    }
}
