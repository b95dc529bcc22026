//! A consumer group spread over separate processes (`mqclient-consume`) against the real
//! standalone broker with a shortened client expiry (3 s): three members share an 8-queue topic
//! without overlap; one is frozen (SIGSTOP: its connection stays open, only the broker's expiry
//! can notice) and then killed with SIGKILL; after the expiry the other two take over its queues
//! and every message is consumed at least once; the survivors shut down cleanly.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actormq::client::*;
use common::client::*;
use common::{freeze, line_channel};

const CONSUMER: &str = env!("CARGO_BIN_EXE_mqclient-consume");

struct Member {
    name: String,
    child: Child,
    lines: mpsc::Receiver<String>,
    assign: BTreeSet<String>,
    keys: Vec<String>,
    done: bool,
}

impl Drop for Member {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Member {
    fn spawn(b: &Standalone, name: &str, group: &str, topic: &str) -> Member {
        let mut child = Command::new(CONSUMER)
            .args([
                "--namesrv",
                &b.namesrv_addr(),
                "--group",
                group,
                "--topic",
                topic,
            ])
            .args([
                "--instance",
                name,
                "--fast",
                "--from-first",
                "--secs",
                "120",
            ])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mqclient-consume");
        let lines = line_channel(child.stdout.take().unwrap());
        Member {
            name: name.to_string(),
            child,
            lines,
            assign: BTreeSet::new(),
            keys: Vec::new(),
            done: false,
        }
    }

    /// Take in every line printed so far.
    fn drain(&mut self) {
        while let Ok(l) = self.lines.try_recv() {
            let f: Vec<&str> = l.split(' ').collect();
            match f[0] {
                "ASSIGN" => {
                    self.assign = f[2]
                        .split(',')
                        .filter(|s| *s != "-")
                        .map(str::to_string)
                        .collect();
                }
                "MSG" => self.keys.push(f[4].to_string()),
                "DONE" => self.done = true,
                _ => {}
            }
        }
    }
}

/// Drain all members until `ok` holds, at most `limit`.
fn watch(members: &mut [Member], limit: Duration, ok: impl Fn(&[Member]) -> bool) -> bool {
    let start = Instant::now();
    loop {
        for m in members.iter_mut() {
            m.drain();
        }
        if ok(members) {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn disjoint_cover(members: &[Member], queues: usize) -> bool {
    let total: usize = members.iter().map(|m| m.assign.len()).sum();
    let union: BTreeSet<&String> = members.iter().flat_map(|m| m.assign.iter()).collect();
    total == queues && union.len() == queues
}

fn consumed(members: &[Member]) -> BTreeSet<String> {
    members
        .iter()
        .flat_map(|m| m.keys.iter().cloned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_share_queues_and_take_over_a_frozen_then_killed_member() {
    let b = start_broker(&[]);
    create_topic(&b, "GShare", 8);
    let mut members: Vec<Member> = ["m1", "m2", "m3"]
        .iter()
        .map(|n| Member::spawn(&b, n, "cg-share", "GShare"))
        .collect();
    let ok = tokio::task::block_in_place(|| {
        watch(&mut members, Duration::from_secs(30), |m| {
            // The steady state is 3 + 3 + 2; transiently members may see different group sizes.
            let threes = m.iter().filter(|x| x.assign.len() == 3).count();
            disjoint_cover(m, 8) && threes == 2
        })
    });
    let view: BTreeMap<&str, &BTreeSet<String>> = members
        .iter()
        .map(|m| (m.name.as_str(), &m.assign))
        .collect();
    assert!(
        ok,
        "three members never split 8 queues disjointly: {view:?}"
    );
    let sizes: BTreeSet<usize> = members.iter().map(|m| m.assign.len()).collect();
    assert_eq!(sizes, BTreeSet::from([2, 3]), "averagely: 3 + 3 + 2");

    let p = Producer::start(producer_config(&b, "pg-share"))
        .await
        .unwrap();
    for i in 0..80 {
        p.send(Message::new("GShare", format!("b{i}")).with_keys(&format!("k{i}")))
            .await
            .unwrap();
    }
    let first: BTreeSet<String> = (0..80).map(|i| format!("k{i}")).collect();
    let ok = tokio::task::block_in_place(|| {
        watch(&mut members, Duration::from_secs(20), |m| {
            consumed(m).is_superset(&first)
        })
    });
    assert!(ok, "first 80 consumed");
    // Every member consumed only from its own queues: no message seen twice.
    let all: Vec<String> = members.iter().flat_map(|m| m.keys.clone()).collect();
    assert_eq!(all.len(), 80, "no overlap between members");
    for m in &members {
        assert!(!m.keys.is_empty(), "{} consumed nothing", m.name);
    }

    // Freeze one member: it stops heartbeating but its sockets stay open, so only the broker's
    // channel expiry (clientChannelExpiredTime=3000) can remove it. Then SIGKILL it.
    let mut victim = members.pop().unwrap();
    let lost = victim.assign.clone();
    let frozen_at = Instant::now();
    freeze(victim.child.id());
    for i in 80..160 {
        p.send(Message::new("GShare", format!("b{i}")).with_keys(&format!("k{i}")))
            .await
            .unwrap();
    }
    let everything: BTreeSet<String> = (0..160).map(|i| format!("k{i}")).collect();
    let ok = tokio::task::block_in_place(|| {
        watch(&mut members, Duration::from_secs(40), |m| {
            disjoint_cover(m, 8)
                && consumed(m)
                    .union(&victim.keys.iter().cloned().collect())
                    .cloned()
                    .collect::<BTreeSet<_>>()
                    .is_superset(&everything)
        })
    });
    let view: BTreeMap<&str, &BTreeSet<String>> = members
        .iter()
        .map(|m| (m.name.as_str(), &m.assign))
        .collect();
    let missing: Vec<&String> = everything
        .iter()
        .filter(|k| !consumed(&members).contains(*k) && !victim.keys.contains(k))
        .collect();
    assert!(
        ok,
        "survivors {view:?} did not take over {lost:?}; missing {missing:?}"
    );
    assert!(
        frozen_at.elapsed() >= Duration::from_millis(2500),
        "took over only after the expiry"
    );
    victim.child.kill().unwrap();
    victim.child.wait().unwrap();
    // The killed member's queues are owned by the survivors now.
    let owned: BTreeSet<&String> = members.iter().flat_map(|m| m.assign.iter()).collect();
    assert!(lost.iter().all(|q| owned.contains(q)));

    // Clean shutdown of the survivors: stdin closed -> DONE.
    for m in members.iter_mut() {
        drop(m.child.stdin.take());
    }
    let ok = tokio::task::block_in_place(|| {
        watch(&mut members, Duration::from_secs(20), |m| {
            m.iter().all(|x| x.done)
        })
    });
    assert!(ok, "survivors shut down cleanly");
    p.shutdown().await.unwrap();
}
