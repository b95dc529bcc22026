//! Master/slave replication (RocketMQ 4.x HA, ASYNC_MASTER + SLAVE) with the real `broker`
//! binary: an empty slave joins a master with data, serves the same messages at the same offsets
//! from the master's last CommitLog file on, refuses sends, follows new messages, and catches up
//! after a kill -9 with no gap or duplicate; under load the lag stays small, and after a kill -9 of
//! the master the slave resumes where it stopped.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use actormq::protocol::body::TopicRouteData;
use common::rmq::*;
use common::{call, connect, set_args, start, start_broker, wait_until, Server, BROKER};

/// Small CommitLog files, so the master's data spans several and the slave starts mid-history.
const FILE: i64 = 65536;
const TOPICS: &[(&str, i32)] = &[("RepA", 3), ("RepB", 2)];
const WAIT: Duration = Duration::from_secs(10);

/// (queue offset, CommitLog offset, body, keys) of a pulled message.
type Seen = (i64, i64, Vec<u8>, String);

/// Every message of a queue, following `nextBeginOffset` from 0 (a slave's queue starts later:
/// it holds only what was replicated).
fn queue(s: &mut TcpStream, topic: &str, q: i32) -> Vec<Seen> {
    let mut out = Vec::new();
    let mut off = 0;
    for _ in 0..1000 {
        let (r, msgs) = pull(s, "GRep", topic, q, off, "*", 0);
        let ext = |k: &str| r.ext(k).and_then(|v| v.parse::<i64>().ok());
        let mut next = ext("nextBeginOffset").unwrap_or(off);
        // A slave does not correct a too-small offset (Java's offsetCheckInSlave=false): it
        // answers PULL_RETRY_IMMEDIATELY at the same offset, with the queue's minOffset.
        if r.code == 20 && msgs.is_empty() && next == off {
            next = ext("minOffset").unwrap_or(off).max(off);
        }
        let got = !msgs.is_empty();
        out.extend(msgs.into_iter().map(|m| {
            let keys = m.property("KEYS").unwrap_or_default().to_string();
            (m.queue_offset, m.commit_log_offset, m.body.to_vec(), keys)
        }));
        if !got && next == off {
            break;
        }
        off = next;
    }
    out
}

fn all_queues(addr: SocketAddr) -> Vec<Vec<Seen>> {
    let mut s = connect(addr);
    TOPICS
        .iter()
        .flat_map(|(t, n)| (0..*n).map(move |q| (*t, q)))
        .map(|(t, q)| queue(&mut s, t, q))
        .collect()
}

/// Send `n` messages of ~900 bytes round-robin over every queue; `tag` makes bodies unique.
fn send_some(addr: SocketAddr, tag: &str, n: usize) {
    let mut s = connect(addr);
    let targets: Vec<(&str, i32)> = TOPICS
        .iter()
        .flat_map(|(t, n)| (0..*n).map(move |q| (*t, q)))
        .collect();
    for i in 0..n {
        let (t, q) = targets[i % targets.len()];
        let body = format!("{tag}-{i}-{}", "x".repeat(900));
        let r = send(
            &mut s,
            t,
            q,
            body.as_bytes(),
            "TagR",
            &format!("{tag}{i}"),
            &[],
        );
        assert_eq!(r.code, 0, "{:?}", r.remark);
    }
}

/// The master's messages from CommitLog offset `from` on, per queue.
fn from_offset(master: &[Vec<Seen>], from: i64) -> Vec<Vec<Seen>> {
    master
        .iter()
        .map(|q| q.iter().filter(|m| m.1 >= from).cloned().collect())
        .collect()
}

fn start_slave(dir: &Path, namesrv: SocketAddr, ha: SocketAddr) -> Server {
    let sets = [
        "listenAddr=127.0.0.1".to_string(),
        "listenPort=0".into(),
        format!("storePathRootDir={}", dir.display()),
        format!("mappedFileSizeCommitLog={FILE}"),
        "mappedFileSizeConsumeQueue=60000".into(),
        format!("namesrvAddr={namesrv}"),
        "brokerRole=SLAVE".into(),
        "brokerId=1".into(),
        format!("haMasterAddress={ha}"),
        "haSendHeartbeatInterval=200".into(),
        "registerNameServerPeriod=1000".into(),
    ];
    let args = set_args(&sets);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let slave = start(BROKER, &refs);
    // Pulls need the topics (topic configs are not replicated yet).
    let mut s = connect(slave.addr);
    for (t, n) in TOPICS {
        assert_eq!(create_topic(&mut s, t, *n).code, 0);
    }
    slave
}

