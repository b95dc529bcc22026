//! Which broker of a broker set (one `brokerName`: master id 0, slaves > 0) a request goes to,
//! as plain functions over the set's id -> address map (docs/protocol.md §8):
//!
//! * pulls ([`in_subscribe`], Java's `findBrokerAddressInSubscribe`): the broker id the last pull
//!   answer suggested (`suggestWhichBrokerId`, remembered per queue by [`PullFromWhichNode`]);
//!   for a missing slave id the next id; else, when not restricted to that broker, any broker of
//!   the set, so a consumer keeps reading from a slave while the master is out of the route;
//! * offsets ([`in_admin`], `findBrokerAddressInAdmin`): the master when present, else any broker
//!   of the set;
//! * sends, send-backs and queue locks stay master-only (`RouteTable::master_addr`).

use std::collections::{BTreeMap, HashMap};

use crate::protocol::body::MessageQueue;

/// The master's broker id.
pub const MASTER_ID: i64 = 0;

/// A chosen broker: its address and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundBroker {
    pub addr: String,
    pub broker_id: i64,
}

impl FoundBroker {
    pub fn is_slave(&self) -> bool {
        self.broker_id != MASTER_ID
    }

    fn of((id, addr): (&i64, &String)) -> FoundBroker {
        FoundBroker {
            addr: addr.clone(),
            broker_id: *id,
        }
    }
}

/// The broker to pull from: `broker_id` itself; for a slave id that is absent, the next id;
/// else (unless `only_this_broker`) the lowest id of the set.
pub fn in_subscribe(
    addrs: &BTreeMap<i64, String>,
    broker_id: i64,
    only_this_broker: bool,
) -> Option<FoundBroker> {
    let exact = |id: i64| addrs.get_key_value(&id).map(FoundBroker::of);
    exact(broker_id)
        .or_else(|| {
            (broker_id != MASTER_ID)
                .then(|| exact(broker_id + 1))
                .flatten()
        })
        .or_else(|| {
            (!only_this_broker)
                .then(|| addrs.iter().next().map(FoundBroker::of))
                .flatten()
        })
}

/// The broker for offset queries and commits: the master when present, else any broker of the
/// set (the lowest id).
pub fn in_admin(addrs: &BTreeMap<i64, String>) -> Option<FoundBroker> {
    addrs.iter().next().map(FoundBroker::of)
}

/// Per queue, the broker id the last pull answer suggested (`PullAPIWrapper`'s
/// `pullFromWhichNodeTable`); the master until a pull answered otherwise.
#[derive(Debug, Default)]
pub struct PullFromWhichNode {
    table: HashMap<MessageQueue, i64>,
}

impl PullFromWhichNode {
    pub fn update(&mut self, mq: &MessageQueue, suggested: i64) {
        match self.table.get_mut(mq) {
            Some(id) => *id = suggested,
            None => {
                self.table.insert(mq.clone(), suggested);
            }
        }
    }

    /// The broker id to pull `mq` from next.
    pub fn which(&self, mq: &MessageQueue) -> i64 {
        self.table.get(mq).copied().unwrap_or(MASTER_ID)
    }

    /// Forget a queue (no longer assigned).
    pub fn remove(&mut self, mq: &MessageQueue) {
        self.table.remove(mq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[i64]) -> BTreeMap<i64, String> {
        ids.iter().map(|i| (*i, format!("b{i}:10911"))).collect()
    }

    fn id(f: Option<FoundBroker>) -> Option<i64> {
        f.map(|f| f.broker_id)
    }

    #[test]
    fn pulls_go_to_the_suggested_broker_else_any_of_the_set() {
        let both = set(&[0, 1]);
        assert_eq!(id(in_subscribe(&both, 0, false)), Some(0));
        assert_eq!(id(in_subscribe(&both, 1, false)), Some(1));
        let found = in_subscribe(&both, 1, false).unwrap();
        assert!(found.is_slave());
        assert_eq!(found.addr, "b1:10911");
        // Master gone from the route: the slave.
        let slave_only = set(&[1]);
        assert_eq!(id(in_subscribe(&slave_only, 0, false)), Some(1));
        assert_eq!(id(in_subscribe(&slave_only, 0, true)), None);
        // A missing slave id: the next one, else any.
        assert_eq!(id(in_subscribe(&set(&[0, 2]), 1, true)), Some(2));
        assert_eq!(id(in_subscribe(&set(&[0, 3]), 1, true)), None);
        assert_eq!(id(in_subscribe(&set(&[0, 3]), 1, false)), Some(0));
        // Slave gone: back to the master.
        assert_eq!(id(in_subscribe(&set(&[0]), 1, false)), Some(0));
        assert_eq!(id(in_subscribe(&set(&[]), 0, false)), None);
    }

    #[test]
    fn offsets_go_to_the_master_else_any_of_the_set() {
        assert_eq!(id(in_admin(&set(&[0, 1]))), Some(0));
        assert_eq!(id(in_admin(&set(&[2, 1]))), Some(1));
        assert_eq!(in_admin(&set(&[])), None);
        assert!(!in_admin(&set(&[0, 1])).unwrap().is_slave());
    }

    #[test]
    fn pull_node_table_remembers_the_last_suggestion_per_queue() {
        let (a, b) = (
            MessageQueue::new("T", "a", 0),
            MessageQueue::new("T", "a", 1),
        );
        let mut t = PullFromWhichNode::default();
        assert_eq!(t.which(&a), MASTER_ID);
        t.update(&a, 1);
        assert_eq!((t.which(&a), t.which(&b)), (1, 0));
        t.update(&a, 0);
        assert_eq!(t.which(&a), 0);
        t.update(&b, 1);
        t.remove(&b);
        assert_eq!(t.which(&b), MASTER_ID);
    }
}
