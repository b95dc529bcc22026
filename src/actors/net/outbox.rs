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
//! The queue is a list of chunks followed by one coalescing buffer: headers and `body` are
//! copied into the buffer (small), while a reply's `body_parts` (the CommitLog slices of a pull
//! reply) are queued as the `Bytes` they are and reach the socket through vectored writes, never
//! copied. A queued part keeps its mapped file alive until the peer has taken its last byte.
//!
//! - [`Outbox`]: plain state (queued bytes, watermarks, wakers, last activity); unit-tested.
//! - [`Writer`]: a future spawned in the connection actor's own context (so a reply pushed while
//!   the actor runs is written in the same wake-up, as actix's `FramedWrite` does); it owns the
//!   socket's write half and drains the outbox. Dropped with the actor, it hands the peer what the
//!   socket takes at once and lets the rest go.
//! - [`Gated`]: wraps the frame reader; yields nothing while the outbox is over `high`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use futures::Stream;
use tokio::io::AsyncWrite;

use crate::protocol::frame;
use crate::protocol::RemotingCommand;

/// An empty buffer that grew past this is replaced, so a connection that once queued a burst
/// does not keep the memory while idle.
const SHRINK_ABOVE: usize = 256 * 1024;

/// The most slices handed to one vectored write.
const MAX_SLICES: usize = 64;

/// A body part shorter than this is copied into the buffer instead of queued as a chunk: for a
/// record this small the copy costs less than the slice and the extra write calls it would
/// take. (A stored record holds ~100 bytes of fixed fields, so only near-empty messages are
/// copied.)
const COPY_PART_BELOW: usize = 256;

/// Queued output of one connection plus the wakers of its reader and writer.
#[derive(Debug)]
pub struct Outbox {
    /// Output queued before `tail`, each chunk sent as it is (frozen buffer contents and the
    /// reply body parts).
    chunks: VecDeque<Bytes>,
    /// Bytes in `chunks`.
    chunked: usize,
    /// Output after the last chunk, coalesced (frame heads, bodies, small parts).
    tail: BytesMut,
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
            chunks: VecDeque::new(),
            chunked: 0,
            tail: BytesMut::new(),
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

    /// Queue `cmd` as one frame and wake the writer: head and `body` copied, `body_parts` queued
    /// as they are. A command that cannot be encoded is logged and dropped.
    pub fn push(&mut self, cmd: &RemotingCommand) {
        if let Err(e) = frame::try_encode_head(cmd, &mut self.tail) {
            frame::log_unencodable(cmd, &e);
            return;
        }
        self.tail.extend_from_slice(&cmd.body);
        for part in &cmd.body_parts {
            self.push_part(part);
        }
        if let Some(w) = self.writer.take() {
            w.wake();
        }
    }

    fn push_part(&mut self, part: &Bytes) {
        if part.len() < COPY_PART_BELOW {
            self.tail.extend_from_slice(part);
            return;
        }
        if !self.tail.is_empty() {
            let before = self.tail.split().freeze();
            self.chunked += before.len();
            self.chunks.push_back(before);
        }
        self.chunked += part.len();
        self.chunks.push_back(part.clone());
    }

    /// Bytes waiting for the peer.
    pub fn queued(&self) -> usize {
        self.chunked + self.tail.len()
    }

    /// Reading is paused while this is true.
    pub fn over_high(&self) -> bool {
        self.queued() > self.high
    }

