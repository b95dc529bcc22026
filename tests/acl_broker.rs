//! The broker's ACL (`aclEnable=true`) through the real binary: signed sends and pulls within the
//! account's perms, RocketMQ's refusals, white lists, hot reload of `plain_acl.yml`, the ACL admin
//! codes 50-54 (changing the file on disk), and start-up with a missing or broken file.

mod common;

use std::time::Duration;

use common::acl::*;
use common::rmq::request;
use common::{call, connect, run_to_exit, BROKER};

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn signed_send_and_pull_within_perms() {
    let dir = tempfile::tempdir().unwrap();
    let (b, _) = start_acl_broker(dir.path(), ACL_FILE);
    let mut s = connect(b.addr);
    assert_eq!(call_as(&mut s, create_topic_cmd("AclT", 1), ADMIN).code, 0);
    let r = call_as(&mut s, send_cmd("AclT", b"hello"), APP);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let r = call_as(&mut s, pull_cmd("AclG", "AclT"), APP);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let msgs = actormq::protocol::message::decode_records(&r.body);
    assert_eq!(msgs.len(), 1);
    assert_eq!(&msgs[0].body[..], b"hello");
}

#[test]
fn refusals_answer_as_rocketmq_and_are_logged() {
    let dir = tempfile::tempdir().unwrap();
    let (b, _) = start_acl_broker(dir.path(), ACL_FILE);
    let mut s = connect(b.addr);
    for t in ["AclT", "ReadOnlyT", "OtherT"] {
        assert_eq!(call_as(&mut s, create_topic_cmd(t, 1), ADMIN).code, 0);
    }
    let r = call(&mut s, &send_cmd("AclT", b"x"));
    assert_denied(&r, "No accessKey is configured");
    let r = call_as(&mut s, send_cmd("AclT", b"x"), (APP.0, "wrongSecret"));
    assert_denied(&r, "Check signature failed for accessKey=appUser1");
    assert!(!r.remark.unwrap().contains("wrongSecret"));
    let r = call_as(&mut s, send_cmd("AclT", b"x"), ("nobody99", "whatever1"));
    assert_denied(&r, "No acl config for nobody99");
    let r = call_as(&mut s, send_cmd("ReadOnlyT", b"x"), APP);
    assert_denied(&r, "No default permission for topic:ReadOnlyT");
    let r = call_as(&mut s, send_cmd("OtherT", b"x"), APP);
    assert_denied(&r, "No default permission for topic:OtherT");
    let r = call_as(&mut s, pull_cmd("OtherG", "AclT"), APP);
    assert_denied(&r, "No default permission for group:OtherG");
    let r = call_as(&mut s, create_topic_cmd("Mine", 1), APP);
    assert_denied(
        &r,
        "Need admin permission for request code=17, but accessKey=appUser1 is not",
    );
    // Logged at warn with the peer, the code and the key.
    let line = wait_for_log(
        &b.server,
        &["WARN", "ACL refused", "127.0.0.1", "code=17", "appUser1"],
        LIMIT,
    );
    assert!(line.is_some(), "no warn line for the refused request");
}

#[test]
fn white_lists_let_requests_in() {
    let dir = tempfile::tempdir().unwrap();
    let with_white_account = format!(
        "{ACL_FILE}  - accessKey: localUser1\n    secretKey: localSecret1\n    whiteRemoteAddress: 127.0.0.1\n    defaultTopicPerm: PUB\n"
    );
    let (b, file) = start_acl_broker(dir.path(), &with_white_account);
    let mut s = connect(b.addr);
    assert_eq!(
        call_as(&mut s, create_topic_cmd("WhiteT", 1), ADMIN).code,
        0
    );
    // The account's white address skips the signature, as RocketMQ.
    let r = call_as(
        &mut s,
        send_cmd("WhiteT", b"x"),
        ("localUser1", "notTheSecret"),
    );
    assert_eq!(r.code, 0, "{:?}", r.remark);
    // Anonymous is refused until the global white list names this address.
    assert_denied(&call(&mut s, &create_topic_cmd("G1", 1)), "No accessKey");
    std::fs::write(
        &file,
        with_white_account.replace(
            "globalWhiteRemoteAddresses:\n",
            "globalWhiteRemoteAddresses:\n  - 127.0.0.*\n",
        ),
    )
    .unwrap();
    let ok = common::wait_until(LIMIT, || call(&mut s, &create_topic_cmd("G1", 1)).code == 0);
    assert!(ok, "the global white list did not apply");
}

