//! The client library across a master's death, with the real binaries (a name server of its own,
//! so routing outlives the master): a push consumer keeps receiving, from the slave, every message
//! acknowledged before the master was SIGKILLed (at least once: duplicates allowed, none
//! missing); a producer with a second broker set keeps sending successfully, never to the slave;
//! a pull consumer follows `suggestWhichBrokerId` to the slave and keeps its offsets there while
//! the master is out of the route.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actormq::client::*;
use actormq::protocol::body::{fastjson, TopicRouteData};
use common::ha::{start_master, start_namesrv, start_slave};
use common::rmq::{create_topic, pull_all, request};
use common::{call, connect, wait_until, Server};

const QUEUES: i32 = 4;
const WAIT: Duration = Duration::from_secs(30);

/// Broker name -> broker ids in the name server's route of `topic`, and how many broker names
/// have queues.
fn route(ns: SocketAddr, topic: &str) -> (BTreeMap<String, Vec<i64>>, usize) {
    let r = call(
        &mut connect(ns),
        &request(105, &[("topic", topic), ("acceptStandardJsonOnly", "true")]),
    );
    if r.code != 0 {
        return (BTreeMap::new(), 0);
    }
    let t: TopicRouteData =
        serde_json::from_str(&fastjson::normalize_keys(&r.body).unwrap()).expect("route json");
    let ids = t
        .broker_datas
        .iter()
        .map(|b| {
            (
                b.broker_name.clone(),
                b.broker_addrs.keys().copied().collect(),
            )
        })
        .collect();
    (ids, t.queue_datas.len())
}

fn wait_route(ns: SocketAddr, topic: &str, want: &[(&str, &[i64])]) {
    let want: BTreeMap<String, Vec<i64>> = want
        .iter()
        .map(|(n, ids)| (n.to_string(), ids.to_vec()))
        .collect();
    let mut last = Default::default();
    assert!(
        wait_until(WAIT, || {
            last = route(ns, topic);
            last.0 == want && last.1 == want.len()
        }),
        "route of {topic}: {last:?}, want {want:?}"
    );
}

fn master(dir: &Path, ns: SocketAddr, name: &str) -> (Server, SocketAddr) {
    let n = format!("brokerName={name}");
    start_master(dir, ns, &[&n, "warmMappedFileEnable=false"])
}

fn client(ns: SocketAddr, instance: &str) -> ClientConfig {
    let mut c = ClientConfig::new(&ns.to_string());
    c.instance_name = instance.to_string();
    c.client_ip = "127.0.0.1".into();
    c.poll_name_server_interval = Duration::from_millis(500);
    c.heartbeat_broker_interval = Duration::from_millis(500);
    c.request_timeout = Duration::from_secs(2);
    c
}

/// Messages on the slave, over every queue of `topic`.
fn count_on(addr: SocketAddr, topic: &str) -> usize {
    let mut s = connect(addr);
    (0..QUEUES)
        .map(|q| pull_all(&mut s, "probe", topic, q, "*").len())
        .sum()
}

