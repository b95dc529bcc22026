//! Producer mode: `concurrency` sender tasks (or one async issuer) over one or a few pipelined
//! connections, each request a SEND_MESSAGE_V2 (310) or, in batch mode, SEND_BATCH_MESSAGE (320).
//! What is sent comes from [`super::load`]; the connections from [`Link`], which reopens them
//! (route asked again) when the broker goes away, so a run survives a broker restart. A sender
//! whose request failed pauses [`FAILURE_PAUSE`] before the next; every failure is counted by
//! kind and the progress lines say why (see [`super::failures`]). With `--transaction` each
//! stored half message is committed by a oneway END_TRANSACTION (see [`super::transaction`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use tokio::sync::Semaphore;

use super::args::{ProducerArgs, SendMode};
use super::failures::{Failure, FailureLog};
use super::link::Link;
use super::load::{Budget, MessageFactory};
use super::net;
use super::report::{rate, ProducerSummary};
use super::stats::{self, LatencySummary, ProducerMeters, ProducerSample};
use super::trace::{BenchTrace, TracedRequest};
use super::transaction::Commits;
use crate::protocol::codes::response_code;
use crate::remoting::client::{ClientError, RemotingClient};

pub use super::load::BORN_US;

/// How long a sender waits after a failed request before its next one.
pub const FAILURE_PAUSE: Duration = Duration::from_millis(100);

struct Shared {
    factory: MessageFactory,
    budget: Budget,
    meters: ProducerMeters,
    hist: Mutex<Histogram<u64>>,
    failures: FailureLog,
    link: Link,
    timeout: Duration,
    batch: bool,
    per_request: usize,
    trace: Option<BenchTrace>,
    /// `--transaction`: the commits sent after each stored half message.
    commits: Option<Commits>,
    group: String,
    topic: String,
}

impl Shared {
    fn new(args: &ProducerArgs, queues: u32, link: Link, start: Instant) -> Shared {
        let common = &args.common;
        Shared {
            factory: MessageFactory::new(args, queues),
            budget: Budget::new(
                start,
                common.duration_or_forever(),
                common.count_limit(),
                args.rate,
            ),
            meters: ProducerMeters::default(),
            hist: Mutex::new(stats::new_histogram()),
            failures: FailureLog::default(),
            link,
            timeout: common.timeout(),
            batch: args.send_mode == SendMode::Batch,
            per_request: args.per_request(),
            trace: None,
            commits: args.transaction.then(Commits::default),
            group: args.group.clone(),
            topic: common.topic.clone(),
        }
    }

    fn done(&self, n: usize, started: Instant, outcome: Result<(), Failure>) {
        if let Err(why) = outcome {
            self.meters.failed.add(n as u64);
            self.failures.record(why, n as u64);
        } else {
            let us = started.elapsed().as_micros() as u64;
            self.meters.sent.add(n as u64);
            self.meters.rt.record(us);
            stats::record(&mut self.hist.lock(), us);
        }
    }

    async fn pace(&self, seq: u64) {
        if let Some(at) = self.budget.due(seq) {
            tokio::time::sleep_until(at.into()).await;
        }
    }

    /// After a failed request on `c` (of `generation`): when its connection is gone, wait for
    /// the link to reconnect (or for the run's time to run out); otherwise pause this sender for
    /// [`FAILURE_PAUSE`], so a broker refusing everything (shutting down, disk full) is not
    /// hammered and the failure count stays a count of attempts a client would make.
    async fn recover(&self, generation: u64, c: &RemotingClient) {
        if c.is_open() {
            tokio::time::sleep(FAILURE_PAUSE).await;
        } else {
            self.link.repair(generation, self.budget.deadline()).await;
        }
    }

    /// The interval from `from` to `to`, with its failures and connection notes.
    fn sample(&self, start: Instant, from: Instant, to: Instant) -> ProducerSample {
        let mut s = self.meters.sample(
            to.duration_since(start).as_secs_f64(),
            to.duration_since(from).as_secs_f64(),
        );
        s.failures = self.failures.take_interval();
        s.notes = self.link.take_notes();
        s
    }
}