    /// The next bytes to write, in order, as at most `out.len()` slices; returns how many.
    fn io_slices<'a>(&'a self, out: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, chunk) in out.iter_mut().zip(&self.chunks) {
            *slot = IoSlice::new(chunk);
            n += 1;
        }
        if n < out.len() && !self.tail.is_empty() {
            out[n] = IoSlice::new(&self.tail);
            n += 1;
        }
        n
    }

    /// The peer accepted `n` bytes (which may end inside a chunk or span several). Wakes a
    /// paused reader once the queue is down to `low`.
    pub fn consumed(&mut self, mut n: usize, now: Instant) {
        while let Some(front) = self.chunks.front_mut() {
            if n == 0 {
                break;
            }
            let take = n.min(front.len());
            if take == front.len() {
                self.chunks.pop_front();
            } else {
                front.advance(take);
            }
            self.chunked -= take;
            n -= take;
        }
        debug_assert!(n <= self.tail.len(), "consumed more than was queued");
        self.tail.advance(n.min(self.tail.len()));
        self.last_activity = now;
        if self.tail.is_empty() && self.tail.capacity() > SHRINK_ABOVE {
            self.tail = BytesMut::new();
        }
        if self.chunks.is_empty() && self.chunks.capacity() > MAX_SLICES * 16 {
            self.chunks = VecDeque::new();
        }
        if self.queued() <= self.low {
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
    /// Up to [`MAX_SLICES`] chunks go in one vectored write (TCP: `writev`; TLS: tokio-rustls
    /// encrypts the slices into records; a stream without vectored writes takes the first slice
    /// per call). An empty outbox is flushed too: a TLS stream buffers records until then (a TCP
    /// socket's flush does nothing).
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let mut ob = self.outbox.borrow_mut();
            if ob.queued() == 0 {
                return Pin::new(&mut self.io).poll_flush(cx);
            }
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let k = ob.io_slices(&mut slices);
            match Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..k]) {
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

    fn counter() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let w = Waker::from(c.clone());
        (c, w)
    }

    fn reply(body: usize) -> RemotingCommand {
        RemotingCommand::request(0).with_body(vec![7u8; body])
    }

    /// A reply whose body is `sizes.len()` parts, part `i` filled with byte `seed + i`.
    fn parted(seed: u8, sizes: &[usize]) -> RemotingCommand {
        let parts = sizes
            .iter()
            .enumerate()
            .map(|(i, n)| Bytes::from(vec![seed.wrapping_add(i as u8); *n]))
            .collect();
        RemotingCommand::request(11)
            .with_opaque(seed as i32)
            .with_body_parts(parts)
    }

    fn encoded(cmds: &[RemotingCommand]) -> Vec<u8> {
        let mut b = BytesMut::new();
        for c in cmds {
            frame::encode(c, &mut b);
        }
        b.to_vec()
    }

    /// A socket that takes at most `per_call` bytes per write, across slice boundaries; with
    /// `pend_every > 0` every such call is refused once (Pending, waking at once).
    /// What the socket took, and the most slices one write was given.
    type Taken = Rc<RefCell<(Vec<u8>, usize)>>;

    struct Trickle {
        taken: Taken,
        per_call: usize,
        vectored: bool,
        pend_every: usize,
        calls: usize,
    }

    impl Trickle {
        fn new(per_call: usize, vectored: bool, pend_every: usize) -> (Self, Taken) {
            let taken = Taken::default();
            let t = Trickle {
                taken: taken.clone(),
                per_call,
                vectored,
                pend_every,
                calls: 0,
            };
            (t, taken)
        }
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.poll_write_vectored(cx, &[IoSlice::new(buf)])
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            self.calls += 1;
            if self.pend_every > 0 && self.calls.is_multiple_of(self.pend_every) {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            // Like tokio's default for a stream without vectored writes: the first slice only.
            let bufs = if self.vectored { bufs } else { &bufs[..1] };
            let mut taken = self.taken.borrow_mut();
            taken.1 = taken.1.max(bufs.len());
            let mut left = self.per_call;
            for b in bufs {
                let take = b.len().min(left);
                taken.0.extend_from_slice(&b[..take]);
                left -= take;
                if left == 0 {
                    break;
                }
            }
            Poll::Ready(Ok(self.per_call - left))
        }

        fn is_write_vectored(&self) -> bool {
            self.vectored
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn reading_pauses_above_high_and_resumes_at_low() {
        let mut ob = Outbox::new(1000, 400);
        ob.push(&reply(600));
        assert!(!ob.over_high(), "one 600-byte reply fits under 1000");
        ob.push(&reply(600));
        assert!(ob.over_high());
        let (woken, waker) = counter();
        ob.park_reader(&waker);
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
    fn watermarks_count_body_parts_exactly() {
        let cmd = parted(1, &[700, 10, 900]);
        let frame_len = encoded(std::slice::from_ref(&cmd)).len();
        let mut ob = Outbox::new(frame_len, 905);
        ob.push(&cmd);
        assert_eq!(ob.queued(), frame_len);
        assert!(!ob.over_high(), "exactly at high is not over it");
        ob.push(&reply(0));
        assert!(ob.over_high());
        let (woken, waker) = counter();
        ob.park_reader(&waker);
        let small = ob.queued() - frame_len;
        // Stop inside the parts: still above `low`.
        ob.consumed(frame_len - 906, Instant::now());
        assert_eq!(ob.queued(), 906 + small);
        assert_eq!(woken.0.load(Ordering::SeqCst), 0);
        ob.consumed(1 + small, Instant::now());
        assert_eq!(ob.queued(), 905);
        assert_eq!(woken.0.load(Ordering::SeqCst), 1);
        ob.consumed(905, Instant::now());
        assert_eq!(ob.queued(), 0);
        assert!(ob.chunks.is_empty() && ob.tail.is_empty());
    }

    #[test]
    fn body_parts_are_queued_without_copying() {
        let cmd = parted(3, &[COPY_PART_BELOW, COPY_PART_BELOW - 1, 4096]);
        let mut ob = Outbox::new(usize::MAX, 0);
        ob.push(&cmd);
        // The head; part 0 itself; a copy of the small part 1; part 2 itself.
        let c = &ob.chunks;
        assert_eq!(c.len(), 4);
        assert_eq!(c[1].as_ptr(), cmd.body_parts[0].as_ptr());
        assert_eq!(c[2], cmd.body_parts[1]);
        assert_ne!(c[2].as_ptr(), cmd.body_parts[1].as_ptr());
        assert_eq!(c[3].as_ptr(), cmd.body_parts[2].as_ptr());
        assert!(ob.tail.is_empty());
        assert_eq!(ob.queued(), encoded(&[cmd]).len());
    }

    #[test]
    fn a_drained_large_buffer_is_released() {
        let mut ob = Outbox::new(usize::MAX, 0);
        for _ in 0..SHRINK_ABOVE / 1000 + 2 {
            ob.push(&reply(1000));
        }
        assert!(ob.chunks.is_empty() && ob.tail.capacity() > SHRINK_ABOVE);
        let n = ob.queued();
        ob.consumed(n, Instant::now());
        assert!(ob.tail.capacity() <= SHRINK_ABOVE);
    }

    #[test]
    fn pushing_wakes_a_parked_writer() {
        let mut ob = Outbox::new(100, 50);
        let (woken, waker) = counter();
        ob.park_writer(&waker);
        ob.push(&reply(1));
        assert_eq!(woken.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn one_write_takes_at_most_max_slices() {
        let ob = Outbox::shared(usize::MAX, 0);
        ob.borrow_mut().push(&parted(9, &[COPY_PART_BELOW; 200]));
        let (io, taken) = Trickle::new(usize::MAX, true, 0);
        let (_, waker) = counter();
        let mut w = Writer::new(ob.clone(), io);
        assert!(Pin::new(&mut w)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        let (out, most_slices) = &*taken.borrow();
        assert_eq!(*most_slices, MAX_SLICES);
        assert!(*out == encoded(&[parted(9, &[COPY_PART_BELOW; 200])]));
    }

    #[test]
    fn the_writer_drains_everything_then_waits_for_more() {
        let ob = Outbox::shared(1 << 20, 0);
        ob.borrow_mut().push(&reply(10));
        ob.borrow_mut().push(&reply(20));
        let expect = ob.borrow().queued();
        let mut out: Vec<u8> = Vec::new();
        let mut w = Writer::new(ob.clone(), &mut out);
        let (woken, waker) = counter();
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

    /// Replies of every shape (plain, parted with big and small parts, empty parts) pushed
    /// between polls of a writer whose socket takes `k` bytes per call and sometimes none: the
    /// peer gets exactly the frames in order, and after every poll the count of queued bytes is
    /// what was pushed minus what the socket took.
    #[test]
    fn partial_writes_advance_across_chunks() {
        let shapes: Vec<RemotingCommand> = vec![
            parted(1, &[300, 5000, 1, 0, 70_000]),
            reply(3),
            parted(2, &[COPY_PART_BELOW; 3]),
            parted(3, &[]),
            reply(600),
            parted(4, &[100, 100, 9000]),
        ];
        let expect = encoded(&shapes);
        for per_call in [1, 2, 7, 255, 256, 4096, 65_537, usize::MAX] {
            for (vectored, pend_every) in [(true, 0), (true, 3), (false, 2)] {
                let ob = Outbox::shared(usize::MAX, 0);
                let (io, taken) = Trickle::new(per_call, vectored, pend_every);
                let (_, waker) = counter();
                let mut cx = Context::from_waker(&waker);
                let mut w = Writer::new(ob.clone(), io);
                let mut pushed = 0;
                let mut polls = 0;
                let exact = |pushed: usize| {
                    assert_eq!(ob.borrow().queued(), pushed - taken.borrow().0.len())
                };
                for cmd in &shapes {
                    ob.borrow_mut().push(cmd);
                    pushed += encoded(std::slice::from_ref(cmd)).len();
                    exact(pushed);
                    assert!(Pin::new(&mut w).poll(&mut cx).is_pending());
                    exact(pushed);
                }
                while ob.borrow().queued() > 0 {
                    assert!(Pin::new(&mut w).poll(&mut cx).is_pending());
                    exact(pushed);
                    polls += 1;
                    assert!(polls < 1_000_000, "the writer makes progress");
                }
                let out = &taken.borrow().0;
                assert_eq!(pushed, expect.len());
                assert_eq!(out.len(), expect.len(), "k={per_call} v={vectored}");
                assert!(*out == expect, "k={per_call} v={vectored}: bytes differ");
            }
        }
    }
}
