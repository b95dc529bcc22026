//! `Connection`: one actor per TCP connection.
//!
//! - Owns: the socket's write half (an actix `FramedWrite` with the remoting codec, whose high
//!   watermark pauses this actor, and so its reads, while a slow reader lets replies pile up) and a
//!   count of requests in flight.
//! - Handles: decoded frames from its read half (a stream); `Outbound` commands from other actors
//!   (server-initiated requests such as NOTIFY_CONSUMER_IDS_CHANGED); `Close` (client expired).
//! - Runs on: the I/O arbiter the accept loop chose for it.
//!
//! A frame that cannot be decoded (oversize, garbage) closes only this connection, with a warning.
//! More than `max_inflight` requests in flight gets SYSTEM_BUSY (`[OVERLOAD]`), so a pipelining
//! client cannot queue work without bound.

use std::sync::Arc;

use actix::io::{FramedWrite, WriteHandler};
use actix::prelude::*;
use tokio::net::tcp::OwnedWriteHalf;
use tracing::{debug, warn, Instrument};

use super::{ConnInfo, Dispatch};
use crate::error::ServiceError;
use crate::protocol::frame::{CodecError, RemotingCodec};
use crate::protocol::RemotingCommand;

/// Write a command (a server-initiated request) to the connection.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Outbound(pub RemotingCommand);

pub struct Connection {
    pub(super) info: Option<ConnInfo>,
    pub(super) writer: FramedWrite<RemotingCommand, OwnedWriteHalf, RemotingCodec>,
    pub(super) dispatch: Arc<dyn Dispatch>,
    pub(super) inflight: usize,
    pub(super) max_inflight: usize,
}

impl Actor for Connection {
    type Context = Context<Self>;

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        if let Some(info) = &self.info {
            debug!(peer = %info.peer, conn = info.id, "connection closed");
            self.dispatch.connection_closed(info);
        }
    }
}

impl WriteHandler<CodecError> for Connection {
    fn error(&mut self, err: CodecError, _ctx: &mut Self::Context) -> Running {
        debug!(error = %err, "write failed; closing connection");
        Running::Stop
    }
}

impl StreamHandler<Result<RemotingCommand, CodecError>> for Connection {
    fn handle(&mut self, item: Result<RemotingCommand, CodecError>, ctx: &mut Self::Context) {
        let Some(info) = self.info.clone() else {
            return;
        };
        let req = match item {
            Ok(cmd) => cmd,
            Err(e) => {
                warn!(peer = %info.peer, error = %e, "bad frame; closing connection");
                ctx.stop();
                return;
            }
        };
        if req.is_response() {
            // Answers to our oneway notifications need no handling.
            debug!(peer = %info.peer, opaque = req.opaque, "ignoring response from peer");
            return;
        }
        if self.inflight >= self.max_inflight {
            if !req.is_oneway() {
                let busy = ServiceError::Busy(format!(
                    "[OVERLOAD]system busy, {} requests in flight on this connection",
                    self.inflight
                ));
                self.writer.write(busy.into_response(&req));
            }
            return;
        }
        self.inflight += 1;
        let span =
            tracing::info_span!("request", code = req.code, opaque = req.opaque, peer = %info.peer);
        let fut = self.dispatch.dispatch(req, &info).instrument(span);
        ctx.spawn(fut.into_actor(self).map(|resp, act, _ctx| {
            act.inflight -= 1;
            if let Some(resp) = resp {
                act.writer.write(resp);
            }
        }));
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

/// Close the connection (the broker expired the client behind it).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Close;

impl Handler<Close> for Connection {
    type Result = ();

    fn handle(&mut self, _: Close, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl Handler<Outbound> for Connection {
    type Result = ();

    fn handle(&mut self, msg: Outbound, _ctx: &mut Self::Context) {
        self.writer.write(msg.0);
    }
}
