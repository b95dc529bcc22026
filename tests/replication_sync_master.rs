//! SYNC_MASTER with the real `namesrv` and `broker` binaries: a send is answered SUCCESS only
//! once the slave holds the message; without a slave, or with one too far behind, at once
//! SLAVE_NOT_AVAILABLE (11); with a frozen slave FLUSH_SLAVE_TIMEOUT (12) after `slaveTimeout`;
//! both with the message stored. And under kill -9 of the master in a loop, every message a
//! SYNC_MASTER acknowledged is on the slave.

mod common;

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::ha::{start_master, start_namesrv, start_slave};
use common::rmq::*;
use common::{connect, freeze, wait_until, Server};

const TOPIC: &str = "SyncT";
const QUEUES: i32 = 4;
const WAIT: Duration = Duration::from_secs(15);
const SYNC: &str = "brokerRole=SYNC_MASTER";

fn create(addr: SocketAddr) {
    let mut s = connect(addr);
    assert_eq!(create_topic(&mut s, TOPIC, QUEUES).code, 0);
}

/// Send until one is answered SUCCESS (the slave is connected and caught up).
fn until_replicated(addr: SocketAddr) {
    let mut s = connect(addr);
    let mut last = None;
    let ok = wait_until(WAIT, || {
        let r = send(&mut s, TOPIC, 0, b"probe", "", "", &[]);
        last = Some((r.code, r.remark));
        r.code == 0
    });
    assert!(ok, "no send was replicated: {last:?}");
}

/// The bodies of every message of the topic on `addr`.
fn bodies(addr: SocketAddr) -> BTreeSet<Vec<u8>> {
    let mut s = connect(addr);
    (0..QUEUES)
        .flat_map(|q| pull_all(&mut s, "GSync", TOPIC, q, "*"))
        .map(|m| m.body.to_vec())
        .collect()
}

fn slave_of(dir: &std::path::Path, ns: SocketAddr, ha: SocketAddr, extra: &[&str]) -> Server {
    let slave = start_slave(dir, ns, Some(ha), extra);
    create(slave.addr);
    slave
}

#[test]
fn without_a_slave_a_sync_master_answers_11_at_once_and_keeps_the_message() {
    let (mdir, ns) = (tempfile::tempdir().unwrap(), start_namesrv());
    let (master, _) = start_master(mdir.path(), ns.addr, &[SYNC]);
    create(master.addr);
    let mut s = connect(master.addr);
    let t = Instant::now();
    let r = send(&mut s, TOPIC, 1, b"alone", "", "k1", &[]);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(r.code, 11, "{:?}", r.remark);
    assert!(r.remark.as_deref().unwrap_or_default().contains("no slave"));
    assert!(r.ext("msgId").is_some() && r.ext("queueOffset") == Some("0"));
    assert!(bodies(master.addr).contains(b"alone".as_slice()));
    // A send that does not wait for the store (WAIT=false) does not wait for a slave either.
    let r = send(&mut s, TOPIC, 1, b"nowait", "", "", &[("WAIT", "false")]);
    assert_eq!(r.code, 0, "{:?}", r.remark);
}

#[test]
fn a_sync_master_answers_when_the_slave_has_it_and_12_or_11_when_it_cannot() {
    let (mdir, sdir, ns) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        start_namesrv(),
    );
    let (master, ha) = start_master(mdir.path(), ns.addr, &[SYNC, "haSlaveFallbehindMax=200000"]);
    create(master.addr);
    let slave = slave_of(sdir.path(), ns.addr, ha, &[]);
    until_replicated(master.addr);
    let mut s = connect(master.addr);
    for i in 0..20 {
        let body = format!("synced-{i}");
        let r = send(&mut s, TOPIC, i % QUEUES, body.as_bytes(), "", "", &[]);
        assert_eq!(r.code, 0, "{:?}", r.remark);
    }
    // Acknowledged means on the slave's CommitLog; its consume queues follow.
    let want: BTreeSet<_> = (0..20)
        .map(|i| format!("synced-{i}").into_bytes())
        .collect();
    assert!(wait_until(WAIT, || bodies(slave.addr).is_superset(&want)));

    // A frozen slave acknowledges nothing: FLUSH_SLAVE_TIMEOUT after slaveTimeout (3 s).
    freeze(slave.child.id());
    let t = Instant::now();
    let r = send(&mut s, TOPIC, 0, b"frozen", "", "", &[]);
    let waited = t.elapsed();
    assert_eq!(r.code, 12, "{:?}", r.remark);
    assert!(
        waited >= Duration::from_millis(2900) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
    assert!(r.ext("msgId").is_some(), "the result is reported");
    // More than haSlaveFallbehindMax behind: SLAVE_NOT_AVAILABLE without waiting.
    let big = vec![b'x'; 300_000];
    let r = send(&mut s, TOPIC, 0, &big, "", "", &[("WAIT", "false")]);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let t = Instant::now();
    let r = send(&mut s, TOPIC, 0, b"behind", "", "", &[]);
    assert_eq!(r.code, 11, "{:?}", r.remark);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());

    // Thawed, it catches up and sends are acknowledged again; every stored message is there.
    unsafe { libc::kill(slave.child.id() as i32, libc::SIGCONT) };
    until_replicated(master.addr);
    let all = bodies(master.addr);
    assert!(all.contains(b"frozen".as_slice()) && all.contains(b"behind".as_slice()));
    assert!(wait_until(WAIT, || bodies(slave.addr).is_superset(&all)));
}