fn wait_same(server: &Server, expected: &[Vec<Seen>]) {
    let slave = server.addr;
    let mut last = Vec::new();
    let same = wait_until(WAIT, || {
        last = all_queues(slave);
        last == expected
    });
    let counts = |v: &[Vec<Seen>]| v.iter().map(Vec::len).collect::<Vec<_>>();
    assert!(
        same,
        "slave {:?} != master {:?}; slave log: {:?}",
        counts(&last),
        counts(expected),
        common::stderr_so_far(server, Duration::from_millis(100))
    );
}

#[test]
fn an_empty_slave_joins_follows_refuses_sends_and_catches_up_after_kill_9() {
    let mdir = tempfile::tempdir().unwrap();
    let sdir = tempfile::tempdir().unwrap();
    let file = format!("mappedFileSizeCommitLog={FILE}");
    let master = start_broker(BROKER, mdir.path(), &[&file, "haListenPort=0"]);
    let line = master
        .server
        .stdout_lines
        .recv_timeout(Duration::from_secs(5))
        .expect("ha line");
    assert!(line.starts_with("ha listening on "), "{line}");
    let ha = common::listening_addr(&line);
    {
        let mut s = connect(master.addr);
        for (t, n) in TOPICS {
            assert_eq!(create_topic(&mut s, t, *n).code, 0);
        }
    }
    send_some(master.addr, "a", 200);
    let before = all_queues(master.addr);
    let end = before.iter().flatten().map(|m| m.1).max().unwrap() + 1;
    let start_at = end / FILE * FILE;
    assert!(start_at >= 2 * FILE, "the data spans files: {end}");

    // An empty slave starts at the master's last CommitLog file: same queue and CommitLog
    // offsets, and the messages before that file are not on it.
    let mut slave = start_slave(sdir.path(), master.namesrv, ha);
    let expected = from_offset(&before, start_at);
    assert!(expected.iter().all(|q| !q.is_empty()));
    assert!(expected.iter().all(|q| q[0].0 > 0), "queues start late");
    wait_same(&slave, &expected);

    // One broker name, two ids in the route.
    let mut ns = connect(master.namesrv);
    assert!(
        wait_until(WAIT, || {
            let r = call(&mut ns, &request(105, &[("topic", "RepA")]));
            serde_json::from_slice::<TopicRouteData>(&r.body)
                .map(|t| t.broker_datas.len() == 1 && t.broker_datas[0].broker_addrs.len() == 2)
                .unwrap_or(false)
        }),
        "{:?}",
        common::stderr_so_far(&master.server, Duration::from_millis(100))
            .iter()
            .filter(|l| !l.contains("cli"))
            .collect::<Vec<_>>()
    );

    let mut s = connect(slave.addr);
    let r = send(&mut s, "RepA", 0, b"no", "", "", &[]);
    assert_eq!(r.code, 14, "{:?}", r.remark);
    assert!(r.remark.unwrap_or_default().contains("is a slave"));
    let offset = expected[0][0].1.to_string();
    let back = [
        ("offset", offset.as_str()),
        ("group", "GRep"),
        ("delayLevel", "0"),
    ];
    let r = call(&mut s, &request(36, &back));
    assert_eq!(r.code, 14, "send-back: {:?}", r.remark);

    send_some(master.addr, "b", 30);
    wait_same(&slave, &from_offset(&all_queues(master.addr), start_at));

    // kill -9, more sends while it is down and after it is back.
    slave.child.kill().unwrap();
    slave.child.wait().unwrap();
    drop(slave);
    send_some(master.addr, "c", 20);
    let slave = start_slave(sdir.path(), master.namesrv, ha);
    send_some(master.addr, "d", 20);
    let now = all_queues(master.addr);
    assert_eq!(now.iter().map(Vec::len).sum::<usize>(), 270);
    let mut slave = slave;
    wait_same(&slave, &from_offset(&now, start_at));
    let master_log = common::stderr_so_far(&master.server, Duration::from_millis(100));
    let count = |what: &str| master_log.iter().filter(|l| l.contains(what)).count();
    assert_eq!(count("HA slave connected"), 2, "{master_log:?}");
    assert!(count("HA slave disconnected") >= 1, "{master_log:?}");
    // A slave stops cleanly (its replication arbiter before its store).
    common::terminate(&mut slave, Duration::from_secs(10));
}

