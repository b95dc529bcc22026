//! Broker liveness, kept in memory by every controller from BROKER_HEARTBEAT (904) and never
//! written to the Raft log (as RocketMQ 5): when a broker was last heard from, its timeout, and
//! what elections rank by (electionPriority, epoch, maxOffset). The leader's scan uses it to find
//! sets whose master went silent; a closed connection removes its brokers at once.

use std::collections::{HashMap, HashSet};

use crate::protocol::headers::BrokerHeartbeatRequestHeader;

/// RocketMQ's default `controllerHeartBeatTimeoutMills` when a heartbeat names none.
pub const DEFAULT_HEARTBEAT_TIMEOUT_MS: i64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerLive {
    pub cluster_name: String,
    pub address: String,
    pub last_ms: i64,
    pub timeout_ms: i64,
    pub epoch: i32,
    pub max_offset: i64,
    pub confirm_offset: i64,
    /// Lower wins elections.
    pub priority: i32,
    /// The connection the last heartbeat came on.
    pub conn_id: u64,
}

/// Liveness as the election policy sees it.
pub trait Liveness {
    fn is_alive(&self, broker_name: &str, id: i64) -> bool;
    /// The election rank of a live broker: smaller is better.
    fn rank(&self, broker_name: &str, id: i64) -> (i32, i64, i64);
}

/// The heartbeat table: (brokerName, brokerId) -> last heartbeat.
#[derive(Debug, Default)]
pub struct LiveTable {
    brokers: HashMap<(String, i64), BrokerLive>,
    /// Brokers this node saw go away (timeout or closed connection) and not come back.
    gone: HashSet<(String, i64)>,
    now_ms: i64,
}

impl LiveTable {
    /// Record a heartbeat (the header's `brokerId` must be present; the caller checks).
    pub fn heartbeat(
        &mut self,
        h: &BrokerHeartbeatRequestHeader,
        id: i64,
        conn_id: u64,
        now_ms: i64,
    ) {
        let entry = BrokerLive {
            cluster_name: h.cluster_name.clone(),
            address: h.broker_addr.clone(),
            last_ms: now_ms,
            timeout_ms: h
                .heartbeat_timeout_mills
                .filter(|t| *t > 0)
                .unwrap_or(DEFAULT_HEARTBEAT_TIMEOUT_MS),
            epoch: h.epoch.unwrap_or(-1),
            max_offset: h.max_offset.unwrap_or(-1),
            confirm_offset: h.confirm_offset.unwrap_or(-1),
            priority: h.election_priority.unwrap_or(i32::MAX),
            conn_id,
        };
        let key = (h.broker_name.clone(), id);
        self.gone.remove(&key);
        self.brokers.insert(key, entry);
    }

    /// The view at time `now_ms` (a broker is alive while its timeout has not passed).
    pub fn at(&mut self, now_ms: i64) -> &Self {
        self.now_ms = now_ms;
        self
    }

    pub fn get(&self, broker_name: &str, id: i64) -> Option<&BrokerLive> {
        self.brokers.get(&(broker_name.to_string(), id))
    }

    /// Drop brokers whose timeout passed; returns them (brokerName, id).
    pub fn expire(&mut self, now_ms: i64) -> Vec<(String, i64)> {
        let dead: Vec<(String, i64)> = self
            .brokers
            .iter()
            .filter(|(_, b)| now_ms - b.last_ms > b.timeout_ms)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &dead {
            self.brokers.remove(k);
            self.gone.insert(k.clone());
        }
        dead
    }

    /// A connection closed: its brokers count as gone at once. Returns them.
    pub fn connection_closed(&mut self, conn_id: u64) -> Vec<(String, i64)> {
        let gone: Vec<(String, i64)> = self
            .brokers
            .iter()
            .filter(|(_, b)| b.conn_id == conn_id)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &gone {
            self.brokers.remove(k);
            self.gone.insert(k.clone());
        }
        gone
    }

    /// Whether this node saw the broker go away (rather than never hearing from it).
    pub fn seen_gone(&self, broker_name: &str, id: i64) -> bool {
        self.gone.contains(&(broker_name.to_string(), id))
    }

    /// The largest heartbeat timeout among the live brokers of a set (None: none is live).
    pub fn max_timeout(&self, broker_name: &str) -> Option<i64> {
        self.brokers
            .iter()
            .filter(|((n, _), _)| n == broker_name)
            .map(|(_, b)| b.timeout_ms)
            .max()
    }
}

impl Liveness for LiveTable {
    fn is_alive(&self, broker_name: &str, id: i64) -> bool {
        self.get(broker_name, id)
            .is_some_and(|b| self.now_ms - b.last_ms <= b.timeout_ms)
    }

    fn rank(&self, broker_name: &str, id: i64) -> (i32, i64, i64) {
        self.get(broker_name, id).map_or((i32::MAX, 1, 1), |b| {
            (b.priority, -(b.epoch as i64), -b.max_offset)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hb(
        name: &str,
        addr: &str,
        timeout: i64,
        epoch: i32,
        max: i64,
    ) -> BrokerHeartbeatRequestHeader {
        BrokerHeartbeatRequestHeader {
            cluster_name: "c".into(),
            broker_addr: addr.into(),
            broker_name: name.into(),
            broker_id: None,
            epoch: Some(epoch),
            max_offset: Some(max),
            heartbeat_timeout_mills: Some(timeout),
            ..Default::default()
        }
    }

    #[test]
    fn heartbeats_expire_and_rank() {
        let mut t = LiveTable::default();
        t.heartbeat(&hb("b", "a:1", 1000, 1, 10), 1, 7, 0);
        t.heartbeat(&hb("b", "a:2", 3000, 2, 5), 2, 8, 0);
        assert!(t.at(900).is_alive("b", 1));
        assert!(!t.at(1500).is_alive("b", 1));
        assert!(t.at(1500).is_alive("b", 2));
        assert!(t.rank("b", 2) < t.rank("b", 1), "higher epoch wins");
        assert_eq!(t.max_timeout("b"), Some(3000));
        assert_eq!(t.expire(1500), vec![("b".to_string(), 1)]);
        assert!(t.seen_gone("b", 1));
        assert_eq!(t.connection_closed(8), vec![("b".to_string(), 2)]);
        assert!(t.seen_gone("b", 2));
        t.heartbeat(&hb("b", "a:2", 3000, 2, 5), 2, 9, 2000);
        assert!(!t.seen_gone("b", 2));
        t.connection_closed(9);
        assert_eq!(t.max_timeout("b"), None);
    }
}
