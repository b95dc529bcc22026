//! `TraceDispatcher` (Java `AsyncTraceDispatcher`): a bounded buffer of trace contexts
//! ([`TraceQueue`], 2048) drained by one task on the client runtime thread, which wakes when a
//! batch is full (`batch_size`, 100) or `flush_wait` (500 ms) after the first record, and sends
//! the records as messages of the trace topic (at most `max_msg_size` bytes each) through an
//! inner producer (`_INNER_TRACE_PRODUCER-<group>-<kind>`, tracing off), up to 8 trace messages
//! in flight while the next batch fills. Enqueueing never waits and wakes the task once per
//! batch: a full buffer drops the context and counts it. A failed trace send is counted and
//! logged at debug level only (a broker without the trace topic is normal). On the cloud
//! access channel each record goes to the trace topic of its region
//! (`rmq_sys_TRACE_DATA_<region>`), as Java's dispatcher picks a topic per record. The task
//! ends, after sending what it holds, when the last handle is dropped.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::{Notify, Semaphore};

use super::encode::RecordBuf;
use super::{trace_topic_for, AccessChannel, TraceContext};
use crate::client::config::ProducerConfig;
use crate::client::instance::ClientInstance;
use crate::client::message::Message;
use crate::client::producer::Producer;
use crate::protocol::message::properties::MAX_PROPERTIES_LEN;

/// Trace messages outstanding at once per dispatcher.
const MAX_IN_FLIGHT: usize = 8;

/// Batching knobs (Java defaults).
#[derive(Debug, Clone)]
pub struct DispatchOptions {
    /// The trace topic of the local channel (`customizedTraceTopic` or RMQ_SYS_TRACE_TOPIC).
    pub topic: String,
    /// `Cloud`: records go to their region's `rmq_sys_TRACE_DATA_<region>` instead of `topic`.
    pub access_channel: AccessChannel,
    /// Queue bound (`queueSize`, 2048).
    pub queue_size: usize,
    /// Contexts per batch (`batchSize`, 100).
    pub batch_size: usize,
    /// Largest trace message body (`maxMsgSize`, 128000 bytes).
    pub max_msg_size: usize,
    /// Longest wait for a batch to fill (`waitTimeThresholdMil`, 500 ms).
    pub flush_wait: Duration,
}

impl DispatchOptions {
    pub fn new(topic: &str) -> Self {
        DispatchOptions {
            topic: topic.to_string(),
            access_channel: AccessChannel::Local,
            queue_size: 2048,
            batch_size: 100,
            max_msg_size: 128_000,
            flush_wait: Duration::from_millis(500),
        }
    }
}

/// Counters of one dispatcher.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TraceStats {
    pub enqueued: u64,
    /// Dropped because the queue was full.
    pub dropped: u64,
    /// Contexts in trace messages the broker accepted.
    pub sent: u64,
    /// Contexts whose trace message failed.
    pub failed: u64,
}

#[derive(Default)]
struct Counters {
    enqueued: AtomicU64,
    dropped: AtomicU64,
    sent: AtomicU64,
    failed: AtomicU64,
}

/// The bounded buffer between the hooks and the task: records are encoded straight into it
/// ([`RecordBuf`]), and the task swaps it for the spare buffer it emptied last time, so a steady
/// load allocates nothing per record. A push wakes the task only when the buffer turns non-empty
/// or reaches a full batch: one wake-up per batch, not one per record.
pub struct TraceQueue {
    buf: Mutex<RecordBuf>,
    spare: Mutex<RecordBuf>,
    capacity: usize,
    batch: usize,
    wake: Notify,
    closed: AtomicBool,
}

impl TraceQueue {
    pub fn new(capacity: usize, batch: usize) -> Self {
        TraceQueue {
            buf: Mutex::new(RecordBuf::default()),
            spare: Mutex::new(RecordBuf::default()),
            capacity: capacity.max(1),
            batch: batch.max(1),
            wake: Notify::new(),
            closed: AtomicBool::new(false),
        }
    }

    /// Append what `write` writes (one traced message's records); false (and nothing queued)
    /// when full.
    pub fn push_with(&self, write: impl FnOnce(&mut RecordBuf)) -> bool {
        let len = {
            let mut b = self.buf.lock();
            if b.len() >= self.capacity {
                return false;
            }
            write(&mut b);
            b.len()
        };
        if len == 1 || len == self.batch {
            self.wake.notify_one();
        }
        true
    }

