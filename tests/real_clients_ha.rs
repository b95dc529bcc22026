//! Consumer failover with the real third-party clients, unmodified and with their default
//! settings: PyPI `rocketmq==0.4.4` (C++ client 1.x) PushConsumer and npm `ali-ons@3.12.0`
//! Consumer, against a name server, a SYNC_MASTER and its slave. Every message the master
//! acknowledged is on the slave (that is what SYNC_MASTER means), so after `kill -9` of the
//! master each consumer must still receive every one of them, from the slave:
//! - the master dies before the consumer starts: the route lists only the slave;
//! - the master dies while the consumer runs: the consumer has read the first batch from the
//!   master, is frozen (SIGSTOP) while a second batch is sent and the master is killed, then
//!   resumes (SIGCONT) and must read the rest from the slave. The slave's served-message count
//!   shows it really did.
//!
//! Both clients find the slave the way the Java client does: with broker id 0 gone from the
//! route, `findBrokerAddressInSubscribe` falls back to any other id of the broker name. They
//! learn the new route on their route poll (30 s by default), so a failover takes up to ~30 s.
//!
//! The clients are installed into `target/real-clients/` on first use (see
//! `common::real_clients`); a failed install fails the test with the command to run.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use actormq::protocol::body::TopicRouteData;
use common::ha::{runtime_info, start_master, start_namesrv, start_slave};
use common::real_clients::real_clients_dir;
use common::rmq::{create_topic, request, send};
use common::{call, connect, line_channel, wait_until, Server};

const QUEUES: i32 = 4;
const WAIT: Duration = Duration::from_secs(20);
/// A client gives up after this long (seconds); the test waits a little longer for its summary.
const CLIENT_LIMIT: u64 = 120;

