//! A broker set in controller mode, from the real binaries, for failover tests: three name
//! servers each hosting a controller (one Raft group), and three brokers of broker set
//! `broker-a` with `enableControllerMode` and `allAckInSyncStateSet`. Every port is picked free
//! once and kept, so a process restarted after a SIGKILL comes back at the same address with the
//! same store, as an operator's would.
//!
//! Also here: the route's current master, the controller's SyncStateSet, a load of senders that
//! follows the master and records every acknowledged message, and the history checker that
//! compares every replica against those acknowledgements.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actormq::protocol::body::{fastjson, TopicRouteData};
use actormq::protocol::{frame, RemotingCommand};
use bytes::{Bytes, BytesMut};

use super::controller::free_port;
use super::rmq::{create_topic, pull, request, send_request};
use super::{connect, set_args, start, wait_until, Server, BROKER, NAMESRV};

pub const BROKER_NAME: &str = "broker-a";
pub const QUEUES: i32 = 4;

/// One process of the set: its settings (to restart it) and, while it runs, the process.
pub struct Node {
    pub addr: SocketAddr,
    pub sets: Vec<String>,
    pub server: Option<Server>,
    bin: &'static str,
}

impl Node {
    fn new(bin: &'static str, addr: SocketAddr, sets: Vec<String>) -> Self {
        let mut n = Node {
            addr,
            sets,
            server: None,
            bin,
        };
        n.start();
        n
    }

    pub fn start(&mut self) {
        assert!(self.server.is_none(), "{} already runs", self.addr);
        let args = set_args(&self.sets);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let server = start(self.bin, &refs);
        assert_eq!(
            server.addr.port(),
            self.addr.port(),
            "came back on its port"
        );
        self.server = Some(server);
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        let mut s = self.server.take().expect("the process runs");
        s.child.kill().unwrap();
        s.child.wait().unwrap();
    }

    pub fn pid(&self) -> u32 {
        self.server.as_ref().expect("the process runs").child.id()
    }

    pub fn running(&self) -> bool {
        self.server.is_some()
    }
}

pub struct ReplicaSet {
    pub namesrvs: Vec<Node>,
    pub brokers: Vec<Node>,
    pub root: tempfile::TempDir,
}

/// Quick settings for tests; the defaults are RocketMQ's (see README "Automatic failover").
pub const BROKER_TEST_SETS: &[&str] = &[
    "controllerHeartBeatTimeoutMills=3000",
    "brokerHeartbeatInterval=300",
    "syncBrokerMetadataPeriod=1000",
    "checkSyncStateSetPeriod=1000",
    "haMaxTimeSlaveNotCatchup=5000",
    "registerNameServerPeriod=1000",
    "haSendHeartbeatInterval=200",
    "mappedFileSizeCommitLog=8388608",
    "mappedFileSizeConsumeQueue=60000",
    "flushConsumerOffsetInterval=200",
];

impl ReplicaSet {
    /// Three name servers with controllers and three controller-mode brokers; `extra` goes to
    /// every broker last (it overrides).
    pub fn start(extra: &[&str]) -> ReplicaSet {
        Self::start_with(&[], extra)
    }

    /// [`ReplicaSet::start`], with `ns_extra` added to every name server's settings.
    pub fn start_with(ns_extra: &[&str], extra: &[&str]) -> ReplicaSet {
        let root = tempfile::tempdir().unwrap();
        let ports: Vec<u16> = (0..12).map(|_| free_port()).collect();
        let at = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
        let ns_list: Vec<String> = ports[0..3].iter().map(|p| at(*p).to_string()).collect();
        let peers: Vec<String> = (0..3)
            .map(|i| format!("n{i}-127.0.0.1:{}", ports[3 + i]))
            .collect();
        let namesrvs = (0..3)
            .map(|i| {
                let sets = vec![
                    "listenAddr=127.0.0.1".to_string(),
                    format!("listenPort={}", ports[i]),
                    "kvConfigPath=".into(),
                    "enableControllerInNamesrv=true".into(),
                    "controllerDLegerGroup=group1".into(),
                    format!("controllerDLegerPeers={}", peers.join(";")),
                    format!("controllerDLegerSelfId=n{i}"),
                    format!(
                        "controllerStorePath={}",
                        root.path().join(format!("ctl{i}")).display()
                    ),
                    "scanNotActiveBrokerInterval=500".into(),
                ];
                let sets = sets
                    .into_iter()
                    .chain(ns_extra.iter().map(|s| s.to_string()));
                Node::new(NAMESRV, at(ports[i]), sets.collect())
            })
            .collect();
        let brokers = (0..3)
            .map(|i| {
                let mut sets = vec![
                    "listenAddr=127.0.0.1".to_string(),
                    format!("listenPort={}", ports[6 + i]),
                    format!("haListenPort={}", ports[9 + i]),
                    format!(
                        "storePathRootDir={}",
                        root.path().join(format!("b{i}")).display()
                    ),
                    "brokerClusterName=FailoverCluster".into(),
                    format!("brokerName={BROKER_NAME}"),
                    "brokerId=-1".into(),
                    "brokerRole=SLAVE".into(),
                    "enableControllerMode=true".into(),
                    "allAckInSyncStateSet=true".into(),
                    format!("controllerAddr={}", ns_list.join(";")),
                    format!("namesrvAddr={}", ns_list.join(";")),
                ];
                sets.extend(BROKER_TEST_SETS.iter().map(|s| s.to_string()));
                sets.extend(extra.iter().map(|s| s.to_string()));
                Node::new(BROKER, at(ports[6 + i]), sets)
            })
            .collect();
        ReplicaSet {
            namesrvs,
            brokers,
            root,
        }
    }

