//! A mixed consumer group: this client and the real C++ client (PyPI `rocketmq==0.4.4`, installed
//! by `scripts/install-real-clients.sh`) in one group on an 8-queue topic. Both allocate with
//! AllocateMessageQueueAveragely over the same sorted lists, so once both have rebalanced their
//! queue sets are disjoint and together cover the topic: every message sent afterwards is consumed
//! by exactly the member owning its queue.
//!
//! `scripts/install-real-clients.sh` installs the C++ client; the test runs it if needed and fails
//! with the command to run if the install fails.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actormq::client::*;
use common::client::*;
use common::line_channel;
use common::real_clients::real_clients_dir;

async fn mine(c: &PushConsumer) -> BTreeSet<i32> {
    c.assignment()
        .await
        .into_iter()
        .filter(|q| q.topic == "Mixed")
        .map(|q| q.queue_id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_and_cpp_members_get_disjoint_queue_sets() {
    // The C++ client heartbeats every 30 s: keep the broker's default channel expiry.
    let python = real_clients_dir().join("venv/bin/python");
    let b = start_broker(&["clientChannelExpiredTime=120000"]);
    create_topic(&b, "Mixed", 8);
    let home = tempfile::tempdir().unwrap();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/python_group_member.py");
    let mut py = Command::new(python)
        .arg(&script)
        .args([&b.namesrv_addr(), "cg-mixed", "Mixed", "60"])
        .env("HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn python member");
    let py_lines = line_channel(py.stdout.take().unwrap());
    assert_eq!(
        py_lines.recv_timeout(Duration::from_secs(20)).as_deref(),
        Ok("READY")
    );

    let seen: Arc<Mutex<Vec<(i32, String)>>> = Default::default();
    let s2 = seen.clone();
    let mut cfg = consumer_config(&b, "cg-mixed", "rust-member");
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let mut c = PushConsumer::new(cfg).unwrap();
    c.subscribe("Mixed", "*").await.unwrap();
    c.start(Listener::concurrent(move |msgs, _| {
        let mut s = s2.lock().unwrap();
        for m in msgs {
            s.push((m.queue_id, m.property("KEYS").unwrap_or("-").to_string()));
        }
        ConsumeResult::Success
    }))
    .await
    .unwrap();
    let start = Instant::now();
    let mut ours = mine(&c).await;
    while ours.len() != 4 && start.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        ours = mine(&c).await;
    }
    assert_eq!(ours.len(), 4, "two members: this one owns half of 8 queues");
    let p = Producer::start(producer_config(&b, "pg-mixed"))
        .await
        .unwrap();
    let mut py_seen: Vec<(i32, String)> = Vec::new();
    let drain = |py_seen: &mut Vec<(i32, String)>| {
        while let Ok(l) = py_lines.try_recv() {
            let f: Vec<&str> = l.split(' ').collect();
            if f[0] == "MSG" {
                py_seen.push((f[1].parse().unwrap(), f[3].to_string()));
            }
        }
    };
    // The C++ member started alone and owns all 8 queues until it rebalances on the broker's
    // notification (or its own 20 s timer). Probe rounds, one message per queue, until a whole
    // round is consumed and the C++ member took none of the messages on this member's queues.
    let deadline = Instant::now() + Duration::from_secs(45);
    let mut settled = false;
    for round in 0.. {
        if Instant::now() > deadline {
            break;
        }
        let keys: Vec<String> = (0..8).map(|q| format!("probe{round}-q{q}")).collect();
        for (q, key) in keys.iter().enumerate() {
            let mq = MessageQueue::new("Mixed", "broker-a", q as i32);
            p.send_to_queue(Message::new("Mixed", "probe").with_keys(key), mq)
                .await
                .unwrap();
        }
        let round_end = Instant::now() + Duration::from_secs(5);
        loop {
            drain(&mut py_seen);
            let rs = seen.lock().unwrap().clone();
            let got: BTreeSet<&String> = py_seen.iter().chain(rs.iter()).map(|(_, k)| k).collect();
            if keys.iter().all(|k| got.contains(k)) || Instant::now() > round_end {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let cpp_took_ours = py_seen
            .iter()
            .any(|(q, k)| keys.contains(k) && ours.contains(q));
        let rs = seen.lock().unwrap().clone();
        let all_in = keys
            .iter()
            .all(|k| rs.iter().chain(py_seen.iter()).any(|(_, seen)| seen == k));
        if all_in && !cpp_took_ours {
            settled = true;
            break;
        }
    }
    assert!(
        settled,
        "the C++ member released this member's queues within 45 s"
    );
    let mut sent = BTreeMap::new();
    for round in 0..5 {
        for q in 0..8 {
            let key = format!("r{round}-q{q}");
            let mq = MessageQueue::new("Mixed", "broker-a", q);
            p.send_to_queue(Message::new("Mixed", "x").with_keys(&key), mq)
                .await
                .unwrap();
            sent.insert(key, q);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let all_in = |py: &Vec<(i32, String)>, rs: &Vec<(i32, String)>| {
        let got: BTreeSet<&String> = py.iter().chain(rs.iter()).map(|(_, k)| k).collect();
        sent.keys().all(|k| got.contains(k))
    };
    while Instant::now() < deadline && !all_in(&py_seen, &seen.lock().unwrap()) {
        drain(&mut py_seen);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ours_after = mine(&c).await;
    assert_eq!(ours, ours_after, "assignment stable during the check");
    let rs = seen.lock().unwrap().clone();
    assert!(
        all_in(&py_seen, &rs),
        "every message consumed: rust {rs:?} cpp {py_seen:?}"
    );
    let fresh = |v: &Vec<(i32, String)>| -> BTreeSet<i32> {
        v.iter()
            .filter(|(_, k)| sent.contains_key(k))
            .map(|(q, _)| *q)
            .collect()
    };
    let (rq, pq) = (fresh(&rs), fresh(&py_seen));
    assert_eq!(rq, ours, "this client consumed exactly its own queues");
    assert!(rq.is_disjoint(&pq), "disjoint: rust {rq:?} cpp {pq:?}");
    assert_eq!(rq.union(&pq).count(), 8, "together they cover the topic");
    drop(py.stdin.take());
    let _ = py_lines.recv_timeout(Duration::from_secs(15));
    let _ = py.kill();
    let _ = py.wait();
    c.shutdown().await.unwrap();
}
