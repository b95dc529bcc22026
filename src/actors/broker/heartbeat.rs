//! `HeartbeatActor`: the broker's client registry.
//!
//! - Owns: the `ClientTable` (producer and consumer groups, their subscriptions and connections)
//!   and the address of each client connection.
//! - Publishes: after every change of a consumer group's message model or subscriptions (or a
//!   group coming or going), a new `SubscriptionSnapshot` into the `SharedSubscriptions` it
//!   shares with `BrokerCtx::subscriptions`. Its one reader is the PULL_MESSAGE handler, for
//!   pulls without the SUBSCRIPTION flag, so pulls never wait on this actor. A heartbeat's
//!   snapshot is published before the heartbeat is answered.
//! - Handles: `ClientHeartbeat` and `UnregisterClient` (from the HEART_BEAT / UNREGISTER_CLIENT
//!   handlers), `ConnectionGone` (from the dispatcher when a socket closes), the queries of the
//!   consumer-list and admin handlers and the metrics endpoint (not of the pull handler; the admin ones include the
//!   producer table and the consumer connections a reset or a relayed request goes to), and its
//!   own scan every `clientScanInterval` that drops clients silent for
//!   `clientChannelExpiredTime` and closes their connections.
//! - Sends: NOTIFY_CONSUMER_IDS_CHANGED (oneway, JSON) to every remaining member of a consumer
//!   group whose membership changed (join, leave, expiry, closed connection), so they rebalance
//!   at once. CHECK_TRANSACTION_STATE (oneway), built by the `TransactionActor`, to one live
//!   producer of the half message's group (`CheckTransactionState`).
//! - Runs on: the broker's control arbiter.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use parking_lot::RwLock;
use tracing::info;

use super::logic::client_table::{ClientInfo, ClientTable, ConnId};
use super::logic::groups::SubscriptionGroupTable;
use super::logic::heartbeat_rules::{HeartbeatError, HeartbeatLimits};
use super::logic::subscription_view::SharedSubscriptions;
use crate::actors::net::{Close, Connection, Outbound};
use crate::clock::now_ms;
use crate::protocol::body::admin::ProducerTableInfo;
use crate::protocol::body::broker::{ConsumerConnection, ProducerConnection};
use crate::protocol::body::heartbeat::HeartbeatData;
use crate::protocol::codes::request_code;
use crate::protocol::headers::client::NotifyConsumerIdsChangedRequestHeader;
use crate::protocol::RemotingCommand;

pub struct HeartbeatActor {
    table: ClientTable,
    conns: HashMap<ConnId, Addr<Connection>>,
    groups: Arc<RwLock<SubscriptionGroupTable>>,
    subscriptions: Arc<SharedSubscriptions>,
    scan_interval: Duration,
    expiry_ms: i64,
    limits: HeartbeatLimits,
}

impl HeartbeatActor {
    pub fn new(
        groups: Arc<RwLock<SubscriptionGroupTable>>,
        subscriptions: Arc<SharedSubscriptions>,
        scan_interval: Duration,
        expiry: Duration,
        limits: HeartbeatLimits,
    ) -> Self {
        HeartbeatActor {
            table: ClientTable::new(),
            conns: HashMap::new(),
            groups,
            subscriptions,
            scan_interval,
            expiry_ms: expiry.as_millis() as i64,
            limits,
        }
    }

    /// After a mutation of the table: publish a new subscription snapshot if it changed one.
    fn publish(&mut self) {
        if let Some(snapshot) = self.table.snapshot_if_changed() {
            self.subscriptions.store(snapshot);
        }
    }

