//! Controller snapshots with openraft's default policy (a snapshot every 5000 applied entries,
//! 1000 kept behind it): three `controller` binaries; one is SIGKILLed while the others commit
//! more than a snapshot's worth of entries, so the leader's log no longer reaches back to the
//! dead node's last entry. Restarted, it catches up through InstallSnapshot (its snapshot file is
//! the leader's) and, made leader, answers the same replica info and SyncStateSet data as the old
//! leader did. Then all three are SIGKILLed and restarted: they reload snapshot + log tail and
//! answer the same again, the entries written after the snapshot included. Real binaries,
//! every wait bounded.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use actormq::protocol::codes::request_code as code;
use actormq::protocol::codes::response_code as rc;
use actormq::protocol::headers::*;
use actormq::protocol::RemotingCommand;
use bytes::Bytes;
use common::controller::{join, metadata, replica_info, request, Group, Host};
use common::{connect, frame_bytes, read_frame_bytes, wait_until};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(30);
/// More than openraft's `LogsSinceLast(5000)` plus the 1000 entries it keeps behind a snapshot.
const BULK: usize = 6100;
/// Requests in flight on the bulk connection.
const WINDOW: usize = 200;

/// One APPLY_BROKER_ID of broker id 1 for broker set `bulk<i>` (one Raft entry).
fn apply_frame(i: usize) -> Vec<u8> {
    let h = ApplyBrokerIdRequestHeader {
        cluster_name: "c".into(),
        broker_name: format!("bulk{i}"),
        applied_broker_id: 1,
        register_check_code: format!("10.0.0.1:{i};1"),
    };
    let mut cmd = request(code::CONTROLLER_APPLY_BROKER_ID, &h);
    cmd.opaque = i as i32;
    frame_bytes(&cmd)
}

/// Apply broker sets `bulk0`..`bulk<n-1>`, `WINDOW` requests in flight on one connection to the
/// leader. A request the node refuses because it no longer leads (a new election under the
/// load) is sent again to the new leader (re-applying is idempotent); any other refusal fails.
fn bulk_apply(g: &Group, n: usize) {
    let mut todo: Vec<usize> = (0..n).collect();
    let mut rounds = 0;
    while !todo.is_empty() {
        rounds += 1;
        assert!(
            rounds <= 20,
            "{} applies still refused after 20 rounds",
            todo.len()
        );
        let mut s = connect(g.wait_leader(LIMIT));
        let mut again = Vec::new();
        for chunk in todo.chunks(WINDOW) {
            let out: Vec<u8> = chunk.iter().flat_map(|i| apply_frame(*i)).collect();
            std::io::Write::write_all(&mut s, &out).unwrap();
            let mut answered = 0;
            while answered < chunk.len() {
                let bytes = read_frame_bytes(&mut s).expect("an answer to every apply");
                let r = actormq::protocol::frame::parse(Bytes::from(bytes)).unwrap();
                if !r.is_response() {
                    continue;
                }
                answered += 1;
                match r.code {
                    0 => {}
                    rc::CONTROLLER_NOT_LEADER => again.push(r.opaque as usize),
                    c => panic!("apply #{} refused with {c}: {:?}", r.opaque, r.remark),
                }
            }
            if !again.is_empty() {
                break;
            }
        }
        let sent_all = again.is_empty();
        todo = if sent_all {
            Vec::new()
        } else {
            let first_refused = todo.iter().position(|i| again.contains(i)).unwrap_or(0);
            let mut rest: Vec<usize> = todo[first_refused..].to_vec();
            rest.sort_unstable();
            rest
        };
    }
}

/// What a leader answers about the sets: replica info of a few, SyncStateSet data of them all.
fn answers(leader: SocketAddr, names: &[String]) -> (Vec<String>, Value) {
    let infos = names
        .iter()
        .map(|n| {
            let (r, h, set) = replica_info(leader, n);
            assert_eq!(r.code, 0, "{n}: {:?}", r.remark);
            format!("{h:?} {set:?}")
        })
        .collect();
    let body = serde_json::to_vec(names).unwrap();
    let cmd = RemotingCommand::request(code::CONTROLLER_GET_SYNC_STATE_DATA).with_body(body);
    let r = common::controller::ctl_call(leader, cmd);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    (infos, serde_json::from_slice(&r.body).unwrap())
}

/// The `snapshot.json` meta of node `i` (`None` before it has one).
fn snapshot_meta(g: &Group, i: usize) -> Option<Value> {
    let text = std::fs::read(g.dir.path().join(format!("n{i}/snapshot.json"))).ok()?;
    let v: Value = serde_json::from_slice(&text).ok()?;
    Some(v["meta"].clone())
}

/// The index of the node whose request address is `addr`.
fn index_of(g: &Group, addr: SocketAddr) -> usize {
    (0..g.nodes.len())
        .find(|&i| g.nodes[i].as_ref().is_some_and(|s| s.addr == addr))
        .unwrap_or_else(|| panic!("{addr} is no running node"))
}

#[test]
fn a_lagging_controller_installs_the_snapshot_and_all_reload_it() {
    let mut g = Group::start(Host::Controller, 3, &[]);
    let leader = g.wait_leader(LIMIT);
    for b in 0..3 {
        join(leader, "c", "keep", &format!("10.0.1.{b}:10911"));
    }
    let k = (index_of(&g, leader) + 1) % 3;
    g.kill(k);
    bulk_apply(&g, BULK);
    let leader = g.wait_leader(LIMIT);
    let l = index_of(&g, leader);
    let f = 3 - k - l;
    let leader_snap = snapshot_meta(&g, l).expect("the leader took a snapshot");
    // openraft snapshots once 5000 entries are committed (indexes from 0, so at index 4999 or
    // later: whatever was applied when it started) and purges the log up to 1000 entries behind
    // the snapshot, far past the few entries node k has: it can only catch up from the snapshot.
    let at = leader_snap["last_log_id"]["index"].as_u64();
    assert!(at.is_some_and(|i| i >= 4999), "{leader_snap}");
    let names: Vec<String> = ["keep", "bulk0", "bulk4999", "bulk6099"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let before = answers(leader, &names);

    // The dead node comes back: the entries it lacks are purged, so it gets the snapshot.
    g.start_node(k);
    assert!(
        wait_until(LIMIT, || snapshot_meta(&g, k).is_some()),
        "node {k} never got a snapshot"
    );
    assert_eq!(
        snapshot_meta(&g, k).unwrap()["snapshot_id"],
        leader_snap["snapshot_id"]
    );
    // Make it the leader: f misses one more entry, so once l is gone only k can win a vote.
    g.kill(f);
    join(leader, "c", "tail", "10.0.2.1:10911");
    let with_tail: Vec<String> = names.iter().cloned().chain(["tail".into()]).collect();
    let before_tail = answers(leader, &with_tail);
    g.kill(l);
    g.start_node(f);
    let new_leader = g.wait_leader(LIMIT);
    assert_eq!(
        index_of(&g, new_leader),
        k,
        "only the caught-up node can lead"
    );
    assert_eq!(answers(new_leader, &names), before);
    assert!(metadata(new_leader).is_leader);

    // Everyone down at once, everyone back: snapshot + log tail reloaded.
    g.start_node(l);
    g.wait_leader(LIMIT);
    for i in 0..3 {
        g.kill(i);
    }
    for i in 0..3 {
        g.start_node(i);
    }
    let leader = g.wait_leader(LIMIT);
    assert_eq!(answers(leader, &with_tail), before_tail);
}
