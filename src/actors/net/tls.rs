//! The TLS step of an accepted connection (`tlsMode` permissive or enforcing): on the arbiter
//! the connection was handed to, [`ServerTls::accept`] decides plain or TLS (permissive) and
//! does the handshake within its timeout; then the `Connection` actor starts over the result.
//! A peer that fails (a plain client in enforcing mode, a bad or slow handshake) is closed and
//! logged at INFO with its address; it never reaches the dispatcher.

use std::net::SocketAddr;
use std::sync::Arc;

use tracing::{debug, info};

use super::server::{start_actor, Shared};
use crate::tls::server::Accepted;
use crate::tls::ServerTls;

/// Run the TLS step as a task on the current arbiter, then start the connection.
pub(super) fn spawn_accept(
    stream: tokio::net::TcpStream,
    tls: Arc<ServerTls>,
    peer: SocketAddr,
    local: SocketAddr,
    shared: Shared,
) {
    actix_rt::spawn(async move {
        match tls.accept(stream).await {
            Ok(Accepted::Plain(s)) => {
                debug!(%peer, "plain connection (tlsMode permissive)");
                let (read, write) = s.into_split();
                start_actor(read, write, peer, local, shared);
            }
            Ok(Accepted::Tls(s)) => {
                debug!(%peer, "TLS connection");
                let (read, write) = tokio::io::split(*s);
                start_actor(read, write, peer, local, shared);
            }
            Err(e) => {
                info!(%peer, error = %e, mode = ?tls.mode(), "TLS handshake failed; connection closed")
            }
        }
    });
}
