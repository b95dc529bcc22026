//! Helpers of the client-library integration tests: start the real standalone broker (name
//! server + broker in one process) on port 0 with a temp data dir and short timers, create topics
//! and wait for their routes, and build client configs with shortened intervals. Every wait is
//! bounded.

use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use actormq::client::{ClientConfig, ConsumerConfig, ProducerConfig};
use actormq::protocol::codes::{request_code, response_code};
use actormq::protocol::headers::GetRouteInfoRequestHeader;
use actormq::protocol::RemotingCommand;

use super::{call, connect, listening_addr, rmq, set_args, spawn, BROKER};

/// A standalone broker child process, killed on drop, with its data dir.
pub struct Standalone {
    pub child: Child,
    pub namesrv: SocketAddr,
    pub broker: SocketAddr,
    pub dir: tempfile::TempDir,
}

impl Drop for Standalone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Standalone {
    pub fn namesrv_addr(&self) -> String {
        self.namesrv.to_string()
    }

    /// Kill this standalone broker and start a new one on the same store (new ports).
    pub fn restart(mut self, extra: &[&str]) -> Standalone {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        drop(self);
        start_broker_in(dir, extra)
    }
}

/// Start a second (non-standalone) broker `name` registering with `b`'s name server.
pub fn start_joined_broker(b: &Standalone, name: &str) -> Standalone {
    let dir = tempfile::tempdir().unwrap();
    let sets = [
        format!("brokerName={name}"),
        format!("namesrvAddr={}", b.namesrv),
        "listenAddr=127.0.0.1".into(),
        "listenPort=0".into(),
        format!("storePathRootDir={}", dir.path().display()),
        "mappedFileSizeCommitLog=67108864".into(),
        "warmMappedFileEnable=false".into(),
    ];
    let (child, rx) = spawn(BROKER, &set_args(&sets), "warn", Stdio::null());
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("broker printed its listening line within 20 s");
    assert!(line.contains("listening on"), "{line}");
    Standalone {
        child,
        namesrv: b.namesrv,
        broker: listening_addr(&line),
        dir,
    }
}

/// Start the standalone broker with short client timers plus `extra` `--set` pairs.
pub fn start_broker(extra: &[&str]) -> Standalone {
    start_broker_in(tempfile::tempdir().unwrap(), extra)
}

/// [`start_broker`] on the store in `dir` (a restart: kill the old one, pass its `dir`).
pub fn start_broker_in(dir: tempfile::TempDir, extra: &[&str]) -> Standalone {
    let root = format!("storePathRootDir={}", dir.path().display());
    let mut sets: Vec<String> = vec![
        "standalone=true".into(),
        "listenAddr=127.0.0.1".into(),
        "listenPort=0".into(),
        "namesrvListenPort=0".into(),
        root,
        "clientChannelExpiredTime=3000".into(),
        "clientScanInterval=500".into(),
        // A fresh store warms its first 1 GiB commit-log file on the first send (~6 s here);
        // small files keep the first send fast.
        "mappedFileSizeCommitLog=67108864".into(),
        "warmMappedFileEnable=false".into(),
    ];
    sets.extend(extra.iter().map(|s| s.to_string()));
    let log = std::env::var("BROKER_LOG").unwrap_or_else(|_| "warn".into());
    let stderr = if std::env::var_os("BROKER_LOG").is_some() {
        Stdio::inherit()
    } else {
        Stdio::null()
    };
    let (child, rx) = spawn(BROKER, &set_args(&sets), &log, stderr);
    let mut namesrv = None;
    let mut broker = None;
    let deadline = Instant::now() + Duration::from_secs(20);
    while namesrv.is_none() || broker.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .expect("broker printed its listening lines within 20 s");
        if line.starts_with("namesrv listening on") {
            namesrv = Some(listening_addr(&line));
        } else if line.contains("listening on") {
            broker = Some(listening_addr(&line));
        }
    }
    Standalone {
        child,
        namesrv: namesrv.unwrap(),
        broker: broker.unwrap(),
        dir,
    }
}

/// Create `topic` with `queues` read/write queues and wait (≤ 15 s) until the name server routes it.
pub fn create_topic(b: &Standalone, topic: &str, queues: i32) {
    create_topic_on(b, topic, queues, 1)
}

