//! Helpers for the client-library integration tests: start the real standalone broker (name
//! server + broker in one process) on port 0 with a temp data dir and short timers, create topics,
//! wait for routes, and build client configs with shortened intervals. Every wait is bounded.
#![allow(dead_code)]

#[path = "../common/real_clients.rs"]
pub mod real_clients;
#[allow(unused_imports)]
pub use real_clients::real_clients_dir;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actormq::client::{ClientConfig, ConsumerConfig, ProducerConfig};
use actormq::protocol::codes::{request_code, response_code};
use actormq::protocol::frame;
use actormq::protocol::headers::{CreateTopicRequestHeader, GetRouteInfoRequestHeader};
use actormq::protocol::RemotingCommand;
use bytes::{Bytes, BytesMut};

pub const BROKER: &str = env!("CARGO_BIN_EXE_broker");

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
}

fn addr_of(line: &str) -> SocketAddr {
    let a: SocketAddr = line
        .rsplit(' ')
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected line: {line}"));
    SocketAddr::from(([127, 0, 0, 1], a.port()))
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
    let mut args = Vec::new();
    for s in sets {
        args.push("--set".to_string());
        args.push(s);
    }
    let mut child = Command::new(BROKER)
        .args(&args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn broker");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("broker printed its listening line within 20 s");
    assert!(line.contains("listening on"), "{line}");
    Standalone {
        child,
        namesrv: b.namesrv,
        broker: addr_of(&line),
        dir,
    }
}

/// Start the standalone broker with short client timers plus `extra` `--set` pairs.
pub fn start_broker(extra: &[&str]) -> Standalone {
    let dir = tempfile::tempdir().unwrap();
    let root = format!("storePathRootDir={}", dir.path().display());
    let mut args: Vec<String> = vec![];
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
    for s in sets {
        args.push("--set".into());
        args.push(s);
    }
    let mut child = Command::new(BROKER)
        .args(&args)
        .env(
            "RUST_LOG",
            std::env::var("BROKER_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(if std::env::var_os("BROKER_LOG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
        .expect("spawn broker");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut namesrv = None;
    let mut broker = None;
    let deadline = Instant::now() + Duration::from_secs(20);
    while namesrv.is_none() || broker.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .expect("broker printed its listening lines within 20 s");
        if line.starts_with("namesrv listening on") {
            namesrv = Some(addr_of(&line));
        } else if line.contains("listening on") {
            broker = Some(addr_of(&line));
        }
    }
    Standalone {
        child,
        namesrv: namesrv.unwrap(),
        broker: broker.unwrap(),
        dir,
    }
}

fn call(addr: SocketAddr, cmd: &RemotingCommand) -> RemotingCommand {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut b = BytesMut::new();
    frame::encode(cmd, &mut b);
    s.write_all(&b).unwrap();
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let n = u32::from_be_bytes(len) as usize;
    let mut buf = vec![0u8; 4 + n];
    buf[..4].copy_from_slice(&len);
    s.read_exact(&mut buf[4..]).unwrap();
    frame::parse(Bytes::from(buf)).unwrap()
}

/// Create `topic` with `queues` read/write queues and wait (≤ 15 s) until the name server routes it.
pub fn create_topic(b: &Standalone, topic: &str, queues: i32) {
    create_topic_on(b, topic, queues, 1)
}

/// Create `topic` on `b`'s broker and wait until the name server routes it on `brokers` brokers.
pub fn create_topic_on(b: &Standalone, topic: &str, queues: i32, brokers: usize) {
    let h = CreateTopicRequestHeader {
        topic: topic.into(),
        default_topic: "TBW102".into(),
        read_queue_nums: queues,
        write_queue_nums: queues,
        perm: 6,
        topic_filter_type: "SINGLE_TAG".into(),
        ..Default::default()
    };
    let r = call(
        b.broker,
        &RemotingCommand::request_with(request_code::UPDATE_AND_CREATE_TOPIC, &h).with_opaque(1),
    );
    assert_eq!(
        r.code,
        response_code::SUCCESS,
        "create topic: {:?}",
        r.remark
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let q = GetRouteInfoRequestHeader {
            topic: topic.into(),
            accept_standard_json_only: Some(true),
        };
        let r = call(
            b.namesrv,
            &RemotingCommand::request_with(request_code::GET_ROUTEINFO_BY_TOPIC, &q).with_opaque(2),
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

/// Freeze process `pid` with SIGSTOP and wait (≤ 2 s) until the kernel reports it stopped, so no
/// thread of it is still running when the caller goes on.
pub fn freeze(pid: u32) {
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGSTOP) }, 0);
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The state follows the parenthesised command name.
        let state = stat.rsplit(") ").next().and_then(|r| r.chars().next());
        if state == Some('T') {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "process {pid} did not stop: {stat}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
