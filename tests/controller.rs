//! Controller mode's controller group, from real processes: 3 `controller` binaries (and 3 name
//! servers hosting controllers) on free Raft ports. A broker set registered with raw requests and
//! fake brokers that heartbeat gets a master, loses it when its heartbeats stop and gets a new one
//! from the SyncStateSet (masterEpoch + 1, pushed with NOTIFY_BROKER_ROLE_CHANGED), while
//! controllers are SIGKILLed (a follower, then the leader) and restarted from their stores.

mod common;

use std::time::Duration;

use std::sync::atomic::Ordering;

use actormq::protocol::body::controller::BrokerReplicasInfo;
use actormq::protocol::codes::{request_code as code, response_code as rc};
use actormq::protocol::headers::{
    CleanControllerBrokerDataRequestHeader, ElectMasterResponseHeader,
};
use actormq::protocol::RemotingCommand;
use common::controller::*;
use common::{run_to_exit, wait_until};

const LIMIT: Duration = Duration::from_secs(20);

/// Three fake brokers of set `b` (heartbeat timeout `timeout_ms`) joined and heartbeating;
/// broker 1 elected master.
fn broker_set(g: &Group, timeout_ms: i64) -> Vec<FakeBroker> {
    let leader = g.wait_leader(LIMIT);
    let brokers: Vec<FakeBroker> = (0..3)
        .map(|_| FakeBroker::start_with("c", "b", g.addrs(), timeout_ms))
        .collect();
    for (i, b) in brokers.iter().enumerate() {
        let id = join(leader, "c", "b", &b.addr);
        assert_eq!(id, i as i64 + 1, "ids are handed out from 1");
        *b.id.lock().unwrap() = id;
    }
    let r = elect(leader, "c", "b", 1);
    assert_eq!(r.code, rc::SUCCESS, "{:?}", r.remark);
    let h: ElectMasterResponseHeader = r.header().unwrap();
    assert_eq!((h.master_broker_id, h.master_epoch), (Some(1), Some(1)));
    assert_eq!(h.master_address.as_deref(), Some(brokers[0].addr.as_str()));
    brokers
}

/// The master widens the SyncStateSet to every broker (waiting until all are seen alive).
fn widen(g: &Group, master: i64, master_epoch: i32) {
    let ok = wait_until(LIMIT, || {
        let leader = g.wait_leader(LIMIT);
        let (_, _, set) = replica_info(leader, "b");
        alter(
            leader,
            "b",
            master,
            master_epoch,
            &[1, 2, 3],
            set.sync_state_set_epoch,
        )
        .code
            == rc::SUCCESS
    });
    assert!(ok, "the SyncStateSet never grew to 1,2,3");
}

/// Stop the master's heartbeats; wait for a new master of epoch + 1 from the SyncStateSet.
fn fail_master(g: &Group, brokers: &[FakeBroker], master: i64, epoch: i32) -> i64 {
    brokers[master as usize - 1]
        .beating
        .store(false, Ordering::Relaxed);
    let (h, set, waited) = wait_replica(g, "b", LIMIT, |h| h.master_epoch == Some(epoch + 1));
    let new = h.master_broker_id.expect("a new master");
    assert_ne!(new, master);
    assert_eq!(set.sync_state_set, [new].into_iter().collect());
    eprintln!(
        "master {master} -> {new} (epoch {}) in {waited:?}",
        epoch + 1
    );
    let b = &brokers[new as usize - 1];
    assert_eq!(h.master_address.as_deref(), Some(b.addr.as_str()));
    let pushed = wait_until(LIMIT, || {
        b.notified
            .lock()
            .unwrap()
            .iter()
            .any(|n| n.master_epoch == epoch + 1 && n.master_broker_id == Some(new))
    });
    assert!(
        pushed,
        "the new master was not sent NOTIFY_BROKER_ROLE_CHANGED"
    );
    brokers[master as usize - 1]
        .beating
        .store(true, Ordering::Relaxed);
    new
}