#[test]
fn hot_reload_applies_and_a_broken_file_keeps_the_old_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (b, file) = start_acl_broker(dir.path(), ACL_FILE);
    let mut s = connect(b.addr);
    assert_eq!(call_as(&mut s, create_topic_cmd("NewT", 1), ADMIN).code, 0);
    assert_denied(&call_as(&mut s, send_cmd("NewT", b"x"), APP), "topic:NewT");
    let added = ACL_FILE.replace(
        "      - ReadOnlyT=SUB\n",
        "      - ReadOnlyT=SUB\n      - NewT=PUB\n",
    );
    std::fs::write(&file, &added).unwrap();
    let ok = common::wait_until(LIMIT, || {
        call_as(&mut s, send_cmd("NewT", b"x"), APP).code == 0
    });
    assert!(ok, "the added topic perm did not apply within {LIMIT:?}");
    std::fs::write(&file, "accounts:\n  - accessKey: [broken\n").unwrap();
    let line = wait_for_log(&b.server, &["WARN", "ACL file not reloaded"], LIMIT);
    assert!(line.is_some(), "no warning about the broken file");
    assert_eq!(call_as(&mut s, send_cmd("NewT", b"y"), APP).code, 0);
    assert_denied(&call(&mut s, &send_cmd("NewT", b"z")), "No accessKey");
}

#[test]
fn acl_admin_codes_change_the_file_and_apply() {
    let dir = tempfile::tempdir().unwrap();
    let (b, file) = start_acl_broker(dir.path(), ACL_FILE);
    let mut s = connect(b.addr);
    assert_eq!(call_as(&mut s, create_topic_cmd("AdmT", 1), ADMIN).code, 0);
    let create = || {
        request(
            50,
            &[
                ("accessKey", "newUser1"),
                ("secretKey", "newSecret1"),
                ("defaultTopicPerm", "DENY"),
                ("topicPerms", "AdmT=PUB,Other=SUB"),
                ("admin", "false"),
            ],
        )
    };
    assert_denied(&call_as(&mut s, create(), APP), "code=50");
    assert_eq!(call_as(&mut s, create(), ADMIN).code, 0);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("newUser1") && text.contains("AdmT=PUB"),
        "{text}"
    );
    let r = call_as(&mut s, send_cmd("AdmT", b"x"), ("newUser1", "newSecret1"));
    assert_eq!(r.code, 0, "{:?}", r.remark);
    // A key too short is refused with 209 and nothing changes.
    let short = request(50, &[("accessKey", "abc"), ("secretKey", "newSecret1")]);
    assert_eq!(call_as(&mut s, short, ADMIN).code, 209);

    let r = call_as(
        &mut s,
        request(53, &[("globalWhiteAddrs", "10.9.8.*,10.9.7.1")]),
        ADMIN,
    );
    assert_eq!(r.code, 0, "{:?}", r.remark);
    assert!(std::fs::read_to_string(&file).unwrap().contains("10.9.8.*"));
    let bad = request(53, &[("globalWhiteAddrs", "10.9.8.300")]);
    assert_eq!(call_as(&mut s, bad, ADMIN).code, 211);

    let r = call_as(&mut s, request(52, &[]), ADMIN);
    assert_eq!(r.code, 0);
    assert!(
        r.ext("version").unwrap().contains("\"counter\":2"),
        "{:?}",
        r.ext("version")
    );
    assert!(r.ext("brokerAddr").is_some() && r.ext("clusterName").is_some());
    // The broker's own secret is masked in its config (GET_BROKER_CONFIG, admin only).
    let r = call_as(&mut s, request(26, &[]), ADMIN);
    let props = String::from_utf8_lossy(&r.body).to_string();
    assert!(
        props.contains("secretKey=******") && !props.contains(ADMIN.1),
        "{props}"
    );
    // Not even an admin account may turn ACL off or swap the broker's keys remotely.
    for change in [
        "aclEnable=false",
        "plainAclFile=/tmp/other.yml",
        "secretKey=x",
    ] {
        let r = call_as(
            &mut s,
            request(25, &[]).with_body(change.as_bytes().to_vec()),
            ADMIN,
        );
        assert_eq!(r.code, 16, "{change}: {:?}", r.remark);
        assert_eq!(
            r.remark.as_deref(),
            Some("Can not update config in black list.")
        );
    }
    let r = call_as(&mut s, request(54, &[]), ADMIN);
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert!(
        body.contains("newUser1") && !body.contains("newSecret1"),
        "{body}"
    );

    let r = call_as(&mut s, request(51, &[("accessKey", "newUser1")]), ADMIN);
    assert_eq!(r.code, 0);
    assert!(!std::fs::read_to_string(&file).unwrap().contains("newUser1"));
    let r = call_as(&mut s, send_cmd("AdmT", b"x"), ("newUser1", "newSecret1"));
    assert_denied(&r, "No acl config for newUser1");
    let r = call_as(&mut s, request(51, &[("accessKey", "newUser1")]), ADMIN);
    assert_eq!(r.code, 210);
}

