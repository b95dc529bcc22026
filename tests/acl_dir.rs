//! The ACL directory (RocketMQ 4.9.3+'s `conf/acl`; here `aclDir`, by default the `acl`
//! directory next to `plainAclFile`) through the real broker binary: accounts split across
//! `plain_acl.yml` and a file of the directory both work, an edit re-reads only the file edited
//! (a broken file keeps its own old rules), and an ACL admin change to an account of the
//! directory's file is written to that file, with that file's data version in code 52's answer.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::acl::*;
use common::rmq::request;
use common::{connect, Broker};

const LIMIT: Duration = Duration::from_secs(10);

/// An account of the directory's file: PUB|SUB on `TeamT`.
const TEAM: (&str, &str) = ("teamUser1", "teamSecret1");

fn team_file(extra: &str) -> String {
    format!(
        "accounts:\n  - accessKey: {}\n    secretKey: {}\n    defaultTopicPerm: DENY\n    \
         topicPerms:\n      - TeamT=PUB|SUB\n{extra}",
        TEAM.0, TEAM.1
    )
}

/// `dir/acl/team.yml` (with `extra` accounts) written before the broker starts on
/// `dir/plain_acl.yml`.
fn start_with_team_file(dir: &Path, extra: &str) -> (Broker, PathBuf, PathBuf) {
    let team = dir.join("acl").join("team.yml");
    std::fs::create_dir_all(team.parent().unwrap()).unwrap();
    std::fs::write(&team, team_file(extra)).unwrap();
    let (b, plain) = start_acl_broker(dir, ACL_FILE);
    (b, plain, team)
}

#[test]
fn accounts_of_both_files_work() {
    let dir = tempfile::tempdir().unwrap();
    // appUser1 again, with another secret: plain_acl.yml defines it first, so this one is
    // ignored (and logged).
    let dup = format!(
        "  - accessKey: {}\n    secretKey: otherSecret1\n    admin: true\n",
        APP.0
    );
    let (b, _, _) = start_with_team_file(dir.path(), &dup);
    let mut s = connect(b.addr);
    for t in ["TeamT", "AclT"] {
        assert_eq!(call_as(&mut s, create_topic_cmd(t, 1), ADMIN).code, 0);
    }
    let r = call_as(&mut s, send_cmd("TeamT", b"team"), TEAM);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let r = call_as(&mut s, send_cmd("AclT", b"app"), APP);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    assert_denied(&call_as(&mut s, send_cmd("AclT", b"x"), TEAM), "topic:AclT");
    assert_denied(
        &call_as(&mut s, send_cmd("TeamT", b"x"), (TEAM.0, "wrongSecret")),
        "Check signature failed for accessKey=teamUser1",
    );
    let r = call_as(&mut s, send_cmd("AclT", b"x"), (APP.0, "otherSecret1"));
    assert_denied(&r, "Check signature failed for accessKey=appUser1");
    let line = wait_for_log(
        &b.server,
        &["WARN", "accessKey=appUser1", "is ignored"],
        LIMIT,
    );
    assert!(
        line.is_some_and(|l| l.contains("team.yml")),
        "no duplicate warning"
    );
}

#[test]
fn an_edit_rereads_only_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let (b, plain, team) = start_with_team_file(dir.path(), "");
    let mut s = connect(b.addr);
    assert_eq!(call_as(&mut s, create_topic_cmd("TeamT", 1), ADMIN).code, 0);
    // plain_acl.yml broken: its accounts stay as they were.
    std::fs::write(&plain, "accounts: [\n").unwrap();
    let line = wait_for_log(
        &b.server,
        &["WARN", "ACL file not reloaded", "plain_acl.yml"],
        LIMIT,
    );
    assert!(line.is_some(), "no warning about the broken plain_acl.yml");
    // team.yml edited: a new account of it applies, alone.
    let second =
        "  - accessKey: teamUser2\n    secretKey: teamSecret2\n    defaultTopicPerm: PUB\n";
    std::fs::write(&team, team_file(second)).unwrap();
    let line = wait_for_log(&b.server, &["ACL rules reloaded"], LIMIT).expect("no reload logged");
    assert!(
        line.contains("team.yml") && !line.contains("plain_acl.yml"),
        "{line}"
    );
    let r = call_as(
        &mut s,
        send_cmd("TeamT", b"2"),
        ("teamUser2", "teamSecret2"),
    );
    assert_eq!(r.code, 0, "{:?}", r.remark);
    // The broken file's accounts (admin, app) still in force.
    assert_eq!(call_as(&mut s, create_topic_cmd("AclT", 1), ADMIN).code, 0);
    let r = call_as(&mut s, send_cmd("AclT", b"app"), APP);
    assert_eq!(r.code, 0, "{:?}", r.remark);
}

#[test]
fn an_admin_update_goes_to_the_file_of_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let (b, plain, team) = start_with_team_file(dir.path(), "");
    let mut s = connect(b.addr);
    assert_eq!(
        call_as(&mut s, create_topic_cmd("OtherT", 1), ADMIN).code,
        0
    );
    assert_denied(
        &call_as(&mut s, send_cmd("OtherT", b"x"), TEAM),
        "topic:OtherT",
    );
    let update = request(
        50,
        &[
            ("accessKey", TEAM.0),
            ("secretKey", TEAM.1),
            ("topicPerms", "TeamT=PUB|SUB,OtherT=PUB"),
        ],
    );
    let r = call_as(&mut s, update, ADMIN);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let team_text = std::fs::read_to_string(&team).unwrap();
    assert!(team_text.contains("OtherT=PUB"), "{team_text}");
    let plain_text = std::fs::read_to_string(&plain).unwrap();
    assert!(!plain_text.contains(TEAM.0), "{plain_text}");
    let r = call_as(&mut s, send_cmd("OtherT", b"x"), TEAM);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    // Code 52: one data version per file; only team.yml's moved.
    let r = call_as(&mut s, request(52, &[]), ADMIN);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let all: serde_json::Value = serde_json::from_str(r.ext("allAclFileVersion").unwrap()).unwrap();
    let counter = |p: &Path| all[p.display().to_string()]["counter"].as_i64();
    assert_eq!(counter(&team), Some(1), "{all}");
    assert_eq!(counter(&plain), Some(0), "{all}");
    assert!(r.ext("version").unwrap().contains("\"counter\":0"));
    // The global white list of the file the request names (mqadmin updateGlobalWhiteAddr -p).
    let team_path = team.display().to_string();
    let white = request(
        53,
        &[
            ("globalWhiteAddrs", "10.9.8.*"),
            ("aclFileFullPath", &team_path),
        ],
    );
    let r = call_as(&mut s, white, ADMIN);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    assert!(std::fs::read_to_string(&team).unwrap().contains("10.9.8.*"));
    assert!(!std::fs::read_to_string(&plain)
        .unwrap()
        .contains("10.9.8.*"));
    let elsewhere = request(
        53,
        &[
            ("globalWhiteAddrs", "10.9.8.*"),
            ("aclFileFullPath", "/etc/hosts"),
        ],
    );
    let r = call_as(&mut s, elsewhere, ADMIN);
    assert_eq!(r.code, 211, "{:?}", r.remark);
    assert!(r.remark.unwrap().contains("not one of the ACL files"));
    // Deleting it edits team.yml too.
    let r = call_as(&mut s, request(51, &[("accessKey", TEAM.0)]), ADMIN);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    assert!(!std::fs::read_to_string(&team).unwrap().contains(TEAM.0));
    assert_denied(
        &call_as(&mut s, send_cmd("OtherT", b"x"), TEAM),
        "No acl config for teamUser1",
    );
}
