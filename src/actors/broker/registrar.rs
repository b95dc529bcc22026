//! `Registrar`: keeps this broker registered with every configured name server.
//!
//! - Owns: one `RemotingClient` per name server, and the registration header fields. With
//!   `accessKey`/`secretKey` set, every request is signed (a name server with ACL on refuses
//!   unsigned registrations; its refusal is logged here with its remark).
//! - Learns: each REGISTER_BROKER answer's `masterAddr` / `haServerAddr` (filled by the name
//!   server for a slave once its master registered) go to `HaShared::master`, as
//!   `logic::slave_sync::SlaveSync::learn` decides; a change is logged at INFO. Replication and
//!   the slave's metadata sync read them there.
//! - Handles: `RegisterNow` (sent by the topic admin handlers after a topic change, and by the
//!   startup code), `UnregisterAll` (graceful shutdown), its own timers: a full registration every
//!   `registerNameServerPeriod`, and a 1 s connection check that reconnects to a name server whose
//!   connection closed and registers at once (a restarted name server learns about us quickly).
//! - Runs on: the broker's control arbiter. Network calls run as spawned futures, never blocking.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tracing::{debug, info, warn};

use super::context::{HaShared, MasterAddrs, RoleCell};
use super::logic::slave_sync::SlaveSync;
use crate::protocol::body::RegisterBrokerBody;
use crate::protocol::codes::{request_code, response_code};
use crate::protocol::headers::namesrv::{
    RegisterBrokerRequestHeader, RegisterBrokerResponseHeader, UnRegisterBrokerRequestHeader,
};
use crate::protocol::RemotingCommand;
use crate::remoting::client::RemotingClient;

/// Produces the current registration body (topics and data version).
pub type BodySource = Arc<dyn Fn() -> RegisterBrokerBody + Send + Sync>;

/// Who we are, as told to the name servers.
#[derive(Clone, Debug)]
pub struct Identity {
    pub cluster: String,
    pub broker_name: String,
    pub broker_addr: String,
    pub ha_addr: String,
    pub compressed: bool,
    /// Our account (`accessKey`/`secretKey`): registrations are signed with it.
    pub credentials: Option<Arc<crate::acl::Credentials>>,
}

const RPC_TIMEOUT: Duration = Duration::from_secs(6);

pub struct Registrar {
    namesrvs: Vec<String>,
    clients: HashMap<String, RemotingClient>,
    /// Name servers with a registration under way, and those where another is wanted after it:
    /// one at a time per name server, so two first registrations cannot open two connections
    /// (the name server drops a broker registered over a connection that closes).
    in_flight: HashSet<String>,
    again: HashSet<String>,
    identity: Identity,
    body: BodySource,
    period: Duration,
    ha: Arc<HaShared>,
    /// Our broker id (read at every registration: it changes with the role in controller mode).
    role: Arc<RoleCell>,
    /// `tlsEnable`: connect to the name servers with TLS.
    tls: Option<crate::tls::TlsClient>,
    /// Take the master from the answers (not in controller mode: the controller names it).
    learn: bool,
}

impl Registrar {
    pub fn new(
        namesrvs: Vec<String>,
        identity: Identity,
        body: BodySource,
        period: Duration,
        ha: Arc<HaShared>,
        role: Arc<RoleCell>,
    ) -> Self {
        Registrar {
            namesrvs,
            clients: HashMap::new(),
            in_flight: HashSet::new(),
            again: HashSet::new(),
            identity,
            body,
            period,
            ha,
            role,
            tls: None,
            learn: true,
        }
    }

    /// Connect to the name servers with `tls` (`tlsEnable`).
    pub fn with_tls(mut self, tls: Option<crate::tls::TlsClient>) -> Self {
        self.tls = tls;
        self
    }

    /// Whether the answers' master is taken (`false` in controller mode).
    pub fn learning_master(mut self, learn: bool) -> Self {
        self.learn = learn;
        self
    }

    /// A name server's answer named our master (or none): keep what changed.
    fn learn_master(&self, namesrv: &str, answer: RegisterBrokerResponseHeader) {
        if !self.learn {
            return;
        }
        let answer = MasterAddrs {
            broker_addr: answer.master_addr,
            ha_addr: answer.ha_server_addr,
        };
        let mut master = self.ha.master.write();
        if let Some(next) = SlaveSync::learn(&master, &answer) {
            info!(
                namesrv = %namesrv,
                master = ?next.broker_addr,
                ha = ?next.ha_addr,
                "master changed (REGISTER_BROKER answer)"
            );
            *master = next;
        }
    }

