//! The bytes a connection has queued for its peer, and the two tasks that meet there.
//!
//! Why this exists: a reply is encoded when its handler finishes, but the peer decides when it is
//! written. A client that pipelines requests and never reads its socket would otherwise make the
//! broker encode replies without bound (a pull reply carries up to hundreds of KiB of messages).
//! So every encoded reply is counted here, and the connection stops *reading* requests once more
//! than `high` bytes wait for the peer; reading resumes when the writer has drained the queue to
//! `low` bytes. Requests already in flight still finish, so the queue is bounded by
//! `high + max_inflight x largest reply`, whatever the peer does.
//!
//! - [`Outbox`]: plain state (queued bytes, watermarks, wakers, last activity); unit-tested.
//! - [`Writer`]: a future spawned in the connection actor's own context (so a reply pushed while
//!   the actor runs is written in the same wake-up, as actix's `FramedWrite` does); it owns the
//!   socket's write half and drains the outbox. Dropped with the actor, it hands the peer what the
//!   socket takes at once and lets the rest go.
//! - [`Gated`]: wraps the frame reader; yields nothing while the outbox is over `high`.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::{Buf, BytesMut};
use futures::Stream;
use tokio::io::AsyncWrite;

use crate::protocol::frame;
use crate::protocol::RemotingCommand;

/// An empty buffer that grew past this is replaced, so a connection that once queued a burst
/// does not keep the memory while idle.
const SHRINK_ABOVE: usize = 256 * 1024;

/// Queued output of one connection plus the wakers of its reader and writer.
#[derive(Debug)]
pub struct Outbox {
    buf: BytesMut,
    high: usize,
    low: usize,
    last_activity: Instant,
    writer: Option<Waker>,
    reader: Option<Waker>,
}

/// One outbox shared by the connection actor, its reader gate and its writer task (all on the
/// same arbiter thread).
pub type SharedOutbox = Rc<RefCell<Outbox>>;

impl Outbox {
    /// `high`: queued bytes above which reading stops; `low`: at or below which it resumes.
    pub fn new(high: usize, low: usize) -> Self {
        Outbox {
            buf: BytesMut::new(),
            high: high.max(1),
            low: low.min(high),
            last_activity: Instant::now(),
            writer: None,
            reader: None,
        }
    }

    pub fn shared(high: usize, low: usize) -> SharedOutbox {
        Rc::new(RefCell::new(Outbox::new(high, low)))
    }

    /// Encode `cmd` at the end of the queue and wake the writer.
    pub fn push(&mut self, cmd: &RemotingCommand) {
        frame::encode(cmd, &mut self.buf);
        if let Some(w) = self.writer.take() {
            w.wake();
        }
    }

    /// Bytes waiting for the peer.
    pub fn queued(&self) -> usize {
        self.buf.len()
    }

    /// Reading is paused while this is true.
    pub fn over_high(&self) -> bool {
        self.buf.len() > self.high
    }

    /// The peer accepted `n` bytes. Wakes a paused reader once the queue is down to `low`.
    pub fn consumed(&mut self, n: usize, now: Instant) {
        self.buf.advance(n);
        self.last_activity = now;
        if self.buf.is_empty() && self.buf.capacity() > SHRINK_ABOVE {
            self.buf = BytesMut::new();
        }
        if self.buf.len() <= self.low {
            if let Some(r) = self.reader.take() {
                r.wake();
            }
        }
    }

    /// A request arrived.
    pub fn touch(&mut self, now: Instant) {
        self.last_activity = now;
    }

    /// Time of the last request read or bytes written.
    pub fn last_activity(&self) -> Instant {
        self.last_activity
    }

    fn park_writer(&mut self, w: &Waker) {
        self.writer = Some(w.clone());
    }

    fn park_reader(&mut self, w: &Waker) {
        self.reader = Some(w.clone());
    }
}

/// Drains `outbox` into `io` for as long as the connection lives. Resolves only when the socket
/// fails.
pub struct Writer<W: AsyncWrite + Unpin> {
    outbox: SharedOutbox,
    io: W,
}

impl<W: AsyncWrite + Unpin> Writer<W> {
    pub fn new(outbox: SharedOutbox, io: W) -> Self {
        Writer { outbox, io }
    }

