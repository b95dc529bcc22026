//! One controller: its openraft node, Raft transport, liveness table and leader scan, on a
//! dedicated thread with its own tokio runtime (file I/O and fsyncs of the Raft storage stay off
//! the actix arbiters). Request handlers on any arbiter call the async methods here; they hop to
//! that runtime and back. Writes go through `client_write` on the leader; reads answer from the
//! applied state after `ensure_linearizable`, so a deposed leader cannot answer stale data.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{ClientWriteError, RaftError};
use openraft::BasicNode;
use parking_lot::{Mutex, RwLock};
use tokio::net::TcpListener;

use super::error::ControllerError as E;
use super::live::LiveTable;
use super::network::{Network, PeerClient, Rpc, RpcReply};
use super::state::{Applied, Command, ControllerState};
use super::store::{FileStore, Machine};
use super::types::{NodeId, Raft};
use crate::clock::now_ms;
use crate::config::controller::{ControllerConfig, Peer};
use crate::protocol::headers::GetMetaDataResponseHeader;

/// How long a write or a linearizable read may wait for the group.
pub const CONSENSUS_TIMEOUT: Duration = Duration::from_secs(5);

/// A running controller.
pub struct Controller {
    pub(super) raft: Raft,
    pub(super) cfg: ControllerConfig,
    node_id: NodeId,
    peers: Vec<Peer>,
    machine: Arc<RwLock<Machine>>,
    pub(super) live: Mutex<LiveTable>,
    rt: tokio::runtime::Handle,
    request_addr: Arc<str>,
    /// ((leader node, term), its request address), learned by asking the leader. Keyed by term
    /// too: a restarted node may come back on another request port, and leads only in a new term.
    leader_addr: Mutex<Option<((NodeId, u64), String)>>,
    pub(super) started_ms: i64,
    /// The switches UPDATE_CONTROLLER_CONFIG may change at run time.
    pub flags: Flags,
    /// Runs the liveness scan now (a broker's connection closed: its set may need a new
    /// master before the next tick).
    pub(super) scan_now: tokio::sync::Notify,
    /// How the controller connects to brokers (NOTIFY_BROKER_ROLE_CHANGED).
    pub(super) outbound: Outbound,
    /// `controllerRaftSecret` (None = open Raft ports), for every Raft connection it opens.
    raft_secret: Option<super::raft_auth::RaftSecret>,
}

/// The identity of the controller's own connections to brokers: its host's account (each
/// request signed with it, so a broker with `aclEnable=true` takes it) and its host's TLS
/// client side (`tlsEnable`, so a broker with `tlsMode=enforcing` takes the connection). The
/// default is unsigned plain TCP.
#[derive(Clone, Debug, Default)]
pub struct Outbound {
    pub credentials: Option<Arc<crate::acl::Credentials>>,
    pub tls: Option<crate::tls::TlsClient>,
}

/// Run-time switches (start from the config).
#[derive(Debug, Default)]
pub struct Flags {
    pub unclean: AtomicBool,
    pub notify: AtomicBool,
}

fn raft_config(group: &str) -> openraft::Config {
    openraft::Config {
        cluster_name: group.to_string(),
        heartbeat_interval: 150,
        election_timeout_min: 700,
        election_timeout_max: 1400,
        install_snapshot_timeout: 2000,
        ..Default::default()
    }
}

/// A thread running a current-thread tokio runtime forever; returns its handle.
fn spawn_runtime() -> std::io::Result<tokio::runtime::Handle> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let handle = rt.handle().clone();
    std::thread::Builder::new()
        .name("controller-raft".into())
        .spawn(move || rt.block_on(std::future::pending::<()>()))?;
    Ok(handle)
}

