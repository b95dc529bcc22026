//! Brokers in controller mode (RocketMQ 5, RIP-44) with the real binaries: 3 name servers hosting
//! the controller group, 3 brokers of one set with `enableControllerMode=true`,
//! `brokerId=-1`, `brokerRole=SLAVE` and `allAckInSyncStateSet=true`. One becomes master (the
//! route's brokerId 0 is its address), the others replicate it and join the SyncStateSet; a
//! send acknowledged then is on all three. SIGKILL the master: another broker becomes master in
//! the route within a bounded wait, has every acknowledged message, and takes sends. The killed
//! broker restarted on its store rejoins as a slave under the broker id it saved, and catches up.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use actormq::protocol::body::TopicRouteData;
use common::controller::{wait_replica, Group, Host};
use common::ha::{max_offset, runtime_info};
use common::rmq::{create_topic, request, send};
use common::{call, connect, set_args, start, wait_until, Server, BROKER};

const SET: &str = "broker-ctl";
const TOPIC: &str = "CtlTopic";
const QUEUES: i32 = 4;
const WAIT: Duration = Duration::from_secs(30);

fn start_broker(dir: &Path, controllers: &str) -> Server {
    let sets = [
        "listenAddr=127.0.0.1".to_string(),
        "listenPort=0".into(),
        "haListenPort=0".into(),
        format!("storePathRootDir={}", dir.display()),
        format!("namesrvAddr={controllers}"),
        format!("controllerAddr={controllers}"),
        format!("brokerName={SET}"),
        "enableControllerMode=true".into(),
        "brokerId=-1".into(),
        "brokerRole=SLAVE".into(),
        "allAckInSyncStateSet=true".into(),
        "mappedFileSizeCommitLog=8388608".into(),
        "mappedFileSizeConsumeQueue=60000".into(),
        "registerNameServerPeriod=1000".into(),
        "haSendHeartbeatInterval=200".into(),
        "brokerHeartbeatInterval=200".into(),
        "controllerHeartBeatTimeoutMills=2000".into(),
        "syncBrokerMetadataPeriod=500".into(),
        "syncControllerMetadataPeriod=1000".into(),
        "checkSyncStateSetPeriod=300".into(),
        "haMaxTimeSlaveNotCatchup=3000".into(),
    ];
    let args = set_args(&sets);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    start(BROKER, &refs)
}

/// The route's broker ids and addresses of the set (empty when unknown), asked of `ns`.
fn route(ns: SocketAddr) -> BTreeMap<i64, String> {
    let mut s = connect(ns);
    let r = call(&mut s, &request(105, &[("topic", TOPIC)]));
    serde_json::from_slice::<TopicRouteData>(&r.body)
        .ok()
        .and_then(|t| t.broker_datas.into_iter().find(|b| b.broker_name == SET))
        .map(|b| b.broker_addrs)
        .unwrap_or_default()
}

/// Wait until every name server's route names a master among `candidates`; returns its index.
fn wait_master(nss: &[SocketAddr], candidates: &[(usize, SocketAddr)]) -> (usize, Duration) {
    let started = Instant::now();
    let mut found = None;
    let ok = wait_until(WAIT, || {
        let masters: Vec<Option<String>> = nss.iter().map(|ns| route(*ns).remove(&0)).collect();
        found = candidates
            .iter()
            .find(|(_, a)| masters.iter().all(|m| m.as_deref() == Some(&a.to_string())))
            .map(|(i, _)| *i);
        found.is_some()
    });
    let routes: Vec<_> = nss.iter().map(|ns| route(*ns)).collect();
    assert!(
        ok,
        "no master among {candidates:?} within {WAIT:?}; routes {routes:?}"
    );
    (found.unwrap(), started.elapsed())
}

/// Send `n` messages to `addr`, each retried (bounded) until SEND_OK; returns how many.
fn send_ok(addr: SocketAddr, tag: &str, n: usize) -> usize {
    let mut s = connect(addr);
    for i in 0..n {
        let body = format!("{tag}-{i}-{}", "y".repeat(200));
        let mut last = None;
        let ok = wait_until(Duration::from_secs(10), || {
            let r = send(
                &mut s,
                TOPIC,
                (i % QUEUES as usize) as i32,
                body.as_bytes(),
                "T",
                "",
                &[],
            );
            let done = r.code == 0;
            last = Some((r.code, r.remark));
            done
        });
        assert!(ok, "send {tag}-{i} to {addr}: last answer {last:?}");
    }
    n
}

