//! `TraceDispatcher` (Java `AsyncTraceDispatcher`): a bounded queue of trace contexts drained by
//! one task on the client runtime thread, which batches them (up to `batch_size` contexts or
//! `flush_wait` after the first) and sends them as messages of the trace topic through an inner
//! producer (`_INNER_TRACE_PRODUCER-<group>-<kind>`, tracing off). Enqueueing never waits: a
//! full queue drops the context and counts it. A failed trace send is counted and logged at
//! debug level only (a broker without the trace topic is normal). The task ends, after sending
//! what it holds, when the last handle is dropped.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::encode::{encode_context, transfer_keys};
use super::TraceContext;
use crate::client::config::ProducerConfig;
use crate::client::instance::ClientInstance;
use crate::client::message::Message;
use crate::client::producer::Producer;

/// Batching knobs (Java defaults).
#[derive(Debug, Clone)]
pub struct DispatchOptions {
    pub topic: String,
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

/// A cheap-to-clone handle; see the module doc.
#[derive(Clone)]
pub struct TraceDispatcher {
    tx: mpsc::Sender<TraceContext>,
    counters: Arc<Counters>,
}

/// One trace message: concatenated records and the keys of every traced message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceBatch {
    pub body: String,
    pub keys: Vec<String>,
    pub contexts: usize,
}

/// Pack contexts into trace messages of at most about `max_size` bytes each (a message is closed
/// once it reaches the limit, as Java does).
pub fn pack(contexts: &[TraceContext], max_size: usize) -> Vec<TraceBatch> {
    let mut out = Vec::new();
    let mut cur = TraceBatch {
        body: String::new(),
        keys: Vec::new(),
        contexts: 0,
    };
    for c in contexts {
        cur.body.push_str(&encode_context(c));
        for k in transfer_keys(c) {
            if !cur.keys.contains(&k) {
                cur.keys.push(k);
            }
        }
        cur.contexts += 1;
        if cur.body.len() >= max_size {
            out.push(std::mem::replace(
                &mut cur,
                TraceBatch {
                    body: String::new(),
                    keys: Vec::new(),
                    contexts: 0,
                },
            ));
        }
    }
    if cur.contexts > 0 {
        out.push(cur);
    }
    out
}

impl TraceDispatcher {
    /// Start the dispatcher of `group` (`kind`: "PRODUCE" or "CONSUME") on `instance`'s runtime.
    pub fn start(
        instance: &ClientInstance,
        group: &str,
        kind: &str,
        opts: DispatchOptions,
    ) -> TraceDispatcher {
        let (tx, rx) = mpsc::channel(opts.queue_size.max(1));
        let counters = Arc::new(Counters::default());
        let task = Task {
            instance: instance.clone(),
            producer_group: format!("_INNER_TRACE_PRODUCER-{group}-{kind}"),
            opts,
            counters: counters.clone(),
        };
        drop(instance.spawn(task.run(rx)));
        TraceDispatcher { tx, counters }
    }

    /// Queue one context; never waits (a full queue drops it).
    pub fn submit(&self, c: TraceContext) {
        match self.tx.try_send(c) {
            Ok(()) => {
                self.counters.enqueued.fetch_add(1, Relaxed);
            }
            Err(_) => {
                self.counters.dropped.fetch_add(1, Relaxed);
            }
        }
    }

    /// The producer's hook: queue the Pub record of a finished send (if Java would trace it).
    pub fn on_sent(&self, s: &super::hooks::Sent<'_>) {
        if let Some(c) = super::hooks::pub_context(s) {
            self.submit(c);
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
    async fn run(self, mut rx: mpsc::Receiver<TraceContext>) {
        let mut producer: Option<Producer> = None;
        while let Some(first) = rx.recv().await {
            let batch = self.collect(first, &mut rx).await;
            if producer.is_none() {
                producer = self.start_producer().await;
            }
            match &producer {
                Some(p) => self.send(p, &batch).await,
                None => {
                    self.counters.failed.fetch_add(batch.len() as u64, Relaxed);
                }
            }
        }
        if let Some(p) = producer {
            let _ = p.shutdown().await;
        }
    }

    /// `first` plus whatever arrives until the batch is full or `flush_wait` has passed.
    async fn collect(
        &self,
        first: TraceContext,
        rx: &mut mpsc::Receiver<TraceContext>,
    ) -> Vec<TraceContext> {
        let deadline = Instant::now() + self.opts.flush_wait;
        let mut batch = vec![first];
        while batch.len() < self.opts.batch_size {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Some(c)) => batch.push(c),
                Ok(None) | Err(_) => break,
            }
        }
        batch
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

    async fn send(&self, p: &Producer, batch: &[TraceContext]) {
        let sends: Vec<_> = pack(batch, self.opts.max_msg_size)
            .into_iter()
            .map(|b| {
                let mut m = Message::new(&self.opts.topic, b.body.into_bytes());
                m.keys = b.keys;
                (b.contexts as u64, p.send_async(m))
            })
            .collect();
        for (n, fut) in sends {
            match fut.await {
                Ok(_) => self.counters.sent.fetch_add(n, Relaxed),
                Err(e) => {
                    tracing::debug!(topic = %self.opts.topic, error = %e, "trace send failed");
                    self.counters.failed.fetch_add(n, Relaxed)
                }
            };
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

    #[test]
    fn pack_joins_records_and_dedups_keys() {
        let b = pack(&[ctx("A", "k1 k2"), ctx("B", "k2")], 128_000);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].contexts, 2);
        assert_eq!(b[0].keys, vec!["A", "k1", "k2", "B"]);
        assert_eq!(b[0].body.matches('\u{2}').count(), 2);
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_waiting() {
        let (tx, mut rx) = mpsc::channel(2);
        let d = TraceDispatcher {
            tx,
            counters: Arc::default(),
        };
        for i in 0..5 {
            d.submit(ctx(&format!("ID{i}"), ""));
        }
        let s = d.stats();
        assert_eq!((s.enqueued, s.dropped), (2, 3));
        assert_eq!(rx.try_recv().unwrap().bean().msg_id, "ID0");
    }

    #[test]
    fn pack_splits_at_the_size_limit() {
        let cs: Vec<_> = (0..10).map(|i| ctx(&format!("ID{i}"), "")).collect();
        let one = encode_context(&cs[0]).len();
        let b = pack(&cs, one * 3);
        assert_eq!(b.len(), 4);
        assert_eq!(b.iter().map(|x| x.contexts).sum::<usize>(), 10);
        assert_eq!(b[3].keys, vec!["ID9"]);
    }
}
