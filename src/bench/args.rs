//! Command line of `mqbench`. Option names follow RocketMQ's benchmark tool where it has one
//! (topic, message size, thread count, tag / key / delay switches, batch size, consumer group,
//! filter expression); everything also has a long descriptive name.

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::acl::sign::Credentials;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "mqbench",
    version,
    about = "actormq benchmark: drive a broker with producers or consumers and report TPS and latency"
)]
pub struct Cli {
    #[command(subcommand)]
    pub mode: Mode,
}

#[derive(Subcommand, Debug, Clone)]
pub enum Mode {
    /// Send messages and report send TPS and request round-trip times.
    Producer(ProducerArgs),
    /// Pull messages and report consume TPS and born->consume / store->consume latency.
    Consumer(ConsumerArgs),
    /// Answer sends and pulls without storing anything: the baseline each figure is divided by.
    NullBroker(NullBrokerArgs),
}

/// `mqbench null-broker`: a RocketMQ remoting endpoint that answers sends with SEND_OK and pulls
/// with pre-encoded messages (see [`crate::bench::null_broker`]).
#[derive(Args, Debug, Clone)]
pub struct NullBrokerArgs {
    /// Address to listen on (port 0: any free port; the bound address is printed as
    /// `null-broker listening on HOST:PORT`).
    #[arg(long, default_value = "127.0.0.1:10911")]
    pub listen: String,
    /// Body size in bytes of the messages a pull returns.
    #[arg(short = 's', long = "size", default_value_t = 1024)]
    pub size: usize,
    /// Runtime worker threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Microseconds a runtime thread that ran out of work watches for its next event before it
    /// sleeps (0: sleep at once); the broker's `idlePollMicros`.
    #[arg(long = "idle-poll-us", default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=1000))]
    pub idle_poll_us: u64,
}

/// Options shared by both modes.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Name server address (route lookup).
    #[arg(short = 'n', long, default_value = "127.0.0.1:9876")]
    pub namesrv: String,
    /// Talk to this broker directly instead of asking the name server.
    #[arg(long)]
    pub broker: Option<String>,
    /// Topic.
    #[arg(short = 't', long, default_value = "BenchmarkTest")]
    pub topic: String,
    /// Stop after this many seconds (0 = no time limit: give --count).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Stop after this many messages (0 = no limit); whichever of --count and --duration comes
    /// first ends the run.
    #[arg(long, default_value_t = 0)]
    pub count: u64,
    /// TCP connections to the broker (requests are pipelined on each).
    #[arg(long, default_value_t = 1)]
    pub connections: usize,
    /// Runtime worker threads of the load generator.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Microseconds a runtime thread that ran out of work watches for its next event before it
    /// sleeps (0: sleep at once), as the broker's `idlePollMicros` (same default), so the load
    /// generator pays for wake-ups no more than the broker it drives.
    #[arg(long = "idle-poll-us", default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=1000))]
    pub idle_poll_us: u64,
    /// Request timeout in milliseconds.
    #[arg(long, default_value_t = 3000)]
    pub timeout_ms: u64,
    /// Print the summary as one JSON object on stdout (progress lines go to stderr).
    #[arg(long)]
    pub json: bool,
    /// No per-second progress lines.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub tls: crate::tls::args::TlsArgs,
    /// Sign every request as this ACL account (with --secret-key), to measure the broker with
    /// `aclEnable=true`.
    #[arg(long, requires = "secret_key")]
    pub access_key: Option<String>,
    /// Secret key of --access-key.
    #[arg(long, requires = "access_key")]
    pub secret_key: Option<String>,
}

impl CommonArgs {
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration.max(0.0))
    }
    /// The run's time limit; with only a count given (`--duration 0`), effectively none.
    pub fn duration_or_forever(&self) -> Duration {
        if self.duration <= 0.0 {
            Duration::from_secs(365 * 24 * 3600)
        } else {
            self.duration()
        }
    }
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.max(1))
    }
    pub fn count_limit(&self) -> Option<u64> {
        (self.count > 0).then_some(self.count)
    }
    /// The account requests are signed with, if one was given.
    pub fn credentials(&self) -> Option<Arc<Credentials>> {
        let (ak, sk) = (self.access_key.as_ref()?, self.secret_key.as_ref()?);
        Some(Arc::new(Credentials::new(ak.clone(), sk.clone())))
    }
}