    /// Tell every member of each changed group to rebalance (if the group wants to be told):
    /// one NOTIFY per (changed group, member connection), so a client in G changed groups gets G
    /// notifications, and G is bounded by `maxGroupsPerClient`. `groups` holds each group once.
    fn notify(&self, groups: &[String]) {
        for g in groups {
            let enabled = self
                .groups
                .read()
                .get(g)
                .map(|c| c.notify_consumer_ids_changed_enable)
                .unwrap_or(true);
            let members = self.table.connections_of(g);
            info!(group = %g, members = members.len(), "consumer group changed");
            if !enabled {
                continue;
            }
            for conn in members {
                if let Some(addr) = self.conns.get(&conn) {
                    let mut cmd = RemotingCommand::request_with(
                        request_code::NOTIFY_CONSUMER_IDS_CHANGED,
                        &NotifyConsumerIdsChangedRequestHeader {
                            consumer_group: g.clone(),
                        },
                    );
                    cmd.mark_oneway();
                    addr.do_send(Outbound(cmd));
                }
            }
        }
    }
}

impl Actor for HeartbeatActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(4096);
        ctx.run_interval(self.scan_interval, |act, _ctx| {
            let expired = act.table.scan_expired(now_ms(), act.expiry_ms);
            for conn in &expired.conns {
                info!(
                    conn,
                    "client expired: no heartbeat within the expiry time; closing"
                );
                if let Some(addr) = act.conns.remove(conn) {
                    addr.do_send(Close);
                }
            }
            act.publish();
            act.notify(&expired.changed_groups);
        });
    }
}

/// A HEART_BEAT from a client. Sender: the HEART_BEAT handler. Refused (nothing registered)
/// when it would pass a bound.
#[derive(Message)]
#[rtype(result = "Result<(), HeartbeatError>")]
pub struct ClientHeartbeat {
    pub client: ClientInfo,
    pub conn: Addr<Connection>,
    pub data: HeartbeatData,
}

impl Handler<ClientHeartbeat> for HeartbeatActor {
    type Result = Result<(), HeartbeatError>;
    fn handle(&mut self, m: ClientHeartbeat, _: &mut Self::Context) -> Self::Result {
        let changed = self
            .table
            .heartbeat(&m.client, &m.data, now_ms(), &self.limits)?;
        self.conns.insert(m.client.conn, m.conn);
        self.publish();
        self.notify(&changed);
        Ok(())
    }
}

/// UNREGISTER_CLIENT. Sender: its handler.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UnregisterClient {
    pub client_id: String,
    pub producer_group: Option<String>,
    pub consumer_group: Option<String>,
    pub conn: ConnId,
}

impl Handler<UnregisterClient> for HeartbeatActor {
    type Result = ();
    fn handle(&mut self, m: UnregisterClient, _: &mut Self::Context) {
        let changed = self.table.unregister(
            &m.client_id,
            m.producer_group.as_deref(),
            m.consumer_group.as_deref(),
            m.conn,
        );
        self.publish();
        self.notify(&changed);
    }
}

/// A client connection closed. Sender: the broker dispatcher.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ConnectionGone(pub ConnId);

impl Handler<ConnectionGone> for HeartbeatActor {
    type Result = ();
    fn handle(&mut self, m: ConnectionGone, _: &mut Self::Context) {
        self.conns.remove(&m.0);
        let changed = self.table.connection_closed(m.0);
        self.publish();
        self.notify(&changed);
    }
}

/// GET_CONSUMER_LIST_BY_GROUP: the group's client ids, sorted.
#[derive(Message)]
#[rtype(result = "Vec<String>")]
pub struct GetConsumerIds(pub String);

impl Handler<GetConsumerIds> for HeartbeatActor {
    type Result = MessageResult<GetConsumerIds>;
    fn handle(&mut self, m: GetConsumerIds, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.table.consumer_ids(&m.0))
    }
}

/// GET_CONSUMER_CONNECTION_LIST.
#[derive(Message)]
#[rtype(result = "Option<ConsumerConnection>")]
pub struct GetConsumerConnection(pub String);