    pub fn namesrv_list(&self) -> String {
        let addrs: Vec<String> = self.namesrvs.iter().map(|n| n.addr.to_string()).collect();
        addrs.join(";")
    }

    /// The master of `broker-a` in the route of `topic`, from the first name server that answers.
    pub fn route_master(&self, topic: &str) -> Option<SocketAddr> {
        self.namesrvs
            .iter()
            .filter(|n| n.running())
            .find_map(|n| route_master_at(n.addr, topic))
    }

    /// The index of the broker the route names as master.
    pub fn master_index(&self, topic: &str) -> Option<usize> {
        let m = self.route_master(topic)?;
        self.brokers.iter().position(|b| b.addr == m && b.running())
    }

    /// Wait (at most `limit`) for a running master other than `not`; its index.
    pub fn wait_master(&self, topic: &str, not: Option<usize>, limit: Duration) -> usize {
        let mut found = None;
        let ok = wait_until(limit, || {
            found = self.master_index(topic).filter(|i| Some(*i) != not);
            found.is_some()
        });
        assert!(ok, "no master (other than {not:?}) within {limit:?}");
        found.unwrap()
    }

    /// The controller's SyncStateSet of `broker-a` (broker ids), from whichever controller leads.
    pub fn sync_state_set(&self) -> Option<Vec<i64>> {
        self.namesrvs.iter().filter(|n| n.running()).find_map(|n| {
            let mut s = try_connect(n.addr)?;
            let r = try_call(&mut s, &request(1004, &[("brokerName", BROKER_NAME)]))?;
            if r.code != 0 {
                return None;
            }
            let v: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
            let ids = v["syncStateSet"].as_array()?;
            Some(ids.iter().filter_map(|i| i.as_i64()).collect())
        })
    }

    /// Create `topic` on the master and wait until every running broker has its config (so any
    /// of them can take its writes after a failover).
    pub fn create_topic(&self, topic: &str, limit: Duration) {
        let m = self.wait_master(topic_probe(), None, limit);
        let mut s = connect(self.brokers[m].addr);
        assert_eq!(create_topic(&mut s, topic, QUEUES).code, 0);
        for b in self.brokers.iter().filter(|b| b.running()) {
            let ok = wait_until(limit, || {
                try_connect(b.addr)
                    .and_then(|mut s| try_call(&mut s, &request(21, &[])))
                    .is_some_and(|r| String::from_utf8_lossy(&r.body).contains(topic))
            });
            assert!(
                ok,
                "{} did not learn topic {topic} within {limit:?}",
                b.addr
            );
        }
    }
}

/// The topic every broker registers, to find the master before any topic of a test exists.
pub fn topic_probe() -> &'static str {
    "TBW102"
}

pub fn route_master_at(ns: SocketAddr, topic: &str) -> Option<SocketAddr> {
    let mut s = try_connect(ns)?;
    let r = try_call(
        &mut s,
        &request(105, &[("topic", topic), ("acceptStandardJsonOnly", "true")]),
    )?;
    if r.code != 0 {
        return None;
    }
    let t: TopicRouteData = serde_json::from_str(&fastjson::normalize_keys(&r.body).ok()?).ok()?;
    let b = t
        .broker_datas
        .iter()
        .find(|b| b.broker_name == BROKER_NAME)?;
    b.broker_addrs.get(&0)?.parse().ok()
}

