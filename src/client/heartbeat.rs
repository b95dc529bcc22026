//! The client `HeartbeatActor`. State: the client's producer groups and consumer groups (with
//! their subscriptions) as a plain [`HeartbeatState`]. Messages: `RegisterProducer` /
//! `RegisterConsumer` (from producer and push/pull consumer handles at start; a consumer's
//! registration answers only after the heartbeat went out, so the broker knows the group before the
//! first pull), `UnregisterGroup` (at shutdown: UNREGISTER_CLIENT to every broker), `HeartbeatNow`
//! and its own timer (`heartbeat_broker_interval`). Runs on the client runtime thread; the
//! heartbeat RPCs are futures, never blocking the arbiter.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use actix::prelude::*;
use parking_lot::RwLock;

use super::broker_api;
use super::config::ClientConfig;
use super::instance::MAILBOX;
use super::net::Net;
use super::route::RouteTable;
use crate::protocol::body::{ConsumerData, HeartbeatData, ProducerData};

/// What the client tells brokers it is.
#[derive(Debug, Default, Clone)]
pub struct HeartbeatState {
    pub client_id: String,
    pub producers: BTreeSet<String>,
    pub consumers: BTreeMap<String, ConsumerData>,
}

impl HeartbeatState {
    pub fn data(&self) -> HeartbeatData {
        HeartbeatData {
            client_id: self.client_id.clone(),
            consumer_data_set: self.consumers.values().cloned().collect(),
            producer_data_set: self
                .producers
                .iter()
                .map(|g| ProducerData {
                    group_name: g.clone(),
                })
                .collect(),
        }
    }
}

pub struct HeartbeatActor {
    state: HeartbeatState,
    config: ClientConfig,
    net: Net,
    routes: Arc<RwLock<RouteTable>>,
}

impl HeartbeatActor {
    pub fn new(
        client_id: String,
        config: ClientConfig,
        net: Net,
        routes: Arc<RwLock<RouteTable>>,
    ) -> Self {
        HeartbeatActor {
            state: HeartbeatState {
                client_id,
                ..Default::default()
            },
            config,
            net,
            routes,
        }
    }

    /// Send the current heartbeat to every known broker.
    fn beat(&self) -> impl std::future::Future<Output = ()> + 'static {
        let data = self.state.data();
        let addrs = self.routes.read().all_broker_addrs();
        let (net, timeout) = (self.net.clone(), self.config.request_timeout);
        async move {
            if data.producer_data_set.is_empty() && data.consumer_data_set.is_empty() {
                return;
            }
            for addr in addrs {
                if let Err(e) = broker_api::heartbeat(&net, &addr, &data, timeout).await {
                    tracing::warn!(broker = %addr, error = %e, "heartbeat failed");
                }
            }
        }
    }
}

impl Actor for HeartbeatActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
        ctx.run_interval(self.config.heartbeat_broker_interval, |act, ctx| {
            ctx.spawn(act.beat().into_actor(act));
        });
    }
}

/// Sender: `Producer::start`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RegisterProducer(pub String);

/// Sender: consumer handles at start and on subscription change; answered after the heartbeat.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RegisterConsumer(pub ConsumerData);

/// Sender: rebalancers after new routes were learned (new brokers must know us).
#[derive(Message)]
#[rtype(result = "()")]
pub struct HeartbeatNow;

/// Sender: producer and consumer handles at shutdown; answered after every broker was told.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UnregisterGroup {
    pub producer: Option<String>,
    pub consumer: Option<String>,
}

impl Handler<RegisterProducer> for HeartbeatActor {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, msg: RegisterProducer, _: &mut Self::Context) -> Self::Result {
        self.state.producers.insert(msg.0);
        Box::pin(self.beat())
    }
}

impl Handler<RegisterConsumer> for HeartbeatActor {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, msg: RegisterConsumer, _: &mut Self::Context) -> Self::Result {
        self.state.consumers.insert(msg.0.group_name.clone(), msg.0);
        Box::pin(self.beat())
    }
}

impl Handler<HeartbeatNow> for HeartbeatActor {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, _: HeartbeatNow, _: &mut Self::Context) -> Self::Result {
        Box::pin(self.beat())
    }
}

impl Handler<UnregisterGroup> for HeartbeatActor {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, msg: UnregisterGroup, _: &mut Self::Context) -> Self::Result {
        if let Some(g) = &msg.producer {
            self.state.producers.remove(g);
        }
        if let Some(g) = &msg.consumer {
            self.state.consumers.remove(g);
        }
        let addrs = self.routes.read().all_broker_addrs();
        let (net, timeout) = (self.net.clone(), self.config.request_timeout);
        let cid = self.state.client_id.clone();
        Box::pin(async move {
            for addr in addrs {
                let r = broker_api::unregister(
                    &net,
                    &addr,
                    &cid,
                    msg.producer.as_deref(),
                    msg.consumer.as_deref(),
                    timeout,
                )
                .await;
                if let Err(e) = r {
                    tracing::warn!(broker = %addr, error = %e, "unregister failed");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_lists_every_group() {
        let mut s = HeartbeatState {
            client_id: "1.2.3.4@x".into(),
            ..Default::default()
        };
        s.producers.insert("pg".into());
        s.consumers.insert(
            "cg".into(),
            ConsumerData {
                group_name: "cg".into(),
                ..Default::default()
            },
        );
        let d = s.data();
        assert_eq!(d.client_id, "1.2.3.4@x");
        assert_eq!(d.producer_data_set[0].group_name, "pg");
        assert_eq!(d.consumer_data_set[0].group_name, "cg");
        let back = HeartbeatData::decode(&d.encode()).unwrap();
        assert_eq!(back, d);
    }
}
