//! `ClientInstance`: one per process and (name-server list, instance name), shared by every
//! producer and consumer built with that configuration (a registry of weak references finds it).
//!
//! Threads: the instance owns one dedicated thread running an actix `System`; every actor of the
//! client (the `InstanceActor` here, the `HeartbeatActor`, one `RebalanceActor` per consumer
//! group) and every network future (pull loops, sends) runs on that thread's arbiter, so the
//! application's own runtime (any executor) only awaits oneshot replies. Listener callbacks run on
//! the blocking pool, never on the arbiter.
//!
//! `InstanceActor` owns the route refresh: state = the set of watched topics and the consumer
//! groups' rebalance recipients; messages = `UpdateRoute` (from producers/consumers wanting a
//! route now), `RegisterRebalancer`/`UnregisterRebalancer` (from push consumers), `ServerRequest`
//! (requests brokers send us, from the `Net` forwarder: NOTIFY_CONSUMER_IDS_CHANGED wakes the
//! group's rebalancer; CHECK_TRANSACTION_STATE goes to the queue of the message's producer group,
//! registered by `RegisterTransactionChecker`; RESET_CONSUMER_CLIENT_OFFSET,
//! GET_CONSUMER_RUNNING_INFO and CONSUME_MESSAGE_DIRECTLY go to the group's `RebalanceActor`,
//! see `admin_requests.rs`) and its own refresh timer (`poll_name_server_interval`). A route change
//! triggers a heartbeat (new brokers learn of us at once) and a rebalance of every group.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use actix::prelude::*;
use parking_lot::{Mutex, RwLock};
use tokio::sync::{mpsc, oneshot};

use super::admin_requests::{self, AdminRequest};
use super::broker_api;
use super::config::ClientConfig;
use super::error::{ClientError, Result};
use super::heartbeat::{HeartbeatActor, HeartbeatNow};
use super::net::{Inbound, Net, INBOUND_QUEUE};
use super::rebalance::DoRebalance;
use super::route::RouteTable;
use super::transaction::{
    dispatch_check, CheckRequest, RegisterTransactionChecker, UnregisterTransactionChecker,
};
use crate::protocol::codes::{request_code as rq, response_code as rc};
use crate::protocol::headers::NotifyConsumerIdsChangedRequestHeader;

/// Mailbox bound of the client actors.
pub const MAILBOX: usize = 256;

/// The local IP used in client ids and message ids: the address the OS would route outward from
/// (no packet is sent), else loopback.
pub fn local_ip() -> String {
    static IP: OnceLock<String> = OnceLock::new();
    IP.get_or_init(|| {
        std::net::UdpSocket::bind("0.0.0.0:0")
            .and_then(|s| s.connect("8.8.8.8:53").map(|_| s))
            .and_then(|s| s.local_addr())
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|_| "127.0.0.1".to_string())
    })
    .clone()
}

/// A handle on a shared client instance. Cheap to clone; the runtime thread stops when the last
/// handle is dropped.
#[derive(Clone)]
pub struct ClientInstance {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub config: ClientConfig,
    pub client_id: String,
    pub net: Net,
    pub routes: Arc<RwLock<RouteTable>>,
    arbiter: ArbiterHandle,
    pub actor: Addr<InstanceActor>,
    pub heartbeat: Addr<HeartbeatActor>,
    system: System,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.system.stop();
    }
}

fn registry() -> &'static Mutex<HashMap<String, Weak<Inner>>> {
    static R: OnceLock<Mutex<HashMap<String, Weak<Inner>>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

struct Parts {
    arbiter: ArbiterHandle,
    actor: Addr<InstanceActor>,
    heartbeat: Addr<HeartbeatActor>,
    net: Net,
    system: System,
}

impl ClientInstance {
    /// The instance for `config` (same name servers, instance name and access key), started on
    /// first use. Different accounts never share an instance: its connections sign as one account.
    pub fn get(config: &ClientConfig) -> Result<ClientInstance> {
        let account = config.credentials.as_ref().map(|c| c.access_key.as_str());
        let key = format!(
            "{}|{}|{}",
            config.namesrv_addr,
            config.instance_name,
            account.unwrap_or("")
        );
        let mut reg = registry().lock();
        if let Some(inner) = reg.get(&key).and_then(Weak::upgrade) {
            return Ok(ClientInstance { inner });
        }
        let inner = Arc::new(Self::start(config)?);
        reg.insert(key, Arc::downgrade(&inner));
        Ok(ClientInstance { inner })
    }