fn role(addr: SocketAddr) -> (String, String) {
    let info = runtime_info(addr);
    (info["brokerRole"].clone(), info["brokerId"].clone())
}

/// The broker's log lines about roles and replication (for failure messages).
fn log_of(b: &Server) -> Vec<String> {
    common::stderr_so_far(b, Duration::from_millis(100))
        .into_iter()
        .filter(|l| {
            [
                "HA",
                "SyncStateSet",
                "role",
                "master",
                "slave",
                "controller",
            ]
            .iter()
            .any(|k| l.contains(k))
        })
        .collect()
}

/// The broker id saved in the store (`brokerIdentity`: `cluster#brokerName#id`).
fn saved_id(dir: &Path) -> i64 {
    let path = dir.join("brokerIdentity");
    assert!(wait_until(WAIT, || path.exists()), "no {path:?}");
    let text = std::fs::read_to_string(path).unwrap();
    text.trim().rsplit('#').next().unwrap().parse().unwrap()
}

/// A running set: the controller group, its name servers, 3 brokers with their stores.
struct Deployment {
    group: Group,
    nss: Vec<SocketAddr>,
    controllers: String,
    dirs: Vec<tempfile::TempDir>,
    brokers: Vec<Option<Server>>,
    addrs: Vec<SocketAddr>,
    all: Vec<(usize, SocketAddr)>,
    /// Broker ids as saved in each store.
    ids: Vec<i64>,
    /// The first master's index.
    m: usize,
}

/// Start everything; wait for a master, slaves under their ids, and a SyncStateSet of all 3
/// (sends acknowledged by the master alone at first, then by the set).
fn up() -> Deployment {
    let group = Group::start(Host::Namesrv, 3, &[]);
    group.wait_leader(WAIT);
    let nss = group.addrs();
    let controllers = nss
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(";");
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let brokers: Vec<Option<Server>> = dirs
        .iter()
        .map(|d| Some(start_broker(d.path(), &controllers)))
        .collect();
    let addrs: Vec<SocketAddr> = brokers.iter().flatten().map(|b| b.addr).collect();
    for a in &addrs {
        assert_eq!(create_topic(&mut connect(*a), TOPIC, QUEUES).code, 0);
    }
    let all: Vec<(usize, SocketAddr)> = addrs.iter().copied().enumerate().collect();

    // One master in every name server's route; it says so, the others are slaves.
    let (m, took) = wait_master(&nss, &all);
    eprintln!("first master: broker {m} after {took:?}");
    let master = addrs[m];
    assert!(
        wait_until(WAIT, || role(master).0 == "SYNC_MASTER"),
        "{:?}",
        role(master)
    );
    let ids: Vec<i64> = dirs.iter().map(|d| saved_id(d.path())).collect();
    for (i, a) in &all {
        if *i != m {
            let slave = ("SLAVE".to_string(), ids[*i].to_string());
            assert!(
                wait_until(WAIT, || role(*a) == slave),
                "broker {i}: {:?}",
                role(*a)
            );
        }
    }

    // Sends are acknowledged (by the master alone at first); the slaves catch up and join the
    // SyncStateSet; from then on a SEND_OK means all three have the message.
    send_ok(master, "a", 40);
    let d = Deployment {
        group,
        nss,
        controllers,
        dirs,
        brokers,
        addrs,
        all,
        ids,
        m,
    };
    wait_set(&d, 3);
    d
}

/// Wait until the controller's SyncStateSet has `n` members.
fn wait_set(d: &Deployment, n: usize) {
    let mut set = Default::default();
    let ok = wait_until(WAIT, || {
        set = wait_replica(&d.group, SET, WAIT, |_| true).1;
        set.sync_state_set.len() == n
    });
    assert!(
        ok,
        "SyncStateSet never had {n} members: {set:?}, ids {:?}; logs {:#?}",
        d.ids,
        d.brokers.iter().flatten().map(log_of).collect::<Vec<_>>()
    );
}

/// Wait until every broker in `addrs` has the CommitLog end of `master`.
fn wait_converged(master: SocketAddr, addrs: &[SocketAddr]) {
    let end = max_offset(master);
    for a in addrs {
        assert!(
            wait_until(WAIT, || max_offset(*a) == end),
            "{a} at {} != master's {end}",
            max_offset(*a)
        );
    }
}

