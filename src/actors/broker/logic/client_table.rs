//! The broker's client registry (Java's `ProducerManager` + `ConsumerManager`): who is connected,
//! in which producer and consumer groups, with which subscriptions (docs/protocol.md §7.5).
//!
//! Entries are kept per (group, connection) because that is what liveness is about: a heartbeat
//! refreshes the entries of the groups it names, a closed connection drops all its entries, and an
//! entry silent for longer than the expiry (120 s) is dropped by [`ClientTable::scan_expired`].
//! Every mutation that can change who is in a consumer group reports the consumer groups whose
//! membership changed, because those groups must be sent NOTIFY_CONSUMER_IDS_CHANGED so their
//! members rebalance; the actor does the sending (to [`ClientTable::connections_of`]).
//!
//! "Membership changed" is: the set of client ids in the group changed, or its set of subscribed
//! topics changed. A newer `subVersion` for an already subscribed topic replaces the subscription
//! but is not a membership change (Java does the same: rebalancing depends only on topics).
//! A heartbeat's subscription list is the group's whole list, as in Java: topics it lacks are
//! removed.
//!
//! Each group's message model and subscriptions live in a shared [`GroupSubscriptions`], changed
//! copy-on-write, so [`ClientTable::snapshot_if_changed`] can hand the pull path an immutable
//! [`SubscriptionSnapshot`] (one `Arc` per group) whenever they changed, and not otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::heartbeat_rules::{self, HeartbeatError, HeartbeatLimits};
pub use super::subscription_view::PullSubscriptionError;
use super::subscription_view::{GroupSubscriptions, SubscriptionSnapshot};
use crate::protocol::body::{
    Connection, ConsumeFromWhere, ConsumeType, ConsumerConnection, ConsumerData, HeartbeatData,
    MessageModel, ProducerConnection, SubscriptionData,
};
use crate::protocol::command::LanguageCode;

/// Identifies a client connection (assigned by the accept loop).
pub type ConnId = u64;

/// The facts a request arrives with: which connection, and who the client says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub conn: ConnId,
    pub client_id: String,
    /// The peer's `ip:port`.
    pub addr: String,
    pub language: LanguageCode,
    /// The client's MQVersion ordinal.
    pub version: i32,
}

/// One (group, connection) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientEntry {
    pub info: ClientInfo,
    pub last_heartbeat_ms: i64,
}

impl ClientEntry {
    fn connection(&self) -> Connection {
        Connection {
            client_addr: self.info.addr.clone(),
            client_id: self.info.client_id.clone(),
            language: self.info.language.name().to_string(),
            version: self.info.version,
        }
    }
}

/// A consumer group as the broker sees it.
#[derive(Debug, Clone)]
pub struct ConsumerGroup {
    /// The name, shared with the snapshots' keys.
    name: Arc<str>,
    consume_type: ConsumeType,
    consume_from_where: ConsumeFromWhere,
    /// Message model and subscriptions, shared with the published snapshot.
    view: Arc<GroupSubscriptions>,
    entries: BTreeMap<ConnId, ClientEntry>,
}

impl ConsumerGroup {
    fn new(name: &str) -> Self {
        ConsumerGroup {
            name: Arc::from(name),
            consume_type: ConsumeType::default(),
            consume_from_where: ConsumeFromWhere::default(),
            view: Arc::default(),
            entries: BTreeMap::new(),
        }
    }
    pub fn consume_type(&self) -> ConsumeType {
        self.consume_type
    }
    pub fn message_model(&self) -> MessageModel {
        self.view.message_model()
    }
    pub fn consume_from_where(&self) -> ConsumeFromWhere {
        self.consume_from_where
    }
    pub fn subscriptions(&self) -> &BTreeMap<String, SubscriptionData> {
        self.view.subscriptions()
    }
    pub fn entries(&self) -> impl Iterator<Item = &ClientEntry> {
        self.entries.values()
    }

    fn client_ids(&self) -> BTreeSet<&str> {
        self.entries
            .values()
            .map(|e| e.info.client_id.as_str())
            .collect()
    }
}

/// What an expiry scan removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expired {
    /// Connections that had at least one expired entry (Java closes them).
    pub conns: BTreeSet<ConnId>,
    /// Consumer groups whose membership changed.
    pub changed_groups: Vec<String>,
}

/// The groups one connection has entries in (kept in step with the group maps, so a connection's
/// groups are found without scanning every group).
#[derive(Debug, Clone, Default)]
struct ConnGroups {
    consumers: BTreeSet<String>,
    producers: BTreeSet<String>,
}

