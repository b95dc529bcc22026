//! The name server's ACL (beyond RocketMQ 4.x): with `aclEnable=true` a broker registers only
//! when it signs with an admin account (`accessKey`/`secretKey`); without keys, with a wrong
//! secret or with a non-admin account it is refused and the name server logs why. Route reads
//! stay open; KV writes need the admin account.

mod common;

use std::path::Path;
use std::time::Duration;

use common::acl::*;
use common::ha::start_master;
use common::rmq::request;
use common::{call, connect, wait_until, Server};

const LIMIT: Duration = Duration::from_secs(15);

fn cluster_info(ns: &Server) -> String {
    let mut s = connect(ns.addr);
    let r = call(&mut s, &request(106, &[]));
    assert_eq!(r.code, 0, "cluster info is open: {:?}", r.remark);
    String::from_utf8_lossy(&r.body).to_string()
}

fn start_named(dir: &Path, ns: &Server, name: &str, keys: Option<(&str, &str)>) -> Server {
    let store = dir.join(name);
    let mut sets = vec![format!("brokerName={name}")];
    if let Some((ak, sk)) = keys {
        sets.push(format!("accessKey={ak}"));
        sets.push(format!("secretKey={sk}"));
    }
    let refs: Vec<&str> = sets.iter().map(String::as_str).collect();
    start_master(&store, ns.addr, &refs).0
}

#[test]
fn only_brokers_signing_with_an_admin_account_register() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start_acl_namesrv(&write_acl(dir.path(), ACL_FILE));

    let good = start_named(dir.path(), &ns, "broker-k", Some(ADMIN));
    assert!(
        wait_until(LIMIT, || cluster_info(&ns).contains("broker-k")),
        "the signed broker did not register"
    );

    let cases = [
        ("broker-n", None, "No accessKey is configured"),
        (
            "broker-w",
            Some((ADMIN.0, "wrongSecret1")),
            "Check signature failed for accessKey=adminKey1",
        ),
        (
            "broker-p",
            Some(APP),
            "Need admin permission for request code=103, but accessKey=appUser1 is not",
        ),
    ];
    for (name, keys, why) in cases {
        let b = start_named(dir.path(), &ns, name, keys);
        let line = wait_for_log(&ns, &["WARN", "ACL refused", "REGISTER_BROKER", why], LIMIT);
        assert!(
            line.is_some(),
            "{name}: the name server did not log '{why}'"
        );
        // The broker says why too (its registration answer).
        let told = wait_for_log(&b, &["AclException", why], LIMIT);
        assert!(told.is_some(), "{name}: the broker did not log the refusal");
        assert!(!cluster_info(&ns).contains(name), "{name} registered");
    }
    drop(good);
}

#[test]
fn reads_stay_open_and_kv_writes_need_the_admin_account() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start_acl_namesrv(&write_acl(dir.path(), ACL_FILE));
    let _b = start_named(dir.path(), &ns, "broker-k", Some(ADMIN));
    let mut s = connect(ns.addr);
    // TBW102 is registered by every broker: its route is readable anonymously.
    let ok = wait_until(LIMIT, || {
        call(&mut s, &request(105, &[("topic", "TBW102")])).code == 0
    });
    assert!(ok, "anonymous route read");
    assert_eq!(call(&mut s, &request(206, &[])).code, 0);
    let kv = [
        ("namespace", "ORDER_TOPIC_CONFIG"),
        ("key", "K1"),
        ("value", "broker-k:4"),
    ];
    assert_denied(
        &call(&mut s, &request(100, &kv)),
        "No accessKey is configured",
    );
    let r = call_as(&mut s, request(100, &kv), APP);
    assert_denied(&r, "Need admin permission for request code=100");
    assert_eq!(call_as(&mut s, request(100, &kv), ADMIN).code, 0);
    let get = [("namespace", "ORDER_TOPIC_CONFIG"), ("key", "K1")];
    let r = call(&mut s, &request(101, &get));
    assert_eq!((r.code, r.ext("value")), (0, Some("broker-k:4")));
    let update = request(318, &[]).with_body(b"scanNotActiveBrokerInterval=5000".to_vec());
    assert_denied(&call(&mut s, &update), "No accessKey is configured");
    assert_eq!(
        call(&mut s, &request(319, &[])).code,
        0,
        "config read is open"
    );
}