/// A consumer that takes its time (one listener call at once, 2 messages per queue in flight), so
/// most messages are pulled after the kill.
fn slow_consumer_config(ns: SocketAddr, dir: &Path) -> ConsumerConfig {
    let mut c = ConsumerConfig::new(&ns.to_string(), "gha");
    c.client = client(ns, "ha-consumer");
    c.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    c.pull_batch_size = 2;
    c.pull_threshold_for_queue = 2;
    c.consume_thread_max = 1;
    c.rebalance_interval = Duration::from_millis(500);
    c.persist_offset_interval = Duration::from_millis(300);
    c.long_poll_suspend = Duration::from_millis(1000);
    c.pull_error_delay = Duration::from_millis(200);
    c.shutdown_await = Duration::from_secs(3);
    c.offset_store_dir = dir.join("offsets");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_consumer_reads_from_the_slave_after_the_master_is_killed() {
    const N: usize = 120;
    let ns = start_namesrv();
    let (mdir, sdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut m, ha) = master(mdir.path(), ns.addr, "broker-a");
    let slave = start_slave(sdir.path(), ns.addr, Some(ha), &["brokerName=broker-a"]);
    for addr in [m.addr, slave.addr] {
        assert_eq!(create_topic(&mut connect(addr), "HaT", QUEUES).code, 0);
    }
    wait_route(ns.addr, "HaT", &[("broker-a", &[0, 1])]);

    let mut pcfg = ProducerConfig::new(&ns.addr.to_string(), "pha");
    pcfg.client = client(ns.addr, "ha-producer");
    let p = Producer::start(pcfg).await.unwrap();
    let mut sent = HashSet::new();
    for i in 0..N {
        let body = format!("ha-{i}");
        p.send(Message::new("HaT", body.clone())).await.unwrap();
        sent.insert(body);
    }
    assert!(
        wait_until(WAIT, || count_on(slave.addr, "HaT") == N),
        "the slave has {} of {N}",
        count_on(slave.addr, "HaT")
    );

    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let g = got.clone();
    let mut c = PushConsumer::new(slow_consumer_config(ns.addr, sdir.path())).unwrap();
    c.subscribe("HaT", "*").await.unwrap();
    c.start(Listener::concurrent(move |msgs, _| {
        std::thread::sleep(Duration::from_millis(20));
        let mut g = g.lock().unwrap();
        g.extend(
            msgs.iter()
                .map(|m| String::from_utf8_lossy(&m.body).into_owned()),
        );
        ConsumeResult::Success
    }))
    .await
    .unwrap();
    let started = common::client::wait_for(WAIT, || got.lock().unwrap().len() >= 8).await;
    assert!(started, "consumption started on the master");

    m.child.kill().unwrap();
    m.child.wait().unwrap();
    let before_kill = got.lock().unwrap().len();
    assert!(
        before_kill < N,
        "the kill came before the end ({before_kill})"
    );
    eprintln!("received before the kill: {before_kill}");
    wait_route(ns.addr, "HaT", &[("broker-a", &[1])]);

    let all = common::client::wait_for(Duration::from_secs(60), || {
        let g = got.lock().unwrap();
        sent.iter().all(|b| g.contains(b))
    })
    .await;
    let g = got.lock().unwrap().clone();
    let missing: Vec<&String> = sent.iter().filter(|b| !g.contains(*b)).collect();
    assert!(
        all,
        "{} missing after the kill ({} received, {before_kill} before the kill): {missing:?}",
        missing.len(),
        g.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(10), c.shutdown()).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), p.shutdown()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_keeps_sending_to_the_other_master_after_a_master_is_killed() {
    let ns = start_namesrv();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let (mut a, ha) = master(dirs[0].path(), ns.addr, "broker-a");
    let a_slave = start_slave(dirs[1].path(), ns.addr, Some(ha), &["brokerName=broker-a"]);
    let (b, _) = master(dirs[2].path(), ns.addr, "broker-b");
    for addr in [a.addr, a_slave.addr, b.addr] {
        assert_eq!(create_topic(&mut connect(addr), "HaP", QUEUES).code, 0);
    }
    wait_route(ns.addr, "HaP", &[("broker-a", &[0, 1]), ("broker-b", &[0])]);

    let mut cfg = ProducerConfig::new(&ns.addr.to_string(), "pha2");
    cfg.client = client(ns.addr, "ha-producer2");
    cfg.send_timeout = Duration::from_secs(5);
    let p = Producer::start(cfg).await.unwrap();
    let mut used = HashSet::new();
    for i in 0..8 {
        let r = p.send(Message::new("HaP", format!("before-{i}")));
        used.insert(r.await.unwrap().queue.broker_name);
    }
    assert_eq!(used.len(), 2, "both broker sets take sends: {used:?}");

    a.child.kill().unwrap();
    a.child.wait().unwrap();
    for i in 0..20 {
        let r = p.send(Message::new("HaP", format!("after-{i}"))).await;
        let r = r.unwrap_or_else(|e| panic!("send {i} after the kill failed: {e}"));
        assert_eq!(r.status, SendStatus::SendOk);
        assert_eq!(r.queue.broker_name, "broker-b", "never the slave");
    }
    // Once the route has dropped the master, sends go to broker-b at once.
    wait_route(ns.addr, "HaP", &[("broker-a", &[1]), ("broker-b", &[0])]);
    for i in 0..10 {
        let r = p.send(Message::new("HaP", format!("later-{i}")));
        assert_eq!(r.await.unwrap().queue.broker_name, "broker-b");
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), p.shutdown()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_consumer_follows_the_suggested_slave_and_keeps_offsets_there_without_master() {
    let ns = start_namesrv();
    let (mdir, sdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut m, ha) = start_master(
        mdir.path(),
        ns.addr,
        &[
            "brokerName=broker-a",
            "slaveReadEnable=true",
            "accessMessageInMemoryMaxRatio=0",
        ],
    );
    let slave = start_slave(sdir.path(), ns.addr, Some(ha), &["brokerName=broker-a"]);
    for addr in [m.addr, slave.addr] {
        assert_eq!(create_topic(&mut connect(addr), "HaPull", 1).code, 0);
    }
    wait_route(ns.addr, "HaPull", &[("broker-a", &[0, 1])]);
    let mut pcfg = ProducerConfig::new(&ns.addr.to_string(), "pha3");
    pcfg.client = client(ns.addr, "ha-producer3");
    let p = Producer::start(pcfg).await.unwrap();
    for i in 0..10 {
        p.send(Message::new("HaPull", format!("m{i}")))
            .await
            .unwrap();
    }
    let on_slave = || {
        let mut s = connect(slave.addr);
        pull_all(&mut s, "probe", "HaPull", 0, "*").len() == 10
    };
    assert!(wait_until(WAIT, on_slave), "replicated");

    let mut ccfg = ConsumerConfig::new(&ns.addr.to_string(), "gha-pull");
    ccfg.client = client(ns.addr, "ha-pull");
    let c = PullConsumer::start(ccfg, &["HaPull"]).await.unwrap();
    let mq = c.queues("HaPull").await.unwrap()[0].clone();
    // The first pull goes to the master, which suggests its slave (ratio 0: far behind).
    let r = c.pull(&mq, "*", 0, 2, None).await.unwrap();
    assert_eq!(r.msgs.len(), 2);
    // With the master frozen, the next pull still answers at once: it went to the slave.
    common::freeze(m.child.id());
    let next = tokio::time::timeout(
        Duration::from_millis(1500),
        c.pull(&mq, "*", r.next_begin_offset, 32, None),
    )
    .await;
    unsafe { libc::kill(m.child.id() as i32, libc::SIGCONT) };
    let next = next.expect("the pull went to the slave").unwrap();
    let bodies: Vec<_> = next.msgs.iter().map(|m| m.body.to_vec()).collect();
    let want: Vec<_> = (2..10).map(|i| format!("m{i}").into_bytes()).collect();
    assert_eq!(bodies, want);

    // Master gone: offsets are committed to and read from the slave.
    m.child.kill().unwrap();
    m.child.wait().unwrap();
    wait_route(ns.addr, "HaPull", &[("broker-a", &[1])]);
    // The client learns the new route within its poll interval; until then commits are retried.
    let mut stored = None;
    for _ in 0..40 {
        c.update_consume_offset(&mq, 10);
        if c.commit().await.is_ok() {
            stored = c.fetch_consume_offset(&mq).await.ok().flatten();
            if stored == Some(10) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(stored, Some(10), "offset kept by the slave");
    let _ = tokio::time::timeout(Duration::from_secs(5), p.shutdown()).await;
}
