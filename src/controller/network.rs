//! The Raft transport between controllers: a small length-prefixed RPC over TCP on the Raft
//! ports of `controllerDLegerPeers`. A frame is `[len u32][msgpack]`; the client keeps one
//! connection per peer, reconnects after any error, and bounds every call by openraft's TTL (or
//! [`RPC_TIMEOUT`]). Besides append/vote/snapshot there is `Info`: a peer's request address, so a
//! follower can name the leader's request address to brokers. With `controllerRaftSecret` every
//! connection starts with the mutual handshake of [`super::raft_auth`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::BasicNode;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::raft_auth::{self, RaftSecret};
use super::types::{NodeId, Raft, TypeConfig};

/// Bound of a call when openraft gives none, and of connecting.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Largest frame accepted (snapshot chunks are far smaller).
const MAX_FRAME: usize = 64 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
pub enum Rpc {
    Append(AppendEntriesRequest<TypeConfig>),
    Vote(VoteRequest<NodeId>),
    Snapshot(InstallSnapshotRequest<TypeConfig>),
    Info,
}

#[derive(Serialize, Deserialize)]
pub enum RpcReply {
    Append(Result<AppendEntriesResponse<NodeId>, RaftError<NodeId>>),
    Vote(Result<VoteResponse<NodeId>, RaftError<NodeId>>),
    Snapshot(Result<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>>),
    /// The peer's request (remoting) address.
    Info(String),
}

async fn write_frame<T: Serialize>(s: &mut TcpStream, v: &T) -> std::io::Result<()> {
    let body = rmp_serde::to_vec_named(v).map_err(std::io::Error::other)?;
    let mut buf = Vec::with_capacity(body.len() + 4);
    buf.extend_from_slice(&(body.len() as u32).to_be_bytes());
    buf.extend_from_slice(&body);
    s.write_all(&buf).await
}

async fn read_frame<T: serde::de::DeserializeOwned>(s: &mut TcpStream) -> std::io::Result<T> {
    let len = s.read_u32().await? as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::other(format!(
            "raft frame of {len} bytes is too large"
        )));
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await?;
    rmp_serde::from_slice(&body).map_err(std::io::Error::other)
}

/// A connection to one peer.
pub struct PeerClient {
    addr: String,
    conn: Option<TcpStream>,
    secret: Option<RaftSecret>,
}

impl PeerClient {
    pub fn new(addr: String, secret: Option<RaftSecret>) -> Self {
        PeerClient {
            addr,
            conn: None,
            secret,
        }
    }

    /// Connect and, with a secret, authenticate both ends, all within [`CONNECT_TIMEOUT`].
    async fn open(&self) -> std::io::Result<TcpStream> {
        tokio::time::timeout(CONNECT_TIMEOUT, async {
            let mut c = TcpStream::connect(&self.addr).await?;
            let _ = c.set_nodelay(true);
            if let Some(secret) = &self.secret {
                raft_auth::connect(&mut c, secret).await?;
            }
            Ok(c)
        })
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))
        .and_then(|r| r)
    }

    /// One call: connect if needed, send, read the reply; any error drops the connection.
    pub async fn call(
        &mut self,
        rpc: &Rpc,
        ttl: Duration,
    ) -> Result<RpcReply, (bool, std::io::Error)> {
        if self.conn.is_none() {
            self.conn = Some(self.open().await.map_err(|e| (true, e))?);
        }
        let conn = self.conn.as_mut().expect("connected above");
        let result = tokio::time::timeout(ttl, async {
            write_frame(conn, rpc).await?;
            read_frame::<RpcReply>(conn).await
        })
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "raft call timed out"))
        .and_then(|r| r);
        if result.is_err() {
            self.conn = None;
        }
        result.map_err(|e| (false, e))
    }
}

/// openraft's view of the transport.
#[derive(Clone, Default)]
pub struct Network {
    pub secret: Option<RaftSecret>,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerClient;
    async fn new_client(&mut self, _target: NodeId, node: &BasicNode) -> PeerClient {
        PeerClient::new(node.addr.clone(), self.secret.clone())
    }
}