/// Create `topic` on `b`'s broker and wait until the name server routes it on `brokers` brokers.
pub fn create_topic_on(b: &Standalone, topic: &str, queues: i32, brokers: usize) {
    let r = rmq::create_topic(&mut connect(b.broker), topic, queues);
    assert_eq!(
        r.code,
        response_code::SUCCESS,
        "create topic: {:?}",
        r.remark
    );
    wait_route(b, topic, brokers);
}

/// Wait (≤ 15 s) until `b`'s name server routes `topic` on `brokers` brokers.
pub fn wait_route(b: &Standalone, topic: &str, brokers: usize) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let q = GetRouteInfoRequestHeader {
            topic: topic.into(),
            accept_standard_json_only: Some(true),
        };
        let r = call(
            &mut connect(b.namesrv),
            &RemotingCommand::request_with(request_code::GET_ROUTEINFO_BY_TOPIC, &q)
                .with_opaque(rmq::next_opaque()),
        );
        if r.code == response_code::SUCCESS {
            let route: actormq::protocol::body::TopicRouteData = serde_json::from_str(
                &actormq::protocol::body::fastjson::normalize_keys(&r.body).unwrap(),
            )
            .unwrap();
            if route.queue_datas.len() >= brokers {
                return;
            }
        }
        assert!(Instant::now() < deadline, "route of {topic} never appeared");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn client_config(b: &Standalone, instance: &str) -> ClientConfig {
    let mut c = ClientConfig::new(&b.namesrv_addr());
    c.instance_name = instance.to_string();
    c.client_ip = "127.0.0.1".into();
    c.poll_name_server_interval = Duration::from_millis(1000);
    c.heartbeat_broker_interval = Duration::from_millis(1000);
    c
}

pub fn producer_config(b: &Standalone, group: &str) -> ProducerConfig {
    let mut p = ProducerConfig::new(&b.namesrv_addr(), group);
    p.client = client_config(b, &format!("p-{group}"));
    p
}

pub fn consumer_config(b: &Standalone, group: &str, instance: &str) -> ConsumerConfig {
    let mut c = ConsumerConfig::new(&b.namesrv_addr(), group);
    c.client = client_config(b, instance);
    c.rebalance_interval = Duration::from_millis(1000);
    c.persist_offset_interval = Duration::from_millis(500);
    c.lock_interval = Duration::from_millis(1000);
    c.long_poll_suspend = Duration::from_millis(2000);
    c.pull_error_delay = Duration::from_millis(300);
    c.suspend_current_queue_time = Duration::from_millis(200);
    c.offset_store_dir = b.dir.path().join("client-offsets");
    c
}

/// Poll `f` every 50 ms until it returns true or `limit` passes.
pub async fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

/// Every message of `topic` (all queues from offset 0) pulled with a fresh pull consumer until
/// `want` arrived or `limit` passed.
pub async fn pull_topic(
    b: &Standalone,
    topic: &str,
    want: usize,
    limit: Duration,
) -> Vec<actormq::client::MessageExt> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let config = consumer_config(b, &format!("check-{topic}-{n}"), &format!("checker-{n}"));
    pull_all(config, topic, want, limit).await.unwrap()
}

/// As [`pull_topic`] with the consumer `config` (its group, its credentials); the first error
/// ends the pull.
pub async fn pull_all(
    config: ConsumerConfig,
    topic: &str,
    want: usize,
    limit: Duration,
) -> Result<Vec<actormq::client::MessageExt>, actormq::client::ClientError> {
    use actormq::client::PullConsumer;
    let pc = PullConsumer::start(config, &[topic]).await?;
    let queues = pc.queues(topic).await?;
    let start = Instant::now();
    let mut out = Vec::new();
    let mut next = vec![0i64; queues.len()];
    while out.len() < want && start.elapsed() < limit {
        for (i, q) in queues.iter().enumerate() {
            let r = match pc.pull(q, "*", next[i], 32, None).await {
                Ok(r) => r,
                Err(e) => {
                    let _ = pc.shutdown().await;
                    return Err(e);
                }
            };
            next[i] = r.next_begin_offset;
            out.extend(r.msgs);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pc.shutdown().await?;
    Ok(out)
}