/// The registry.
#[derive(Debug, Clone, Default)]
pub struct ClientTable {
    consumers: BTreeMap<String, ConsumerGroup>,
    producers: BTreeMap<String, BTreeMap<ConnId, ClientEntry>>,
    by_conn: BTreeMap<ConnId, ConnGroups>,
    /// A group's message model or subscriptions changed, or a group came or went, since the last
    /// [`ClientTable::snapshot_if_changed`].
    view_changed: bool,
}

impl ClientTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Register (or refresh) a client in a consumer group from its heartbeat data. True when the
    /// group's membership changed (→ notify the group).
    pub fn register_consumer(
        &mut self,
        client: &ClientInfo,
        data: &ConsumerData,
        now_ms: i64,
    ) -> bool {
        self.by_conn
            .entry(client.conn)
            .or_default()
            .consumers
            .insert(data.group_name.clone());
        let group = match self.consumers.entry(data.group_name.clone()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                self.view_changed = true;
                let g = ConsumerGroup::new(e.key());
                e.insert(g)
            }
        };
        let ids_before: BTreeSet<String> =
            group.client_ids().into_iter().map(String::from).collect();
        group.consume_type = data.consume_type;
        self.view_changed |=
            GroupSubscriptions::set_message_model(&mut group.view, data.message_model);
        group.consume_from_where = data.consume_from_where;
        group.entries.insert(
            client.conn,
            ClientEntry {
                info: client.clone(),
                last_heartbeat_ms: now_ms,
            },
        );
        let ids_changed = group
            .client_ids()
            .into_iter()
            .ne(ids_before.iter().map(String::as_str));
        let subs =
            GroupSubscriptions::apply_subscriptions(&mut group.view, &data.subscription_data_set);
        self.view_changed |= subs.any;
        ids_changed || subs.topics
    }

    /// Register (or refresh) a client in a producer group.
    pub fn register_producer(&mut self, client: &ClientInfo, group: &str, now_ms: i64) {
        self.by_conn
            .entry(client.conn)
            .or_default()
            .producers
            .insert(group.to_string());
        self.producers.entry(group.to_string()).or_default().insert(
            client.conn,
            ClientEntry {
                info: client.clone(),
                last_heartbeat_ms: now_ms,
            },
        );
    }

    /// A whole HEART_BEAT: every producer and consumer group in it (entries with a blank group
    /// name are skipped). Returns the consumer groups whose membership changed, each once. (The
    /// caller still auto-creates subscription groups and retry topics per consumer group.)
    ///
    /// Refused, changing nothing, when it breaks a bound of `limits`, including when the groups
    /// this connection is already in plus the new ones would pass `max_groups_per_client`.
    /// Linear in the heartbeat's size (times the log of the table's).
    pub fn heartbeat(
        &mut self,
        client: &ClientInfo,
        hb: &HeartbeatData,
        now_ms: i64,
        limits: &HeartbeatLimits,
    ) -> Result<Vec<String>, HeartbeatError> {
        heartbeat_rules::check(hb, limits)?;
        let consumers = heartbeat_rules::consumer_groups(hb);
        let producers = heartbeat_rules::producer_groups(hb);
        if let Some(known) = self.by_conn.get(&client.conn) {
            let total = |known: &BTreeSet<String>, named: &BTreeSet<&str>| {
                known.len() + named.iter().filter(|g| !known.contains(**g)).count()
            };
            for (kind, groups) in [
                ("consumer", total(&known.consumers, &consumers)),
                ("producer", total(&known.producers, &producers)),
            ] {
                if groups > limits.max_groups_per_client {
                    return Err(HeartbeatError::TooManyGroups {
                        client: client.client_id.clone(),
                        kind,
                        groups,
                        limit: limits.max_groups_per_client,
                    });
                }
            }
        }
        for p in producers {
            self.register_producer(client, p, now_ms);
        }
        let mut changed = BTreeSet::new();
        for c in &hb.consumer_data_set {
            if !c.group_name.trim().is_empty() && self.register_consumer(client, c, now_ms) {
                changed.insert(c.group_name.clone());
            }
        }
        Ok(changed.into_iter().collect())
    }

    /// UNREGISTER_CLIENT: drop the client's entries (this connection, or any with its client id)
    /// from the named groups. Returns the consumer groups whose membership changed.
    pub fn unregister(
        &mut self,
        client_id: &str,
        producer_group: Option<&str>,
        consumer_group: Option<&str>,
        conn: ConnId,
    ) -> Vec<String> {
        let gone = |e: &ClientEntry| e.info.conn == conn || e.info.client_id == client_id;
        if let Some(pg) = producer_group {
            self.remove_producer_entries(pg, gone);
        }
        let mut changed = Vec::new();
        if let Some(cg) = consumer_group {
            if self.remove_consumer_entries(cg, |e| gone(e)) {
                changed.push(cg.to_string());
            }
        }
        changed
    }

    /// Remove matching entries from a producer group (dropping the group when empty).
    fn remove_producer_entries(&mut self, group: &str, pred: impl Fn(&ClientEntry) -> bool) {
        let Some(entries) = self.producers.get_mut(group) else {
            return;
        };
        let gone: Vec<ConnId> = entries
            .values()
            .filter(|e| pred(e))
            .map(|e| e.info.conn)
            .collect();
        for conn in &gone {
            entries.remove(conn);
        }
        if entries.is_empty() {
            self.producers.remove(group);
        }
        for conn in gone {
            self.unindex(conn, group, false);
        }
    }

    /// Remove matching entries from a consumer group (dropping the group when empty); true when
    /// its client-id set changed.
    fn remove_consumer_entries(
        &mut self,
        group: &str,
        pred: impl Fn(&ClientEntry) -> bool,
    ) -> bool {
        let Some(g) = self.consumers.get_mut(group) else {
            return false;
        };
        let before: BTreeSet<String> = g.client_ids().into_iter().map(String::from).collect();
        let gone: Vec<ConnId> = g
            .entries
            .values()
            .filter(|e| pred(e))
            .map(|e| e.info.conn)
            .collect();
        for conn in &gone {
            g.entries.remove(conn);
        }
        let after: BTreeSet<String> = g.client_ids().into_iter().map(String::from).collect();
        if g.entries.is_empty() {
            self.consumers.remove(group);
            self.view_changed = true;
        }
        for conn in gone {
            self.unindex(conn, group, true);
        }
        before != after
    }

    /// Forget that `conn` is in `group`.
    fn unindex(&mut self, conn: ConnId, group: &str, consumer: bool) {
        if let Some(ix) = self.by_conn.get_mut(&conn) {
            if consumer {
                ix.consumers.remove(group);
            } else {
                ix.producers.remove(group);
            }
            if ix.consumers.is_empty() && ix.producers.is_empty() {
                self.by_conn.remove(&conn);
            }
        }
    }

    /// A connection closed: drop all its entries. Returns the consumer groups that changed.
    pub fn connection_closed(&mut self, conn: ConnId) -> Vec<String> {
        let Some(ix) = self.by_conn.remove(&conn) else {
            return Vec::new();
        };
        for p in &ix.producers {
            self.remove_producer_entries(p, |e| e.info.conn == conn);
        }
        ix.consumers
            .into_iter()
            .filter(|g| self.remove_consumer_entries(g, |e| e.info.conn == conn))
            .collect()
    }

    /// Groups (consumer, producer) a connection is in.
    pub fn groups_of(&self, conn: ConnId) -> (usize, usize) {
        self.by_conn
            .get(&conn)
            .map_or((0, 0), |ix| (ix.consumers.len(), ix.producers.len()))
    }

    /// Drop entries whose last heartbeat is more than `expiry_ms` before `now_ms` (exactly
    /// `expiry_ms` old is still alive).
    pub fn scan_expired(&mut self, now_ms: i64, expiry_ms: i64) -> Expired {
        let dead = |e: &ClientEntry| now_ms - e.last_heartbeat_ms > expiry_ms;
        let mut out = Expired::default();
        let pgroups: Vec<String> = self.producers.keys().cloned().collect();
        for g in pgroups {
            if let Some(entries) = self.producers.get(&g) {
                out.conns
                    .extend(entries.values().filter(|e| dead(e)).map(|e| e.info.conn));
            }
            self.remove_producer_entries(&g, dead);
        }
        let groups: Vec<String> = self.consumers.keys().cloned().collect();
        for g in groups {
            if let Some(group) = self.consumers.get(&g) {
                out.conns.extend(
                    group
                        .entries
                        .values()
                        .filter(|e| dead(e))
                        .map(|e| e.info.conn),
                );
            }
            if self.remove_consumer_entries(&g, dead) {
                out.changed_groups.push(g);
            }
        }
        out
    }

    pub fn consumer_group(&self, group: &str) -> Option<&ConsumerGroup> {
        self.consumers.get(group)
    }

    /// Names of all consumer groups with a live member.
    pub fn consumer_groups(&self) -> Vec<String> {
        self.consumers.keys().cloned().collect()
    }

    /// GET_CONSUMER_LIST_BY_GROUP: the group's client ids, sorted, without duplicates.
    pub fn consumer_ids(&self, group: &str) -> Vec<String> {
        self.consumers
            .get(group)
            .map(|g| g.client_ids().into_iter().map(String::from).collect())
            .unwrap_or_default()
    }

    /// The connections to send NOTIFY_CONSUMER_IDS_CHANGED to.
    pub fn connections_of(&self, group: &str) -> Vec<ConnId> {
        self.consumers
            .get(group)
            .map(|g| g.entries.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Every online group's message model and subscriptions, sharing the table's values.
    pub fn snapshot(&self) -> SubscriptionSnapshot {
        SubscriptionSnapshot::new(
            self.consumers
                .values()
                .map(|g| (g.name.clone(), g.view.clone()))
                .collect(),
        )
    }

    /// A new [`snapshot`](Self::snapshot) if a group's message model or subscriptions changed,
    /// or a group came or went, since the last call; `None` otherwise (e.g. a heartbeat that only
    /// refreshed its members).
    pub fn snapshot_if_changed(&mut self) -> Option<SubscriptionSnapshot> {
        std::mem::take(&mut self.view_changed).then(|| self.snapshot())
    }

    /// Consumer groups subscribed to `topic`.
    pub fn groups_subscribing(&self, topic: &str) -> Vec<String> {
        self.consumers
            .iter()
            .filter(|(_, g)| g.subscriptions().contains_key(topic))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The connection of a given consumer client (GET_CONSUMER_RUNNING_INFO forwarding).
    pub fn consumer_conn(&self, group: &str, client_id: &str) -> Option<ConnId> {
        self.consumers
            .get(group)?
            .entries
            .values()
            .find(|e| e.info.client_id == client_id)
            .map(|e| e.info.conn)
    }

    /// One live connection of a producer group (the most recently heard from), e.g. for
    /// CHECK_TRANSACTION_STATE.
    pub fn producer_connection_for_group(&self, group: &str) -> Option<ConnId> {
        self.producers
            .get(group)?
            .values()
            .max_by_key(|e| (e.last_heartbeat_ms, e.info.conn))
            .map(|e| e.info.conn)
    }

    /// GET_CONSUMER_CONNECTION_LIST body; `None` when the group has no live member.
    pub fn consumer_connection(&self, group: &str) -> Option<ConsumerConnection> {
        let g = self.consumers.get(group)?;
        Some(ConsumerConnection {
            connection_set: g.entries.values().map(ClientEntry::connection).collect(),
            consume_from_where: g.consume_from_where,
            consume_type: g.consume_type,
            message_model: g.message_model(),
            subscription_table: g.subscriptions().clone(),
        })
    }

    /// Live producer connections by (language, version), for `rocketmq_producer_connections`; a
    /// connection in several producer groups counts once.
    pub fn producer_connection_counts(&self) -> BTreeMap<(String, i32), u64> {
        let mut out = BTreeMap::new();
        for (conn, groups) in &self.by_conn {
            let entry = groups
                .producers
                .iter()
                .find_map(|g| self.producers.get(g)?.get(conn));
            if let Some(e) = entry {
                let key = (e.info.language.name().to_string(), e.info.version);
                *out.entry(key).or_insert(0) += 1;
            }
        }
        out
    }

    /// GET_ALL_PRODUCER_INFO body: every live producer by group.
    pub fn producer_table(&self) -> crate::protocol::body::admin::ProducerTableInfo {
        let info = |e: &ClientEntry| crate::protocol::body::admin::ProducerInfo {
            client_id: e.info.client_id.clone(),
            language: e.info.language.name().to_string(),
            last_update_timestamp: e.last_heartbeat_ms,
            remote_ip: e.info.addr.clone(),
            version: e.info.version,
        };
        let data = self
            .producers
            .iter()
            .filter(|(_, entries)| !entries.is_empty())
            .map(|(g, entries)| (g.clone(), entries.values().map(info).collect()))
            .collect();
        crate::protocol::body::admin::ProducerTableInfo { data }
    }

    /// GET_PRODUCER_CONNECTION_LIST body; `None` when the group has no live member.
    pub fn producer_connection(&self, group: &str) -> Option<ProducerConnection> {
        let entries = self.producers.get(group)?;
        Some(ProducerConnection {
            connection_set: entries.values().map(ClientEntry::connection).collect(),
        })
    }
}

#[cfg(test)]
#[path = "client_table_tests.rs"]
mod tests;
