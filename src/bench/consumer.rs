//! Consumer mode: one long-polling pull loop per queue of the topic (PULL_MESSAGE, code 11, with
//! the subscription in the request so no heartbeat is needed), offsets kept locally and committed
//! on each pull; a broken connection is reopened by [`Link`] and each queue goes on from its
//! offset. Latency per message: now - born (the producer's `bornUs` property when present)
//! and now - store timestamp (broker clock, milliseconds).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use parking_lot::Mutex;

use super::args::{ConsumerArgs, StartFrom};
use super::failures::{Failure, FailureLog};
use super::link::Link;
use super::load::BORN_US;
use super::net::{self, now_us};
use super::report::{rate, ConsumerSummary};
use super::stats::{self, ConsumerMeters, ConsumerSample, LatencySummary};
use crate::protocol::codes::{pull_sys_flag, request_code, response_code};
use crate::protocol::headers::{PullMessageRequestHeader, PullMessageResponseHeader};
use crate::protocol::message::{decode_records, MessageExt};
use crate::protocol::RemotingCommand;
use crate::remoting::client::RemotingClient;

/// Born time of a message in microseconds: the `bornUs` property, else the stored born
/// timestamp (milliseconds).
pub fn born_us(m: &MessageExt) -> u64 {
    m.property(BORN_US)
        .and_then(|v| v.parse().ok())
        .unwrap_or((m.born_timestamp.max(0) as u64) * 1000)
}

/// What one pull answer means for the loop.
#[derive(Debug, PartialEq, Eq)]
pub enum PullStep {
    /// Messages found; continue at `next`.
    Found { next: i64 },
    /// Nothing (yet), filtered out, or the offset was corrected: continue at `next`.
    Move { next: i64 },
    /// An error answer: back off and retry the same offset.
    Error(i32),
}

/// Interpret a pull response code and its `nextBeginOffset`.
pub fn pull_step(code: i32, next: Option<i64>, current: i64) -> PullStep {
    let next = next.unwrap_or(current);
    match code {
        response_code::SUCCESS => PullStep::Found { next },
        response_code::PULL_NOT_FOUND
        | response_code::PULL_RETRY_IMMEDIATELY
        | response_code::PULL_OFFSET_MOVED => PullStep::Move { next },
        c => PullStep::Error(c),
    }
}

struct Shared {
    args: ConsumerArgs,
    meters: ConsumerMeters,
    bytes: AtomicU64,
    hists: Mutex<(Histogram<u64>, Histogram<u64>)>,
    failures: FailureLog,
    link: Link,
    sub_version: i64,
    /// When the run's time is up (reconnecting stops there).
    deadline: Instant,
}

impl Shared {
    fn sample(&self, start: Instant, from: Instant, to: Instant) -> ConsumerSample {
        let mut s = self.meters.sample(
            to.duration_since(start).as_secs_f64(),
            to.duration_since(from).as_secs_f64(),
        );
        s.failures = self.failures.take_interval();
        s.notes = self.link.take_notes();
        s
    }
}

fn pull_request(s: &Shared, queue_id: i32, offset: i64) -> RemotingCommand {
    let mut flag = pull_sys_flag::FLAG_SUSPEND | pull_sys_flag::FLAG_SUBSCRIPTION;
    if offset > 0 {
        flag |= pull_sys_flag::FLAG_COMMIT_OFFSET;
    }
    RemotingCommand::request_with(
        request_code::PULL_MESSAGE,
        &PullMessageRequestHeader {
            consumer_group: s.args.group.clone(),
            topic: s.args.common.topic.clone(),
            queue_id,
            queue_offset: offset,
            max_msg_nums: s.args.pull_batch as i32,
            sys_flag: flag,
            commit_offset: offset,
            suspend_timeout_millis: s.args.suspend_ms as i64,
            subscription: Some(s.args.filter.clone()),
            sub_version: s.sub_version,
            expression_type: Some("TAG".into()),
            bname: None,
        },
    )
}

