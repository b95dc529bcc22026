//! ACL on the standalone `controller` binary (beyond RocketMQ, whose controller has none), as on
//! name servers hosting controllers: with `aclEnable=true` its state-changing requests need a
//! signed admin account and its reads stay open; with `accessKey`/`secretKey` its
//! NOTIFY_BROKER_ROLE_CHANGED pushes are signed, so brokers with `aclEnable=true` take them.
//! Fake brokers (raw requests, signed as the admin account) stand in for a broker set. Real
//! binaries, every wait bounded.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use actormq::acl::sign::{verify, SigningKey};
use actormq::protocol::codes::response_code as rc;
use common::acl::{assert_denied, call_as, write_acl_with_admin, ADMIN, APP};
use common::controller::*;
use common::rmq::request as raw;
use common::{call, connect, wait_until};

const LIMIT: Duration = Duration::from_secs(20);
/// The controller's own account (for its pushes): an admin of the file.
const CONTROLLER_ACCOUNT: (&str, &str) = ("ctlKey1", "ctlSecret1");

#[test]
fn an_acl_controller_admits_signed_admin_writes_only_and_signs_its_pushes() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_acl_with_admin(dir.path(), CONTROLLER_ACCOUNT);
    let sets = [
        "aclEnable=true".to_string(),
        format!("plainAclFile={}", file.display()),
        format!("accessKey={}", CONTROLLER_ACCOUNT.0),
        format!("secretKey={}", CONTROLLER_ACCOUNT.1),
    ];
    let refs: Vec<&str> = sets.iter().map(String::as_str).collect();
    let g = Group::start(Host::Controller, 1, &refs);
    let leader = g.wait_leader(LIMIT);

    // Reads are open; an election unsigned or as a non-admin is refused as RocketMQ refuses.
    assert_eq!(call(&mut connect(leader), &raw(1005, &[])).code, 0);
    let elect_cmd = raw(
        1002,
        &[
            ("clusterName", "c"),
            ("brokerName", "b"),
            ("brokerId", "1"),
            ("designateElect", "true"),
        ],
    );
    assert_denied(
        &call(&mut connect(leader), &elect_cmd),
        "No accessKey is configured",
    );
    assert_denied(
        &call_as(&mut connect(leader), elect_cmd, APP),
        "Need admin permission for request code=1002, but accessKey=appUser1",
    );

    // Signed as the admin, a broker set joins, heartbeats and gets a master.
    sign_all_as(ADMIN);
    let brokers: Vec<FakeBroker> = (0..2)
        .map(|_| FakeBroker::start("c", "b", g.addrs()))
        .collect();
    for b in &brokers {
        *b.id.lock().unwrap() = join(leader, "c", "b", &b.addr);
    }
    let r = elect(leader, "c", "b", 1);
    assert_eq!(r.code, rc::SUCCESS, "{:?}", r.remark);
    assert!(
        wait_until(LIMIT, || {
            let (_, _, set) = replica_info(leader, "b");
            alter(leader, "b", 1, 1, &[1, 2], set.sync_state_set_epoch).code == rc::SUCCESS
        }),
        "the SyncStateSet never grew to 1,2"
    );

    // The master's heartbeats stop: broker 2 is elected and told so by a push signed with the
    // controller's account.
    brokers[0].beating.store(false, Ordering::Relaxed);
    let (h, _, _) = wait_replica(&g, "b", LIMIT, |h| h.master_broker_id == Some(2));
    assert_eq!(h.master_epoch, Some(2));
    let key = SigningKey::new(CONTROLLER_ACCOUNT.1);
    let signed_push = || {
        brokers[1]
            .pushes
            .lock()
            .unwrap()
            .iter()
            .any(|p| p.ext("AccessKey") == Some(CONTROLLER_ACCOUNT.0) && verify(p, &key))
    };
    assert!(
        wait_until(LIMIT, signed_push),
        "no signed NOTIFY_BROKER_ROLE_CHANGED reached the new master: {:?}",
        brokers[1].pushes.lock().unwrap()
    );
}

#[test]
fn an_enforcing_controller_answers_tls_only() {
    use actormq::protocol::RemotingCommand;
    use common::failover::{try_call, try_connect};
    use common::tls::{call_over_tls, make_certs, tls_sets};

    let certs = make_certs();
    let sets = tls_sets(&certs, "enforcing");
    let refs: Vec<&str> = sets.iter().map(String::as_str).collect();
    let g = Group::start(Host::Controller, 1, &refs);
    let addr = g.addr(0);
    let over_tls = |cmd: RemotingCommand| call_over_tls(&certs, addr, cmd);
    let mut last = None;
    let answered = wait_until(LIMIT, || {
        last = over_tls(raw(1005, &[]));
        last.as_ref()
            .is_some_and(|r| r.code == 0 && r.ext("controllerLeaderAddress").is_some())
    });
    assert!(answered, "no metadata over TLS: {last:?}");
    assert!(
        try_connect(addr)
            .and_then(|mut s| try_call(&mut s, &raw(1005, &[])))
            .is_none(),
        "an enforcing controller answered a plain connection"
    );
}

#[test]
fn raft_ports_with_a_secret_take_only_peers_that_know_it() {
    use std::io::{Read, Write};
    let g = Group::start(Host::Controller, 3, &["controllerRaftSecret=raft-s3cret"]);
    // The group still elects a leader: every Raft connection passed the handshake.
    let leader = g.wait_leader(LIMIT);
    assert_eq!(call(&mut connect(leader), &raw(1005, &[])).code, 0);

    // A stranger on node 0's Raft port gets the challenge, answers it wrong, is cut off and
    // logged.
    let raft0 = g.peers.split(';').next().unwrap();
    let raft0 = raft0.split_once('-').unwrap().1;
    let mut s = std::net::TcpStream::connect(raft0).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut hello = [0u8; 24];
    s.read_exact(&mut hello).unwrap();
    assert_eq!(&hello[..8], b"AMQRAFT1");
    s.write_all(&[7u8; 36]).unwrap();
    let mut rest = Vec::new();
    let n = s.read_to_end(&mut rest).unwrap_or(0);
    assert_eq!(n, 0, "the server answered a wrong MAC with {rest:?}");
    let node0 = g.nodes[0].as_ref().unwrap();
    assert!(
        common::acl::wait_for_log(node0, &["raft connection refused"], LIMIT).is_some(),
        "no WARN for the refused connection"
    );
    // The group is unharmed.
    assert_eq!(
        call(&mut connect(g.wait_leader(LIMIT)), &raw(1005, &[])).code,
        0
    );
}