/// Send from `conns` connections until `stop`; record the bodies answered SUCCESS.
fn load(
    addr: SocketAddr,
    conns: usize,
    cycle: usize,
    stop: &Arc<AtomicBool>,
    acked: &Arc<Mutex<Vec<Vec<u8>>>>,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..conns)
        .map(|c| {
            let (stop, acked) = (stop.clone(), acked.clone());
            std::thread::spawn(move || {
                let Ok(mut s) = TcpStream::connect(addr) else {
                    return;
                };
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let body = format!("c{cycle}-{c}-{i}");
                    // The connection dies with the master: a panic in `call` ends this thread.
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        send(&mut s, TOPIC, -1, body.as_bytes(), "", "", &[])
                    }));
                    match r {
                        Ok(r) if r.code == 0 => acked.lock().unwrap().push(body.into_bytes()),
                        Ok(_) => {}
                        Err(_) => return,
                    }
                }
            })
        })
        .collect()
}

#[test]
fn every_message_a_sync_master_acknowledged_survives_its_kill_9_on_the_slave() {
    let (mdir, sdir, ns) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        start_namesrv(),
    );
    let master_sets = [SYNC, "haListenPort=0"];
    let (mut master, ha) = start_master(mdir.path(), ns.addr, &master_sets);
    create(master.addr);
    // The master's HA port is fixed from now on, so the slave finds it after each restart.
    let ha_port = format!("haListenPort={}", ha.port());
    let slave = slave_of(sdir.path(), ns.addr, ha, &["haReconnectInterval=100"]);
    let acked = Arc::new(Mutex::new(Vec::new()));
    for cycle in 0..20 {
        until_replicated(master.addr);
        let stop = Arc::new(AtomicBool::new(false));
        let before = acked.lock().unwrap().len();
        let senders = load(master.addr, 4, cycle, &stop, &acked);
        // Kill while sends are in flight: after some acks of this cycle.
        let busy = wait_until(WAIT, || acked.lock().unwrap().len() >= before + 40);
        master.child.kill().unwrap();
        master.child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for t in senders {
            t.join().unwrap();
        }
        assert!(busy, "cycle {cycle}: too few acks");
        // With the master dead the slave has only what it had: every ack must be there.
        assert_on_slave(slave.addr, &acked.lock().unwrap(), cycle);
        drop(master);
        master = start_master(mdir.path(), ns.addr, &[SYNC, &ha_port]).0;
    }
    assert!(acked.lock().unwrap().len() >= 800);
}

fn assert_on_slave(slave: SocketAddr, acked: &[Vec<u8>], cycle: usize) {
    let acked: BTreeSet<_> = acked.iter().cloned().collect();
    let mut missing = Vec::new();
    // Its consume queues may still be catching up with its CommitLog.
    let all = wait_until(Duration::from_secs(5), || {
        let on_slave = bodies(slave);
        missing = acked.difference(&on_slave).take(5).cloned().collect();
        missing.is_empty()
    });
    assert!(
        all,
        "cycle {cycle}: {} acknowledged messages, missing on the slave e.g. {:?}",
        acked.len(),
        missing
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect::<Vec<_>>()
    );
}
