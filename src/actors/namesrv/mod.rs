//! `NameServer`: the route registry actor.
//!
//! - Owns: the `RouteTable` (brokers, clusters, topic queues, liveness) and the `KvConfig`
//!   (saved to `kvConfigPath` by the `KvStore` thread on every change).
//! - Handles: the typed messages in `messages.rs`, sent by the per-request handlers in
//!   `handlers/` (which run on the connection's arbiter), plus `ConnectionClosed` from the
//!   dispatcher when a socket closes, and its own liveness scan (`run_interval`).
//! - Runs on: the arbiter that started it (the system arbiter in the binaries). Its work per
//!   message is a map update, so one actor serves every connection.
//!
//! Name servers never talk to each other: brokers register with each of them. (With
//! `enableControllerInNamesrv=true` each also hosts a controller of controller mode, and those
//! controllers form a Raft group of their own: `crate::controller`.)

pub mod dispatch;
pub mod handlers;
pub mod kv_config;
pub mod kv_store;
pub mod messages;
pub mod route_table;

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tokio::net::TcpListener;
use tracing::info;

use crate::actors::net::{serve, ServerOptions};
use crate::clock::now_ms;
use crate::config::NamesrvConfig;
use kv_config::{KvConfig, ORDER_TOPIC_CONFIG};
use messages::*;
use route_table::RouteTable;

/// Mailbox bound: senders wait beyond it (each connection also caps its own in-flight requests).
const MAILBOX: usize = 4096;

pub struct NameServer {
    routes: RouteTable,
    kv: KvConfig,
    kv_store: Option<kv_store::KvStore>,
    scan_interval: Duration,
    expiry_ms: i64,
}

impl NameServer {
    pub fn new(scan_interval: Duration, expiry: Duration) -> Self {
        NameServer {
            routes: RouteTable::new(),
            kv: KvConfig::default(),
            kv_store: None,
            scan_interval,
            expiry_ms: expiry.as_millis() as i64,
        }
    }
}

impl NameServer {
    fn save_kv(&self) {
        if let Some(store) = &self.kv_store {
            store.save(self.kv.to_json());
        }
    }
}

impl Actor for NameServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
        ctx.run_interval(self.scan_interval, |act, _ctx| {
            for addr in act.routes.scan_not_active(now_ms(), act.expiry_ms) {
                info!(broker = %addr, "broker expired: no registration within the expiry time");
            }
        });
    }
}

impl Handler<RegisterBroker> for NameServer {
    type Result = MessageResult<RegisterBroker>;
    fn handle(&mut self, msg: RegisterBroker, _: &mut Self::Context) -> Self::Result {
        let (name, addr, id, cluster) = (
            msg.0.broker_name.clone(),
            msg.0.broker_addr.clone(),
            msg.0.broker_id,
            msg.0.cluster.clone(),
        );
        let topics = msg
            .0
            .topics
            .as_ref()
            .map_or(0, |t| t.topic_config_table.len());
        let result = self.routes.register(msg.0, now_ms());
        if result.new_broker {
            info!(broker = %addr, name = %name, id, cluster = %cluster, topics, "broker registered");
        } else {
            tracing::debug!(broker = %addr, "broker registration refreshed");
        }
        MessageResult(result)
    }
}

impl Handler<UnregisterBroker> for NameServer {
    type Result = ();
    fn handle(&mut self, m: UnregisterBroker, _: &mut Self::Context) {
        info!(broker = %m.broker_addr, name = %m.broker_name, "broker unregistered");
        self.routes
            .unregister(&m.broker_addr, &m.broker_name, m.broker_id);
    }
}

impl Handler<ConnectionClosed> for NameServer {
    type Result = ();
    fn handle(&mut self, m: ConnectionClosed, _: &mut Self::Context) {
        for addr in self.routes.connection_closed(m.0) {
            info!(broker = %addr, "broker dropped: its connection closed");
        }
    }
}

impl Handler<GetRoute> for NameServer {
    type Result = MessageResult<GetRoute>;
    fn handle(&mut self, m: GetRoute, _: &mut Self::Context) -> Self::Result {
        let route = self.routes.route(&m.0).map(|mut r| {
            r.order_topic_conf = self.kv.get(ORDER_TOPIC_CONFIG, &m.0).map(str::to_string);
            r
        });
        MessageResult(route)
    }
}

impl Handler<GetClusterInfo> for NameServer {
    type Result = MessageResult<GetClusterInfo>;
    fn handle(&mut self, _: GetClusterInfo, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.routes.cluster_info())
    }
}

impl Handler<GetTopics> for NameServer {
    type Result = MessageResult<GetTopics>;
    fn handle(&mut self, m: GetTopics, _: &mut Self::Context) -> Self::Result {
        MessageResult(match m.cluster {
            None => self.routes.all_topics(),
            Some(c) => self.routes.topics_of_cluster(&c),
        })
    }
}