    pub fn len(&self) -> usize {
        self.buf.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Everything queued, oldest first.
    pub fn take(&self) -> RecordBuf {
        let fresh = std::mem::take(&mut *self.spare.lock());
        std::mem::replace(&mut *self.buf.lock(), fresh)
    }

    /// Hand back a buffer [`Self::take`] returned, to be filled again.
    pub fn recycle(&self, mut used: RecordBuf) {
        used.clear();
        *self.spare.lock() = used;
    }

    pub fn close(&self) {
        self.closed.store(true, Relaxed);
        self.wake.notify_one();
    }

    pub fn closed(&self) -> bool {
        self.closed.load(Relaxed)
    }

    /// Wait until something is queued (or closed), then until a batch is full, `flush_wait`
    /// has passed or the queue is closed.
    async fn ready(&self, flush_wait: Duration) {
        while self.is_empty() && !self.closed() {
            self.wake.notified().await;
        }
        let deadline = tokio::time::Instant::now() + flush_wait;
        while self.len() < self.batch && !self.closed() {
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
    }
}

/// Closes the queue when the last [`TraceDispatcher`] clone is dropped.
struct Handle {
    queue: Arc<TraceQueue>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.queue.close();
    }
}

/// A cheap-to-clone handle; see the module doc.
#[derive(Clone)]
pub struct TraceDispatcher {
    handle: Arc<Handle>,
    counters: Arc<Counters>,
    channel: AccessChannel,
    /// The configured trace topic (sends to it are not traced).
    topic: Arc<str>,
}

/// One trace message: concatenated records and the keys of every traced message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceBatch {
    pub body: String,
    /// Distinct keys, sorted, separated by spaces (the message's `KEYS`; Java's order is a
    /// hash set's, so none is expected).
    pub keys: String,
    pub contexts: usize,
}

/// Most bytes of a trace message's KEYS: the broker refuses a message whose properties pass
/// 32767 bytes, and the other properties (UNIQ_KEY, WAIT, ...) need some room.
pub const MAX_KEYS_LEN: usize = MAX_PROPERTIES_LEN - 1024;

/// Pack records `from..to` of `buf` into trace messages of at most about `max_size` bytes each
/// (a message is closed once it reaches the limit, as Java does) and with at most
/// [`MAX_KEYS_LEN`] bytes of keys. Java bounds the body only, so its trace message of many
/// batch-send records (each keyed by ids of a whole batch) is refused by the broker; a message
/// closed early here holds the same records, only fewer of them.
pub fn pack(buf: &RecordBuf, from: usize, to: usize, max_size: usize) -> Vec<TraceBatch> {
    let mut out = Vec::new();
    let mut first = from;
    for i in from..to {
        if i > first && buf.keys_len(first, i + 1) > MAX_KEYS_LEN {
            out.push(batch_of(buf, first, i));
            first = i;
        }
        if buf.text(first, i + 1).len() >= max_size || i + 1 == to {
            out.push(batch_of(buf, first, i + 1));
            first = i + 1;
        }
    }
    out
}

fn batch_of(buf: &RecordBuf, from: usize, to: usize) -> TraceBatch {
    let mut keys: Vec<&str> = buf.keys(from, to).collect();
    keys.sort_unstable();
    keys.dedup();
    TraceBatch {
        body: buf.text(from, to).to_string(),
        keys: keys.join(" "),
        contexts: to - from,
    }
}

impl TraceDispatcher {
    /// Start the dispatcher of `group` (`kind`: "PRODUCE" or "CONSUME") on `instance`'s runtime.
    pub fn start(
        instance: &ClientInstance,
        group: &str,
        kind: &str,
        opts: DispatchOptions,
    ) -> TraceDispatcher {
        let queue = Arc::new(TraceQueue::new(opts.queue_size, opts.batch_size));
        let counters = Arc::new(Counters::default());
        let channel = opts.access_channel;
        let topic: Arc<str> = opts.topic.as_str().into();
        let task = Task {
            instance: instance.clone(),
            producer_group: format!("_INNER_TRACE_PRODUCER-{group}-{kind}"),
            opts,
            counters: counters.clone(),
        };
        drop(instance.spawn(task.run(queue.clone())));
        TraceDispatcher {
            handle: Arc::new(Handle { queue }),
            counters,
            channel,
            topic,
        }
    }