pub fn try_connect(addr: SocketAddr) -> Option<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(6))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(2))).ok()?;
    s.set_nodelay(true).ok()?;
    Some(s)
}

/// Send a request and read its response; `None` on any I/O or framing error (a dead or frozen
/// peer), so load and probes go on across faults.
pub fn try_call(s: &mut TcpStream, cmd: &RemotingCommand) -> Option<RemotingCommand> {
    let mut b = BytesMut::new();
    frame::encode(cmd, &mut b);
    s.write_all(&b).ok()?;
    for _ in 0..100 {
        let mut len = [0u8; 4];
        s.read_exact(&mut len).ok()?;
        let n = u32::from_be_bytes(len) as usize;
        let mut buf = vec![0u8; 4 + n];
        buf[..4].copy_from_slice(&len);
        s.read_exact(&mut buf[4..]).ok()?;
        let resp = frame::parse(Bytes::from(buf)).ok()?;
        if resp.is_response() && resp.opaque == cmd.opaque {
            return Some(resp);
        }
    }
    None
}

/// A message a broker answered SEND_OK for.
#[derive(Clone, Debug)]
pub struct Acked {
    pub queue: i32,
    pub offset: i64,
    pub body: String,
    pub broker: SocketAddr,
}

/// Senders (one connection each) writing `topic` to whichever broker the route names master
/// (a watcher polls the name servers every 100 ms), recording every SEND_OK.
pub struct Load {
    stop: Arc<AtomicBool>,
    pub acked: Arc<Mutex<Vec<Acked>>>,
    pub refused: Arc<AtomicU64>,
    threads: Vec<JoinHandle<()>>,
}

impl Load {
    pub fn start(set: &ReplicaSet, topic: &str, senders: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let master = Arc::new(Mutex::new(None::<SocketAddr>));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(AtomicU64::new(0));
        let ns: Vec<SocketAddr> = set.namesrvs.iter().map(|n| n.addr).collect();
        let mut threads = Vec::new();
        {
            let (stop, master, topic) = (stop.clone(), master.clone(), topic.to_string());
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let m = ns.iter().find_map(|n| route_master_at(*n, &topic));
                    if m.is_some() {
                        *master.lock().unwrap() = m;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }));
        }
        for t in 0..senders {
            let (stop, master, acked, refused) =
                (stop.clone(), master.clone(), acked.clone(), refused.clone());
            let topic = topic.to_string();
            threads.push(std::thread::spawn(move || {
                sender(t, &topic, &stop, &master, &acked, &refused)
            }));
        }
        Load {
            stop,
            acked,
            refused,
            threads,
        }
    }

    pub fn count(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// Wait (at most `limit`) until `more` messages beyond now are acknowledged.
    pub fn wait_more(&self, more: usize, limit: Duration) -> bool {
        let want = self.count() + more;
        wait_until(limit, || self.count() >= want)
    }

    pub fn finish(mut self) -> Vec<Acked> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            t.join().unwrap();
        }
        std::mem::take(&mut *self.acked.lock().unwrap())
    }
}

