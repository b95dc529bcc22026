//! Automatic failover in controller mode, end to end with the real binaries (three name servers
//! hosting a Raft group of controllers, three brokers of one broker set with
//! `allAckInSyncStateSet=true`; see `common::failover`). Faults are SIGKILL and SIGSTOP:
//! - the master is killed under load from four connections, again and again (whichever broker is
//!   master each time; `FAILOVER_CYCLES`, default 3; `scripts/failover-loop.sh` runs 20): a new
//!   master is in the route within 10 s, it holds every message acknowledged before the kill,
//!   sends succeed on it, and the killed broker comes back as a slave and catches up;
//! - a master frozen past the heartbeat timeout is fenced: after SIGCONT nothing it acknowledges
//!   is missing elsewhere, and it rejoins as a slave, its tail truncated;
//! - elections still work with one controller down, and after the controller leader is killed;
//! - at the end of each test, the history checker: every acknowledged message is exactly once,
//!   at its acknowledged offset, on every replica, and the replicas agree offset by offset.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::failover::{
    check_history, read_replica_from, settled_replicas, try_call, try_connect, Acked, Load,
    ReplicaSet, BROKER_NAME, QUEUES,
};
use common::freeze;
use common::rmq::{request, send_request};

const TOPIC: &str = "FailoverTopic";
const WAIT: Duration = Duration::from_secs(30);
/// The goal for a failover with the test settings (`common::failover::BROKER_TEST_SETS`).
const FAILOVER_GOAL: Duration = Duration::from_secs(10);

