//! `Connection`: one actor per TCP connection.
//!
//! - Owns: the connection's [`Outbox`](super::outbox::Outbox) (replies encoded and waiting for the
//!   peer) and its [`Writer`](super::outbox::Writer), a future in this actor's context that drains
//!   it into the socket; the requests in flight ([`InFlight`]); the idle deadline.
//! - Handles: decoded frames from its read half (a stream gated by the outbox: while more than
//!   `writeBufferHighWaterMark` bytes wait for the peer, no request is read); `Outbound` commands
//!   from other actors (server-initiated requests such as NOTIFY_CONSUMER_IDS_CHANGED); `Call`
//!   (a server-initiated request that awaits the peer's answer: GET_CONSUMER_RUNNING_INFO and
//!   CONSUME_MESSAGE_DIRECTLY relayed to a client), matched to the answer by opaque and bounded
//!   by its timeout; `Close` (client expired, or the socket failed under the writer).
//! - Runs on: the I/O arbiter the accept loop chose for it.
//!
//! A frame that cannot be decoded (oversize, garbage, over the server's budget for incomplete
//! frames) closes only this connection, with a warning. More than `max_inflight` requests in
//! flight gets SYSTEM_BUSY (`[OVERLOAD]`). A connection with no request read and no byte written
//! for `serverChannelMaxIdleTimeSeconds` is closed, as RocketMQ's idle handler does.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

use futures::future::LocalBoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use tracing::instrument::Instrumented;

use tokio::sync::oneshot;

use actix::prelude::*;
use tracing::{debug, info, warn, Instrument};

use super::outbox::SharedOutbox;
use super::{ConnInfo, Dispatch};
use crate::error::ServiceError;
use crate::protocol::frame::CodecError;
use crate::protocol::RemotingCommand;

/// Write a command (a server-initiated request) to the connection.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Outbound(pub RemotingCommand);

/// Send a request to the peer and await its answer (matched by opaque), at most `timeout`.
#[derive(Message)]
#[rtype(result = "Result<RemotingCommand, CallError>")]
pub struct Call {
    pub cmd: RemotingCommand,
    pub timeout: Duration,
}

/// Why a [`Call`] got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the connection closed before the answer")]
    Closed,
}

/// Calls waiting for the peer's answer, by the opaque they were sent with.
#[derive(Default)]
pub struct PendingCalls {
    next_opaque: i32,
    waiting: HashMap<i32, oneshot::Sender<RemotingCommand>>,
}

impl PendingCalls {
    /// Register a call; returns the opaque to send it with and the receiver of its answer.
    fn register(&mut self) -> (i32, oneshot::Receiver<RemotingCommand>) {
        // Positive and distinct from what the peer might still answer late.
        self.next_opaque = self.next_opaque.wrapping_add(1) & i32::MAX;
        let (tx, rx) = oneshot::channel();
        self.waiting.insert(self.next_opaque, tx);
        (self.next_opaque, rx)
    }
}

pub struct Connection {
    pub(super) info: Option<ConnInfo>,
    pub(super) calls: PendingCalls,
    pub(super) outbox: SharedOutbox,
    pub(super) dispatch: Arc<dyn Dispatch>,
    pub(super) inflight: InFlight,
    pub(super) max_inflight: usize,
    /// `None`: never closed for idleness.
    pub(super) idle_timeout: Option<Duration>,
}

impl Connection {
    fn write(&self, cmd: &RemotingCommand) {
        self.outbox.borrow_mut().push(cmd);
    }

    fn close_if_idle(&mut self, ctx: &mut Context<Self>) {
        let (Some(limit), Some(info)) = (self.idle_timeout, &self.info) else {
            return;
        };
        let idle = self.outbox.borrow().last_activity().elapsed();
        if idle >= limit {
            info!(peer = %info.peer, conn = info.id, idle_s = idle.as_secs(),
                "closing idle connection (serverChannelMaxIdleTimeSeconds)");
            ctx.stop();
        }
    }
}

