//! ACL on the controllers that name servers host (beyond RocketMQ, whose controller has no ACL):
//! with `aclEnable=true` on three name servers with `enableControllerInNamesrv`, a broker set in
//! controller mode signing with an admin account (`accessKey`/`secretKey`) gets its ids and a
//! master; anonymous or non-admin controller writes (elect, clean, config update, register,
//! heartbeat, SyncStateSet change) are refused with RocketMQ's ACL answer; controller reads
//! stay open; mqadmin's electMaster and cleanBrokerMetadata sign with the tools account. Real
//! binaries, every wait bounded.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use actormq::protocol::RemotingCommand;
use common::acl::{assert_denied, call_as, write_acl, ACL_FILE, ADMIN, APP};
use common::failover::{topic_probe, ReplicaSet, BROKER_NAME};
use common::mqadmin::{run_with, Run};
use common::rmq::request;
use common::{call, connect, wait_until};

const LIMIT: Duration = Duration::from_secs(40);
const CLUSTER: &str = "FailoverCluster";

fn ask(addr: SocketAddr, cmd: &RemotingCommand) -> RemotingCommand {
    call(&mut connect(addr), cmd)
}

/// The controller leader's request address (metadata is open).
fn leader(set: &ReplicaSet) -> SocketAddr {
    let mut found = None;
    let ok = wait_until(LIMIT, || {
        let r = ask(set.namesrvs[0].addr, &request(1005, &[]));
        found = r
            .ext("controllerLeaderAddress")
            .and_then(|a| a.parse::<SocketAddr>().ok());
        r.code == 0 && found.is_some()
    });
    assert!(ok, "no controller leader within {LIMIT:?}");
    found.unwrap()
}

/// The state-changing controller requests, each as an intruder would send it.
fn writes() -> Vec<(i32, RemotingCommand)> {
    let set = br#"{"syncStateSet":[1],"syncStateSetEpoch":99}"#.to_vec();
    let name = ("brokerName", BROKER_NAME);
    let cluster = ("clusterName", CLUSTER);
    let elect = [cluster, name, ("brokerId", "1"), ("designateElect", "true")];
    let alter = [name, ("masterBrokerId", "1"), ("masterEpoch", "1")];
    let reg = [
        cluster,
        name,
        ("brokerId", "1"),
        ("brokerAddress", "127.0.0.1:1"),
    ];
    let hb = [
        cluster,
        name,
        ("brokerAddr", "127.0.0.1:1"),
        ("brokerId", "1"),
    ];
    let apply = [
        cluster,
        name,
        ("appliedBrokerId", "9"),
        ("registerCheckCode", "x"),
    ];
    let clean = [cluster, name, ("isCleanLivingBroker", "true")];
    vec![
        (1002, request(1002, &elect)),
        (1001, request(1001, &alter).with_body(set)),
        (1003, request(1003, &reg)),
        (904, request(904, &hb)),
        (1013, request(1013, &apply)),
        (1011, request(1011, &clean)),
        (
            1009,
            request(1009, &[]).with_body(b"enableElectUncleanMaster=true".to_vec()),
        ),
    ]
}

/// `mqadmin args` signing with the tools file `tools` (if any).
fn adm(tools: Option<&str>, args: &[&str]) -> Run {
    let mut v = args.to_vec();
    if let Some(t) = tools {
        v.extend(["--toolsConfig", t]);
    }
    run_with(&v, &[])
}

#[test]
fn controller_writes_need_a_signed_admin_account() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_acl(dir.path(), ACL_FILE);
    let ns_sets = [
        "aclEnable=true".to_string(),
        format!("plainAclFile={}", file.display()),
    ];
    let ns_refs: Vec<&str> = ns_sets.iter().map(String::as_str).collect();
    let keys = [
        format!("accessKey={}", ADMIN.0),
        format!("secretKey={}", ADMIN.1),
    ];
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let set = ReplicaSet::start_with(&ns_refs, &key_refs);

    // The brokers signed their way in: ids applied, registered, a master elected, all in sync.
    let master = set.wait_master(topic_probe(), None, LIMIT);
    assert!(
        wait_until(LIMIT, || set.sync_state_set().is_some_and(|s| s.len() == 3)),
        "SyncStateSet never reached 3: {:?}",
        set.sync_state_set()
    );
    let ctl = leader(&set);

    // Every write refused unsigned (on the leader and a follower alike) and for a non-admin.
    let follower = set.namesrvs.iter().map(|n| n.addr).find(|a| *a != ctl);
    for (code, cmd) in writes() {
        for at in [ctl, follower.unwrap()] {
            assert_denied(&ask(at, &cmd), "No accessKey is configured");
        }
        let r = call_as(&mut connect(ctl), cmd, APP);
        assert_denied(
            &r,
            &format!("Need admin permission for request code={code}, but accessKey=appUser1"),
        );
    }
    // Nothing changed: same master, same set.
    assert_eq!(set.master_index(topic_probe()), Some(master));
    assert_eq!(set.sync_state_set().map(|s| s.len()), Some(3));

    // Reads stay open: metadata, replica info, SyncStateSet data, config.
    let names = br#"["broker-a"]"#.to_vec();
    for cmd in [
        request(1005, &[]),
        request(1004, &[("brokerName", BROKER_NAME)]),
        request(1006, &[]).with_body(names),
        request(1010, &[]),
    ] {
        let r = ask(ctl, &cmd);
        assert_eq!(r.code, 0, "{} refused: {:?}", cmd.code, r.remark);
    }

    // mqadmin: unsigned and non-admin refused, the admin's tools account elects.
    let tools = |(ak, sk): (&str, &str), name: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, format!("accessKey: {ak}\nsecretKey: {sk}\n")).unwrap();
        p.display().to_string()
    };
    let (admin, app) = (tools(ADMIN, "admin.yml"), tools(APP, "app.yml"));
    let ctl_s = ctl.to_string();
    let j = run_with(
        &["getSyncStateSet", "-a", &ctl_s, "-b", BROKER_NAME, "--json"],
        &[],
    )
    .json();
    let target = j["replicasInfoTable"][BROKER_NAME]["inSyncReplicas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["brokerAddress"] != set.brokers[master].addr.to_string().as_str())
        .unwrap_or_else(|| panic!("{j}"))
        .clone();
    let id = target["brokerId"].to_string();
    let elect = [
        "electMaster",
        "-a",
        &ctl_s,
        "-b",
        &id,
        "--bn",
        BROKER_NAME,
        "-c",
        CLUSTER,
    ];
    adm(None, &elect).fails_with("No accessKey is configured");
    adm(Some(&app), &elect).fails_with("Need admin permission for request code=1002");
    let out = adm(Some(&admin), &elect).ok();
    let addr = target["brokerAddress"].as_str().unwrap();
    assert!(
        out.contains(&format!("\n#BrokerMasterAddr\t{addr}\n")),
        "{out}"
    );
    let new_master = set.wait_master(topic_probe(), Some(master), LIMIT);
    assert_eq!(set.brokers[new_master].addr.to_string(), addr);

    // cleanBrokerMetadata passes the ACL with the admin account (then the controller's own
    // rule: a living broker is kept).
    let clean = [
        "cleanBrokerMetadata",
        "-a",
        &ctl_s,
        "--bn",
        BROKER_NAME,
        "-c",
        CLUSTER,
        "-b",
        &id,
    ];
    adm(None, &clean).fails_with("No accessKey is configured");
    adm(Some(&admin), &clean).fails_with("still alive");
}
