//! Controller-mode test support: a group of 3 controllers (the `controller` binary, or name
//! servers with `enableControllerInNamesrv=true`) on free Raft ports with request ports 0 and
//! store directories that survive a restart; raw controller requests; a fake broker that
//! heartbeats every controller and records the NOTIFY_BROKER_ROLE_CHANGED pushes it receives.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actormq::protocol::body::controller::SyncStateSet;
use actormq::protocol::codes::request_code as code;
use actormq::protocol::header::CommandHeader;
use actormq::protocol::headers::*;
use actormq::protocol::RemotingCommand;
use bytes::Bytes;

use super::rmq::next_opaque;
use super::{call, connect, read_frame_bytes, send, set_args, start, wait_until, Server, NAMESRV};

/// The controller binary.
pub const CONTROLLER: &str = env!("CARGO_BIN_EXE_controller");

/// A TCP port on 127.0.0.1 that is free now and that nothing else in this test process will be
/// handed: the Raft and replica-set ports must be known before the processes start.
///
/// Why not `bind(":0")` and release: the kernel hands the same ephemeral range to every
/// `bind(0)` and outgoing `connect`, so between release and the server's bind another process
/// (or a broker's VIP channel at `listenPort - 2`) could take it; CI once lost a run to that.
/// These ports come from below the ephemeral range, each at most once per process, all `0 mod 4`
/// so that no port's `port - 2` (its VIP channel, when it is a broker's) is another's.
pub fn free_port() -> u16 {
    use std::sync::atomic::AtomicU32;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let (low, high) = reserved_range();
    let slots = (high - low) / 4;
    // Another test binary may still hold ports it took (test binaries run one after another,
    // but a slow exit overlaps): start each process at its own offset.
    let start = std::process::id() % slots;
    for _ in 0..slots {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = low + ((start + n) % slots) * 4;
        if TcpListener::bind(("127.0.0.1", port as u16)).is_ok() {
            return port as u16;
        }
    }
    panic!("no free port in {low}..{high}");
}

/// Ports 10000 up to the start of the kernel's ephemeral range (`ip_local_port_range`).
fn reserved_range() -> (u32, u32) {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768);
    let high = ephemeral_low.clamp(12000, 65535);
    (10000, high)
}

/// What hosts the controllers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    Controller,
    Namesrv,
}

/// A controller group; node `i` has id `n<i>`.
pub struct Group {
    pub host: Host,
    pub nodes: Vec<Option<Server>>,
    pub peers: String,
    pub dir: tempfile::TempDir,
    pub extra: Vec<String>,
}

impl Group {
    /// Start `n` controllers hosted by `host`, with extra `key=value` settings.
    pub fn start(host: Host, n: usize, extra: &[&str]) -> Group {
        let peers = (0..n)
            .map(|i| format!("n{i}-127.0.0.1:{}", free_port()))
            .collect::<Vec<_>>()
            .join(";");
        let mut g = Group {
            host,
            nodes: (0..n).map(|_| None).collect(),
            peers,
            dir: tempfile::tempdir().unwrap(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        for i in 0..n {
            g.start_node(i);
        }
        g
    }

    /// (Re)start node `i` with its store directory.
    pub fn start_node(&mut self, i: usize) {
        let store = self.dir.path().join(format!("n{i}"));
        let mut sets = vec![
            "listenPort=0".to_string(),
            format!("controllerDLegerPeers={}", self.peers),
            format!("controllerDLegerSelfId=n{i}"),
            format!("controllerStorePath={}", store.display()),
            "scanNotActiveBrokerInterval=200".to_string(),
        ];
        if self.host == Host::Namesrv {
            sets.push("enableControllerInNamesrv=true".into());
            let kv: PathBuf = self.dir.path().join(format!("kv{i}.json"));
            sets.push(format!("kvConfigPath={}", kv.display()));
        }
        sets.extend(self.extra.iter().cloned());
        let args = set_args(&sets);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let bin = match self.host {
            Host::Controller => CONTROLLER,
            Host::Namesrv => NAMESRV,
        };
        self.nodes[i] = Some(start(bin, &args));
    }

    /// SIGKILL node `i`.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut s) = self.nodes[i].take() {
            let _ = s.child.kill();
            let _ = s.child.wait();
        }
    }

