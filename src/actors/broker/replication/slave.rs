//! The slave side of [`ReplicationActor`](super::ReplicationActor): connect to the master (the
//! fixed `haMasterAddress`, or the HA address the name server last answered), report the
//! expected CommitLog offset, append each transfer with `append_replicated`, report again after
//! every applied transfer and every `haSendHeartbeatInterval`, and reconnect when anything
//! ends the connection. Runs on the replication arbiter: `append_replicated` blocks on file
//! writes.

use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::{info, warn};

use super::{io_err, HaSettings, POLL};
use crate::actors::broker::context::{HaShared, RoleCell};
use crate::actors::broker::logic::ha_session::{SessionError, SlaveSession};
use crate::protocol::ha;
use crate::storage::MessageStore;
use crate::tls::TlsClient;

pub(super) async fn follow_master(
    fixed: Option<String>,
    store: Arc<MessageStore>,
    ha: Arc<HaShared>,
    s: HaSettings,
    tls: Option<TlsClient>,
    ident: Option<Arc<RoleCell>>,
) {
    loop {
        let learned = || ha.master.read().ha_addr.clone();
        let Some(master) = fixed.clone().or_else(learned) else {
            // No haMasterAddress and no REGISTER_BROKER answer naming a master yet.
            tokio::time::sleep(POLL * 10).await;
            continue;
        };
        let wait = s.reconnect.as_millis();
        let connect = tokio::time::timeout(s.housekeeping, connect(&master, tls.as_ref())).await;
        match connect.unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into())) {
            Ok(sock) => {
                info!(master = %master, tls = tls.is_some(), "connected to the HA master");
                let since = Instant::now();
                let hello = ident.as_deref().map(|r| ha::Handshake {
                    broker_id: r.broker_id(),
                    master_epoch: r.master_epoch(),
                });
                let why = match sock {
                    Dialled::Plain(sock) => replicate_from(sock, &store, s, hello).await,
                    Dialled::Tls(sock) => replicate_from(*sock, &store, s, hello).await,
                };
                warn!(master = %master, reason = %why, "HA connection to the master closed");
                // As RocketMQ's HAClient: reconnect at once after a close, wait only after a
                // failed attempt (or a connection that did not last).
                if since.elapsed() >= s.reconnect {
                    continue;
                }
            }
            Err(e) => {
                warn!(master = %master, error = %e, "cannot reach the HA master; retrying in {wait} ms")
            }
        }
        tokio::time::sleep(s.reconnect).await;
    }
}

/// A slave's connection to its master, before the session starts.
enum Dialled {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

async fn connect(master: &str, tls: Option<&TlsClient>) -> std::io::Result<Dialled> {
    let sock = TcpStream::connect(master).await?;
    let _ = sock.set_nodelay(true);
    Ok(match tls {
        None => Dialled::Plain(sock),
        Some(t) => Dialled::Tls(Box::new(t.handshake(master, sock).await?)),
    })
}

async fn report<S: AsyncWrite + Unpin>(
    sock: &mut S,
    store: &MessageStore,
) -> Result<(), SessionError> {
    let mut b = BytesMut::with_capacity(ha::REPORT_LEN);
    ha::encode_report(store.replica_expected_offset().unwrap_or(0), &mut b)?;
    sock.write_all(&b).await.map_err(io_err)?;
    sock.flush().await.map_err(io_err)
}

/// Apply the master's transfers until something ends the connection; returns why.
async fn replicate_from<S: AsyncRead + AsyncWrite + Unpin>(
    mut sock: S,
    store: &MessageStore,
    s: HaSettings,
    hello: Option<ha::Handshake>,
) -> SessionError {
    let mut sess = SlaveSession::new(
        Instant::now(),
        ha::MAX_TRANSFER_BODY,
        s.heartbeat,
        s.housekeeping,
    );
    if let Some(h) = hello {
        let mut b = BytesMut::with_capacity(ha::HANDSHAKE_LEN);
        h.encode(&mut b);
        if let Err(e) = sock.write_all(&b).await {
            return io_err(e);
        }
    }
    if let Err(e) = report(&mut sock, store).await {
        return e;
    }
    loop {
        let mut applied = false;
        tokio::select! {
            r = sock.read_buf(sess.buffer()) => match r {
                Ok(0) => return SessionError::Io("closed by the master".into()),
                Err(e) => return io_err(e),
                Ok(_) => match apply(&mut sess, store) {
                    Ok(a) => applied = a,
                    Err(e) => return e,
                },
            },
            _ = tokio::time::sleep(POLL) => {}
        }
        let now = Instant::now();
        if sess.master_silent(now) {
            return SessionError::Silent(s.housekeeping);
        }
        if applied || sess.report_due(now) {
            if let Err(e) = report(&mut sock, store).await {
                return e;
            }
            sess.reported(now);
        }
    }
}

/// Append every whole buffered transfer. `Ok(true)` when data (not only heartbeats) arrived.
/// `append_replicated` blocks on file writes: this runs on the replication arbiter only.
fn apply(sess: &mut SlaveSession, store: &MessageStore) -> Result<bool, SessionError> {
    let mut applied = false;
    for t in sess.take_transfers(Instant::now())? {
        if t.is_heartbeat() {
            continue;
        }
        store
            .append_replicated(t.phy_offset, &t.body)
            .map_err(|e| SessionError::Io(format!("append at {}: {e}", t.phy_offset)))?;
        applied = true;
    }
    Ok(applied)
}
