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

#[test]
fn controller_elects_a_master_slaves_replicate_and_a_killed_master_is_replaced() {
    let group = Group::start(Host::Namesrv, 3, &[]);
    group.wait_leader(WAIT);
    let nss = group.addrs();
    let controllers = nss
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(";");
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut brokers: Vec<Option<Server>> = dirs
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
    let mut set = Default::default();
    let full = wait_until(WAIT, || {
        set = wait_replica(&group, SET, WAIT, |_| true).1;
        set.sync_state_set.len() == 3
    });
    assert!(
        full,
        "SyncStateSet never grew to 3: {set:?}, ids {ids:?}; logs {:#?}",
        brokers.iter().flatten().map(log_of).collect::<Vec<_>>()
    );
    send_ok(master, "b", 40);
    let end = max_offset(master);
    for (i, a) in &all {
        assert!(
            wait_until(WAIT, || max_offset(*a) == end),
            "broker {i} at {} != master's {end}",
            max_offset(*a)
        );
    }

    // SIGKILL the master: a survivor becomes master in the route, has every acknowledged byte,
    // and takes sends.
    let mut dead = brokers[m].take().unwrap();
    let _ = dead.child.kill();
    let _ = dead.child.wait();
    let survivors: Vec<(usize, SocketAddr)> =
        all.iter().copied().filter(|(i, _)| *i != m).collect();
    let (n, took) = wait_master(&nss, &survivors);
    eprintln!("failover: broker {n} is master {took:?} after the kill");
    let new_master = addrs[n];
    assert!(max_offset(new_master) >= end, "acknowledged data lost");
    send_ok(new_master, "c", 20);

    // The killed broker restarts on its store: a slave again, under its saved id, caught up.
    let restarted = start_broker(dirs[m].path(), &controllers);
    let back = restarted.addr;
    assert!(
        wait_until(WAIT, || role(back) == ("SLAVE".into(), ids[m].to_string())),
        "restarted broker: {:?}, saved id {}",
        role(back),
        ids[m]
    );
    // It catches up and the new master takes it back into the SyncStateSet; then a SEND_OK
    // again means all three have the message.
    let full = wait_until(WAIT, || {
        set = wait_replica(&group, SET, WAIT, |_| true).1;
        set.sync_state_set.len() == 3
    });
    assert!(
        full,
        "SyncStateSet after the rejoin: {set:?}; logs {:#?}",
        [&restarted, brokers[n].as_ref().unwrap()].map(log_of)
    );
    send_ok(new_master, "d", 20);
    let end = max_offset(new_master);
    for a in [back, new_master]
        .into_iter()
        .chain(survivors.iter().map(|(_, a)| *a))
    {
        assert!(
            wait_until(WAIT, || max_offset(a) == end),
            "{a} at {} != master's {end}",
            max_offset(a)
        );
    }
    brokers[m] = Some(restarted);
}