    /// The request addresses of the running nodes.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().flatten().map(|s| s.addr).collect()
    }

    pub fn addr(&self, i: usize) -> SocketAddr {
        self.nodes[i].as_ref().expect("node running").addr
    }

    /// Wait (≤ `limit`) until every running node names the same leader, which says it leads;
    /// returns the leader's request address.
    pub fn wait_leader(&self, limit: Duration) -> SocketAddr {
        let mut found = None;
        let ok = wait_until(limit, || {
            let metas: Vec<_> = self.addrs().into_iter().map(metadata).collect();
            let leader = metas[0].controller_leader_address.clone();
            let agreed =
                leader.is_some() && metas.iter().all(|m| m.controller_leader_address == leader);
            let claims = metas.iter().filter(|m| m.is_leader).count();
            if agreed && claims == 1 {
                found = leader.and_then(|a| a.parse().ok());
            }
            found.is_some()
        });
        assert!(ok, "no agreed controller leader within {limit:?}");
        found.unwrap()
    }
}

/// The account every raw controller request of this test process is signed with (`ctl_call`,
/// fake brokers' heartbeats), once set: for controllers with `aclEnable=true`. Process-wide, so
/// a test binary that sets it signs in every test.
static SIGN_AS: Mutex<Option<(String, String)>> = Mutex::new(None);

/// Sign every raw controller request from now on as `account` (access key, secret).
pub fn sign_all_as(account: (&str, &str)) {
    *SIGN_AS.lock().unwrap() = Some((account.0.into(), account.1.into()));
}

fn sign_if_set(cmd: &mut RemotingCommand) {
    if let Some((ak, sk)) = SIGN_AS.lock().unwrap().clone() {
        actormq::acl::sign::sign(cmd, &actormq::acl::Credentials::new(ak, sk));
    }
}

/// One request to `addr` on a fresh connection.
pub fn ctl_call(addr: SocketAddr, mut cmd: RemotingCommand) -> RemotingCommand {
    cmd.opaque = next_opaque();
    sign_if_set(&mut cmd);
    let mut s = connect(addr);
    call(&mut s, &cmd)
}

pub fn request<H: CommandHeader>(c: i32, h: &H) -> RemotingCommand {
    RemotingCommand::request_with(c, h)
}

/// CONTROLLER_GET_METADATA_INFO (1005).
pub fn metadata(addr: SocketAddr) -> GetMetaDataResponseHeader {
    let r = ctl_call(
        addr,
        RemotingCommand::request(code::CONTROLLER_GET_METADATA_INFO),
    );
    assert_eq!(r.code, 0, "{:?}", r.remark);
    r.header().expect("metadata header")
}

/// CONTROLLER_GET_REPLICA_INFO (1004): the response, its header and SyncStateSet body.
pub fn replica_info(
    addr: SocketAddr,
    broker: &str,
) -> (RemotingCommand, GetReplicaInfoResponseHeader, SyncStateSet) {
    let r = ctl_call(
        addr,
        request(
            code::CONTROLLER_GET_REPLICA_INFO,
            &GetReplicaInfoRequestHeader {
                broker_name: broker.into(),
            },
        ),
    );
    let h = r.header().unwrap_or_default();
    let body = SyncStateSet::decode(&r.body).unwrap_or_default();
    (r, h, body)
}

/// CONTROLLER_ELECT_MASTER (1002) asked by `broker_id`.
pub fn elect(addr: SocketAddr, cluster: &str, broker: &str, broker_id: i64) -> RemotingCommand {
    let h = ElectMasterRequestHeader {
        cluster_name: cluster.into(),
        broker_name: broker.into(),
        broker_id,
        designate_elect: Some(false),
        invoke_time: None,
    };
    ctl_call(addr, request(code::CONTROLLER_ELECT_MASTER, &h))
}

