//! Consumer mode: one long-polling pull loop per queue of the topic (PULL_MESSAGE, code 11, with
//! the subscription in the request so no heartbeat is needed), offsets kept locally and committed
//! on each pull. Latency per message: now - born (the producer's `bornUs` property when present)
//! and now - store timestamp (broker clock, milliseconds).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use parking_lot::Mutex;

use super::args::{ConsumerArgs, StartFrom};
use super::net::{self, now_us};
use super::producer::BORN_US;
use super::report::{rate, ConsumerSummary};
use super::stats::{self, ConsumerMeters, ConsumerSample, LatencySummary};
use crate::actors::net::client::RemotingClient;
use crate::protocol::codes::{pull_sys_flag, request_code, response_code};
use crate::protocol::headers::{PullMessageRequestHeader, PullMessageResponseHeader};
use crate::protocol::message::{decode_records, MessageExt};
use crate::protocol::RemotingCommand;

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
    sub_version: i64,
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

async fn pull_loop(s: Arc<Shared>, c: RemotingClient, queue_id: i32, mut offset: i64) {
    let timeout = Duration::from_millis(s.args.suspend_ms) + s.args.common.timeout();
    loop {
        let resp = match c.call(pull_request(&s, queue_id, offset), timeout).await {
            Ok(r) => r,
            Err(_) => {
                s.meters.failed.add(1);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let next = resp
            .header::<PullMessageResponseHeader>()
            .ok()
            .map(|h| h.next_begin_offset);
        match pull_step(resp.code, next, offset) {
            PullStep::Found { next } => {
                account(&s, &decode_records(&resp.body));
                offset = next;
            }
            PullStep::Move { next } => offset = next,
            PullStep::Error(_) => {
                s.meters.failed.add(1);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Run the consumer; progress lines go to `progress`.
pub async fn run(
    args: ConsumerArgs,
    progress: impl Fn(&ConsumerSample),
) -> Result<ConsumerSummary, String> {
    let common = args.common.clone();
    let target = net::resolve(
        &common.namesrv,
        common.broker.as_deref(),
        &common.topic,
        common.timeout(),
        true,
    )
    .await?;
    let queues = target.read_queues.unwrap_or(args.queues).max(1);
    let clients = net::connect_all(&target.broker, common.connections, common.timeout()).await?;
    let mut starts = Vec::with_capacity(queues as usize);
    for q in 0..queues as i32 {
        starts.push(match args.from {
            StartFrom::First => 0,
            StartFrom::Last => {
                net::max_offset(&clients[0], &common.topic, q, common.timeout()).await?
            }
        });
    }
    let shared = Arc::new(Shared {
        args: args.clone(),
        meters: ConsumerMeters::default(),
        bytes: AtomicU64::new(0),
        hists: Mutex::new((stats::new_histogram(), stats::new_histogram())),
        sub_version: (now_us() / 1000) as i64,
    });
    let start = Instant::now();
    let tasks: Vec<_> = starts
        .iter()
        .enumerate()
        .map(|(q, &off)| {
            let c = clients[q % clients.len()].clone();
            tokio::spawn(pull_loop(shared.clone(), c, q as i32, off))
        })
        .collect();

    let deadline = start + common.duration_or_forever();
    let idle = (args.idle_exit > 0.0).then(|| Duration::from_secs_f64(args.idle_exit));
    let mut samples = Vec::new();
    let mut last_tick = start;
    let mut last_count = 0u64;
    let mut last_progress = start;
    let mut check = tokio::time::interval(Duration::from_millis(20));
    loop {
        check.tick().await;
        let now = Instant::now();
        let total = shared.meters.consumed.total();
        if total != last_count {
            last_count = total;
            last_progress = now;
        }
        if now.duration_since(last_tick) >= Duration::from_secs(1) {
            let s = shared.meters.sample(
                now.duration_since(start).as_secs_f64(),
                now.duration_since(last_tick).as_secs_f64(),
            );
            last_tick = now;
            if !common.quiet {
                progress(&s);
            }
            samples.push(s);
        }
        let count_done = common.count_limit().is_some_and(|l| total >= l);
        let idle_done = idle.is_some_and(|d| total > 0 && now.duration_since(last_progress) >= d);
        if now >= deadline || count_done || idle_done {
            break;
        }
    }
    for t in &tasks {
        t.abort();
    }
    let end = Instant::now();
    let tail = end.duration_since(last_tick).as_secs_f64();
    if tail > 0.05 {
        let s = shared
            .meters
            .sample(end.duration_since(start).as_secs_f64(), tail);
        if !common.quiet {
            progress(&s);
        }
        samples.push(s);
    }
    // With an idle exit the idle wait is not part of the measured time.
    let busy_end = if idle.is_some() && last_count > 0 {
        last_progress
    } else {
        end
    };
    let elapsed = busy_end.duration_since(start).as_secs_f64();
    let consumed = shared.meters.consumed.total();
    let h = shared.hists.lock();
    Ok(ConsumerSummary {
        mode: "consumer",
        topic: common.topic.clone(),
        group: args.group.clone(),
        broker: target.broker,
        queues: queues as usize,
        elapsed_secs: (elapsed * 1000.0).round() / 1000.0,
        consumed,
        failed_pulls: shared.meters.failed.total(),
        tps: rate(consumed as f64, elapsed).round(),
        mib_per_sec: (rate(shared.bytes.load(Ordering::Relaxed) as f64, elapsed) / 1048576.0
            * 10.0)
            .round()
            / 10.0,
        born_to_consume_us: LatencySummary::of(&h.0),
        store_to_consume_us: LatencySummary::of(&h.1),
        per_second: samples,
    })
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