fn account(s: &Shared, msgs: &[MessageExt]) {
    let now = now_us();
    let mut bytes = 0u64;
    let mut h = s.hists.lock();
    for m in msgs {
        let b = now.saturating_sub(born_us(m));
        let st = now.saturating_sub(m.store_timestamp.max(0) as u64 * 1000);
        s.meters.born.record(b);
        s.meters.store.record(st);
        stats::record(&mut h.0, b);
        stats::record(&mut h.1, st);
        bytes += m.body.len() as u64;
    }
    drop(h);
    s.bytes.fetch_add(bytes, Ordering::Relaxed);
    s.meters.consumed.add(msgs.len() as u64);
}

/// One pull at `offset`: the next offset and the records found (not yet decoded), or why it
/// failed.
async fn pull_once(
    s: &Shared,
    c: &RemotingClient,
    queue_id: i32,
    offset: i64,
) -> Result<(i64, Option<Bytes>), Failure> {
    let timeout = Duration::from_millis(s.args.suspend_ms) + s.args.common.timeout();
    let resp = c
        .call(pull_request(s, queue_id, offset), timeout)
        .await
        .map_err(|e| Failure::client(&e))?;
    let next = resp
        .header::<PullMessageResponseHeader>()
        .ok()
        .map(|h| h.next_begin_offset);
    match pull_step(resp.code, next, offset) {
        PullStep::Found { next } => Ok((next, Some(resp.body))),
        PullStep::Move { next } => Ok((next, None)),
        PullStep::Error(code) => Err(Failure::response(code, resp.remark.as_deref())),
    }
}

/// Pull a queue until the run ends. As RocketMQ's push consumer, the next pull goes out as soon
/// as a batch arrives, and the batch is decoded and counted while it is in flight: counting
/// first would leave the broker idle for that time (with 4 queues, ~40 % of a catch-up run).
async fn pull_loop(s: Arc<Shared>, queue_id: i32, mut offset: i64) {
    let mut found: Option<Bytes> = None;
    loop {
        let (generation, c) = s.link.client(queue_id as usize);
        let count = async {
            if let Some(records) = found.take() {
                // Let the connection's writer task send the pull first (one runtime thread).
                tokio::task::yield_now().await;
                account(&s, &decode_records(&records));
            }
        };
        // `join` polls the pull first, which queues its request.
        let (pulled, ()) = futures::join!(pull_once(&s, &c, queue_id, offset), count);
        match pulled {
            Ok((next, records)) => (offset, found) = (next, records),
            Err(f) => {
                s.meters.failed.add(1);
                s.failures.record(f, 1);
                if c.is_open() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                } else {
                    s.link.repair(generation, s.deadline).await;
                }
            }
        }
    }
}

/// Where each of the `queues` queues starts.
async fn start_offsets(args: &ConsumerArgs, link: &Link, queues: u32) -> Result<Vec<i64>, String> {
    let c = &link.current().clients[0];
    let mut starts = Vec::with_capacity(queues as usize);
    for q in 0..queues as i32 {
        starts.push(match args.from {
            StartFrom::First => 0,
            StartFrom::Last => {
                let t = args.common.timeout();
                net::max_offset(c, &args.common.topic, q, t).await?
            }
        });
    }
    Ok(starts)
}

/// How the watch ended.
struct Watched {
    samples: Vec<ConsumerSample>,
    end: Instant,
    /// When the count last grew, and whether anything was consumed.
    last_progress: Instant,
    any: bool,
}

/// Sample every second until the time, the count or the idle limit is reached.
async fn watch(s: &Shared, start: Instant, show: impl Fn(&ConsumerSample)) -> Watched {
    let common = &s.args.common;
    let idle = (s.args.idle_exit > 0.0).then(|| Duration::from_secs_f64(s.args.idle_exit));
    let mut samples = Vec::new();
    let (mut last_tick, mut last_count, mut last_progress) = (start, 0u64, start);
    let mut check = tokio::time::interval(Duration::from_millis(20));
    loop {
        check.tick().await;
        let now = Instant::now();
        let total = s.meters.consumed.total();
        if total != last_count {
            last_count = total;
            last_progress = now;
        }
        if now.duration_since(last_tick) >= Duration::from_secs(1) {
            samples.push(s.sample(start, last_tick, now));
            show(samples.last().expect("just pushed"));
            last_tick = now;
        }
        let count_done = common.count_limit().is_some_and(|l| total >= l);
        let idle_done = idle.is_some_and(|d| total > 0 && now.duration_since(last_progress) >= d);
        if now >= s.deadline || count_done || idle_done {
            break;
        }
    }
    let end = Instant::now();
    if end.duration_since(last_tick) > Duration::from_millis(50) {
        samples.push(s.sample(start, last_tick, end));
        show(samples.last().expect("just pushed"));
    }
    Watched {
        samples,
        end,
        last_progress,
        any: last_count > 0,
    }
}