#[test]
fn start_with_a_missing_or_broken_file_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yml");
    let broken = write_acl(
        dir.path(),
        "accounts:\n  - accessKey: ab\n    secretKey: 12345678\n",
    );
    let valid = dir.path().join("valid.yml");
    std::fs::write(&valid, ACL_FILE).unwrap();
    for (file, why) in [
        (&missing, "cannot read"),
        (&broken, "accessKey=ab"),
        // Valid, but a standalone broker without its own admin keys could not register.
        (&valid, "accessKey/secretKey are not set"),
    ] {
        let (code, _, err) = run_to_exit(
            BROKER,
            &[
                "--set",
                "aclEnable=true",
                "--set",
                &format!("plainAclFile={}", file.display()),
                "--set",
                &format!("storePathRootDir={}", dir.path().join("store").display()),
                "--set",
                "listenPort=0",
                "--set",
                "standalone=true",
                "--set",
                "namesrvListenPort=0",
            ],
            Duration::from_secs(30),
        );
        assert!(code.is_some_and(|c| c != 0), "{file:?}: {code:?} {err}");
        assert!(
            err.contains("plainAclFile") && err.contains(why),
            "{file:?}: {err}"
        );
    }
}

#[test]
fn a_slave_syncs_from_an_acl_master_with_its_keys_and_not_without() {
    use common::ha::{start_master, start_namesrv, start_slave};
    let dir = tempfile::tempdir().unwrap();
    let file = write_acl(dir.path(), ACL_FILE);
    let ns = start_namesrv();
    let sets = acl_sets(&file);
    let refs: Vec<&str> = sets.iter().map(String::as_str).collect();
    let (master, _) = start_master(&dir.path().join("m"), ns.addr, &refs);
    let mut m = connect(master.addr);
    assert_eq!(call_as(&mut m, create_topic_cmd("SyncT", 1), ADMIN).code, 0);
    // The slave signs its metadata requests with its accessKey/secretKey (an admin account).
    let slave = start_slave(&dir.path().join("s"), ns.addr, None, &refs);
    let mut s = connect(slave.addr);
    let synced = common::wait_until(Duration::from_secs(30), || {
        let r = call_as(&mut s, request(21, &[]), ADMIN);
        String::from_utf8_lossy(&r.body).contains("\"SyncT\"")
    });
    assert!(synced, "the slave did not get the master's topics");
    // A slave without keys is refused, and the master logs it.
    let unsigned = [
        "brokerId=2".to_string(),
        "aclEnable=true".into(),
        format!("plainAclFile={}", file.display()),
    ];
    let refs: Vec<&str> = unsigned.iter().map(String::as_str).collect();
    let _keyless = start_slave(&dir.path().join("s2"), ns.addr, None, &refs);
    let line = wait_for_log(
        &master,
        &["ACL refused", "No accessKey is configured"],
        Duration::from_secs(30),
    );
    assert!(
        line.is_some(),
        "the master did not refuse the unsigned slave"
    );
}