#[test]
fn async_lag_stays_bounded_under_load_and_a_restarted_master_resumes_without_gap() {
    use common::ha::{max_offset, start_master, start_namesrv, start_slave};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let (mdir, sdir, ns) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        start_namesrv(),
    );
    let sets = [format!("mappedFileSizeCommitLog={FILE}")];
    let file = sets[0].as_str();
    let (mut master, ha) = start_master(mdir.path(), ns.addr, &[file]);
    let ha_port = format!("haListenPort={}", ha.port());
    let slave = start_slave(
        sdir.path(),
        ns.addr,
        Some(ha),
        &[file, "haReconnectInterval=100"],
    );
    for addr in [master.addr, slave.addr] {
        let mut s = connect(addr);
        for (t, n) in TOPICS {
            assert_eq!(create_topic(&mut s, t, *n).code, 0);
        }
    }
    // Load from 3 connections for ~3 s; sample the byte lag meanwhile.
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..3)
        .map(|c| {
            let (addr, stop) = (master.addr, stop.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    send_some(addr, &format!("L{c}-{i}-"), 20);
                    i += 1;
                }
            })
        })
        .collect();
    let started = std::time::Instant::now();
    let mut worst = 0;
    while started.elapsed() < Duration::from_secs(3) {
        let m = max_offset(master.addr);
        worst = worst.max(m - max_offset(slave.addr));
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    senders.into_iter().for_each(|t| t.join().unwrap());
    eprintln!("worst sampled lag under load: {worst} bytes");
    assert!(worst < 4 * 1024 * 1024, "lag reached {worst} bytes");
    let end = max_offset(master.addr);
    assert!(end > 3 * FILE, "the load wrote {end} bytes");
    assert!(wait_until(WAIT, || max_offset(slave.addr) == end));
    let start_at = all_queues(slave.addr)
        .iter()
        .flatten()
        .map(|m| m.1)
        .min()
        .unwrap();
    wait_same(&slave, &from_offset(&all_queues(master.addr), start_at));

    // kill -9 of the master; it comes back on the same HA port, and the slave resumes.
    master.child.kill().unwrap();
    master.child.wait().unwrap();
    drop(master);
    let master = start_master(mdir.path(), ns.addr, &[file, &ha_port]).0;
    send_some(master.addr, "after", 40);
    wait_same(&slave, &from_offset(&all_queues(master.addr), start_at));
}

#[test]
fn a_slave_behind_the_masters_oldest_data_is_told_why_it_cannot_catch_up() {
    use common::ha::{max_offset, runtime_info, start_master, start_namesrv, start_slave};
    let (mdir, sdir, ns) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        start_namesrv(),
    );
    let all_hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    let delete_when = format!("deleteWhen={}", all_hours.join(";"));
    let file = format!("mappedFileSizeCommitLog={FILE}");
    // Every full file expires at once, and retention runs every 100 ms.
    let sets = [
        file.as_str(),
        "fileReservedTime=0",
        "cleanResourceInterval=100",
        &delete_when,
    ];
    let (master, ha) = start_master(mdir.path(), ns.addr, &sets);
    {
        let mut s = connect(master.addr);
        for (t, n) in TOPICS {
            assert_eq!(create_topic(&mut s, t, *n).code, 0);
        }
    }
    send_some(master.addr, "a", 20);
    let mut slave = start_slave(sdir.path(), ns.addr, Some(ha), &[&file]);
    let end = max_offset(master.addr);
    assert!(wait_until(WAIT, || max_offset(slave.addr) == end));
    slave.child.kill().unwrap();
    slave.child.wait().unwrap();
    drop(slave);
    // The master writes on and deletes the files the slave would need next.
    let gone = wait_until(WAIT, || {
        send_some(master.addr, "b", 40);
        runtime_info(master.addr)["commitLogMinOffset"]
            .parse::<i64>()
            .unwrap()
            > end
    });
    assert!(gone, "retention did not delete the old files");
    let _slave = start_slave(sdir.path(), ns.addr, Some(ha), &[&file]);
    let mut log = Vec::new();
    let warned = wait_until(WAIT, || {
        log.extend(common::stderr_so_far(&master, Duration::from_millis(50)));
        log.iter()
            .any(|l| l.contains("WARN") && l.contains("cannot catch up"))
    });
    assert!(warned, "{log:?}");
}