async fn call_one(s: &Shared, worker: usize, seq: u64, n: usize) {
    let (generation, c) = s.link.client(worker);
    let req = s.factory.request(seq, n, s.batch);
    let props = s
        .commits
        .is_some()
        .then(|| BenchTrace::request_properties(&req))
        .flatten();
    let traced = s.trace.is_some().then(|| TracedRequest::of(&req)).flatten();
    let t0 = Instant::now();
    let mut committable = None;
    let outcome = match c.call(req, s.timeout).await {
        Ok(r) if r.code == response_code::SUCCESS => {
            if let (Some(t), Some(tr)) = (&s.trace, &traced) {
                t.on_reply(tr, c.addr(), t0, &r);
            }
            committable = Some(r);
            Ok(())
        }
        Ok(r) => Err(Failure::response(r.code, r.remark.as_deref())),
        Err(e) => Err(Failure::client(&e)),
    };
    let failed = outcome.is_err();
    // RT is the half send's alone: recorded before the commit goes out.
    s.done(n, t0, outcome);
    if let (Some(commits), Some(r)) = (&s.commits, &committable) {
        let p = props.as_deref().unwrap_or_default();
        commits.commit(&c, &s.group, &s.topic, p, r).await;
    }
    if failed {
        s.recover(generation, &c).await;
    }
}

async fn sync_worker(s: Arc<Shared>, worker: usize) {
    while let Some((seq, n)) = s.budget.claim(s.per_request, Instant::now()) {
        s.pace(seq).await;
        call_one(&s, worker, seq, n).await;
    }
}

async fn oneway_worker(s: Arc<Shared>, worker: usize) {
    while let Some((seq, n)) = s.budget.claim(1, Instant::now()) {
        s.pace(seq).await;
        let (generation, c) = s.link.client(worker);
        let t0 = Instant::now();
        // A oneway write succeeds into a connection whose peer has gone; check first.
        let outcome = if c.is_open() {
            let req = s.factory.request(seq, n, false);
            c.oneway(req).await.map_err(|e| Failure::client(&e))
        } else {
            Err(Failure::client(&ClientError::Closed(c.addr().to_string())))
        };
        let failed = outcome.is_err();
        s.done(n, t0, outcome);
        if failed {
            s.recover(generation, &c).await;
        }
    }
}

async fn async_issuer(s: Arc<Shared>, in_flight: usize) {
    let sem = Arc::new(Semaphore::new(in_flight));
    let mut i = 0usize;
    while let Some((seq, n)) = s.budget.claim(1, Instant::now()) {
        s.pace(seq).await;
        let Ok(permit) = sem.clone().acquire_owned().await else {
            break;
        };
        let s2 = s.clone();
        let worker = i;
        i += 1;
        tokio::spawn(async move {
            // The permit is held through a reconnect, so the issuer waits for it too.
            call_one(&s2, worker, seq, n).await;
            drop(permit);
        });
    }
    // Wait for the outstanding answers.
    let _ = sem.acquire_many(in_flight as u32).await;
}

/// The topic's write queues. A topic the name server knows is used as it is (its route gives
/// the queue count; RocketMQ's `BenchmarkTest` has 1024); otherwise it is created with
/// `--queues` queues, unless `--no-create-topic`.
async fn topic_queues(args: &ProducerArgs, link: &Link) -> Result<u32, String> {
    let conns = link.current();
    if let Some(q) = conns.target.write_queues {
        return Ok(q.max(1));
    }
    if !args.no_create_topic {
        let c = &conns.clients[0];
        net::create_topic(c, &args.common.topic, args.queues, args.common.timeout()).await?;
    }
    Ok(args.queues)
}