fn summary(s: &Shared, queues: u32, start: Instant, w: Watched) -> ConsumerSummary {
    // With an idle exit the idle wait is not part of the measured time.
    let busy_end = if s.args.idle_exit > 0.0 && w.any {
        w.last_progress
    } else {
        w.end
    };
    let elapsed = busy_end.duration_since(start).as_secs_f64();
    let consumed = s.meters.consumed.total();
    let bytes = s.bytes.load(Ordering::Relaxed) as f64;
    let h = s.hists.lock();
    ConsumerSummary {
        mode: "consumer",
        topic: s.args.common.topic.clone(),
        group: s.args.group.clone(),
        broker: s.link.current().target.broker.clone(),
        queues: queues as usize,
        elapsed_secs: (elapsed * 1000.0).round() / 1000.0,
        consumed,
        failed_pulls: s.meters.failed.total(),
        errors: s.failures.totals(),
        tps: rate(consumed as f64, elapsed).round(),
        mib_per_sec: (rate(bytes, elapsed) / 1048576.0 * 10.0).round() / 10.0,
        born_to_consume_us: LatencySummary::of(&h.0),
        store_to_consume_us: LatencySummary::of(&h.1),
        per_second: w.samples,
    }
}

/// Run the consumer; progress lines go to `progress`.
pub async fn run(
    args: ConsumerArgs,
    progress: impl Fn(&ConsumerSample),
) -> Result<ConsumerSummary, String> {
    let link = Link::open(&args.common, true).await?;
    let queues = link
        .current()
        .target
        .read_queues
        .unwrap_or(args.queues)
        .max(1);
    let starts = start_offsets(&args, &link, queues).await?;
    let start = Instant::now();
    let shared = Arc::new(Shared {
        meters: ConsumerMeters::default(),
        bytes: AtomicU64::new(0),
        hists: Mutex::new((stats::new_histogram(), stats::new_histogram())),
        failures: FailureLog::default(),
        link,
        sub_version: (now_us() / 1000) as i64,
        deadline: start + args.common.duration_or_forever(),
        args,
    });
    let tasks: Vec<_> = (0..queues as i32)
        .zip(starts)
        .map(|(q, offset)| tokio::spawn(pull_loop(shared.clone(), q, offset)))
        .collect();
    let quiet = shared.args.common.quiet;
    let watched = watch(&shared, start, |s| {
        if !quiet {
            progress(s)
        }
    })
    .await;
    for t in &tasks {
        t.abort();
    }
    Ok(summary(&shared, queues, start, watched))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_codes_map_to_steps() {
        assert_eq!(pull_step(0, Some(32), 0), PullStep::Found { next: 32 });
        assert_eq!(pull_step(19, Some(7), 7), PullStep::Move { next: 7 });
        assert_eq!(pull_step(20, Some(9), 7), PullStep::Move { next: 9 });
        assert_eq!(pull_step(21, Some(100), 0), PullStep::Move { next: 100 });
        assert_eq!(pull_step(21, None, 5), PullStep::Move { next: 5 });
        assert_eq!(pull_step(17, None, 5), PullStep::Error(17));
    }

    #[test]
    fn born_prefers_the_microsecond_property() {
        let mut m = MessageExt {
            store_size: 0,
            body_crc: 0,
            queue_id: 0,
            flag: 0,
            queue_offset: 0,
            commit_log_offset: 0,
            sys_flag: 0,
            born_timestamp: 1_700_000_000_123,
            born_host: "127.0.0.1:1".parse().unwrap(),
            store_timestamp: 0,
            store_host: "127.0.0.1:2".parse().unwrap(),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: Default::default(),
            topic: "T".into(),
            properties: String::new(),
        };
        assert_eq!(born_us(&m), 1_700_000_000_123_000);
        m.properties = format!("{BORN_US}\u{1}1700000000123456\u{2}TAGS\u{1}a");
        assert_eq!(born_us(&m), 1_700_000_000_123_456);
    }
}