#[test]
fn controller_elects_a_master_slaves_replicate_and_a_killed_master_is_replaced() {
    let mut d = up();
    let (m, master, nss) = (d.m, d.addrs[d.m], d.nss.clone());
    send_ok(master, "b", 40);
    wait_converged(master, &d.addrs);
    let end = max_offset(master);

    // SIGKILL the master: a survivor becomes master in the route, has every acknowledged byte,
    // and takes sends.
    let mut dead = d.brokers[m].take().unwrap();
    let _ = dead.child.kill();
    let _ = dead.child.wait();
    let survivors: Vec<(usize, SocketAddr)> =
        d.all.iter().copied().filter(|(i, _)| *i != m).collect();
    let (n, took) = wait_master(&nss, &survivors);
    eprintln!("failover: broker {n} is master {took:?} after the kill");
    let new_master = d.addrs[n];
    assert!(max_offset(new_master) >= end, "acknowledged data lost");
    send_ok(new_master, "c", 20);

    // The killed broker restarts on its store: a slave again, under its saved id, caught up.
    let restarted = start_broker(d.dirs[m].path(), &d.controllers);
    let back = restarted.addr;
    assert!(
        wait_until(WAIT, || role(back)
            == ("SLAVE".into(), d.ids[m].to_string())),
        "restarted broker: {:?}, saved id {}",
        role(back),
        d.ids[m]
    );
    // It catches up and the new master takes it back into the SyncStateSet; then a SEND_OK
    // again means all three have the message.
    d.brokers[m] = Some(restarted);
    wait_set(&d, 3);
    send_ok(new_master, "d", 20);
    let everyone: Vec<SocketAddr> = d.brokers.iter().flatten().map(|b| b.addr).collect();
    wait_converged(new_master, &everyone);
}

#[test]
fn a_frozen_master_is_fenced_and_rejoins_as_a_slave_without_a_restart() {
    let d = up();
    let (m, master) = (d.m, d.addrs[d.m]);
    send_ok(master, "a", 20);
    wait_converged(master, &d.addrs);
    let end = max_offset(master);

    // SIGSTOP the master past the heartbeat timeout: another broker is elected.
    let pid = d.brokers[m].as_ref().unwrap().child.id();
    common::freeze(pid);
    let others: Vec<(usize, SocketAddr)> = d.all.iter().copied().filter(|(i, _)| *i != m).collect();
    let (n, took) = wait_master(&d.nss, &others);
    eprintln!("frozen master replaced by broker {n} after {took:?}");
    let new_master = d.addrs[n];
    assert!(max_offset(new_master) >= end, "acknowledged data lost");
    send_ok(new_master, "b", 20);

    // SIGCONT: the old master learns the newer epoch, turns slave in the same process (its
    // HA master side closed, its store cut to the new master's history), refuses sends, and
    // follows the new master back into the SyncStateSet.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGCONT) }, 0);
    let slave = ("SLAVE".to_string(), d.ids[m].to_string());
    assert!(
        wait_until(WAIT, || role(master) == slave),
        "thawed master: {:?}; log {:#?}",
        role(master),
        log_of(d.brokers[m].as_ref().unwrap())
    );
    let mut s = connect(master);
    let r = send(&mut s, TOPIC, 0, b"refused", "T", "", &[]);
    assert_ne!(r.code, 0, "a fenced master took a send");
    wait_set(&d, 3);
    send_ok(new_master, "c", 20);
    wait_converged(new_master, &d.addrs);
}

#[test]
fn with_all_ack_a_dead_member_holds_sends_until_it_leaves_the_sync_state_set() {
    let mut d = up();
    let master = d.addrs[d.m];
    let slaves: Vec<usize> = (0..3).filter(|i| *i != d.m).collect();
    let mut s = connect(master);
    let send_one = |s: &mut std::net::TcpStream| send(s, TOPIC, 1, b"x", "T", "", &[]).code;

    // One member dies: the set shrinks to the other two (after haMaxTimeSlaveNotCatchup) and
    // sends are acknowledged again.
    drop(d.brokers[slaves[0]].take());
    wait_set(&d, 2);
    assert!(wait_until(WAIT, || send_one(&mut s) == 0));

    // The last other member dies: no member of the set is connected, so a send is answered
    // SLAVE_NOT_AVAILABLE (11) at once, stored but not acknowledged; once the set is the master
    // alone, sends are acknowledged by it.
    drop(d.brokers[slaves[1]].take());
    assert!(
        wait_until(Duration::from_secs(3), || send_one(&mut s) == 11),
        "no SLAVE_NOT_AVAILABLE while the set's only other member is gone"
    );
    wait_set(&d, 1);
    assert_eq!(send_one(&mut s), 0);
}