    fn start(config: &ClientConfig) -> Result<Inner> {
        let ip = if config.client_ip.is_empty() {
            local_ip()
        } else {
            config.client_ip.clone()
        };
        let instance = if config.instance_name == "DEFAULT" {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            format!("{}#{}", std::process::id(), nanos)
        } else {
            config.instance_name.clone()
        };
        let client_id = format!("{ip}@{instance}");
        let routes = Arc::new(RwLock::new(RouteTable::default()));
        let (tx, rx) = std::sync::mpsc::channel::<Parts>();
        let (cfg, cid, rts) = (config.clone(), client_id.clone(), routes.clone());
        std::thread::Builder::new()
            .name("mq-client".into())
            .spawn(move || {
                let sys = System::new();
                sys.block_on(async move {
                    let (itx, mut irx) = mpsc::channel::<Inbound>(INBOUND_QUEUE);
                    let net = Net::new(
                        &cfg.namesrv_addr,
                        cfg.request_timeout,
                        itx,
                        cfg.credentials.clone(),
                    )
                    .with_tls(cfg.tls.clone());
                    let heartbeat =
                        HeartbeatActor::new(cid, cfg.clone(), net.clone(), rts.clone()).start();
                    let actor = InstanceActor {
                        config: cfg,
                        net: net.clone(),
                        routes: rts,
                        watched: BTreeSet::new(),
                        rebalancers: HashMap::new(),
                        admins: HashMap::new(),
                        tx_checkers: HashMap::new(),
                        heartbeat: heartbeat.clone(),
                    }
                    .start();
                    let fwd = actor.clone();
                    actix::spawn(async move {
                        while let Some(inb) = irx.recv().await {
                            let _ = fwd.try_send(ServerRequest(inb));
                        }
                    });
                    let _ = tx.send(Parts {
                        arbiter: Arbiter::current(),
                        actor,
                        heartbeat,
                        net,
                        system: System::current(),
                    });
                });
                let _ = sys.run();
            })
            .map_err(|e| ClientError::State(format!("spawn client thread: {e}")))?;
        let p = rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| ClientError::State("client runtime did not start".into()))?;
        tracing::info!(%client_id, namesrv = %config.namesrv_addr, "client instance started");
        Ok(Inner {
            config: config.clone(),
            client_id,
            net: p.net,
            routes,
            arbiter: p.arbiter,
            actor: p.actor,
            heartbeat: p.heartbeat,
            system: p.system,
        })
    }

    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Run `f` on the client runtime thread and await its output from any executor.
    pub(crate) async fn run<F>(&self, f: F) -> Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let rx = self.spawn(f);
        rx.await
            .map_err(|_| ClientError::State("client runtime stopped".into()))
    }

    /// Start `f` on the client runtime thread now; the receiver yields its output.
    pub(crate) fn spawn<F>(&self, f: F) -> oneshot::Receiver<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.inner.arbiter.spawn(async move {
            let _ = tx.send(f.await);
        });
        rx
    }

    /// Fetch `topic`'s route now (and keep refreshing it). Ok(false): the topic does not exist.
    pub(crate) async fn update_route(&self, topic: &str) -> Result<bool> {
        self.inner
            .actor
            .send(UpdateRoute(topic.to_string()))
            .await
            .map_err(|e| ClientError::State(format!("instance actor: {e}")))?
    }
}

/// Fetch one topic's route now. Sender: producers and consumers (via `ClientInstance`).
#[derive(Message)]
#[rtype(result = "Result<bool>")]
pub struct UpdateRoute(pub String);

/// A consumer group's rebalancer, woken on route changes and NOTIFY_CONSUMER_IDS_CHANGED.
/// Sender: push consumers at start.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RegisterRebalancer {
    pub group: String,
    pub recipient: Recipient<DoRebalance>,
    /// Where the broker-relayed admin requests for the group go (220, 307, 309).
    pub admin: Recipient<AdminRequest>,
}

/// Sender: push consumers at shutdown.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UnregisterRebalancer(pub String);

/// A request a broker sent us. Sender: the `Net` inbound forwarder.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ServerRequest(pub Inbound);

/// Timer tick. Sender: the actor itself.
#[derive(Message)]
#[rtype(result = "()")]
struct RefreshRoutes;

pub struct InstanceActor {
    config: ClientConfig,
    net: Net,
    routes: Arc<RwLock<RouteTable>>,
    watched: BTreeSet<String>,
    rebalancers: HashMap<String, Recipient<DoRebalance>>,
    /// The push consumers' admin-request recipients, by group.
    admins: HashMap<String, Recipient<AdminRequest>>,
    /// Check-back queues of the transaction producers, by producer group.
    tx_checkers: HashMap<String, std::sync::mpsc::SyncSender<CheckRequest>>,
    /// Told when a route changes, so brokers we just learned of get a heartbeat at once.
    heartbeat: Addr<HeartbeatActor>,
}

impl Actor for InstanceActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
        ctx.run_interval(self.config.poll_name_server_interval, |_, ctx| {
            ctx.notify(RefreshRoutes)
        });
    }
}

async fn fetch(
    net: Net,
    routes: Arc<RwLock<RouteTable>>,
    topic: String,
    timeout: Duration,
) -> Result<(bool, bool)> {
    match broker_api::get_route(&net, &topic, timeout).await? {
        Some(r) => {
            let changed = routes.write().update(&topic, r);
            if changed {
                tracing::info!(%topic, "topic route changed");
            }
            Ok((true, changed))
        }
        None => Ok((false, false)),
    }
}

