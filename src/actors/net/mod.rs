//! TCP plumbing shared by the name server and the broker: an accept loop that spreads
//! connections over arbiters, and one `Connection` actor per socket (plain TCP, or TLS after the
//! `tls` step when `tlsMode` is on).

pub mod budget;
pub mod connection;
pub mod outbox;
pub mod server;
mod tls;

use std::net::SocketAddr;

use futures::future::LocalBoxFuture;

use crate::protocol::RemotingCommand;

pub use connection::{Call, CallError, Close, Connection, Outbound};
pub use server::{serve, ServerOptions};

/// Bind a server's request port; a failure names the address and port (the name server and the
/// `controller` binary start this way).
pub async fn bind(addr: &str, port: u16) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind((addr, port))
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot bind {addr}:{port}: {e}")))
}

/// What a request handler knows about the connection it came from.
#[derive(Clone, Debug)]
pub struct ConnInfo {
    /// Unique per process.
    pub id: u64,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    /// Write a command to this connection (server-initiated requests).
    pub addr: actix::Addr<Connection>,
}

/// Routes requests to handlers. Implemented once per server kind (name server, broker); shared by
/// every connection, so it must be cheap to call from any arbiter.
pub trait Dispatch: Send + Sync + 'static {
    /// Handle one request. `None` means no response (oneway requests, or nothing to say).
    fn dispatch(
        &self,
        req: RemotingCommand,
        conn: &ConnInfo,
    ) -> LocalBoxFuture<'static, Option<RemotingCommand>>;

    /// The connection closed (peer gone, decode error, or shutdown).
    fn connection_closed(&self, _conn: &ConnInfo) {}
}