    /// Write until the outbox is empty (`Ready(Ok)`), the socket is full (`Pending`) or fails.
    /// An empty outbox is flushed too: a TLS stream buffers records until then (a TCP socket's
    /// flush does nothing).
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let mut ob = self.outbox.borrow_mut();
            if ob.buf.is_empty() {
                return Pin::new(&mut self.io).poll_flush(cx);
            }
            match Pin::new(&mut self.io).poll_write(cx, &ob.buf) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => ob.consumed(n, Instant::now()),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<W: AsyncWrite + Unpin> Future for Writer<W> {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.drain(cx) {
            Poll::Ready(Ok(())) => {
                self.outbox.borrow_mut().park_writer(cx.waker());
                Poll::Pending
            }
            other => other,
        }
    }
}

impl<W: AsyncWrite + Unpin> Drop for Writer<W> {
    /// The connection is closing: hand the peer what the socket accepts without waiting.
    fn drop(&mut self) {
        let waker = futures::task::noop_waker();
        let _ = self.drain(&mut Context::from_waker(&waker));
    }
}

/// A request stream that yields nothing while its connection's outbox is over the high
/// watermark (the peer is not reading its replies).
pub struct Gated<S> {
    inner: S,
    outbox: SharedOutbox,
}

impl<S> Gated<S> {
    pub fn new(inner: S, outbox: SharedOutbox) -> Self {
        Gated { inner, outbox }
    }
}

impl<S: Stream + Unpin> Stream for Gated<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        {
            let mut ob = self.outbox.borrow_mut();
            if ob.over_high() {
                ob.park_reader(cx.waker());
                return Poll::Pending;
            }
        }
        let item = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(_)) = item {
            self.outbox.borrow_mut().touch(Instant::now());
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn reply(body: usize) -> RemotingCommand {
        RemotingCommand::request(0).with_body(vec![7u8; body])
    }

    #[test]
    fn reading_pauses_above_high_and_resumes_at_low() {
        let mut ob = Outbox::new(1000, 400);
        ob.push(&reply(600));
        assert!(!ob.over_high(), "one 600-byte reply fits under 1000");
        ob.push(&reply(600));
        assert!(ob.over_high());
        let woken = Arc::new(Count(AtomicUsize::new(0)));
        ob.park_reader(&Waker::from(woken.clone()));
        let total = ob.queued();
        // Draining to just above `low` does not wake the reader ...
        ob.consumed(total - 401, Instant::now());
        assert_eq!(woken.0.load(Ordering::SeqCst), 0);
        // ... reaching `low` does, once.
        ob.consumed(1, Instant::now());
        assert_eq!(woken.0.load(Ordering::SeqCst), 1);
        ob.consumed(400, Instant::now());
        assert_eq!(woken.0.load(Ordering::SeqCst), 1);
        assert_eq!(ob.queued(), 0);
    }

    #[test]
    fn a_drained_large_buffer_is_released() {
        let mut ob = Outbox::new(usize::MAX, 0);
        ob.push(&reply(SHRINK_ABOVE * 2));
        let n = ob.queued();
        ob.consumed(n, Instant::now());
        assert!(ob.buf.capacity() <= SHRINK_ABOVE);
    }

    #[test]
    fn pushing_wakes_a_parked_writer() {
        let mut ob = Outbox::new(100, 50);
        let woken = Arc::new(Count(AtomicUsize::new(0)));
        ob.park_writer(&Waker::from(woken.clone()));
        ob.push(&reply(1));
        assert_eq!(woken.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_writer_drains_everything_then_waits_for_more() {
        let ob = Outbox::shared(1 << 20, 0);
        ob.borrow_mut().push(&reply(10));
        ob.borrow_mut().push(&reply(20));
        let expect = ob.borrow().queued();
        let mut out: Vec<u8> = Vec::new();
        let mut w = Writer::new(ob.clone(), &mut out);
        let woken = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(woken.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut w).poll(&mut cx).is_pending());
        assert_eq!(ob.borrow().queued(), 0);
        ob.borrow_mut().push(&reply(5));
        assert_eq!(
            woken.0.load(Ordering::SeqCst),
            1,
            "a push wakes the parked writer"
        );
        assert!(Pin::new(&mut w).poll(&mut cx).is_pending());
        drop(w);
        assert!(out.len() > expect);
    }
}