impl InstanceActor {
    fn wake_rebalancers(&self, reason: &'static str) {
        let _ = self.heartbeat.try_send(HeartbeatNow);
        for r in self.rebalancers.values() {
            let _ = r.try_send(DoRebalance(reason));
        }
    }
}

impl Handler<UpdateRoute> for InstanceActor {
    type Result = ResponseActFuture<Self, Result<bool>>;

    fn handle(&mut self, msg: UpdateRoute, _: &mut Self::Context) -> Self::Result {
        self.watched.insert(msg.0.clone());
        let fut = fetch(
            self.net.clone(),
            self.routes.clone(),
            msg.0,
            self.config.request_timeout,
        );
        Box::pin(fut.into_actor(self).map(|res, act, _| {
            if let Ok((_, true)) = res {
                act.wake_rebalancers("route changed");
            }
            res.map(|(found, _)| found)
        }))
    }
}

impl Handler<RefreshRoutes> for InstanceActor {
    type Result = ();

    fn handle(&mut self, _: RefreshRoutes, ctx: &mut Self::Context) {
        let topics: Vec<String> = self.watched.iter().cloned().collect();
        let (net, routes, timeout) = (
            self.net.clone(),
            self.routes.clone(),
            self.config.request_timeout,
        );
        let fut = async move {
            let mut any = false;
            for t in topics {
                match fetch(net.clone(), routes.clone(), t.clone(), timeout).await {
                    Ok((_, changed)) => any |= changed,
                    Err(e) => tracing::warn!(topic = %t, error = %e, "route refresh failed"),
                }
            }
            any
        };
        ctx.spawn(fut.into_actor(self).map(|changed, act, _| {
            if changed {
                act.wake_rebalancers("route changed");
            }
        }));
    }
}

impl Handler<RegisterRebalancer> for InstanceActor {
    type Result = ();
    fn handle(&mut self, msg: RegisterRebalancer, _: &mut Self::Context) {
        self.admins.insert(msg.group.clone(), msg.admin);
        self.rebalancers.insert(msg.group, msg.recipient);
    }
}

impl Handler<UnregisterRebalancer> for InstanceActor {
    type Result = ();
    fn handle(&mut self, msg: UnregisterRebalancer, _: &mut Self::Context) {
        self.rebalancers.remove(&msg.0);
        self.admins.remove(&msg.0);
    }
}

impl Handler<RegisterTransactionChecker> for InstanceActor {
    type Result = Result<()>;
    fn handle(&mut self, msg: RegisterTransactionChecker, _: &mut Self::Context) -> Result<()> {
        if self.tx_checkers.contains_key(&msg.group) {
            return Err(ClientError::State(format!(
                "transaction producer group {} already started in this client instance",
                msg.group
            )));
        }
        self.tx_checkers.insert(msg.group, msg.queue);
        Ok(())
    }
}

impl Handler<UnregisterTransactionChecker> for InstanceActor {
    type Result = ();
    fn handle(&mut self, msg: UnregisterTransactionChecker, _: &mut Self::Context) {
        self.tx_checkers.remove(&msg.0);
    }
}

impl Handler<ServerRequest> for InstanceActor {
    type Result = ();

    fn handle(&mut self, msg: ServerRequest, _: &mut Self::Context) {
        let (conn, cmd) = msg.0;
        if cmd.code == rq::NOTIFY_CONSUMER_IDS_CHANGED {
            if let Ok(h) = cmd.header::<NotifyConsumerIdsChangedRequestHeader>() {
                tracing::info!(group = %h.consumer_group, broker = conn.addr(), "consumer ids changed");
                if let Some(r) = self.rebalancers.get(&h.consumer_group) {
                    let _ = r.try_send(DoRebalance("NOTIFY_CONSUMER_IDS_CHANGED"));
                }
            }
            return;
        }
        if cmd.code == rq::CHECK_TRANSACTION_STATE {
            match CheckRequest::parse(conn.addr(), &cmd) {
                Ok((group, req)) => dispatch_check(self.tx_checkers.get(&group), &group, req),
                Err(e) => {
                    tracing::warn!(broker = conn.addr(), error = %e, "bad CHECK_TRANSACTION_STATE")
                }
            }
            return;
        }
        if let Some(group) = admin_requests::group_of(&cmd) {
            match group {
                Ok(g) => {
                    let target = self.admins.get(&g).cloned();
                    actix::spawn(admin_requests::serve(conn, cmd, g, target));
                }
                Err(e) => tracing::warn!(broker = conn.addr(), code = cmd.code, "bad request: {e}"),
            }
            return;
        }
        if !cmd.is_oneway() {
            let resp = cmd.response_to(
                rc::REQUEST_CODE_NOT_SUPPORTED,
                Some(format!(
                    "request code {} not supported by this client",
                    cmd.code
                )),
            );
            actix::spawn(async move {
                let _ = conn.reply(resp).await;
            });
        }
    }
}