impl Handler<DeleteTopic> for NameServer {
    type Result = ();
    fn handle(&mut self, m: DeleteTopic, _: &mut Self::Context) {
        self.routes.delete_topic(&m.0);
    }
}

impl Handler<WipeWritePerm> for NameServer {
    type Result = i32;
    fn handle(&mut self, m: WipeWritePerm, _: &mut Self::Context) -> i32 {
        self.routes.wipe_write_perm(&m.0)
    }
}

impl Handler<AddWritePerm> for NameServer {
    type Result = i32;
    fn handle(&mut self, m: AddWritePerm, _: &mut Self::Context) -> i32 {
        self.routes.add_write_perm(&m.0)
    }
}

impl Handler<SystemTopics> for NameServer {
    type Result = MessageResult<SystemTopics>;
    fn handle(&mut self, _: SystemTopics, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.routes.system_topics())
    }
}

impl Handler<QueryDataVersion> for NameServer {
    type Result = MessageResult<QueryDataVersion>;
    fn handle(&mut self, m: QueryDataVersion, _: &mut Self::Context) -> Self::Result {
        MessageResult(
            self.routes
                .query_data_version(&m.broker_addr, &m.version, now_ms()),
        )
    }
}

impl Handler<KvRequest> for NameServer {
    type Result = MessageResult<KvRequest>;
    fn handle(&mut self, m: KvRequest, _: &mut Self::Context) -> Self::Result {
        MessageResult(match m {
            KvRequest::Put {
                namespace,
                key,
                value,
            } => {
                self.kv.put(&namespace, &key, &value);
                self.save_kv();
                KvReply::Done
            }
            KvRequest::Get { namespace, key } => {
                KvReply::Value(self.kv.get(&namespace, &key).map(str::to_string))
            }
            KvRequest::Delete { namespace, key } => {
                self.kv.delete(&namespace, &key);
                self.save_kv();
                KvReply::Done
            }
            KvRequest::List { namespace } => KvReply::List(self.kv.list(&namespace).cloned()),
        })
    }
}

/// A running name server.
pub struct NamesrvHandle {
    pub local_addr: std::net::SocketAddr,
    pub actor: Addr<NameServer>,
}

/// Bind the listener and start the actor and the accept loop on the current actix system.
/// `listenPort = 0` binds a free port; the bound address is returned.
/// A bind failure names the address and port.
pub async fn start(cfg: &NamesrvConfig) -> std::io::Result<NamesrvHandle> {
    crate::config::ConfigKeys::validate(cfg)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    // Changes saved by UPDATE_NAMESRV_CONFIG apply before the listener is bound.
    let cfg = &handlers::namesrv_config::ConfigState::load(cfg)?.effective();
    let listener = crate::actors::net::bind(&cfg.listen_addr, cfg.listen_port).await?;
    start_on(listener, cfg).await
}

/// Start the name server on a listener bound by the caller (the standalone broker binds every
/// port before it starts anything).
pub async fn start_on(
    listener: TcpListener,
    cfg: &NamesrvConfig,
) -> std::io::Result<NamesrvHandle> {
    let local_addr = listener.local_addr()?;
    // `tlsMode` and `tlsEnable`: every file they name is read before anything starts.
    let tls = crate::tls::TlsSides::from_config(&cfg.tls)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let mut ns = NameServer::new(
        Duration::from_millis(cfg.scan_not_active_broker_interval),
        Duration::from_millis(cfg.broker_channel_expired_time),
    );
    if !cfg.kv_config_path.is_empty() {
        let path = std::path::PathBuf::from(&cfg.kv_config_path);
        let load_path = path.clone();
        ns.kv = tokio::task::spawn_blocking(move || kv_store::KvStore::load(&load_path))
            .await
            .map_err(std::io::Error::other)?
            .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
        ns.kv_store = Some(kv_store::KvStore::start(path));
    }
    let actor = ns.start();
    let config = Arc::new(handlers::namesrv_config::ConfigState::load(cfg)?);
    let acl = crate::acl::AclState::from_config(&cfg.acl).map_err(std::io::Error::other)?;
    let controller = match cfg.enable_controller_in_namesrv {
        true => Some(
            crate::controller::Controller::start(
                &cfg.controller,
                local_addr.port(),
                cfg.scan_not_active_broker_interval,
                // Its pushes to brokers go out as the name server: its account, its TLS client.
                crate::controller::node::Outbound {
                    credentials: cfg.acl.credentials(),
                    tls: tls.client.clone(),
                },
            )
            .await?,
        ),
        false => None,
    };
    let dispatch = Arc::new(
        dispatch::NamesrvDispatch::new(actor.clone(), config, acl).with_controller(controller),
    );
    let opts = ServerOptions::from(&cfg.net).with_tls(tls.server);
    actix_rt::spawn(serve(listener, Vec::new(), dispatch, opts));
    Ok(NamesrvHandle { local_addr, actor })
}