/// CONTROLLER_ALTER_SYNC_STATE_SET (1001) by master `master` of `master_epoch`.
pub fn alter(
    addr: SocketAddr,
    broker: &str,
    master: i64,
    master_epoch: i32,
    set: &[i64],
    sss_epoch: i32,
) -> RemotingCommand {
    let h = AlterSyncStateSetRequestHeader {
        broker_name: broker.into(),
        master_broker_id: master,
        master_epoch,
        invoke_time: None,
    };
    let body = SyncStateSet {
        sync_state_set: set.iter().copied().collect(),
        sync_state_set_epoch: sss_epoch,
    };
    ctl_call(
        addr,
        request(code::CONTROLLER_ALTER_SYNC_STATE_SET, &h).with_body(body.encode()),
    )
}

/// GET_NEXT_BROKER_ID, APPLY_BROKER_ID and REGISTER for a broker at `broker_addr`; returns its id.
pub fn join(addr: SocketAddr, cluster: &str, broker: &str, broker_addr: &str) -> i64 {
    let names = GetNextBrokerIdRequestHeader {
        cluster_name: cluster.into(),
        broker_name: broker.into(),
    };
    let r = ctl_call(addr, request(code::CONTROLLER_GET_NEXT_BROKER_ID, &names));
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let id = r
        .header::<GetNextBrokerIdResponseHeader>()
        .unwrap()
        .next_broker_id
        .unwrap();
    let apply = ApplyBrokerIdRequestHeader {
        cluster_name: cluster.into(),
        broker_name: broker.into(),
        applied_broker_id: id,
        register_check_code: format!("{broker_addr};{id}"),
    };
    let r = ctl_call(addr, request(code::CONTROLLER_APPLY_BROKER_ID, &apply));
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let reg = RegisterBrokerToControllerRequestHeader {
        cluster_name: cluster.into(),
        broker_name: broker.into(),
        broker_id: id,
        broker_address: broker_addr.into(),
        invoke_time: None,
    };
    let r = ctl_call(addr, request(code::CONTROLLER_REGISTER_BROKER, &reg));
    assert_eq!(r.code, 0, "{:?}", r.remark);
    id
}

/// A fake broker: listens on its own address (to receive NOTIFY_BROKER_ROLE_CHANGED) and, while
/// `beating`, sends BROKER_HEARTBEAT every 200 ms to every controller address it is given.
pub struct FakeBroker {
    pub addr: String,
    pub id: Arc<Mutex<i64>>,
    pub beating: Arc<AtomicBool>,
    /// Cleared: the broker closes its controller connections and stays silent (a dead process).
    pub connected: Arc<AtomicBool>,
    pub controllers: Arc<Mutex<Vec<SocketAddr>>>,
    pub notified: Arc<Mutex<Vec<NotifyBrokerRoleChangedRequestHeader>>>,
    /// The same pushes as received, to check how they were signed.
    pub pushes: Arc<Mutex<Vec<RemotingCommand>>>,
    stop: Arc<AtomicBool>,
}

impl FakeBroker {
    /// A fake broker with a heartbeat timeout of 1.5 s.
    pub fn start(cluster: &str, broker: &str, controllers: Vec<SocketAddr>) -> FakeBroker {
        Self::start_with(cluster, broker, controllers, 1500)
    }