#[test]
fn controllers_elect_fence_and_survive_failures() {
    let mut g = Group::start(Host::Controller, 3, &[]);
    let leader = g.wait_leader(LIMIT);
    // A follower refuses writes and names the leader.
    let follower = g.addrs().into_iter().find(|a| *a != leader).unwrap();
    let r = elect(follower, "c", "b", 1);
    assert_eq!(r.code, rc::CONTROLLER_NOT_LEADER);
    assert!(
        r.remark
            .as_deref()
            .unwrap_or("")
            .contains(&leader.to_string()),
        "{:?}",
        r.remark
    );

    let brokers = broker_set(&g, 1500);
    widen(&g, 1, 1);
    // Stale epochs are fenced.
    let r = alter(leader, "b", 1, 1, &[1, 2], 1);
    assert_eq!(
        r.code,
        rc::CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH,
        "{:?}",
        r.remark
    );
    let r = alter(leader, "b", 1, 0, &[1, 2], 2);
    assert_eq!(r.code, rc::CONTROLLER_FENCED_MASTER_EPOCH, "{:?}", r.remark);
    // The master alive: an election keeps it.
    assert_eq!(
        elect(leader, "c", "b", 2).code,
        rc::CONTROLLER_MASTER_STILL_EXIST
    );

    let m2 = fail_master(&g, &brokers, 1, 1);

    // One follower controller SIGKILLed: elections still work.
    let leader_idx = (0..3).find(|i| g.addr(*i) == g.wait_leader(LIMIT)).unwrap();
    let follower_idx = (leader_idx + 1) % 3;
    g.kill(follower_idx);
    widen(&g, m2, 2);
    let m3 = fail_master(&g, &brokers, m2, 2);

    // The leader SIGKILLed: a new leader, then an election works.
    let old_leader = g.addr(leader_idx);
    g.kill(leader_idx);
    g.start_node(follower_idx);
    for b in &brokers {
        *b.controllers.lock().unwrap() = g.addrs();
    }
    let new_leader = g.wait_leader(LIMIT);
    assert_ne!(new_leader, old_leader);
    widen(&g, m3, 3);
    let m4 = fail_master(&g, &brokers, m3, 3);

    // The killed leader restarts from its store and rejoins under the current leader.
    g.start_node(leader_idx);
    for b in &brokers {
        *b.controllers.lock().unwrap() = g.addrs();
    }
    let leader = g.wait_leader(LIMIT);
    let meta = metadata(g.addr(leader_idx));
    assert_eq!(meta.controller_leader_address, Some(leader.to_string()));

    // Every controller restarted at once: the state comes back from the stores.
    for i in 0..3 {
        g.kill(i);
    }
    for i in 0..3 {
        g.start_node(i);
    }
    for b in &brokers {
        *b.controllers.lock().unwrap() = g.addrs();
    }
    let (h, set, _) = wait_replica(&g, "b", LIMIT, |_| true);
    assert_eq!((h.master_broker_id, h.master_epoch), (Some(m4), Some(4)));
    assert_eq!(set.sync_state_set, [m4].into_iter().collect());
}

#[test]
fn name_servers_host_the_controllers() {
    let mut g = Group::start(Host::Namesrv, 3, &[]);
    let leader = g.wait_leader(LIMIT);
    // The name server's own codes still work on the same port.
    let r = ctl_call(leader, RemotingCommand::request(106));
    assert_eq!(r.code, rc::SUCCESS);
    // Heartbeat timeouts of 10 s: only the closed connection can explain a quick election.
    let brokers = broker_set(&g, 10_000);
    widen(&g, 1, 1);
    admin_codes(&g);
    let leader_idx = (0..3).find(|i| g.addr(*i) == leader).unwrap();
    g.kill(leader_idx);
    for b in &brokers {
        *b.controllers.lock().unwrap() = g.addrs();
    }
    g.wait_leader(LIMIT);
    brokers[0].connected.store(false, Ordering::Relaxed);
    let (h, _, waited) = wait_replica(&g, "b", LIMIT, |h| h.master_epoch == Some(2));
    assert!(
        waited < Duration::from_secs(8),
        "election took {waited:?}: the closed connection was not taken as the master's end"
    );
    assert!(matches!(h.master_broker_id, Some(2) | Some(3)), "{h:?}");
}

