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
//! - [`write_loop`]: the writer task, spawned on the connection's arbiter; it owns the socket's
//!   write half and drains the outbox.
//! - [`Gated`]: wraps the frame reader; yields nothing while the outbox is over `high`.

use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::{Buf, BytesMut};
use futures::Stream;
use tokio::io::AsyncWrite;
use tokio::sync::Notify;

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
    closing: bool,
    last_activity: Instant,
    writer: Option<Waker>,
    reader: Option<Waker>,
    closed: Rc<Notify>,
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
            closing: false,
            last_activity: Instant::now(),
            writer: None,
            reader: None,
            closed: Rc::new(Notify::new()),
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

    /// No more output will be queued: the writer drains what is left and ends.
    pub fn close(&mut self) {
        self.closing = true;
        self.closed.notify_one();
        if let Some(w) = self.writer.take() {
            w.wake();
        }
    }

    /// Resolves once [`close`](Self::close) was called.
    pub fn closed_signal(&self) -> Rc<Notify> {
        self.closed.clone()
    }

    fn park_writer(&mut self, w: &Waker) {
        self.writer = Some(w.clone());
    }

    fn park_reader(&mut self, w: &Waker) {
        self.reader = Some(w.clone());
    }
}

/// Write everything queued in `outbox` to `io` until the outbox is closed and empty, or the
/// socket fails.
pub async fn write_loop<W: AsyncWrite + Unpin>(outbox: SharedOutbox, mut io: W) -> io::Result<()> {
    poll_fn(|cx| loop {
        let mut ob = outbox.borrow_mut();
        if ob.buf.is_empty() {
            if ob.closing {
                return Poll::Ready(Ok(()));
            }
            ob.park_writer(cx.waker());
            return Poll::Pending;
        }
        match Pin::new(&mut io).poll_write(cx, &ob.buf) {
            Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Poll::Ready(Ok(n)) => ob.consumed(n, Instant::now()),
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    })
    .await?;
    poll_fn(|cx| Pin::new(&mut io).poll_shutdown(cx)).await
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

    #[tokio::test]
    async fn write_loop_drains_then_ends_on_close() {
        let ob = Outbox::shared(1 << 20, 0);
        ob.borrow_mut().push(&reply(10));
        ob.borrow_mut().push(&reply(20));
        let expect = ob.borrow().queued();
        ob.borrow_mut().close();
        let mut out = Vec::new();
        write_loop(ob.clone(), &mut out).await.unwrap();
        assert_eq!(out.len(), expect);
        assert_eq!(ob.borrow().queued(), 0);
    }
}