fn sender(
    t: usize,
    topic: &str,
    stop: &AtomicBool,
    master: &Mutex<Option<SocketAddr>>,
    acked: &Mutex<Vec<Acked>>,
    refused: &AtomicU64,
) {
    let mut conn: Option<(SocketAddr, TcpStream)> = None;
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let Some(m) = *master.lock().unwrap() else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        if conn.as_ref().is_none_or(|(a, _)| *a != m) {
            conn = try_connect(m).map(|s| (m, s));
        }
        let Some((addr, s)) = conn.as_mut() else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        seq += 1;
        let queue = (seq % QUEUES as u64) as i32;
        let body = format!("t{t}-{seq}");
        let req = send_request(topic, queue, body.as_bytes(), "T", &body, &[]);
        match try_call(s, &req) {
            Some(r) if r.code == 0 => {
                let offset = r.ext("queueOffset").and_then(|v| v.parse().ok()).unwrap();
                let queue = r.ext("queueId").and_then(|v| v.parse().ok()).unwrap();
                acked.lock().unwrap().push(Acked {
                    queue,
                    offset,
                    body,
                    broker: *addr,
                });
            }
            Some(_) => {
                refused.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
            None => {
                conn = None;
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// One replica's copy of a queue: queue offset -> (body, CommitLog offset).
pub type QueueCopy = BTreeMap<i64, (String, i64)>;

/// Every message of every queue of `topic` on the broker at `addr` (pulled; slaves serve pulls).
pub fn read_replica(addr: SocketAddr, topic: &str) -> Vec<QueueCopy> {
    read_replica_from(addr, topic, &[0; QUEUES as usize])
}

/// The messages of each queue of `topic` from queue offset `from[queue]` on. Pulls until a
/// queue has nothing more (no cap on the count: a long fault loop stores millions), within
/// `READ_LIMIT` in all.
pub fn read_replica_from(addr: SocketAddr, topic: &str, from: &[i64]) -> Vec<QueueCopy> {
    const READ_LIMIT: Duration = Duration::from_secs(600);
    let start = Instant::now();
    let mut s = connect(addr);
    (0..QUEUES)
        .map(|q| {
            let mut copy = QueueCopy::new();
            let mut offset = from[q as usize];
            while start.elapsed() < READ_LIMIT {
                let (r, msgs) = pull(&mut s, "CG_history", topic, q, offset, "*", 0);
                for m in msgs {
                    let body = String::from_utf8_lossy(&m.body).into_owned();
                    copy.insert(m.queue_offset, (body, m.commit_log_offset));
                }
                let next = r.ext("nextBeginOffset").and_then(|v| v.parse().ok());
                match next {
                    Some(n) if r.code == 0 && n > offset => offset = n,
                    _ => break,
                }
            }
            copy
        })
        .collect()
}

/// The history checker: every acknowledged message is, on every replica, exactly once in its
/// queue and at the offset it was acknowledged with; replicas agree on every offset they share
/// (same body at the same queue and CommitLog offsets). Returns the problems found.
pub fn check_history(acked: &[Acked], replicas: &[(SocketAddr, Vec<QueueCopy>)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (addr, queues) in replicas {
        for (q, copy) in queues.iter().enumerate() {
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for (body, _) in copy.values() {
                *seen.entry(body.as_str()).or_default() += 1;
            }
            for a in acked.iter().filter(|a| a.queue == q as i32) {
                match copy.get(&a.offset) {
                    Some((body, _)) if *body == a.body => {}
                    other => problems.push(format!(
                        "{addr} queue {q} offset {}: acked {:?} (by {}), holds {other:?}",
                        a.offset, a.body, a.broker
                    )),
                }
                let n = seen.get(a.body.as_str()).copied().unwrap_or(0);
                if n != 1 {
                    problems.push(format!("{addr} queue {q}: {:?} stored {n} times", a.body));
                }
            }
        }
    }
    for pair in replicas.windows(2) {
        let ((a, qa), (b, qb)) = (&pair[0], &pair[1]);
        for (q, (ca, cb)) in qa.iter().zip(qb).enumerate() {
            for (off, va) in ca {
                if let Some(vb) = cb.get(off) {
                    if va != vb {
                        problems.push(format!("queue {q} offset {off}: {a} {va:?} vs {b} {vb:?}"));
                    }
                }
            }
        }
    }
    problems
}

/// Wait (at most `limit`) until every running broker's queues end where the master's do (the
/// restarted ones have caught up), then read them all.
pub fn settled_replicas(
    set: &ReplicaSet,
    topic: &str,
    limit: Duration,
) -> Vec<(SocketAddr, Vec<QueueCopy>)> {
    let master = set.wait_master(topic, None, limit);
    // Each queue's end (GET_MAX_OFFSET, 30): cheap to ask again and again, unlike reading.
    let sizes = |addr: SocketAddr| -> Vec<i64> {
        let Some(mut s) = try_connect(addr) else {
            return Vec::new();
        };
        (0..QUEUES)
            .filter_map(|q| {
                let q = q.to_string();
                let r = try_call(&mut s, &request(30, &[("topic", topic), ("queueId", &q)]))?;
                r.ext("offset").and_then(|v| v.parse().ok())
            })
            .collect()
    };
    let want = sizes(set.brokers[master].addr);
    let start = Instant::now();
    for b in set.brokers.iter().filter(|b| b.running()) {
        let mut got = Vec::new();
        let ok = wait_until(limit.saturating_sub(start.elapsed()), || {
            got = sizes(b.addr);
            got == want
        });
        assert!(
            ok,
            "{} queues end at {got:?}, the master's at {want:?}",
            b.addr
        );
    }
    set.brokers
        .iter()
        .filter(|b| b.running())
        .map(|b| (b.addr, read_replica(b.addr, topic)))
        .collect()
}

pub fn store_dir(set: &ReplicaSet, i: usize) -> PathBuf {
    set.root.path().join(format!("b{i}"))
}
