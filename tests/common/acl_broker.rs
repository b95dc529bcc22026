//! The client tests' ACL broker: the client helpers' standalone broker (short timers, see
//! [`super::client`]) with ACL on through [`super::acl`]'s keys, and an accounts file shaped for
//! clients: [`ADMIN`] (admin, also the broker's own keys) and [`USER`] (`RocketMQ`): topics
//! `AclTopic` PUB|SUB, `SubOnlyTopic` SUB, every other topic DENY; groups `DeniedGroup` DENY,
//! every other group SUB (so real clients' own groups work without listing them).

use std::path::PathBuf;

use actormq::acl::sign::{sign, Credentials};
use actormq::protocol::codes::response_code;
use actormq::protocol::RemotingCommand;

use super::acl::{acl_sets, write_acl};
pub use super::acl::{ACL_EXCEPTION, ADMIN};
use super::client::{start_broker, wait_route, Standalone};
use super::{call, connect, rmq};

/// An account as (access key, secret key).
pub type Account = (&'static str, &'static str);
pub const USER: Account = ("RocketMQ", "87654321");
/// A topic `USER` may publish to and subscribe.
pub const ACL_TOPIC: &str = "AclTopic";
/// A topic `USER` may only subscribe (no PUB).
pub const SUB_ONLY_TOPIC: &str = "SubOnlyTopic";
/// A group `USER` may not use (no SUB).
pub const DENIED_GROUP: &str = "DeniedGroup";

/// The rules file: RocketMQ's format (a numeric secret as in its sample, an empty white
/// address, a global white list that does not match loopback).
pub fn acl_file_text() -> String {
    format!(
        "globalWhiteRemoteAddresses:\n\
         - 10.10.103.*\n\
         accounts:\n\
         - accessKey: {user}\n  secretKey: {user_sk}\n  whiteRemoteAddress:\n  admin: false\n  \
         defaultTopicPerm: DENY\n  defaultGroupPerm: SUB\n  topicPerms:\n  - {ACL_TOPIC}=PUB|SUB\n  \
         - {SUB_ONLY_TOPIC}=SUB\n  groupPerms:\n  - {DENIED_GROUP}=DENY\n\
         - accessKey: {admin}\n  secretKey: {admin_sk}\n  whiteRemoteAddress:\n  admin: true\n",
        user = USER.0,
        user_sk = USER.1,
        admin = ADMIN.0,
        admin_sk = ADMIN.1,
    )
}

/// A running ACL broker and where its rules file is.
pub struct AclBroker {
    pub b: Standalone,
    pub acl_file: PathBuf,
    _conf: tempfile::TempDir,
}

/// Start the standalone broker with ACL on and the rules of [`acl_file_text`], plus `extra`.
pub fn start_acl_broker(extra: &[&str]) -> AclBroker {
    let conf = tempfile::tempdir().unwrap();
    let acl_file = write_acl(conf.path(), &acl_file_text());
    // With the admin keys: the embedded name server checks the broker's registrations.
    let own = acl_sets(&acl_file);
    let mut sets: Vec<&str> = own.iter().map(String::as_str).collect();
    sets.extend_from_slice(extra);
    AclBroker {
        b: start_broker(&sets),
        acl_file,
        _conf: conf,
    }
}

pub fn credentials(account: Account) -> Credentials {
    Credentials::new(account.0, account.1)
}

/// `cmd` signed as `account`.
pub fn signed(mut cmd: RemotingCommand, account: Account) -> RemotingCommand {
    sign(&mut cmd, &credentials(account));
    cmd
}

/// Create `topic` (4 queues) as the admin account and wait for its route.
pub fn create_topic_as_admin(b: &Standalone, topic: &str) {
    let req = signed(rmq::create_topic_request(topic, 4), ADMIN);
    let r = call(&mut connect(b.broker), &req);
    assert_eq!(
        r.code,
        response_code::SUCCESS,
        "create {topic}: {:?}",
        r.remark
    );
    wait_route(b, topic, 1);
}

/// Assert `r` is RocketMQ's ACL refusal: SYSTEM_ERROR with the AclException remark.
pub fn assert_acl_refused(r: &RemotingCommand, what: &str) {
    let remark = r.remark.clone().unwrap_or_default();
    assert_eq!(r.code, response_code::SYSTEM_ERROR, "{what}: {remark}");
    assert!(remark.starts_with(ACL_EXCEPTION), "{what}: {remark}");
}
