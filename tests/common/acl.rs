//! ACL test support: a `plain_acl.yml` with known accounts, brokers and name servers started with
//! `aclEnable=true` on it, and requests signed as RocketMQ clients sign them
//! (`actormq::acl::sign::sign`).
#![allow(dead_code)]

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use actormq::acl::sign::sign;
use actormq::acl::Credentials;
use actormq::protocol::RemotingCommand;

use super::{call, set_args, start, start_broker, wait_until, Broker, Server, BROKER, NAMESRV};

/// The admin account (mqadmin's, and the brokers' own keys for their registrations).
pub const ADMIN: (&str, &str) = ("adminKey1", "adminSecret1");
/// An application account: PUB|SUB on `AclT`, SUB on `ReadOnlyT`, SUB as group `AclG`; every
/// other topic and group denied.
pub const APP: (&str, &str) = ("appUser1", "appSecret1");

/// The accounts every ACL test starts from.
pub const ACL_FILE: &str = r#"
globalWhiteRemoteAddresses:
accounts:
  - accessKey: adminKey1
    secretKey: adminSecret1
    admin: true
  - accessKey: appUser1
    secretKey: appSecret1
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: DENY
    topicPerms:
      - AclT=PUB|SUB
      - ReadOnlyT=SUB
    groupPerms:
      - AclG=SUB
"#;

/// RocketMQ's remark prefix for an ACL refusal.
pub const ACL_EXCEPTION: &str = "org.apache.rocketmq.acl.common.AclException: ";

/// Write `text` as `dir/plain_acl.yml`; returns its path.
/// `ACL_FILE` plus an admin account `account` (a controller's or name server's own keys),
/// written as `write_acl` does.
pub fn write_acl_with_admin(dir: &Path, account: (&str, &str)) -> PathBuf {
    let (ak, sk) = account;
    let text = format!("{ACL_FILE}  - accessKey: {ak}\n    secretKey: {sk}\n    admin: true\n");
    write_acl(dir, &text)
}

pub fn write_acl(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("plain_acl.yml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The `--set` pairs that turn ACL on with `file` and give the process the admin keys.
pub fn acl_sets(file: &Path) -> Vec<String> {
    vec![
        "aclEnable=true".to_string(),
        format!("plainAclFile={}", file.display()),
        format!("accessKey={}", ADMIN.0),
        format!("secretKey={}", ADMIN.1),
    ]
}

/// A standalone broker (its embedded name server too) with ACL on, on `dir/plain_acl.yml`
/// written from `text`.
pub fn start_acl_broker(dir: &Path, text: &str) -> (Broker, PathBuf) {
    let file = write_acl(dir, text);
    let store = dir.join("store");
    std::fs::create_dir_all(&store).unwrap();
    let sets = acl_sets(&file);
    let refs: Vec<&str> = sets.iter().map(String::as_str).collect();
    (start_broker(BROKER, &store, &refs), file)
}

/// A name server on a free port with ACL on `file` (no KV file).
pub fn start_acl_namesrv(file: &Path) -> Server {
    let mut sets = vec![
        "listenPort=0".to_string(),
        "listenAddr=127.0.0.1".into(),
        "kvConfigPath=".into(),
    ];
    sets.extend(acl_sets(file));
    let args = set_args(&sets);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    start(NAMESRV, &refs)
}

/// `cmd` signed with `account` (access key, secret).
pub fn signed(mut cmd: RemotingCommand, account: (&str, &str)) -> RemotingCommand {
    sign(&mut cmd, &Credentials::new(account.0, account.1));
    cmd
}

/// Sign `cmd` with `account` and call.
pub fn call_as(s: &mut TcpStream, cmd: RemotingCommand, account: (&str, &str)) -> RemotingCommand {
    call(s, &signed(cmd, account))
}

/// Assert `resp` is RocketMQ's ACL refusal (SYSTEM_ERROR, `AclException` remark) containing `why`.
#[track_caller]
pub fn assert_denied(resp: &RemotingCommand, why: &str) {
    let remark = resp.remark.as_deref().unwrap_or("");
    assert_eq!(
        resp.code, 1,
        "expected an ACL refusal with '{why}', got {remark}"
    );
    assert!(
        remark.starts_with(ACL_EXCEPTION) && remark.contains(why),
        "remark {remark:?} lacks '{why}'"
    );
}

/// Wait (at most `limit`) until the server wrote a stderr line containing every one of `parts`;
/// returns that line.
pub fn wait_for_log(server: &Server, parts: &[&str], limit: Duration) -> Option<String> {
    let mut found = None;
    wait_until(limit, || {
        while let Ok(line) = server.stderr_lines.try_recv() {
            if parts.iter().all(|p| line.contains(p)) {
                found = Some(line);
                return true;
            }
        }
        false
    });
    found
}

/// A connection to `addr` (a shorthand for tests holding several).
pub fn conn(addr: SocketAddr) -> TcpStream {
    super::connect(addr)
}

/// UPDATE_AND_CREATE_TOPIC (17) for `topic` with `queues` queues, as `rmq::create_topic` sends it.
pub fn create_topic_cmd(topic: &str, queues: i32) -> RemotingCommand {
    let q = queues.to_string();
    super::rmq::request(
        17,
        &[
            ("topic", topic),
            ("defaultTopic", "TBW102"),
            ("readQueueNums", &q),
            ("writeQueueNums", &q),
            ("perm", "6"),
            ("topicFilterType", "SINGLE_TAG"),
            ("topicSysFlag", "0"),
            ("order", "false"),
        ],
    )
}

/// SEND_MESSAGE_V2 of `body` to queue 0 of `topic`, as a Java producer sends it.
pub fn send_cmd(topic: &str, body: &[u8]) -> RemotingCommand {
    send_keyed_cmd(topic, body, "")
}

/// [`send_cmd`] with the message key `key` (none when empty).
pub fn send_keyed_cmd(topic: &str, body: &[u8], key: &str) -> RemotingCommand {
    use actormq::protocol::headers::send::SendMessageRequestHeaderV2;
    let mut props = actormq::protocol::message::Properties::new();
    if !key.is_empty() {
        props.insert("KEYS", key);
    }
    let mut h = super::rmq::send_header(topic, 0);
    h.properties = Some(props.encode());
    let v2: SendMessageRequestHeaderV2 = h.into();
    RemotingCommand::request_with(310, &v2)
        .with_opaque(super::rmq::next_opaque())
        .with_body(body.to_vec())
}

/// PULL_MESSAGE of queue 0 of `topic` from offset 0 as `group`.
pub fn pull_cmd(group: &str, topic: &str) -> RemotingCommand {
    RemotingCommand::request_with(11, &super::rmq::pull_header(group, topic))
        .with_opaque(super::rmq::next_opaque())
}