/// A name server, a SYNC_MASTER and its slave, with `topic` on both brokers.
struct Deployment {
    ns: Server,
    master: Option<Server>,
    slave: Server,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

/// The broker ids the name server lists for `topic`.
fn route_ids(ns: SocketAddr, topic: &str) -> Vec<i64> {
    let r = call(&mut connect(ns), &request(105, &[("topic", topic)]));
    serde_json::from_slice::<TopicRouteData>(&r.body)
        .map(|t| {
            t.broker_datas
                .iter()
                .flat_map(|b| b.broker_addrs.keys().copied())
                .collect()
        })
        .unwrap_or_default()
}

fn deploy(topic: &str) -> Deployment {
    let (mdir, sdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ns = start_namesrv();
    let (master, ha) = start_master(mdir.path(), ns.addr, &["brokerRole=SYNC_MASTER"]);
    let slave = start_slave(sdir.path(), ns.addr, Some(ha), &[]);
    for addr in [master.addr, slave.addr] {
        // The slave gets the topic too, in case its metadata sync has not run yet.
        assert_eq!(create_topic(&mut connect(addr), topic, QUEUES).code, 0);
    }
    assert!(wait_until(WAIT, || runtime_info(master.addr)
        ["haSlaveCount"]
        == "1"));
    assert!(
        wait_until(WAIT, || route_ids(ns.addr, topic) == [0, 1]),
        "route: {:?}",
        route_ids(ns.addr, topic)
    );
    Deployment {
        ns,
        master: Some(master),
        slave,
        _dirs: (mdir, sdir),
    }
}

impl Deployment {
    /// Send keys `key-from` .. `key-(to-1)` to the master; each must be acknowledged SEND_OK,
    /// which a SYNC_MASTER answers only once its slave has the message.
    fn produce(&self, topic: &str, from: usize, to: usize) {
        let master = self.master.as_ref().expect("master alive");
        let mut s = connect(master.addr);
        for i in from..to {
            let body = format!("ha-body-{i}");
            let key = format!("key-{i}");
            let r = send(
                &mut s,
                topic,
                i as i32 % QUEUES,
                body.as_bytes(),
                "TagH",
                &key,
                &[],
            );
            assert_eq!(r.code, 0, "send {i}: {:?}", r.remark);
        }
    }

    /// kill -9 the master and wait until the name server routes `topic` to the slave alone.
    fn kill_master(&mut self, topic: &str) {
        let mut master = self.master.take().expect("master alive");
        master.child.kill().unwrap();
        master.child.wait().unwrap();
        assert!(
            wait_until(WAIT, || route_ids(self.ns.addr, topic) == [1]),
            "route after the kill: {:?}",
            route_ids(self.ns.addr, topic)
        );
    }

    /// Messages the slave has served to pulls.
    fn slave_served(&self) -> u64 {
        runtime_info(self.slave.addr)["msgGetTotalTodayNow"]
            .parse()
            .unwrap()
    }
}

/// A running client script: its stdout lines (progress and summary) and stderr lines.
struct ClientRun {
    child: Child,
    out: Receiver<String>,
    err: Receiver<String>,
    _home: tempfile::TempDir,
}

#[derive(Clone, Copy)]
enum Client {
    PythonCpp,
    NodeAliOns,
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients")).join(name)
}

fn start_client(client: Client, ns: SocketAddr, topic: &str, count: usize) -> ClientRun {
    let dir = real_clients_dir();
    let args = [
        ns.to_string(),
        topic.to_string(),
        count.to_string(),
        format!("CG_ha_{topic}"),
        CLIENT_LIMIT.to_string(),
    ];
    let mut cmd = match client {
        Client::PythonCpp => {
            let mut c = Command::new(dir.join("venv/bin/python"));
            c.arg(script("ha_consumer.py"));
            c
        }
        Client::NodeAliOns => {
            // Run from the install dir so `require('ali-ons')` finds it.
            let copy = dir.join("node/ha_consumer.js");
            std::fs::copy(script("ha_consumer.js"), &copy).unwrap();
            let mut c = Command::new("node");
            c.current_dir(dir.join("node")).arg(copy);
            c
        }
    };
    let home = tempfile::tempdir().unwrap();
    let mut child = cmd
        .args(&args)
        .env("HOME", home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the client");
    let out = line_channel(child.stdout.take().unwrap());
    let err = line_channel(child.stderr.take().unwrap());
    ClientRun {
        child,
        out,
        err,
        _home: home,
    }
}

impl ClientRun {
    /// Wait (at most `limit`) until the client has received `n` distinct messages.
    fn wait_progress(&mut self, n: usize, limit: Duration) {
        let start = Instant::now();
        while let Some(left) = limit.checked_sub(start.elapsed()) {
            let Ok(line) = self.out.recv_timeout(left) else {
                break;
            };
            let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if v["progress"].as_u64().is_some_and(|p| p as usize >= n) {
                return;
            }
        }
        panic!(
            "the client did not receive {n} messages within {limit:?}: {}",
            self.errors()
        );
    }

    fn errors(&self) -> String {
        let lines: Vec<String> = self.err.try_iter().collect();
        lines.join("\n")
    }

    /// The client's summary once it exits (it must exit 0: every message arrived).
    fn finish(mut self) -> serde_json::Value {
        let limit = Duration::from_secs(CLIENT_LIMIT + 30);
        let start = Instant::now();
        let mut summary = serde_json::Value::Null;
        while let Some(left) = limit.checked_sub(start.elapsed()) {
            match self.out.recv_timeout(left) {
                Ok(line) => {
                    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
                    if v.get("progress").is_none() {
                        summary = v;
                    }
                }
                Err(_) => break, // stdout closed: the client exited
            }
        }
        let status = wait_exit(&mut self.child, Duration::from_secs(10));
        eprintln!("client summary: {summary}");
        assert!(
            status == Some(0) && summary["missing_count"] == 0,
            "client exit {status:?}, summary {summary}\nstderr:\n{}",
            self.errors()
        );
        summary
    }
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

impl Drop for ClientRun {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The master is gone before the consumer starts: it reads everything from the slave.
fn master_gone_before_start(client: Client, topic: &str) {
    const N: usize = 200;
    let mut d = deploy(topic);
    d.produce(topic, 0, N);
    d.kill_master(topic);
    let run = start_client(client, d.ns.addr, topic, N);
    run.finish();
    assert!(d.slave_served() >= N as u64, "served {}", d.slave_served());
}

/// The master dies while the consumer runs: the rest comes from the slave.
fn master_dies_mid_stream(client: Client, topic: &str) {
    const FIRST: usize = 100;
    const SECOND: usize = 300;
    let mut d = deploy(topic);
    d.produce(topic, 0, FIRST);
    let mut run = start_client(client, d.ns.addr, topic, FIRST + SECOND);
    run.wait_progress(FIRST, Duration::from_secs(60));
    assert_eq!(d.slave_served(), 0, "the first batch came from the master");
    common::freeze(run.child.id());
    d.produce(topic, FIRST, FIRST + SECOND);
    d.kill_master(topic);
    // SAFETY: signalling our own child.
    assert_eq!(
        unsafe { libc::kill(run.child.id() as i32, libc::SIGCONT) },
        0
    );
    run.finish();
    // Pulls suspended at the master may have carried up to one batch (32) per queue before the
    // kill; the rest must have come from the slave.
    let served = d.slave_served();
    assert!(
        served >= (SECOND - 32 * QUEUES as usize) as u64,
        "the slave served only {served}"
    );
}

#[test]
fn python_cpp_push_consumer_reads_the_slave_when_the_master_died_before_it_started() {
    master_gone_before_start(Client::PythonCpp, "HaPyBefore");
}

#[test]
fn python_cpp_push_consumer_fails_over_to_the_slave_when_the_master_dies() {
    master_dies_mid_stream(Client::PythonCpp, "HaPyDuring");
}

#[test]
fn node_ali_ons_consumer_reads_the_slave_when_the_master_died_before_it_started() {
    master_gone_before_start(Client::NodeAliOns, "HaNodeBefore");
}

#[test]
fn node_ali_ons_consumer_fails_over_to_the_slave_when_the_master_dies() {
    master_dies_mid_stream(Client::NodeAliOns, "HaNodeDuring");
}
