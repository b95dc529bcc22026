//! The accept loop. Runs on the arbiter that calls `serve`; each accepted socket becomes a
//! `Connection` actor on one of the I/O arbiters, chosen round robin. The socket is handed over
//! as a std socket and re-registered on the target arbiter's own reactor, so its I/O never
//! wakes the accepting thread. With TLS on (`ServerOptions::tls`), the first-byte check and
//! the handshake run on that arbiter too (see `tls.rs`), never in the accept loop.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use actix_rt::ArbiterHandle;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::FramedRead;
use tracing::{debug, warn};

use super::budget::{BudgetedCodec, FrameBudget};
use super::outbox::{Gated, Outbox, Writer};
use super::{ConnInfo, Connection, Dispatch};
use crate::config::NetConfig;
use crate::protocol::frame::RemotingCodec;
use crate::tls::ServerTls;

static NEXT_CONN_ID: AtomicU64 = AtomicU64::new(1);

/// Per-connection and per-server limits.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Largest frame accepted.
    pub max_frame: usize,
    /// Requests in flight per connection before SYSTEM_BUSY.
    pub max_inflight: usize,
    /// Bytes queued for a peer above which its connection stops reading requests ...
    pub write_high_watermark: usize,
    /// ... until the peer has drained the queue to this many bytes.
    pub write_low_watermark: usize,
    /// Close a connection with no request read and no byte written for this long.
    pub idle_timeout: Option<Duration>,
    /// Bytes that incomplete frames may hold across all connections of this server.
    pub incomplete_frames_max: usize,
    /// `tlsMode` permissive or enforcing: every connection goes through [`ServerTls::accept`]
    /// on its arbiter first. `None` (disabled): the plain path, unchanged.
    pub tls: Option<Arc<ServerTls>>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_frame: crate::protocol::frame::DEFAULT_MAX_FRAME,
            max_inflight: 1024,
            write_high_watermark: 4 * 1024 * 1024,
            write_low_watermark: 2 * 1024 * 1024,
            idle_timeout: Some(Duration::from_secs(120)),
            incomplete_frames_max: 128 * 1024 * 1024,
            tls: None,
        }
    }
}

impl From<&NetConfig> for ServerOptions {
    fn from(c: &NetConfig) -> Self {
        ServerOptions {
            max_frame: c.frame_max_length,
            max_inflight: c.max_inflight_per_connection.max(1),
            write_high_watermark: c.write_buffer_high_water_mark,
            write_low_watermark: c
                .write_buffer_low_water_mark
                .min(c.write_buffer_high_water_mark),
            idle_timeout: (c.server_channel_max_idle_time_seconds > 0)
                .then(|| Duration::from_secs(c.server_channel_max_idle_time_seconds)),
            incomplete_frames_max: c.incomplete_frames_max_bytes,
            tls: None,
        }
    }
}

impl ServerOptions {
    /// These options with `tls` (`tlsMode`; `None`: plain).
    pub fn with_tls(self, tls: Option<Arc<ServerTls>>) -> Self {
        ServerOptions { tls, ..self }
    }
}

/// What every connection of one server shares.
#[derive(Clone)]
pub(super) struct Shared {
    dispatch: Arc<dyn Dispatch>,
    opts: ServerOptions,
    budget: Arc<FrameBudget>,
}

/// Accept connections forever on `listener`, spreading them over `arbiters` (or the current
/// arbiter when the list is empty).
pub async fn serve(
    listener: TcpListener,
    arbiters: Vec<ArbiterHandle>,
    dispatch: Arc<dyn Dispatch>,
    opts: ServerOptions,
) {
    let shared = Shared {
        dispatch,
        budget: FrameBudget::new(opts.incomplete_frames_max),
        opts,
    };
    let mut next = 0usize;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                warn!(error = %e, "accept failed");
                actix_rt::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        debug!(%peer, "accepted connection");
        let shared = shared.clone();
        if arbiters.is_empty() {
            start_connection(stream, shared);
            continue;
        }
        let std_stream = match stream.into_std() {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "cannot hand over socket");
                continue;
            }
        };
        let arb = &arbiters[next % arbiters.len()];
        next = next.wrapping_add(1);
        arb.spawn_fn(move || match TcpStream::from_std(std_stream) {
            Ok(stream) => start_connection(stream, shared),
            Err(e) => warn!(error = %e, "cannot register socket on arbiter"),
        });
    }
}

fn start_connection(stream: TcpStream, shared: Shared) {
    let _ = stream.set_nodelay(true);
    let (Ok(peer), Ok(local)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    match shared.opts.tls.clone() {
        None => {
            let (read, write) = stream.into_split();
            start_actor(read, write, peer, local, shared);
        }
        Some(tls) => super::tls::spawn_accept(stream, tls, peer, local, shared),
    }
}

/// The `Connection` actor over the two halves of an open (plain or TLS) connection.
pub(super) fn start_actor<R, W>(
    read: R,
    write: W,
    peer: SocketAddr,
    local: SocketAddr,
    shared: Shared,
) where
    R: AsyncRead + Unpin + 'static,
    W: AsyncWrite + Unpin + 'static,
{
    let opts = &shared.opts;
    let outbox = Outbox::shared(opts.write_high_watermark, opts.write_low_watermark);
    let codec = BudgetedCodec::new(RemotingCodec::new(opts.max_frame), shared.budget.clone());
    let reader = Gated::new(FramedRead::new(read, codec), outbox.clone());
    Connection::create(move |ctx| {
        ctx.add_stream(reader);
        // The writer runs in the actor's own context: a reply pushed while the actor runs is
        // written in the same wake-up, and the writer goes when the actor stops.
        let writer = actix::fut::wrap_future::<_, Connection>(Writer::new(outbox.clone(), write));
        ctx.spawn(writer.map(|res, _act, ctx| {
            if let Err(e) = res {
                debug!(error = %e, "write failed; closing connection");
            }
            ctx.stop();
        }));
        Connection {
            calls: Default::default(),
            info: Some(ConnInfo {
                id: NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed),
                peer,
                local,
                addr: ctx.address(),
            }),
            outbox,
            dispatch: shared.dispatch.clone(),
            inflight: Default::default(),
            max_inflight: shared.opts.max_inflight,
            idle_timeout: shared.opts.idle_timeout,
        }
    });
}