/// `--access-channel` (the client library's `AccessChannel`).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Local,
    Cloud,
}

impl From<Channel> for crate::client::AccessChannel {
    fn from(c: Channel) -> Self {
        match c {
            Channel::Local => crate::client::AccessChannel::Local,
            Channel::Cloud => crate::client::AccessChannel::Cloud,
        }
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendMode {
    /// Each of `concurrency` tasks sends and waits for the answer.
    Sync,
    /// One issuer, answers handled as they come, at most `concurrency` outstanding.
    Async,
    /// No answer asked for; the connection's write queue is the only back-pressure.
    Oneway,
    /// SEND_BATCH_MESSAGE with `batch` messages per request, `concurrency` tasks.
    Batch,
}

#[derive(Args, Debug, Clone)]
pub struct ProducerArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Message body size in bytes.
    #[arg(short = 's', long = "size", default_value_t = 1024)]
    pub size: usize,
    /// Requests in flight (sync/batch/oneway: sender tasks; async: outstanding requests).
    #[arg(short = 'w', long, default_value_t = 64)]
    pub concurrency: usize,
    /// How to send.
    #[arg(long = "mode", value_enum, default_value_t = SendMode::Sync)]
    pub send_mode: SendMode,
    /// Messages per request in batch mode.
    #[arg(short = 'b', long, default_value_t = 32)]
    pub batch: usize,
    /// Tag of each message; with `--tag-count N > 1` the tags are `<tag>0 .. <tag>N-1`.
    #[arg(long)]
    pub tag: Option<String>,
    /// Number of distinct tags to rotate through (RocketMQ's `-c tagCount`).
    #[arg(long, default_value_t = 1)]
    pub tag_count: usize,
    /// Give every message a unique KEYS property (indexed by the broker).
    #[arg(short = 'k', long)]
    pub keys: bool,
    /// Delay level (1..18) for every message; 0 = none.
    #[arg(short = 'e', long, default_value_t = 0)]
    pub delay_level: u32,
    /// Target rate in messages per second over all tasks (0 = as fast as possible).
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Queues of the topic when the producer creates it. A topic the name server already has a
    /// route for (such as the broker's built-in `BenchmarkTest`, 1024 queues) is used as it is.
    #[arg(short = 'q', long, default_value_t = 4)]
    pub queues: u32,
    /// Do not create the topic when the name server has no route for it.
    #[arg(long)]
    pub no_create_topic: bool,
    /// Producer group.
    #[arg(long, default_value = "benchmark_producer")]
    pub group: String,
    /// Message trace on: a Pub record per acknowledged send request (one per batch in batch
    /// mode, as the Java client), batched to RMQ_SYS_TRACE_TOPIC (found through --namesrv) as a
    /// client with `enable_trace` does (sync, async and batch modes).
    #[arg(long)]
    pub trace: bool,
    /// With --trace: the trace topic (a Java client's `customizedTraceTopic`).
    #[arg(long, default_value = crate::client::trace::TRACE_TOPIC, requires = "trace")]
    pub trace_topic: String,
    /// With --trace: the client's access channel. `cloud` sends each region's records to
    /// `rmq_sys_TRACE_DATA_<region>` and writes SubAfter records in the cloud layout, as a Java
    /// client with `AccessChannel.CLOUD`.
    #[arg(long, value_enum, default_value_t = Channel::Local, requires = "trace")]
    pub access_channel: Channel,
    /// Transactional sends: each message goes as a half message (sysFlag TRANSACTION_PREPARED,
    /// TRAN_MSG=true, PGROUP=<group>) and, once stored, is committed with a oneway
    /// END_TRANSACTION to the same broker (sync and async modes). TPS and RT are those of the
    /// half sends; the commits are counted at the end of the run.
    #[arg(long)]
    pub transaction: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFrom {
    /// Every queue's first message.
    First,
    /// Only messages stored after the start.
    Last,
}

#[derive(Args, Debug, Clone)]
pub struct ConsumerArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Consumer group.
    #[arg(short = 'g', long, default_value = "benchmark_consumer")]
    pub group: String,
    /// Tag filter expression (`*`, `TagA || TagB`).
    #[arg(long, default_value = "*")]
    pub filter: String,
    /// Where each queue starts.
    #[arg(long, value_enum, default_value_t = StartFrom::Last)]
    pub from: StartFrom,
    /// Messages asked for per pull (the broker caps it at 32).
    #[arg(long, default_value_t = 32)]
    pub pull_batch: u32,
    /// Long-poll hold time asked of the broker, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub suspend_ms: u64,
    /// Queues to read when the route is not asked of the name server (`--broker`).
    #[arg(short = 'q', long, default_value_t = 4)]
    pub queues: u32,
    /// Also stop when nothing arrived for this many seconds after at least one message (0 = off).
    #[arg(long, default_value_t = 0.0)]
    pub idle_exit: f64,
}

impl ProducerArgs {
    /// Messages carried by one request.
    pub fn per_request(&self) -> usize {
        if self.send_mode == SendMode::Batch {
            self.batch.max(1)
        } else {
            1
        }
    }