fn spawn_senders(s: &Arc<Shared>, args: &ProducerArgs) -> Vec<tokio::task::JoinHandle<()>> {
    match args.send_mode {
        SendMode::Async => vec![tokio::spawn(async_issuer(s.clone(), args.concurrency))],
        SendMode::Oneway => (0..args.concurrency)
            .map(|i| tokio::spawn(oneway_worker(s.clone(), i)))
            .collect(),
        SendMode::Sync | SendMode::Batch => (0..args.concurrency)
            .map(|i| tokio::spawn(sync_worker(s.clone(), i)))
            .collect(),
    }
}

/// A sample per second until the senders are done, then one for the last partial second.
/// Returns the samples and when the run ended.
async fn report(
    s: &Shared,
    start: Instant,
    senders: Vec<tokio::task::JoinHandle<()>>,
    show: impl Fn(&ProducerSample),
) -> (Vec<ProducerSample>, Instant) {
    let all_done = futures::future::join_all(senders);
    tokio::pin!(all_done);
    let mut samples = Vec::new();
    let second = Duration::from_secs(1);
    let mut tick = tokio::time::interval_at((start + second).into(), second);
    let mut last = start;
    loop {
        tokio::select! {
            _ = &mut all_done => break,
            _ = tick.tick() => {
                let now = Instant::now();
                samples.push(s.sample(start, last, now));
                show(samples.last().expect("just pushed"));
                last = now;
            }
        }
    }
    let end = Instant::now();
    if end.duration_since(last) > Duration::from_millis(50) {
        samples.push(s.sample(start, last, end));
        show(samples.last().expect("just pushed"));
    }
    (samples, end)
}

fn summary(
    args: &ProducerArgs,
    s: &Shared,
    samples: Vec<ProducerSample>,
    elapsed: f64,
) -> ProducerSummary {
    let sent = s.meters.sent.total();
    let body_bytes = sent as f64 * args.size as f64;
    ProducerSummary {
        mode: "producer",
        send_mode: format!("{:?}", args.send_mode).to_lowercase(),
        topic: args.common.topic.clone(),
        broker: s.link.current().target.broker.clone(),
        body_size: args.size,
        concurrency: args.concurrency,
        batch: args.per_request(),
        elapsed_secs: (elapsed * 1000.0).round() / 1000.0,
        sent,
        failed: s.meters.failed.total(),
        errors: s.failures.totals(),
        tps: rate(sent as f64, elapsed).round(),
        mib_per_sec: (rate(body_bytes, elapsed) / 1048576.0 * 10.0).round() / 10.0,
        rt_us: LatencySummary::of(&s.hist.lock()),
        per_second: samples,
    }
}

/// Run the producer; progress lines go to `progress`.
pub async fn run(
    args: ProducerArgs,
    progress: impl Fn(&ProducerSample),
) -> Result<ProducerSummary, String> {
    args.validate()?;
    let link = Link::open(&args.common, false).await?;
    let queues = topic_queues(&args, &link).await?;
    let start = Instant::now();
    let mut shared = Shared::new(&args, queues, link, start);
    if args.trace {
        shared.trace = Some(BenchTrace::start(&args)?);
    }
    let shared = Arc::new(shared);
    let senders = spawn_senders(&shared, &args);
    let quiet = args.common.quiet;
    let (samples, end) = report(&shared, start, senders, |s| {
        if !quiet {
            progress(s)
        }
    })
    .await;
    // Let oneway writes (sends, or the last commits) reach the socket before the connections drop.
    if args.send_mode == SendMode::Oneway || args.transaction {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = end.duration_since(start).as_secs_f64();
    if let Some(t) = &shared.trace {
        let st = t.settle(Duration::from_secs(5)).await;
        eprintln!(
            "trace: {} Pub records queued, {} sent, {} failed, {} dropped (queue full)",
            st.enqueued, st.sent, st.failed, st.dropped
        );
    }
    if let Some(c) = &shared.commits {
        eprintln!("{}", c.line());
    }
    Ok(summary(&args, &shared, samples, elapsed))
}