    /// A fake broker announcing `timeout_ms` as its heartbeat timeout.
    pub fn start_with(
        cluster: &str,
        broker: &str,
        controllers: Vec<SocketAddr>,
        timeout_ms: i64,
    ) -> FakeBroker {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let notified = Arc::new(Mutex::new(Vec::new()));
        let pushes = Arc::new(Mutex::new(Vec::new()));
        let (n, p) = (notified.clone(), pushes.clone());
        std::thread::spawn(move || {
            for s in listener.incoming().map_while(Result::ok) {
                let (n, p) = (n.clone(), p.clone());
                std::thread::spawn(move || receive_notifies(s, n, p));
            }
        });
        let b = FakeBroker {
            addr,
            id: Arc::new(Mutex::new(-1)),
            beating: Arc::new(AtomicBool::new(true)),
            connected: Arc::new(AtomicBool::new(true)),
            controllers: Arc::new(Mutex::new(controllers)),
            notified,
            pushes,
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (id, ctls, stop) = (b.id.clone(), b.controllers.clone(), b.stop.clone());
        let beating = (b.beating.clone(), b.connected.clone());
        let h = BrokerHeartbeatRequestHeader {
            cluster_name: cluster.into(),
            broker_addr: b.addr.clone(),
            broker_name: broker.into(),
            heartbeat_timeout_mills: Some(timeout_ms),
            ..Default::default()
        };
        std::thread::spawn(move || heartbeat_loop(h, id, beating, ctls, stop));
        b
    }
}

impl Drop for FakeBroker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn heartbeat_loop(
    mut h: BrokerHeartbeatRequestHeader,
    id: Arc<Mutex<i64>>,
    (beating, connected): (Arc<AtomicBool>, Arc<AtomicBool>),
    ctls: Arc<Mutex<Vec<SocketAddr>>>,
    stop: Arc<AtomicBool>,
) {
    // One long-lived connection per controller, as a broker keeps (a closed one counts as the
    // broker going away).
    let mut conns: std::collections::HashMap<SocketAddr, TcpStream> = Default::default();
    while !stop.load(Ordering::Relaxed) {
        let my_id = *id.lock().unwrap();
        if !connected.load(Ordering::Relaxed) {
            conns.clear();
        } else if beating.load(Ordering::Relaxed) && my_id > 0 {
            h.broker_id = Some(my_id);
            h.max_offset = Some(1000 + my_id);
            h.epoch = Some(1);
            let targets = ctls.lock().unwrap().clone();
            conns.retain(|a, _| targets.contains(a));
            for a in targets {
                let s = match conns.entry(a) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        match TcpStream::connect_timeout(&a, Duration::from_millis(300)) {
                            Ok(s) => {
                                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                                e.insert(s)
                            }
                            Err(_) => continue,
                        }
                    }
                };
                let mut cmd = request(code::BROKER_HEARTBEAT, &h);
                cmd.opaque = next_opaque();
                sign_if_set(&mut cmd);
                let sent = std::io::Write::write_all(s, &{
                    let mut b = bytes::BytesMut::new();
                    actormq::protocol::frame::encode(&cmd, &mut b);
                    b
                });
                if sent.is_err() || read_frame_bytes(s).is_err() {
                    conns.remove(&a);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn receive_notifies(
    mut s: TcpStream,
    out: Arc<Mutex<Vec<NotifyBrokerRoleChangedRequestHeader>>>,
    raw: Arc<Mutex<Vec<RemotingCommand>>>,
) {
    while let Ok(bytes) = read_frame_bytes(&mut s) {
        let Ok(cmd) = actormq::protocol::frame::parse(Bytes::from(bytes)) else {
            return;
        };
        if cmd.code == code::NOTIFY_BROKER_ROLE_CHANGED && !cmd.is_response() {
            if let Ok(h) = cmd.header() {
                out.lock().unwrap().push(h);
            }
            raw.lock().unwrap().push(cmd.clone());
            let resp = cmd.response_to(0, None);
            send(&mut s, &resp);
        }
    }
}

/// Wait (≤ `limit`) until `f` on the leader's replica info holds; returns (header, set, waited).
pub fn wait_replica(
    g: &Group,
    broker: &str,
    limit: Duration,
    mut f: impl FnMut(&GetReplicaInfoResponseHeader) -> bool,
) -> (GetReplicaInfoResponseHeader, SyncStateSet, Duration) {
    let start = Instant::now();
    let mut last = None;
    let ok = wait_until(limit, || {
        let leader = g.wait_leader(limit);
        let (r, h, s) = replica_info(leader, broker);
        let done = r.code == 0 && f(&h);
        last = Some((h, s));
        done
    });
    let (h, s) = last.unwrap();
    assert!(
        ok,
        "replica info of {broker} never matched within {limit:?}; last {h:?} {s:?}"
    );
    (h, s, start.elapsed())
}