    /// The access channel records are written for (the encoder's SubAfter layout).
    pub fn access_channel(&self) -> AccessChannel {
        self.channel
    }

    /// Queue one context; never waits (a full queue drops it).
    pub fn submit(&self, c: TraceContext) {
        self.submit_with(|b| b.push_context(&c));
    }

    /// Queue the records `write` encodes; never waits (a full queue drops them).
    fn submit_with(&self, write: impl FnOnce(&mut RecordBuf)) {
        let n = if self.handle.queue.push_with(write) {
            &self.counters.enqueued
        } else {
            &self.counters.dropped
        };
        n.fetch_add(1, Relaxed);
    }

    /// The producer's hook: queue the Pub record of a finished send (if Java would trace it).
    pub fn on_sent(&self, s: &super::hooks::Sent<'_>) {
        if super::hooks::is_trace_topic(s.topic, &self.topic) {
            return;
        }
        if let Some(p) = super::hooks::pub_fields(s) {
            self.submit_with(|b| b.push_pub(&p));
        }
    }

    /// Wait (at most `limit`) until every queued record was sent or failed; the counters then.
    pub async fn flush(&self, limit: Duration) -> TraceStats {
        let deadline = Instant::now() + limit;
        loop {
            let s = self.stats();
            if s.sent + s.failed >= s.enqueued || Instant::now() >= deadline {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn stats(&self) -> TraceStats {
        TraceStats {
            enqueued: self.counters.enqueued.load(Relaxed),
            dropped: self.counters.dropped.load(Relaxed),
            sent: self.counters.sent.load(Relaxed),
            failed: self.counters.failed.load(Relaxed),
        }
    }
}

struct Task {
    instance: ClientInstance,
    producer_group: String,
    opts: DispatchOptions,
    counters: Arc<Counters>,
}

impl Task {
    async fn run(self, queue: Arc<TraceQueue>) {
        let mut producer: Option<Producer> = None;
        let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        loop {
            queue.ready(self.opts.flush_wait).await;
            let all = queue.take();
            if all.is_empty() && queue.closed() {
                break;
            }
            if producer.is_none() && !all.is_empty() {
                producer = self.start_producer().await;
            }
            let step = self.opts.batch_size.max(1);
            for from in (0..all.len()).step_by(step) {
                let to = (from + step).min(all.len());
                for (a, b, region) in all.region_runs(from, to) {
                    let topic = trace_topic_for(self.opts.access_channel, &self.opts.topic, region);
                    match &producer {
                        Some(p) => self.send(p, &topic, &all, (a, b), &slots).await,
                        None => {
                            self.counters.failed.fetch_add((b - a) as u64, Relaxed);
                        }
                    }
                }
            }
            queue.recycle(all);
        }
        if let Some(p) = producer {
            let _ = slots.acquire_many(MAX_IN_FLIGHT as u32).await;
            let _ = p.shutdown().await;
        }
    }

    async fn start_producer(&self) -> Option<Producer> {
        let mut cfg = ProducerConfig::new("", &self.producer_group);
        cfg.client = self.instance.config().clone();
        cfg.send_timeout = Duration::from_secs(5);
        cfg.enable_trace = false;
        match Producer::start(cfg).await {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::debug!(error = %e, "trace producer did not start");
                None
            }
        }
    }

    /// Start sending records `from..to` of `buf` to `topic` (at most [`MAX_IN_FLIGHT`] trace
    /// messages outstanding, so the next batch is collected while these are answered);
    /// results are only counted.
    async fn send(
        &self,
        p: &Producer,
        topic: &str,
        buf: &RecordBuf,
        (from, to): (usize, usize),
        slots: &Arc<Semaphore>,
    ) {
        for b in pack(buf, from, to, self.opts.max_msg_size) {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let mut m = Message::new(topic, b.body.into_bytes());
            m.keys = vec![b.keys];
            let fut = p.send_async(m);
            let (n, counters, topic) =
                (b.contexts as u64, self.counters.clone(), topic.to_string());
            tokio::spawn(async move {
                match fut.await {
                    Ok(_) => counters.sent.fetch_add(n, Relaxed),
                    Err(e) => {
                        tracing::debug!(%topic, error = %e, "trace send failed");
                        counters.failed.fetch_add(n, Relaxed)
                    }
                };
                drop(permit);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::trace::{TraceBean, TraceType};

    fn ctx(id: &str, keys: &str) -> TraceContext {
        TraceContext {
            trace_type: TraceType::Pub,
            beans: vec![TraceBean {
                msg_id: id.into(),
                keys: keys.into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn buf(cs: &[TraceContext]) -> RecordBuf {
        let mut b = RecordBuf::default();
        for c in cs {
            b.push_context(c);
        }
        b
    }

    #[test]
    fn pack_joins_records_and_dedups_keys() {
        let b = pack(&buf(&[ctx("B", "k1 k2"), ctx("A", "k2")]), 0, 2, 128_000);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].contexts, 2);
        assert_eq!(b[0].keys, "A B k1 k2");
        assert_eq!(b[0].body.matches('\u{2}').count(), 2);
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_waiting() {
        let queue = Arc::new(TraceQueue::new(2, 100));
        let d = TraceDispatcher {
            handle: Arc::new(Handle {
                queue: queue.clone(),
            }),
            counters: Arc::default(),
            channel: AccessChannel::Local,
            topic: super::super::TRACE_TOPIC.into(),
        };
        for i in 0..5 {
            d.submit(ctx(&format!("ID{i}"), ""));
        }
        let s = d.stats();
        assert_eq!((s.enqueued, s.dropped), (2, 3));
        let taken = queue.take();
        assert_eq!(taken.keys(0, 1).next(), Some("ID0"));
        assert!(queue.is_empty());
        // The emptied buffer comes back for the next take, keeping its capacity.
        queue.recycle(taken);
        d.submit(ctx("ID9", ""));
        assert_eq!(queue.take().keys(0, 1).collect::<Vec<_>>(), vec!["ID9"]);
        assert!(!queue.closed());
        drop(d);
        assert!(queue.closed(), "the last handle closes the queue");
    }

    #[tokio::test]
    async fn ready_waits_for_a_full_batch_or_the_flush_wait() {
        let q = TraceQueue::new(10, 3);
        let push = |id: &str| q.push_with(|b| b.push_context(&ctx(id, "")));
        push("A");
        let t0 = Instant::now();
        q.ready(Duration::from_millis(100)).await;
        assert!(t0.elapsed() >= Duration::from_millis(90));
        push("B");
        push("C");
        let t0 = Instant::now();
        q.ready(Duration::from_secs(5)).await;
        assert!(
            t0.elapsed() < Duration::from_secs(1),
            "a full batch is ready at once"
        );
        assert_eq!(q.take().len(), 3);
    }

    #[test]
    fn pack_keeps_the_keys_of_a_trace_message_under_the_properties_limit() {
        // Pub records of 16-message batches: each keyed by 16 ids joined by ','.
        let joined = |i: usize| {
            (0..16)
                .map(|j| format!("{:032X}", i * 16 + j))
                .collect::<Vec<_>>()
                .join(",")
        };
        let cs: Vec<_> = (0..100).map(|i| ctx(&joined(i), "")).collect();
        let b = buf(&cs);
        let packed = pack(&b, 0, 100, 128_000);
        assert!(packed.len() > 1, "{} trace messages", packed.len());
        assert_eq!(packed.iter().map(|x| x.contexts).sum::<usize>(), 100);
        for p in &packed {
            assert!(p.keys.len() <= MAX_KEYS_LEN, "{}", p.keys.len());
        }
        assert_eq!(
            packed.iter().map(|x| x.body.as_str()).collect::<String>(),
            b.text(0, 100)
        );
    }

    #[test]
    fn pack_splits_at_the_size_limit() {
        let cs: Vec<_> = (0..10).map(|i| ctx(&format!("ID{i}"), "")).collect();
        let b = buf(&cs);
        let one = b.text(0, 1).len();
        let packed = pack(&b, 0, 10, one * 3);
        assert_eq!(packed.len(), 4);
        assert_eq!(packed.iter().map(|x| x.contexts).sum::<usize>(), 10);
        assert_eq!(packed[3].keys, "ID9");
        assert_eq!(
            packed.iter().map(|x| x.body.as_str()).collect::<String>(),
            b.text(0, 10)
        );
        assert!(pack(&b, 3, 3, 100).is_empty());
    }
}