/// Log each change of the group's leader as seen by this node (openraft's own logs are verbose).
async fn log_leader_changes(raft: Raft, peers: Vec<Peer>, me: NodeId) {
    let mut metrics = raft.metrics();
    let mut last = None;
    loop {
        let leader = metrics.borrow().current_leader;
        if leader != last {
            let name = leader
                .and_then(|l| peers.get(l as usize))
                .map(|p| p.id.as_str());
            tracing::info!(
                leader = name.unwrap_or("none"),
                is_self = leader == Some(me),
                "controller leader changed"
            );
            last = leader;
        }
        if metrics.changed().await.is_err() {
            return;
        }
    }
}

impl Controller {
    /// Start the controller: open its store, bind its Raft port, join the group (initializing it
    /// on a first start), start the leader's scan every `scan_ms`. `request_port` is the port
    /// brokers reach this node on; with the Raft host it makes the address 1005 answers.
    pub async fn start(
        cfg: &ControllerConfig,
        request_port: u16,
        scan_ms: u64,
        outbound: Outbound,
    ) -> std::io::Result<Arc<Controller>> {
        let bad = |e: crate::config::ConfigError| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
        };
        let peers = cfg.peers().map_err(bad)?;
        let me = cfg.self_index(&peers).map_err(bad)?;
        let host = peers[me]
            .addr
            .rsplit_once(':')
            .map_or("127.0.0.1", |(h, _)| h);
        let request_addr: Arc<str> = format!("{host}:{request_port}").into();
        let rt = spawn_runtime()?;
        let (cfg2, peers2, ra) = (cfg.clone(), peers.clone(), request_addr.clone());
        let rt2 = rt.clone();
        let ctl = rt
            .spawn(async move { Self::boot(cfg2, peers2, me, ra, rt2, outbound).await })
            .await
            .map_err(std::io::Error::other)??;
        let scan = ctl.clone();
        rt.spawn(async move { scan.scan_loop(Duration::from_millis(scan_ms.max(1))).await });
        rt.spawn(log_leader_changes(
            ctl.raft.clone(),
            peers.clone(),
            me as NodeId,
        ));
        tracing::info!(
            id = %peers[me].id, raft = %peers[me].addr, request = %request_addr,
            store = %cfg.controller_store_path, "controller started"
        );
        Ok(ctl)
    }

    async fn boot(
        cfg: ControllerConfig,
        peers: Vec<Peer>,
        me: usize,
        request_addr: Arc<str>,
        rt: tokio::runtime::Handle,
        outbound: Outbound,
    ) -> std::io::Result<Arc<Controller>> {
        let dir = PathBuf::from(&cfg.controller_store_path);
        let (store, machine) = FileStore::open(&dir)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
        let listener = TcpListener::bind(&peers[me].addr).await.map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot bind Raft port {}: {e}", peers[me].addr),
            )
        })?;
        let (log, sm) = openraft::storage::Adaptor::new(store);
        let config = Arc::new(
            raft_config(&cfg.controller_d_leger_group)
                .validate()
                .map_err(std::io::Error::other)?,
        );
        let secret = super::raft_auth::RaftSecret::from_config(&cfg.controller_raft_secret);
        let network = Network {
            secret: secret.clone(),
        };
        let raft = Raft::new(me as NodeId, config, network, log, sm)
            .await
            .map_err(std::io::Error::other)?;
        if !raft.is_initialized().await.map_err(std::io::Error::other)? {
            let members: BTreeMap<NodeId, BasicNode> = peers
                .iter()
                .enumerate()
                .map(|(i, p)| (i as NodeId, BasicNode::new(&p.addr)))
                .collect();
            if let Err(e) = raft.initialize(members).await {
                tracing::debug!(error = %e, "raft initialize (another node may have done it)");
            }
        }
        tokio::spawn(super::network::serve(
            listener,
            raft.clone(),
            request_addr.clone(),
            secret.clone(),
        ));
        Ok(Arc::new(Controller {
            raft,
            node_id: me as NodeId,
            peers,
            machine,
            live: Mutex::new(LiveTable::default()),
            rt,
            request_addr,
            leader_addr: Mutex::new(None),
            started_ms: now_ms(),
            flags: Flags {
                unclean: AtomicBool::new(cfg.enable_elect_unclean_master),
                notify: AtomicBool::new(cfg.notify_broker_role_changed),
            },
            cfg,
            scan_now: tokio::sync::Notify::new(),
            outbound,
            raft_secret: secret,
        }))
    }

    /// Run `fut` on the controller's runtime and wait for it.
    pub(super) async fn on_rt<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, E> {
        self.rt
            .spawn(fut)
            .await
            .map_err(|e| E::Consensus(format!("controller runtime: {e}")))
    }

    /// Start a background task on the controller's runtime.
    pub(super) fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        self.rt.spawn(fut);
    }

    pub fn leader_id(&self) -> Option<NodeId> {
        self.raft.metrics().borrow().current_leader
    }

    pub fn is_leader(&self) -> bool {
        self.leader_id() == Some(self.node_id)
    }

    /// The request address of the current leader (asked from it over the Raft port, cached).
    pub async fn leader_request_addr(self: &Arc<Self>) -> Option<String> {
        let (leader, term) = {
            let m = self.raft.metrics();
            let m = m.borrow();
            (m.current_leader?, m.current_term)
        };
        if leader == self.node_id {
            return Some(self.request_addr.to_string());
        }
        if let Some((key, addr)) = self.leader_addr.lock().clone() {
            if key == (leader, term) {
                return Some(addr);
            }
        }
        let raft_addr = self.peers.get(leader as usize)?.addr.clone();
        let secret = self.raft_secret.clone();
        let reply = self
            .on_rt(async move {
                PeerClient::new(raft_addr, secret)
                    .call(&Rpc::Info, Duration::from_millis(500))
                    .await
            })
            .await
            .ok()?;
        let Ok(RpcReply::Info(addr)) = reply else {
            return None;
        };
        *self.leader_addr.lock() = Some(((leader, term), addr.clone()));
        Some(addr)
    }

    pub async fn not_leader(self: &Arc<Self>) -> E {
        E::NotLeader {
            leader: self.leader_request_addr().await,
        }
    }

    /// CONTROLLER_GET_METADATA_INFO, answered by any node.
    pub async fn metadata(self: &Arc<Self>) -> GetMetaDataResponseHeader {
        let leader = self.leader_id();
        GetMetaDataResponseHeader {
            group: Some(self.cfg.controller_d_leger_group.clone()),
            controller_leader_id: leader
                .and_then(|l| self.peers.get(l as usize))
                .map(|p| p.id.clone()),
            controller_leader_address: self.leader_request_addr().await,
            is_leader: leader == Some(self.node_id),
            peers: Some(self.cfg.controller_d_leger_peers.clone()),
        }
    }

    /// Read the applied state on the leader, after confirming leadership with a quorum.
    pub async fn read<T>(self: &Arc<Self>, f: impl FnOnce(&ControllerState) -> T) -> Result<T, E> {
        let raft = self.raft.clone();
        let checked = self
            .on_rt(async move {
                tokio::time::timeout(CONSENSUS_TIMEOUT, raft.ensure_linearizable()).await
            })
            .await?;
        match checked {
            Ok(Ok(_)) => Ok(f(&self.machine.read().state)),
            Ok(Err(RaftError::APIError(_))) => Err(self.not_leader().await),
            Ok(Err(e)) => Err(E::Consensus(e.to_string())),
            Err(_) => Err(E::Consensus(
                "no quorum confirmed the leader in time".into(),
            )),
        }
    }

    /// Append a command to the Raft log and wait for it to be applied.
    pub async fn write(self: &Arc<Self>, cmd: Command) -> Result<Applied, E> {
        let raft = self.raft.clone();
        let r =
            self.on_rt(async move {
                tokio::time::timeout(CONSENSUS_TIMEOUT, raft.client_write(cmd)).await
            })
            .await?;
        match r {
            Ok(Ok(resp)) => Ok(resp.data),
            Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_)))) => {
                Err(self.not_leader().await)
            }
            Ok(Err(e)) => Err(E::Consensus(e.to_string())),
            Err(_) => Err(E::Consensus("the write was not committed in time".into())),
        }
    }
}