    fn register_request(&self) -> RemotingCommand {
        let body = (self.body)();
        let bytes = if self.identity.compressed {
            body.encode_compressed()
        } else {
            body.encode_json()
        };
        let id = &self.identity;
        RemotingCommand::request_with(
            request_code::REGISTER_BROKER,
            &RegisterBrokerRequestHeader {
                broker_name: id.broker_name.clone(),
                broker_addr: id.broker_addr.clone(),
                cluster_name: id.cluster.clone(),
                ha_server_addr: id.ha_addr.clone(),
                broker_id: self.role.broker_id(),
                compressed: Some(id.compressed),
                body_crc32: Some((crc32fast::hash(&bytes) & 0x7FFF_FFFF) as i32),
            },
        )
        .with_body(bytes)
    }

    /// Register with one name server, connecting first if needed.
    fn register_with(&mut self, addr: String, ctx: &mut Context<Self>) {
        if !self.in_flight.insert(addr.clone()) {
            self.again.insert(addr);
            return;
        }
        let key = addr.clone();
        let req = self.register_request();
        let existing = self.clients.get(&addr).filter(|c| c.is_open()).cloned();
        let tls = self.tls.clone();
        let creds = self.identity.credentials.clone();
        let fut = async move {
            let client = match existing {
                Some(c) => c,
                None => RemotingClient::connect_with(&addr, RPC_TIMEOUT, None, tls.as_ref())
                    .await
                    .map_err(|e| e.to_string())?
                    .signed_with(creds),
            };
            let resp = client
                .call(req, RPC_TIMEOUT)
                .await
                .map_err(|e| e.to_string())?;
            if resp.code != response_code::SUCCESS {
                return Err(format!(
                    "code {}: {}",
                    resp.code,
                    resp.remark.unwrap_or_default()
                ));
            }
            // A master's answer has no fields; a bad header only loses what it would teach.
            let header = resp
                .header::<RegisterBrokerResponseHeader>()
                .map_err(|e| warn!(error = %e, "REGISTER_BROKER answer header unreadable"))
                .unwrap_or_default();
            Ok::<_, String>((addr, client, header))
        };
        ctx.spawn(fut.into_actor(self).map(move |res, act, ctx| {
            match res {
                Ok((addr, client, header)) => {
                    debug!(namesrv = %addr, "registered");
                    act.learn_master(&addr, header);
                    act.clients.insert(addr, client);
                }
                Err(e) => warn!(error = %e, "register with name server failed"),
            }
            act.in_flight.remove(&key);
            if act.again.remove(&key) {
                act.register_with(key, ctx);
            }
        }));
    }

    fn register_all(&mut self, ctx: &mut Context<Self>) {
        for addr in self.namesrvs.clone() {
            self.register_with(addr, ctx);
        }
    }
}

impl Actor for Registrar {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(64);
        self.register_all(ctx);
        ctx.run_interval(self.period, |act, ctx| act.register_all(ctx));
        ctx.run_interval(Duration::from_secs(1), |act, ctx| {
            let lost: Vec<String> = act
                .namesrvs
                .iter()
                .filter(|a| act.clients.get(*a).map(|c| !c.is_open()).unwrap_or(false))
                .cloned()
                .collect();
            for addr in lost {
                info!(namesrv = %addr, "name server connection lost; reconnecting and registering");
                act.clients.remove(&addr);
                act.register_with(addr, ctx);
            }
        });
    }
}

/// Register with every name server now (topics changed). Sender: topic admin handlers.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RegisterNow;

impl Handler<RegisterNow> for Registrar {
    type Result = ();
    fn handle(&mut self, _: RegisterNow, ctx: &mut Self::Context) {
        self.register_all(ctx);
    }
}

/// Unregister from every name server (graceful shutdown). Resolves when all answered or timed out.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UnregisterAll;

impl Handler<UnregisterAll> for Registrar {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, _: UnregisterAll, _ctx: &mut Self::Context) -> Self::Result {
        let id = self.identity.clone();
        let broker_id = self.role.broker_id();
        let clients: Vec<RemotingClient> = self.clients.values().cloned().collect();
        Box::pin(async move {
            let calls = clients.into_iter().map(|c| {
                let req = RemotingCommand::request_with(
                    request_code::UNREGISTER_BROKER,
                    &UnRegisterBrokerRequestHeader {
                        broker_name: id.broker_name.clone(),
                        broker_addr: id.broker_addr.clone(),
                        cluster_name: id.cluster.clone(),
                        broker_id,
                    },
                );
                async move {
                    if let Err(e) = c.call(req, Duration::from_secs(3)).await {
                        warn!(error = %e, "unregister failed");
                    }
                }
            });
            futures::future::join_all(calls).await;
        })
    }
}