fn cycles() -> usize {
    std::env::var("FAILOVER_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// Wait until the controller's SyncStateSet has `n` members (restarted brokers caught up).
fn wait_in_sync(set: &ReplicaSet, n: usize) {
    let mut last = None;
    let ok = common::wait_until(WAIT * 2, || {
        last = set.sync_state_set();
        last.as_ref().is_some_and(|s| s.len() >= n)
    });
    assert!(ok, "SyncStateSet never reached {n} members: {last:?}");
}

/// Every message in `acked` is held by the broker at `addr`, at its offset (reading each queue
/// from the lowest offset in `acked`, so a cycle reads only what it checks).
fn assert_holds(addr: SocketAddr, acked: &[Acked]) {
    let mut from = [i64::MAX; QUEUES as usize];
    for a in acked {
        from[a.queue as usize] = from[a.queue as usize].min(a.offset);
    }
    let copy = read_replica_from(
        addr,
        TOPIC,
        &from.map(|f| if f == i64::MAX { 0 } else { f }),
    );
    let missing: Vec<&Acked> = acked
        .iter()
        .filter(|a| copy[a.queue as usize].get(&a.offset).map(|v| &v.0) != Some(&a.body))
        .collect();
    assert!(
        missing.is_empty(),
        "the new master {addr} lacks {} acknowledged messages, first {:?}",
        missing.len(),
        missing.first()
    );
}

fn assert_history(set: &ReplicaSet, acked: &[Acked]) {
    let replicas = settled_replicas(set, TOPIC, WAIT * 2);
    assert_eq!(replicas.len(), 3, "all three replicas run at the end");
    let problems = check_history(acked, &replicas);
    assert!(
        problems.is_empty(),
        "{} history problems over {} acknowledged messages, first: {:#?}",
        problems.len(),
        acked.len(),
        &problems[..problems.len().min(10)]
    );
}

#[test]
fn master_killed_under_load_fails_over_without_losing_acknowledged_messages() {
    let mut set = ReplicaSet::start(&[]);
    set.create_topic(TOPIC, WAIT);
    wait_in_sync(&set, 3);
    let load = Load::start(&set, TOPIC, 4);
    assert!(load.wait_more(200, WAIT), "sends succeed before any fault");
    let mut times = Vec::new();
    let mut checked = 0;
    for cycle in 0..cycles() {
        let m = set.wait_master(TOPIC, None, WAIT);
        let killed_at = Instant::now();
        set.brokers[m].kill();
        // Acknowledged since the previous kill (the earlier ones were checked on the earlier
        // masters, and all of them on every replica at the end).
        let before: Vec<Acked> = load.acked.lock().unwrap()[checked..].to_vec();
        checked += before.len();
        let new = set.wait_master(TOPIC, Some(m), WAIT);
        let took = killed_at.elapsed();
        eprintln!(
            "cycle {cycle}: broker {m} SIGKILLed, broker {new} master in the route after {took:?}"
        );
        times.push(took);
        assert_holds(set.brokers[new].addr, &before);
        assert!(load.wait_more(200, WAIT), "sends succeed on the new master");
        set.brokers[m].start();
        wait_in_sync(&set, 3);
    }
    let refused = load.refused.load(std::sync::atomic::Ordering::Relaxed);
    let acked = load.finish();
    eprintln!(
        "{} cycles: failover times {times:?}; {} messages acknowledged, {refused} refused",
        times.len(),
        acked.len()
    );
    for t in &times {
        assert!(*t < FAILOVER_GOAL, "a failover took {t:?}: {times:?}");
    }
    assert_history(&set, &acked);
}

/// SEND_OKs the broker at `addr` gives in `span` (new connections; errors and refusals skipped).
fn send_directly(addr: SocketAddr, span: Duration) -> (Vec<Acked>, usize) {
    let (mut acked, mut refused) = (Vec::new(), 0);
    let start = Instant::now();
    let mut seq = 0;
    while start.elapsed() < span {
        let Some(mut s) = try_connect(addr) else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        seq += 1;
        let body = format!("old-master-{seq}");
        match try_call(
            &mut s,
            &send_request(TOPIC, seq % 4, body.as_bytes(), "T", &body, &[]),
        ) {
            Some(r) if r.code == 0 => acked.push(Acked {
                queue: r.ext("queueId").unwrap().parse().unwrap(),
                offset: r.ext("queueOffset").unwrap().parse().unwrap(),
                body,
                broker: addr,
            }),
            Some(_) => refused += 1,
            None => {}
        }
    }
    (acked, refused)
}

/// The broker ids of `addr` in the routes of every running name server.
fn route_ids_of(set: &ReplicaSet, addr: SocketAddr) -> Vec<i64> {
    let mut ids = Vec::new();
    for n in set.namesrvs.iter().filter(|n| n.running()) {
        let Some(mut s) = try_connect(n.addr) else {
            continue;
        };
        let req = request(105, &[("topic", TOPIC), ("acceptStandardJsonOnly", "true")]);
        let Some(r) = try_call(&mut s, &req) else {
            continue;
        };
        let text = actormq::protocol::body::fastjson::normalize_keys(&r.body).unwrap_or_default();
        let Ok(t) = serde_json::from_str::<actormq::protocol::body::TopicRouteData>(&text) else {
            continue;
        };
        for b in t
            .broker_datas
            .iter()
            .filter(|b| b.broker_name == BROKER_NAME)
        {
            ids.extend(
                b.broker_addrs
                    .iter()
                    .filter(|(_, a)| **a == addr.to_string())
                    .map(|(i, _)| *i),
            );
        }
    }
    ids
}

#[test]
fn frozen_master_is_fenced_then_rejoins_as_a_slave() {
    let set = ReplicaSet::start(&[]);
    set.create_topic(TOPIC, WAIT);
    wait_in_sync(&set, 3);
    let load = Load::start(&set, TOPIC, 4);
    assert!(load.wait_more(200, WAIT));
    let m = set.wait_master(TOPIC, None, WAIT);
    let old = set.brokers[m].addr;
    freeze(set.brokers[m].pid());
    let new = set.wait_master(TOPIC, Some(m), WAIT);
    eprintln!("broker {m} frozen; broker {new} master");
    assert!(load.wait_more(200, WAIT), "sends succeed on the new master");
    // SAFETY: signalling our own child process.
    assert_eq!(
        unsafe { libc::kill(set.brokers[m].pid() as i32, libc::SIGCONT) },
        0
    );
    let (old_acked, old_refused) = send_directly(old, Duration::from_secs(3));
    eprintln!(
        "after SIGCONT the old master acknowledged {} sends and refused {old_refused}",
        old_acked.len()
    );
    let mut ids = Vec::new();
    let ok = common::wait_until(WAIT, || {
        ids = route_ids_of(&set, old);
        !ids.is_empty() && ids.iter().all(|i| *i > 0)
    });
    assert!(
        ok,
        "the old master {old} never re-registered as a slave: ids {ids:?}"
    );
    assert!(load.wait_more(200, WAIT));
    let mut acked = load.finish();
    acked.extend(old_acked);
    wait_in_sync(&set, 3);
    assert_history(&set, &acked);
}

/// The index of the name server whose controller leads, asked with CONTROLLER_GET_METADATA_INFO.
fn controller_leader(set: &ReplicaSet) -> Option<usize> {
    set.namesrvs.iter().position(|n| {
        n.running()
            && try_connect(n.addr)
                .and_then(|mut s| try_call(&mut s, &request(1005, &[])))
                .is_some_and(|r| r.code == 0 && r.ext("isLeader") == Some("true"))
    })
}

fn wait_controller_leader(set: &ReplicaSet, not: Option<usize>) -> usize {
    let mut found = None;
    let ok = common::wait_until(WAIT, || {
        found = controller_leader(set).filter(|i| Some(*i) != not);
        found.is_some()
    });
    assert!(
        ok,
        "no controller leader (other than {not:?}) within {WAIT:?}"
    );
    found.unwrap()
}

/// Kill the master, wait for another, restart the old one and wait until all are in sync.
fn fail_over_once(set: &mut ReplicaSet, load: &Load, what: &str) {
    let m = set.wait_master(TOPIC, None, WAIT);
    let t = Instant::now();
    set.brokers[m].kill();
    let new = set.wait_master(TOPIC, Some(m), WAIT);
    eprintln!(
        "{what}: broker {new} master {:?} after broker {m} was killed",
        t.elapsed()
    );
    assert!(
        load.wait_more(100, WAIT),
        "{what}: sends succeed on the new master"
    );
    set.brokers[m].start();
    wait_in_sync(set, 3);
}

#[test]
fn elections_work_with_a_controller_down_and_after_the_leader_dies() {
    let mut set = ReplicaSet::start(&[]);
    set.create_topic(TOPIC, WAIT);
    wait_in_sync(&set, 3);
    let load = Load::start(&set, TOPIC, 2);
    assert!(load.wait_more(100, WAIT));
    let leader = wait_controller_leader(&set, None);
    let follower = (leader + 1) % 3;
    set.namesrvs[follower].kill();
    fail_over_once(&mut set, &load, "one controller (a follower) down");
    set.namesrvs[follower].start();
    let leader = wait_controller_leader(&set, None);
    set.namesrvs[leader].kill();
    let next = wait_controller_leader(&set, Some(leader));
    eprintln!("controller leader n{leader} killed; n{next} leads");
    fail_over_once(&mut set, &load, "after the controller leader died");
    set.namesrvs[leader].start();
    let acked = load.finish();
    assert_history(&set, &acked);
}