/// A request being handled: the dispatcher's future, in the request's span.
type Handling = Instrumented<LocalBoxFuture<'static, Option<RemotingCommand>>>;

/// The requests a connection is handling, polled by [`Replies`] only when woken.
///
/// Why not one `ctx.spawn` per request: actix polls every future spawned in an actor's context
/// whenever the actor wakes. With 64 SYNC_MASTER sends waiting for a slave's ack (or a consumer's
/// long-polling pulls), each ack, frame or reply woke all of them again.
#[derive(Default)]
pub struct InFlight {
    handling: FuturesUnordered<Handling>,
    /// The waker of the [`Replies`] future, woken when a request is added.
    waker: Option<Waker>,
}

impl InFlight {
    fn len(&self) -> usize {
        self.handling.len()
    }

    fn push(&mut self, request: Handling) {
        self.handling.push(request);
        if let Some(w) = &self.waker {
            w.wake_by_ref();
        }
    }
}

/// The future in the connection's context that writes each reply as its request completes.
struct Replies;

impl ActorFuture<Connection> for Replies {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut Connection,
        _ctx: &mut Context<Connection>,
        task: &mut std::task::Context<'_>,
    ) -> Poll<()> {
        // `None` once empty: the set restarts with the next push (which wakes this future).
        while let Poll::Ready(Some(reply)) = act.inflight.handling.poll_next_unpin(task) {
            if let Some(reply) = reply {
                act.write(&reply);
            }
        }
        let fresh = act.inflight.waker.as_ref();
        if !fresh.is_some_and(|w| w.will_wake(task.waker())) {
            act.inflight.waker = Some(task.waker().clone());
        }
        Poll::Pending
    }
}

impl Actor for Connection {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.spawn(Replies);
        if let Some(limit) = self.idle_timeout {
            let every = (limit / 4).clamp(Duration::from_millis(100), Duration::from_secs(10));
            ctx.run_interval(every, |act, ctx| act.close_if_idle(ctx));
        }
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        if let Some(info) = &self.info {
            debug!(peer = %info.peer, conn = info.id, "connection closed");
            self.dispatch.connection_closed(info);
        }
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
            match self.calls.waiting.remove(&req.opaque) {
                Some(waiter) => {
                    let _ = waiter.send(req);
                }
                // Answers to our oneway notifications, or to a call that timed out.
                None => {
                    debug!(peer = %info.peer, opaque = req.opaque, "ignoring response from peer")
                }
            }
            return;
        }
        if self.inflight.len() >= self.max_inflight {
            if !req.is_oneway() {
                let busy = ServiceError::Busy(format!(
                    "[OVERLOAD]system busy, {} requests in flight on this connection",
                    self.inflight.len()
                ));
                self.write(&busy.into_response(&req));
            }
            return;
        }
        let span =
            tracing::info_span!("request", code = req.code, opaque = req.opaque, peer = %info.peer);
        self.inflight
            .push(self.dispatch.dispatch(req, &info).instrument(span));
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

/// Close the connection (the broker expired the client behind it, or the socket failed).
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
        self.write(&msg.0);
    }
}

impl Handler<Call> for Connection {
    type Result = ResponseFuture<Result<RemotingCommand, CallError>>;

    fn handle(&mut self, msg: Call, ctx: &mut Self::Context) -> Self::Result {
        let (opaque, rx) = self.calls.register();
        let mut cmd = msg.cmd;
        cmd.opaque = opaque;
        self.write(&cmd);
        let timeout = msg.timeout;
        // Forget the waiter a little after the caller gave up, so late answers are dropped.
        ctx.run_later(timeout + Duration::from_secs(1), move |act, _| {
            act.calls.waiting.remove(&opaque);
        });
        Box::pin(async move {
            match tokio::time::timeout(timeout, rx).await {
                Ok(Ok(resp)) => Ok(resp),
                Ok(Err(_)) => Err(CallError::Closed),
                Err(_) => Err(CallError::Timeout(timeout)),
            }
        })
    }
}
