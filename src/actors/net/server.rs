//! The accept loop. Runs on the arbiter that calls `serve`; each accepted socket becomes a
//! `Connection` actor on one of the I/O arbiters, chosen round robin. The socket is handed over
//! as a std socket and re-registered on the target arbiter's own reactor, so its I/O never
//! wakes the accepting thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix::io::FramedWrite;
use actix::prelude::*;
use actix_rt::ArbiterHandle;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::FramedRead;
use tracing::{debug, warn};

use super::{ConnInfo, Connection, Dispatch};
use crate::protocol::frame::RemotingCodec;

static NEXT_CONN_ID: AtomicU64 = AtomicU64::new(1);

/// Per-connection limits.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Largest frame accepted.
    pub max_frame: usize,
    /// Requests in flight per connection before SYSTEM_BUSY.
    pub max_inflight: usize,
    /// Write buffer size at which the connection stops reading until the peer catches up.
    pub write_high_watermark: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_frame: crate::protocol::frame::DEFAULT_MAX_FRAME,
            max_inflight: 1024,
            write_high_watermark: 4 * 1024 * 1024,
        }
    }
}

/// Accept connections forever on `listener`, spreading them over `arbiters` (or the current
/// arbiter when the list is empty).
pub async fn serve(
    listener: TcpListener,
    arbiters: Vec<ArbiterHandle>,
    dispatch: Arc<dyn Dispatch>,
    opts: ServerOptions,
) {
    let mut next = 0usize;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                warn!(error = %e, "accept failed");
                actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        debug!(%peer, "accepted connection");
        let dispatch = dispatch.clone();
        let opts = opts.clone();
        if arbiters.is_empty() {
            start_connection(stream, dispatch, opts);
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
            Ok(stream) => start_connection(stream, dispatch, opts),
            Err(e) => warn!(error = %e, "cannot register socket on arbiter"),
        });
    }
}

fn start_connection(stream: TcpStream, dispatch: Arc<dyn Dispatch>, opts: ServerOptions) {
    let _ = stream.set_nodelay(true);
    let (Ok(peer), Ok(local)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    let (read, write) = stream.into_split();
    Connection::create(move |ctx| {
        ctx.add_stream(FramedRead::new(read, RemotingCodec::new(opts.max_frame)));
        let mut writer = FramedWrite::new(write, RemotingCodec::new(opts.max_frame), ctx);
        writer.set_buffer_capacity(opts.write_high_watermark / 2, opts.write_high_watermark);
        Connection {
            info: Some(ConnInfo {
                id: NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed),
                peer,
                local,
                addr: ctx.address(),
            }),
            writer,
            dispatch,
            inflight: 0,
            max_inflight: opts.max_inflight,
        }
    });
}
