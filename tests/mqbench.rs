//! End to end: a real standalone broker (debug build, port 0, temp dir), then `mqbench producer`
//! for a few seconds and `mqbench consumer` from the first offsets; the consumer must see every
//! message the producer had acknowledged. Then a broker restart under a running producer: it
//! must say why sends fail, reconnect and send again. Every wait is bounded.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Run mqbench with `args`, kill it after `limit`, and parse its JSON summary (stdout).
fn mqbench(args: &[&str], limit: Duration) -> serde_json::Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mqbench"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mqbench");
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait mqbench") {
            break s;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("mqbench {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "mqbench {args:?} failed: {status}\n{err}");
    assert!(
        err.contains("tps"),
        "no per-second progress line on stderr: {err}"
    );
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("bad JSON ({e}): {out}"))
}

#[test]
fn producer_then_consumer_through_the_name_server() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap().to_string();
    // The first line of a standalone broker is its name server's address.
    let broker = common::start(
        common::BROKER,
        &[
            "--set",
            "standalone=true",
            "--set",
            "listenAddr=127.0.0.1",
            "--set",
            "listenPort=0",
            "--set",
            "namesrvListenPort=0",
            "--set",
            &format!("storePathRootDir={store}"),
            "--set",
            "mappedFileSizeCommitLog=67108864",
        ],
    );
    let ns = broker.addr.to_string();

    let p = mqbench(
        &[
            "producer",
            "--namesrv",
            &ns,
            "-t",
            "MqbenchIt",
            "-q",
            "2",
            "-w",
            "8",
            "--duration",
            "3",
            "--timeout-ms",
            "15000",
            "--tag",
            "TagA",
            "-k",
            "--json",
        ],
        Duration::from_secs(25),
    );
    assert_eq!(p["mode"], "producer");
    let sent = p["sent"].as_u64().unwrap();
    assert!(sent > 0, "{p}");
    // Failures are allowed (the broker may answer SYSTEM_BUSY while it prepares its first
    // CommitLog file); what was acknowledged must all be consumed.
    assert_eq!(
        p["failed"].as_u64().unwrap(),
        p["errors"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        "{p}"
    );
    assert!(p["rt_us"]["p99_us"].as_u64().unwrap() >= p["rt_us"]["p50_us"].as_u64().unwrap());
    assert!(!p["per_second"].as_array().unwrap().is_empty());

    let c = mqbench(
        &[
            "consumer",
            "--namesrv",
            &ns,
            "-t",
            "MqbenchIt",
            "--from",
            "first",
            "--count",
            &sent.to_string(),
            "--duration",
            "20",
            "--filter",
            "TagA",
            "--json",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(c["mode"], "consumer");
    assert_eq!(c["queues"], 2, "{c}");
    assert_eq!(c["consumed"].as_u64().unwrap(), sent, "{c}");
    assert_eq!(c["born_to_consume_us"]["count"].as_u64().unwrap(), sent);
    drop(broker);
}

/// A running `mqbench` whose stdout lines arrive on a channel (killed on drop).
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn start(args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mqbench"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mqbench");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Read lines until one satisfies `f` (true) or `limit` passes (false).
    fn until(&mut self, limit: Duration, f: impl Fn(&str) -> bool) -> bool {
        let t0 = Instant::now();
        while let Some(left) = limit.checked_sub(t0.elapsed()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    let hit = f(&l);
                    self.seen.push(l);
                    if hit {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
        false
    }

    fn output(&self) -> String {
        self.seen.join("\n")
    }
}

/// The `tps` of a progress line (`[   3.0s] send tps      2100 | ...`).
fn tps(line: &str) -> Option<f64> {
    let rest = line.split("send tps").nth(1)?;
    rest.split('|').next()?.trim().parse().ok()
}

#[test]
fn producer_reconnects_after_a_broker_restart_and_says_why_sends_failed() {
    let dir = tempfile::tempdir().unwrap();
    let mut broker = common::start_broker(env!("CARGO_BIN_EXE_broker"), dir.path(), &[]);
    let (ns, port) = (broker.namesrv, broker.addr.port());
    let ns_arg = ns.to_string();
    let mut bench = Running::start(&[
        "producer",
        "--namesrv",
        &ns_arg,
        "-t",
        "RestartT",
        "-q",
        "2",
        "-w",
        "4",
        "--rate",
        "200",
        "--duration",
        "40",
    ]);
    assert!(
        bench.until(Duration::from_secs(20), |l| tps(l).is_some_and(|t| t > 0.0)),
        "no successful sends before the restart:\n{}",
        bench.output()
    );

    // SIGTERM, then the same ports and data directory again.
    common::terminate(&mut broker.server, Duration::from_secs(20));
    let restarted = common::start_broker(
        env!("CARGO_BIN_EXE_broker"),
        dir.path(),
        &[
            &format!("listenPort={port}"),
            &format!("namesrvListenPort={}", ns.port()),
            // The HA port defaults to listenPort + 1, which some other socket may hold by now.
            "haListenPort=0",
        ],
    );
    assert_eq!((restarted.namesrv, restarted.addr.port()), (ns, port));

    assert!(
        bench.until(Duration::from_secs(30), |l| l
            .contains("reconnected to broker")),
        "no reconnect:\n{}",
        bench.output()
    );
    assert!(
        bench.until(Duration::from_secs(20), |l| tps(l).is_some_and(|t| t > 0.0)),
        "no successful sends after the reconnect:\n{}",
        bench.output()
    );
    let out = bench.output();
    // Why sends failed while the broker was away: `failed N x <kind>: <detail>`.
    let reasons: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("failed ") && l.contains(" x ") && l.contains(": "))
        .collect();
    assert!(!reasons.is_empty(), "no failure reasons:\n{out}");
    assert!(out.contains("connection to broker"), "{out}");
    eprintln!("{out}"); // shown with --nocapture
    drop(restarted);
}

#[test]
fn summary_latencies_are_in_readable_units() {
    let dir = tempfile::tempdir().unwrap();
    let broker = common::start_broker(env!("CARGO_BIN_EXE_broker"), dir.path(), &[]);
    let ns = broker.namesrv.to_string();
    let run = |args: &[&str]| {
        let (code, out, err) =
            common::run_to_exit(env!("CARGO_BIN_EXE_mqbench"), args, Duration::from_secs(30));
        assert_eq!(code, Some(0), "mqbench {args:?}: {out}\n{err}");
        out
    };
    let p = run(&[
        "producer",
        "-n",
        &ns,
        "-t",
        "UnitsT",
        "-w",
        "2",
        "--count",
        "50",
        "--duration",
        "0",
    ]);
    // Failures are allowed (see above); the consumer waits for what was acknowledged.
    let sent = p
        .split("\nsent ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no sent count: {p}"))
        .to_string();
    assert_ne!(sent, "0", "{p}");
    // The consumer reads messages born a while ago: seconds, not millions of microseconds.
    std::thread::sleep(Duration::from_millis(1500));
    let c = run(&[
        "consumer",
        "-n",
        &ns,
        "-t",
        "UnitsT",
        "--from",
        "first",
        "--count",
        &sent,
        "--duration",
        "20",
    ]);
    for out in [&p, &c] {
        let summary = out
            .split("=== ")
            .nth(1)
            .unwrap_or_else(|| panic!("no summary: {out}"));
        // Every `<number> us` is below 1000; larger values are in ms, s, min or h.
        let words: Vec<&str> = summary.split_whitespace().collect();
        for w in words.windows(2) {
            if w[1] == "us" {
                let v: f64 = w[0].parse().unwrap_or_else(|_| panic!("{summary}"));
                assert!(v < 1000.0, "{} us in\n{summary}", w[0]);
            }
        }
        assert!(summary.contains("mean "), "{summary}");
    }
    assert!(
        c.contains(&format!("born->consume:  n {sent}  mean ")),
        "{c}"
    );
    assert!(
        [" s ", " s\n"]
            .iter()
            .any(|u| c.split("born->consume:").nth(1).unwrap().contains(u)),
        "born->consume of 1.5 s old messages not in seconds: {c}"
    );
}

#[test]
fn transactional_producer_commits_every_half_message() {
    let dir = tempfile::tempdir().unwrap();
    let broker = common::start_broker(env!("CARGO_BIN_EXE_broker"), dir.path(), &[]);
    let ns = broker.namesrv.to_string();
    let p = mqbench(
        &[
            "producer",
            "-n",
            &ns,
            "-t",
            "TxBenchT",
            "-q",
            "2",
            "-w",
            "8",
            "--transaction",
            "--group",
            "TxBenchPG",
            "--count",
            "200",
            // Half a second, so there is a progress line to check.
            "--rate",
            "400",
            "--duration",
            "0",
            "--timeout-ms",
            "15000",
            "--json",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(p["sent"].as_u64(), Some(200), "{p}");
    assert_eq!(p["failed"].as_u64(), Some(0), "{p}");
    // Half messages are stored under RMQ_SYS_TRANS_HALF_TOPIC; the real topic gets only what the
    // END_TRANSACTION commits re-stored.
    // (It may read all 200 within its first 50 ms, so no progress line is asked of it.)
    let args = [
        "consumer",
        "-n",
        &ns,
        "-t",
        "TxBenchT",
        "--from",
        "first",
        "--count",
        "200",
        "--duration",
        "20",
        "--json",
    ];
    let (code, out, err) = common::run_to_exit(
        env!("CARGO_BIN_EXE_mqbench"),
        &args,
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    let c: serde_json::Value = serde_json::from_str(out.trim()).expect("consumer JSON");
    assert_eq!(c["consumed"].as_u64(), Some(200), "{c}");
    drop(broker);
}

/// `--trace --mode batch`: one Pub record per batch request, as the Java client writes for a
/// `MessageBatch` (msgId = the members' ids joined by `,`), found through the query API.
#[test]
fn traced_batch_producer_writes_one_pub_record_per_batch() {
    traced_batch_run("BenchTraceBatchT", &[], "RMQ_SYS_TRACE_TOPIC");
}

/// The same on the cloud channel: the records go to the region's trace topic.
#[test]
fn traced_batch_producer_on_the_cloud_channel_writes_to_the_region_topic() {
    let topic = actormq::client::trace::cloud_trace_topic("DefaultRegion");
    traced_batch_run("BenchTraceCloudT", &["--access-channel", "cloud"], &topic);
}

/// mqbench sends 3 batches of 4 to `topic` with `--trace` and `extra`; each batch's Pub record
/// is then looked up in `trace_topic`.
fn traced_batch_run(topic: &str, extra: &[&str], trace_topic: &str) {
    use actormq::client::trace::{msg_type, TraceType};
    use actormq::client::{ClientConfig, ClientInstance, ConsumerConfig};
    let dir = tempfile::tempdir().unwrap();
    let broker = common::start_broker(
        env!("CARGO_BIN_EXE_broker"),
        dir.path(),
        &["traceTopicEnable=true"],
    );
    let ns = broker.namesrv.to_string();
    // One queue, one sender: the three batches are stored one after the other.
    let mut args = vec![
        "producer",
        "-n",
        &ns,
        "-t",
        topic,
        "-q",
        "1",
        "-w",
        "1",
        "--mode",
        "batch",
        "-b",
        "4",
        "-s",
        "16",
        "--count",
        "12",
        "--duration",
        "0",
        "--trace",
        "--json",
    ];
    args.extend_from_slice(extra);
    let bin = env!("CARGO_BIN_EXE_mqbench");
    let (code, out, err) = common::run_to_exit(bin, &args, Duration::from_secs(40));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        err.contains("trace: 3 Pub records queued, 3 sent, 0 failed, 0 dropped"),
        "{err}"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut cc = ConsumerConfig::new(&ns, "check-bench-trace");
        cc.client.client_ip = "127.0.0.1".into();
        cc.offset_store_dir = dir.path().join("offsets");
        let limit = Duration::from_secs(20);
        let mut msgs = common::client::pull_all(cc, topic, 12, limit)
            .await
            .unwrap();
        assert_eq!(msgs.len(), 12);
        msgs.sort_by_key(|m| m.queue_offset);
        let mut qc = ClientConfig::new(&ns);
        qc.instance_name = "q-bench-trace".into();
        let inst = ClientInstance::get(&qc).unwrap();
        for batch in msgs.chunks(4) {
            let id = batch
                .iter()
                .map(|m| m.msg_id())
                .collect::<Vec<_>>()
                .join(",");
            let deadline = Instant::now() + limit;
            let recs = loop {
                let r = actormq::client::trace::query_trace_in(&inst, trace_topic, &id)
                    .await
                    .unwrap();
                if !r.is_empty() || Instant::now() > deadline {
                    break r;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            assert_eq!(recs.len(), 1, "{id}: {recs:?}");
            let (r, b) = (&recs[0], recs[0].bean());
            assert_eq!(r.trace_type, TraceType::Pub);
            assert_eq!(
                (r.group_name.as_str(), b.topic.as_str()),
                ("benchmark_producer", topic)
            );
            assert!(r.success && b.msg_type == msg_type::NORMAL);
            assert!(b.body_length > 4 * 16, "{}", b.body_length);
            assert_eq!(b.store_host, broker.addr.to_string());
        }
    });
}
