//! NOTIFY_BROKER_ROLE_CHANGED (1008) to brokers that refuse anonymous or plain connections: the
//! controllers hosted by three name servers push as their name servers, so a slave learns it is
//! master at once after its master is SIGKILLed, long before its next GET_REPLICA_INFO poll
//! (`syncBrokerMetadataPeriod`, a minute here):
//! - ACL: brokers with `aclEnable=true`; the name servers' `accessKey`/`secretKey` is an admin
//!   account of the brokers' file and signs each push. An unsigned or non-admin 1008 is refused.
//! - TLS: brokers with `tlsMode=enforcing`; the name servers' `tlsEnable` (with the test CA)
//!   makes each push a TLS connection.
//!
//! Real binaries, every wait bounded.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actormq::protocol::headers::NotifyBrokerRoleChangedRequestHeader;
use actormq::protocol::RemotingCommand;
use common::acl::{
    assert_denied, create_topic_cmd, send_cmd, signed, write_acl_with_admin, ADMIN, APP,
};
use common::failover::{topic_probe, try_call, try_connect, ReplicaSet};
use common::rmq::{next_opaque, request};
use common::tls::{call_over_tls, make_certs, tls_sets};
use common::wait_until;

/// The controllers' account (their name servers' keys): admin in the brokers' file.
const CONTROLLER: (&str, &str) = ("ctlKey1", "ctlSecret1");
/// Setting up: ids, election, topic copies.
const SETUP: Duration = Duration::from_secs(40);
/// Kill to a new master taking sends: well below the poll period.
const FAILOVER: Duration = Duration::from_secs(15);
const POLL: &str = "syncBrokerMetadataPeriod=60000";
/// APP may publish here (see `ACL_FILE`).
const TOPIC: &str = "AclT";

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// How the test reaches a broker: one request, `None` if unreachable.
type Call<'a> = &'a dyn Fn(SocketAddr, RemotingCommand) -> Option<RemotingCommand>;

/// Wait for a master and the full SyncStateSet, create `TOPIC` on the master (as `ADMIN`, sent
/// through `call`) and wait until every broker has it; returns the master's index.
fn settle(set: &ReplicaSet, call: Call) -> usize {
    let old = set.wait_master(topic_probe(), None, SETUP);
    assert!(
        wait_until(SETUP, || set.sync_state_set().is_some_and(|s| s.len() == 3)),
        "SyncStateSet never reached 3: {:?}",
        set.sync_state_set()
    );
    let r = call(set.brokers[old].addr, create_topic_cmd(TOPIC, 4)).expect("master answers");
    assert_eq!(r.code, 0, "create {TOPIC}: {:?}", r.remark);
    for b in &set.brokers {
        let has = || {
            call(b.addr, request(21, &[]))
                .is_some_and(|r| r.code == 0 && String::from_utf8_lossy(&r.body).contains(TOPIC))
        };
        assert!(
            wait_until(SETUP, has),
            "{} has no {TOPIC} within {SETUP:?}",
            b.addr
        );
    }
    old
}

/// SIGKILL master `old`; another broker must be master in the route and take a send (through
/// `call`) within `FAILOVER`, which only the controller's push makes possible.
fn kill_and_fail_over(set: &mut ReplicaSet, old: usize, call: Call) {
    let t0 = Instant::now();
    set.brokers[old].kill();
    let new = set.wait_master(topic_probe(), Some(old), FAILOVER);
    let addr = set.brokers[new].addr;
    let mut last = None;
    let sent = wait_until(FAILOVER.saturating_sub(t0.elapsed()), || {
        last = call(addr, send_cmd(TOPIC, b"after failover"));
        last.as_ref().is_some_and(|r| r.code == 0)
    });
    assert!(
        sent,
        "new master {addr} took no send within {FAILOVER:?} of the kill: {:?}",
        last.map(|r| (r.code, r.remark))
    );
}

fn role_changed(master: SocketAddr) -> RemotingCommand {
    let h = NotifyBrokerRoleChangedRequestHeader {
        master_address: Some(master.to_string()),
        master_epoch: 999,
        sync_state_set_epoch: 999,
        master_broker_id: Some(1),
    };
    RemotingCommand::request_with(1008, &h).with_opaque(next_opaque())
}

#[test]
fn signed_role_change_push_reaches_acl_brokers() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_acl_with_admin(dir.path(), CONTROLLER);
    let ns_sets = [
        format!("accessKey={}", CONTROLLER.0),
        format!("secretKey={}", CONTROLLER.1),
    ];
    let broker_sets = [
        "aclEnable=true".to_string(),
        format!("plainAclFile={}", file.display()),
        format!("accessKey={}", ADMIN.0),
        format!("secretKey={}", ADMIN.1),
        POLL.into(),
    ];
    let mut set = ReplicaSet::start_with(&refs(&ns_sets), &refs(&broker_sets));
    let as_account = |account: (&'static str, &'static str)| {
        move |addr: SocketAddr, cmd: RemotingCommand| {
            try_call(&mut try_connect(addr)?, &signed(cmd, account))
        }
    };
    let old = settle(&set, &as_account(ADMIN));

    // Only an admin account may tell a broker its role: unsigned and APP's pushes are refused
    // (and change nothing).
    let slave = set.brokers[(old + 1) % 3].addr;
    let unsigned = try_call(&mut try_connect(slave).unwrap(), &role_changed(slave)).unwrap();
    assert_denied(&unsigned, "No accessKey is configured");
    let app = as_account(APP)(slave, role_changed(slave)).unwrap();
    assert_denied(
        &app,
        "Need admin permission for request code=1008, but accessKey=appUser1",
    );
    assert_eq!(set.master_index(topic_probe()), Some(old));

    kill_and_fail_over(&mut set, old, &as_account(APP));
}

#[test]
fn tls_role_change_push_reaches_enforcing_brokers() {
    let certs = make_certs();
    // Name servers take both (the test reads routes in plain TCP) and push over TLS.
    let ns_sets = tls_sets(&certs, "permissive");
    let mut broker_sets = tls_sets(&certs, "enforcing");
    broker_sets.push(POLL.into());
    let mut set = ReplicaSet::start_with(&refs(&ns_sets), &refs(&broker_sets));
    let over_tls = |addr: SocketAddr, cmd: RemotingCommand| call_over_tls(&certs, addr, cmd);
    let old = settle(&set, &over_tls);
    // The brokers refuse plain TCP: only a TLS push can reach them.
    let slave = set.brokers[(old + 1) % 3].addr;
    assert!(
        try_connect(slave)
            .and_then(|mut s| try_call(&mut s, &role_changed(slave)))
            .is_none(),
        "an enforcing broker answered a plain connection"
    );
    kill_and_fail_over(&mut set, old, &over_tls);
}
