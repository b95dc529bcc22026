//! The master/slave config sets `conf/2m-2s-async` and `conf/2m-2s-sync`, run from the real
//! files: a name server and the four brokers of a set (only ports, store directories and the
//! name-server address are overridden, so tests on one machine do not collide), each master with
//! its slave. Each pair replicates a message (the slave holds it at the same CommitLog offset and
//! serves it), and a SYNC_MASTER answers SUCCESS once its slave is connected. The files
//! themselves: distinct ports and stores, and no `haMasterAddress`: each slave learns its master
//! from the name server (so here, too).

mod common;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use common::ha::{max_offset, runtime_info, start_namesrv};
use common::rmq::{create_topic, pull, send};
use common::{connect, listening_addr, set_args, start, wait_until, Server, BROKER};

const WAIT: Duration = Duration::from_secs(20);
const TOPIC: &str = "ConfSetTopic";

/// The properties of a config file (`key=value` lines, `#` comments).
fn properties(file: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(conf(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn conf(file: &str) -> String {
    format!("{}/conf/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// `broker -c conf/FILE` with free ports, its own store under `dir` and the test's name server.
fn broker(file: &str, dir: &Path, namesrv: SocketAddr, extra: &[String]) -> Server {
    let mut sets = vec![
        "listenPort=0".to_string(),
        format!("storePathRootDir={}", dir.display()),
        format!("namesrvAddr={namesrv}"),
    ];
    sets.extend(extra.iter().cloned());
    let mut args = vec!["-c".to_string(), conf(file)];
    args.extend(set_args(&sets));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    start(BROKER, &refs)
}

/// One master and its slave of a set, started from their files.
struct Pair {
    master: Server,
    ha: SocketAddr,
    slave: Server,
}

fn start_pair(set: &str, name: &str, root: &Path, namesrv: SocketAddr) -> Pair {
    let master = broker(
        &format!("{set}/{name}.properties"),
        &root.join(name),
        namesrv,
        &["haListenPort=0".into()],
    );
    let line = master
        .stdout_lines
        .recv_timeout(WAIT)
        .expect("the master printed its HA line");
    assert!(line.starts_with("ha listening on "), "{line}");
    let ha = listening_addr(&line);
    let slave = broker(
        &format!("{set}/{name}-s.properties"),
        &root.join(format!("{name}-s")),
        namesrv,
        &[],
    );
    Pair { master, ha, slave }
}

/// Wait until the master counts its slave as connected.
fn wait_slave_connected(p: &Pair) {
    let ok = wait_until(WAIT, || runtime_info(p.master.addr)["haSlaveCount"] == "1");
    assert!(
        ok,
        "the slave did not connect; slave log: {:?}",
        common::stderr_so_far(&p.slave, Duration::from_millis(100))
    );
}

/// Send one message to the master; the slave must end with the same CommitLog and serve it.
fn send_and_check(p: &Pair, role: &str, body: &str) {
    assert_eq!(runtime_info(p.master.addr)["brokerRole"], role);
    assert_eq!(runtime_info(p.slave.addr)["brokerRole"], "SLAVE");
    for addr in [p.master.addr, p.slave.addr] {
        // Pulls on the slave need the topic there too.
        assert_eq!(create_topic(&mut connect(addr), TOPIC, 1).code, 0);
    }
    wait_slave_connected(p);
    let r = send(
        &mut connect(p.master.addr),
        TOPIC,
        0,
        body.as_bytes(),
        "T",
        "k",
        &[],
    );
    assert_eq!(r.code, 0, "{role} send: {:?}", r.remark);
    let end = max_offset(p.master.addr);
    if role == "SYNC_MASTER" {
        // Answered only after the slave acknowledged: it already holds the message.
        assert!(
            max_offset(p.slave.addr) >= end,
            "a SYNC_MASTER answered before its slave had it"
        );
    }
    assert!(
        wait_until(WAIT, || max_offset(p.slave.addr) == end),
        "slave at {} of {end}",
        max_offset(p.slave.addr)
    );
    let mut s: TcpStream = connect(p.slave.addr);
    let mut got = Vec::new();
    assert!(wait_until(WAIT, || {
        got = pull(&mut s, "GConfSet", TOPIC, 0, 0, "*", 0).1;
        !got.is_empty()
    }));
    assert_eq!(got.len(), 1);
    assert_eq!(&got[0].body[..], body.as_bytes());
    // The master's HA figures, and the master the slave follows.
    let m = runtime_info(p.master.addr);
    assert!(
        wait_until(WAIT, || runtime_info(p.master.addr)["haLagBytes"] == "0"),
        "{m:?}"
    );
    let m = runtime_info(p.master.addr);
    assert_eq!(m["haSlaveAckOffset"], end.to_string(), "{m:?}");
    assert_eq!(
        runtime_info(p.slave.addr)["haMasterAddress"],
        p.ha.to_string()
    );
}

fn run_set(set: &str, role: &str) {
    let root = tempfile::tempdir().unwrap();
    let ns = start_namesrv();
    let pairs: Vec<Pair> = ["broker-a", "broker-b"]
        .iter()
        .map(|name| start_pair(set, name, root.path(), ns.addr))
        .collect();
    for (i, p) in pairs.iter().enumerate() {
        send_and_check(p, role, &format!("{set} pair {i}"));
    }
}

#[test]
fn async_set_each_pair_replicates() {
    run_set("2m-2s-async", "ASYNC_MASTER");
}

#[test]
fn sync_set_each_pair_replicates_and_a_send_waits_for_the_slave() {
    run_set("2m-2s-sync", "SYNC_MASTER");
}

/// What the files say, as one machine needs it: every port and store distinct, each slave of the
/// same `brokerName` with an id above 0 and pointed at its master's HA port (`listenPort + 1`).
#[test]
fn the_files_fit_on_one_machine() {
    for (set, role) in [
        ("2m-2s-async", "ASYNC_MASTER"),
        ("2m-2s-sync", "SYNC_MASTER"),
    ] {
        let mut ports = Vec::new();
        let mut stores = Vec::new();
        for name in ["broker-a", "broker-b"] {
            let m = properties(&format!("{set}/{name}.properties"));
            let s = properties(&format!("{set}/{name}-s.properties"));
            assert_eq!(
                (m["brokerName"].as_str(), m["brokerId"].as_str()),
                (name, "0")
            );
            assert_eq!(m["brokerRole"], role);
            assert_eq!(
                (s["brokerName"].as_str(), s["brokerRole"].as_str()),
                (name, "SLAVE")
            );
            assert!(s["brokerId"].parse::<i64>().unwrap() > 0);
            let port: u16 = m["listenPort"].parse().unwrap();
            let ha = m
                .get("haListenPort")
                .map_or(port + 1, |p| p.parse().unwrap());
            assert!(!s.contains_key("haMasterAddress"), "{set} {name}");
            ports.extend([port, ha, s["listenPort"].parse().unwrap()]);
            stores.extend([m["storePathRootDir"].clone(), s["storePathRootDir"].clone()]);
        }
        let mut unique = ports.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ports.len(), "{set}: ports {ports:?}");
        let mut unique = stores.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), stores.len(), "{set}: stores {stores:?}");
    }
}