/// GET/UPDATE_CONTROLLER_CONFIG, GET_SYNC_STATE_DATA and CLEAN_BROKER_DATA on the leader.
fn admin_codes(g: &Group) {
    let leader = g.wait_leader(LIMIT);
    let get = || {
        let r = ctl_call(
            leader,
            RemotingCommand::request(code::GET_CONTROLLER_CONFIG),
        );
        assert_eq!(r.code, rc::SUCCESS);
        String::from_utf8(r.body.to_vec()).unwrap()
    };
    assert!(
        get().contains("enableElectUncleanMaster=false"),
        "{}",
        get()
    );
    let update = |body: &str| {
        let req = RemotingCommand::request(code::UPDATE_CONTROLLER_CONFIG)
            .with_body(body.as_bytes().to_vec());
        ctl_call(leader, req)
    };
    let r = update("controllerDLegerPeers=n0-x:1\n");
    assert_eq!(r.code, rc::CONTROLLER_INVALID_REQUEST);
    assert!(r.remark.unwrap().contains("controllerDLegerPeers"));
    assert_eq!(update("enableElectUncleanMaster=true\n").code, rc::SUCCESS);
    assert!(get().contains("enableElectUncleanMaster=true"));
    assert_eq!(update("enableElectUncleanMaster=false\n").code, rc::SUCCESS);

    let req = RemotingCommand::request(code::CONTROLLER_GET_SYNC_STATE_DATA)
        .with_body(br#"["b","nope"]"#.to_vec());
    let r = ctl_call(leader, req);
    assert_eq!(r.code, rc::SUCCESS);
    let info = BrokerReplicasInfo::decode(&r.body).unwrap();
    let b = &info.replicas_info_table["b"];
    assert_eq!((b.master_broker_id, b.in_sync_replicas.len()), (Some(1), 3));
    assert!(b.in_sync_replicas.iter().all(|r| r.alive == Some(true)));
    assert!(!info.replicas_info_table.contains_key("nope"));

    let clean = CleanControllerBrokerDataRequestHeader {
        broker_name: "b".into(),
        broker_controller_ids_to_clean: Some("2".into()),
        ..Default::default()
    };
    let r = ctl_call(leader, request(code::CLEAN_BROKER_DATA, &clean));
    assert_eq!(
        r.code,
        rc::CONTROLLER_INVALID_CLEAN_BROKER_METADATA,
        "{:?}",
        r.remark
    );
}

#[test]
fn bad_peers_stop_the_start_with_the_key_named() {
    for (bin, extra) in [
        (CONTROLLER, vec![]),
        (common::NAMESRV, vec!["enableControllerInNamesrv=true"]),
    ] {
        for (peers, me, key) in [
            ("n0-127.0.0.1", "n0", "controllerDLegerPeers"),
            (
                "n0-127.0.0.1:1;n0-127.0.0.1:2",
                "n0",
                "controllerDLegerPeers",
            ),
            ("n0-127.0.0.1:1", "n7", "controllerDLegerSelfId"),
        ] {
            let mut sets = vec![
                "listenPort=0".to_string(),
                format!("controllerDLegerPeers={peers}"),
                format!("controllerDLegerSelfId={me}"),
            ];
            sets.extend(extra.iter().map(|s| s.to_string()));
            let args = common::set_args(&sets);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (code, _, err) = run_to_exit(bin, &args, Duration::from_secs(10));
            assert_eq!(code, Some(2), "{bin} {peers} {me}: {err}");
            assert!(err.contains(key), "{bin} {peers} {me}: {err}");
        }
    }
}