    /// Check combinations clap cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.concurrency == 0 {
            return Err("--concurrency must be at least 1".into());
        }
        if self.delay_level > 18 {
            return Err("--delay-level must be 0..=18".into());
        }
        if self.send_mode == SendMode::Batch && self.delay_level > 0 {
            return Err("batch messages cannot carry a delay level".into());
        }
        if self.queues == 0 {
            return Err("--queues must be at least 1".into());
        }
        if self.trace && self.send_mode == SendMode::Oneway {
            return Err("--trace needs acknowledged sends (--mode sync, async or batch)".into());
        }
        if self.transaction && matches!(self.send_mode, SendMode::Batch | SendMode::Oneway) {
            return Err(
                "--transaction needs acknowledged single sends (--mode sync or async)".into(),
            );
        }
        if self.transaction && self.delay_level > 0 {
            return Err("a transactional message cannot carry a delay level".into());
        }
        if self.common.duration <= 0.0 && self.common.count == 0 {
            return Err("give --duration or --count".into());
        }
        Ok(())
    }

    /// The tag of message number `seq`.
    pub fn tag_for(&self, seq: u64) -> Option<String> {
        let tag = self.tag.as_ref()?;
        if self.tag_count > 1 {
            Some(format!("{tag}{}", seq % self.tag_count as u64))
        } else {
            Some(tag.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("mqbench").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn producer_defaults() {
        let Mode::Producer(p) = parse(&["producer"]).mode else {
            panic!("not producer")
        };
        assert_eq!(p.size, 1024);
        assert_eq!(p.concurrency, 64);
        assert_eq!(p.send_mode, SendMode::Sync);
        assert_eq!(p.per_request(), 1);
        assert_eq!(p.common.topic, "BenchmarkTest");
        assert_eq!(p.common.namesrv, "127.0.0.1:9876");
        assert_eq!(p.common.count_limit(), None);
        assert_eq!(p.common.duration(), Duration::from_secs(10));
        assert!(p.validate().is_ok());
    }

    #[test]
    fn producer_options_and_short_names() {
        let Mode::Producer(p) = parse(&[
            "producer",
            "-t",
            "T1",
            "-s",
            "100",
            "-w",
            "8",
            "--mode",
            "batch",
            "-b",
            "16",
            "--tag",
            "TagA",
            "--tag-count",
            "3",
            "-k",
            "--count",
            "1000",
            "--duration",
            "2.5",
            "--broker",
            "127.0.0.1:10911",
            "--json",
            "--rate",
            "500",
        ])
        .mode
        else {
            panic!("not producer")
        };
        assert_eq!(p.common.topic, "T1");
        assert_eq!((p.size, p.concurrency, p.batch), (100, 8, 16));
        assert_eq!(p.per_request(), 16);
        assert_eq!(p.tag_for(4).as_deref(), Some("TagA1"));
        assert!(p.keys && p.common.json);
        assert_eq!(p.common.count_limit(), Some(1000));
        assert_eq!(p.common.duration(), Duration::from_millis(2500));
        assert_eq!(p.common.broker.as_deref(), Some("127.0.0.1:10911"));
        assert_eq!(p.rate, 500);
    }

    #[test]
    fn producer_validation() {
        let Mode::Producer(p) = parse(&["producer", "--mode", "batch", "-e", "3"]).mode else {
            panic!()
        };
        assert!(p.validate().is_err());
        let Mode::Producer(p) = parse(&["producer", "-e", "19"]).mode else {
            panic!()
        };
        assert!(p.validate().is_err());
        let Mode::Producer(p) = parse(&["producer", "--duration", "0"]).mode else {
            panic!()
        };
        assert!(p.validate().is_err());
        assert!(Cli::try_parse_from(["mqbench", "producer", "--mode", "fast"]).is_err());
        for bad in [
            &["producer", "--transaction", "--mode", "batch"][..],
            &["producer", "--transaction", "--mode", "oneway"],
            &["producer", "--transaction", "-e", "2"],
            &["producer", "--trace", "--mode", "oneway"],
        ] {
            let Mode::Producer(p) = parse(bad).mode else {
                panic!()
            };
            assert!(p.validate().is_err(), "{bad:?}");
        }
        let Mode::Producer(p) = parse(&["producer", "--transaction", "--mode", "async"]).mode
        else {
            panic!()
        };
        assert!(p.transaction && p.validate().is_ok());
        let Mode::Producer(p) = parse(&["producer", "--trace", "--mode", "batch"]).mode else {
            panic!()
        };
        assert!(p.trace && p.validate().is_ok());
    }

    #[test]
    fn trace_topic_and_access_channel_need_trace() {
        let Mode::Producer(p) = parse(&["producer"]).mode else {
            panic!()
        };
        assert_eq!(p.trace_topic, "RMQ_SYS_TRACE_TOPIC");
        assert_eq!(p.access_channel, Channel::Local);
        let argv = [
            "producer",
            "--trace",
            "--access-channel",
            "cloud",
            "--trace-topic",
            "TT",
        ];
        let Mode::Producer(p) = parse(&argv).mode else {
            panic!()
        };
        assert_eq!(
            (p.access_channel, p.trace_topic.as_str()),
            (Channel::Cloud, "TT")
        );
        for bad in [
            &["mqbench", "producer", "--access-channel", "cloud"][..],
            &["mqbench", "producer", "--trace-topic", "TT"],
            &["mqbench", "producer", "--trace", "--access-channel", "moon"],
        ] {
            assert!(Cli::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn consumer_options() {
        let Mode::Consumer(c) = parse(&[
            "consumer",
            "-g",
            "G1",
            "--filter",
            "TagA || TagB",
            "--from",
            "first",
            "--idle-exit",
            "2",
        ])
        .mode
        else {
            panic!("not consumer")
        };
        assert_eq!(c.group, "G1");
        assert_eq!(c.filter, "TagA || TagB");
        assert_eq!(c.from, StartFrom::First);
        assert_eq!(c.idle_exit, 2.0);
        let Mode::Consumer(c) = parse(&["consumer"]).mode else {
            panic!()
        };
        assert_eq!((c.filter.as_str(), c.from), ("*", StartFrom::Last));
    }

    #[test]
    fn null_broker_options() {
        let Mode::NullBroker(n) = parse(&["null-broker"]).mode else {
            panic!("not null-broker")
        };
        assert_eq!(
            (n.listen.as_str(), n.size, n.threads),
            ("127.0.0.1:10911", 1024, 1)
        );
        let Mode::NullBroker(n) = parse(&[
            "null-broker",
            "--listen",
            "127.0.0.1:0",
            "-s",
            "100",
            "--threads",
            "2",
        ])
        .mode
        else {
            panic!("not null-broker")
        };
        assert_eq!(
            (n.listen.as_str(), n.size, n.threads),
            ("127.0.0.1:0", 100, 2)
        );
        assert_eq!(n.idle_poll_us, 50);
    }

    #[test]
    fn idle_poll_is_bounded() {
        let Mode::Producer(p) = parse(&["producer", "--idle-poll-us", "0"]).mode else {
            panic!("not producer")
        };
        assert_eq!(p.common.idle_poll_us, 0);
        assert!(Cli::try_parse_from(["mqbench", "producer", "--idle-poll-us", "1001"]).is_err());
        assert!(Cli::try_parse_from(["mqbench", "null-broker", "--idle-poll-us", "x"]).is_err());
    }
}