fn rpc_error<E: std::error::Error>(
    (unreachable, e): (bool, std::io::Error),
) -> RPCError<NodeId, BasicNode, E> {
    if unreachable {
        RPCError::Unreachable(Unreachable::new(&e))
    } else {
        RPCError::Network(NetworkError::new(&e))
    }
}

fn unexpected<E: std::error::Error>() -> RPCError<NodeId, BasicNode, E> {
    RPCError::Network(NetworkError::new(&std::io::Error::other(
        "unexpected raft reply",
    )))
}

fn ttl(option: &RPCOption) -> Duration {
    option.hard_ttl().min(RPC_TIMEOUT)
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        match self
            .call(&Rpc::Append(rpc), ttl(&option))
            .await
            .map_err(rpc_error)?
        {
            RpcReply::Append(r) => {
                r.map_err(|e| RPCError::RemoteError(openraft::error::RemoteError::new(0, e)))
            }
            _ => Err(unexpected()),
        }
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, BasicNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        match self
            .call(&Rpc::Snapshot(rpc), ttl(&option))
            .await
            .map_err(rpc_error)?
        {
            RpcReply::Snapshot(r) => {
                r.map_err(|e| RPCError::RemoteError(openraft::error::RemoteError::new(0, e)))
            }
            _ => Err(unexpected()),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        match self
            .call(&Rpc::Vote(rpc), ttl(&option))
            .await
            .map_err(rpc_error)?
        {
            RpcReply::Vote(r) => {
                r.map_err(|e| RPCError::RemoteError(openraft::error::RemoteError::new(0, e)))
            }
            _ => Err(unexpected()),
        }
    }
}

/// Serve the Raft RPCs of this node on `listener` until the runtime stops.
pub async fn serve(
    listener: TcpListener,
    raft: Raft,
    request_addr: Arc<str>,
    secret: Option<RaftSecret>,
) {
    // A peer with the wrong secret retries at every heartbeat, a scan at any rate: the refusals
    // get at most `log_limit::PER_SECOND` WARN lines a second, as the ACL's do.
    let refusals = Arc::new(crate::acl::log_limit::RefusalLogLimit::default());
    loop {
        let Ok((sock, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let _ = sock.set_nodelay(true);
        let auth = secret.clone().map(|s| (s, refusals.clone()));
        let conn = serve_conn(sock, peer, raft.clone(), request_addr.clone(), auth);
        tokio::spawn(conn);
    }
}

async fn serve_conn(
    mut sock: TcpStream,
    peer: SocketAddr,
    raft: Raft,
    request_addr: Arc<str>,
    auth: Option<(RaftSecret, Arc<crate::acl::log_limit::RefusalLogLimit>)>,
) {
    if let Some((secret, refusals)) = &auth {
        let shake = tokio::time::timeout(RPC_TIMEOUT, raft_auth::accept(&mut sock, secret)).await;
        if let Err(e) = shake.unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into())) {
            if let Some(unlogged) = refusals.admit(crate::clock::now_ms()) {
                tracing::warn!(%peer, error = %e, unlogged_before = unlogged, "raft connection refused");
            }
            return;
        }
    }
    loop {
        let rpc: Rpc = match read_frame(&mut sock).await {
            Ok(r) => r,
            Err(e) => {
                tracing::trace!(%peer, error = %e, "raft connection closed");
                return;
            }
        };
        let reply = match rpc {
            Rpc::Append(r) => RpcReply::Append(raft.append_entries(r).await),
            Rpc::Vote(r) => RpcReply::Vote(raft.vote(r).await),
            Rpc::Snapshot(r) => RpcReply::Snapshot(raft.install_snapshot(r).await),
            Rpc::Info => RpcReply::Info(request_addr.to_string()),
        };
        if write_frame(&mut sock, &reply).await.is_err() {
            return;
        }
    }
}