impl Handler<GetConsumerConnection> for HeartbeatActor {
    type Result = MessageResult<GetConsumerConnection>;
    fn handle(&mut self, m: GetConsumerConnection, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.table.consumer_connection(&m.0))
    }
}

/// GET_PRODUCER_CONNECTION_LIST.
#[derive(Message)]
#[rtype(result = "Option<ProducerConnection>")]
pub struct GetProducerConnection(pub String);

impl Handler<GetProducerConnection> for HeartbeatActor {
    type Result = MessageResult<GetProducerConnection>;
    fn handle(&mut self, m: GetProducerConnection, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.table.producer_connection(&m.0))
    }
}

/// GET_ALL_PRODUCER_INFO.
#[derive(Message)]
#[rtype(result = "ProducerTableInfo")]
pub struct GetProducerTable;

impl Handler<GetProducerTable> for HeartbeatActor {
    type Result = MessageResult<GetProducerTable>;
    fn handle(&mut self, _: GetProducerTable, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.table.producer_table())
    }
}

/// The connections of a consumer group's online members (RESET_CONSUMER_CLIENT_OFFSET is
/// pushed to each), or of one member `client_id` (GET_CONSUMER_RUNNING_INFO and
/// CONSUME_MESSAGE_DIRECTLY are relayed to it).
#[derive(Message)]
#[rtype(result = "Vec<Addr<Connection>>")]
pub struct ConsumerConnections {
    pub group: String,
    pub client_id: Option<String>,
}

impl Handler<ConsumerConnections> for HeartbeatActor {
    type Result = MessageResult<ConsumerConnections>;
    fn handle(&mut self, m: ConsumerConnections, _: &mut Self::Context) -> Self::Result {
        let members = self
            .table
            .consumer_group(&m.group)
            .map(|g| g.entries().map(|e| e.info.clone()).collect::<Vec<_>>())
            .unwrap_or_default();
        let picked = members
            .into_iter()
            .filter(|i| m.client_id.as_ref().is_none_or(|c| *c == i.client_id))
            .filter_map(|i| self.conns.get(&i.conn).cloned())
            .collect();
        MessageResult(picked)
    }
}

/// Consumer groups subscribed to a topic (GET_CONSUME_STATS without a topic, runtime info).
#[derive(Message)]
#[rtype(result = "Vec<String>")]
pub struct GroupsSubscribing(pub String);

impl Handler<GroupsSubscribing> for HeartbeatActor {
    type Result = MessageResult<GroupsSubscribing>;
    fn handle(&mut self, m: GroupsSubscribing, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.table.groups_subscribing(&m.0))
    }
}

/// Live producer connections by (language, version). Sender: the metrics endpoint.
#[derive(Message)]
#[rtype(result = "std::collections::BTreeMap<(String, i32), u64>")]
pub struct ProducerConnectionCounts;

impl Handler<ProducerConnectionCounts> for HeartbeatActor {
    type Result = MessageResult<ProducerConnectionCounts>;
    fn handle(&mut self, _: ProducerConnectionCounts, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.table.producer_connection_counts())
    }
}

/// Send a CHECK_TRANSACTION_STATE request to one live producer connection of `group` (the most
/// recently heard from, as `ClientTable::producer_connection_for_group` picks). Sender: the
/// `TransactionActor`. Answers whether a connection was found.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct CheckTransactionState {
    pub group: String,
    pub request: RemotingCommand,
}

impl Handler<CheckTransactionState> for HeartbeatActor {
    type Result = bool;
    fn handle(&mut self, m: CheckTransactionState, _: &mut Self::Context) -> bool {
        let conn = self
            .table
            .producer_connection_for_group(&m.group)
            .and_then(|c| self.conns.get(&c));
        match conn {
            Some(addr) => {
                let mut cmd = m.request;
                cmd.mark_oneway();
                addr.do_send(Outbound(cmd));
                true
            }
            None => {
                info!(group = %m.group, "no live producer of the group to check a transaction with");
                false
            }
        }
    }
}
