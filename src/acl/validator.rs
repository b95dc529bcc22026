//! The per-request check, in RocketMQ's order (`PlainPermissionManager.validate`): global white
//! list, access key present, account known, account white address (which skips the signature,
//! as RocketMQ), signature, the message-trace topic exemption, admin-only codes, then each
//! resource against the account's perms with its defaults. Pure: rules, request and peer in, a
//! verdict out; the texts are RocketMQ's so clients and operators see familiar messages.

use std::net::IpAddr;

use super::perm;
use super::resource::{self, describe, is_group, Need};
use super::rules::{Account, Rules};
use super::sign;
use crate::protocol::RemotingCommand;

/// RocketMQ's trace topic: a send to it skips the perm checks (RocketMQ's exemption).
pub const TRACE_TOPIC: &str = "RMQ_SYS_TRACE_TOPIC";

/// A refused request: RocketMQ's message and the access key (if any) for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Denied {
    pub message: String,
    pub access_key: Option<String>,
}

fn deny(message: String, access_key: Option<&str>) -> Denied {
    Denied {
        message,
        access_key: access_key.map(str::to_string),
    }
}

/// How a request passed.
#[derive(Debug, Clone, Copy)]
pub enum Passed<'a> {
    /// By an address white list: no account, nothing else checked.
    WhiteListed,
    /// Signed (or account-white-listed) by this account.
    Account(&'a Account),
}

/// Check `req` from `peer` against `rules`, with `admin_only` telling which codes need an admin
/// account (the broker's and the name server's tables differ).
pub fn validate<'a>(
    rules: &'a Rules,
    req: &RemotingCommand,
    peer: IpAddr,
    admin_only: fn(i32) -> bool,
) -> Result<Passed<'a>, Denied> {
    if rules.global_white.iter().any(|p| p.matches(peer)) {
        return Ok(Passed::WhiteListed);
    }
    let Some(ak) = req.ext(sign::ACCESS_KEY) else {
        return Err(deny("No accessKey is configured".into(), None));
    };
    let Some(account) = rules.accounts.get(ak) else {
        return Err(deny(format!("No acl config for {ak}"), Some(ak)));
    };
    if account.white.matches(peer) {
        return Ok(Passed::Account(account));
    }
    if !sign::verify(req, &account.key) {
        return Err(deny(
            format!("Check signature failed for accessKey={ak}"),
            Some(ak),
        ));
    }
    let needs = resource::needs(req).map_err(|e| deny(e, Some(ak)))?;
    if needs
        .iter()
        .any(|(r, p)| r == TRACE_TOPIC && *p == perm::PUB)
    {
        return Ok(Passed::Account(account));
    }
    if admin_only(req.code) && !account.admin {
        return Err(deny(
            format!(
                "Need admin permission for request code={}, but accessKey={ak} is not",
                req.code
            ),
            Some(ak),
        ));
    }
    check_needs(account, &needs)?;
    Ok(Passed::Account(account))
}

/// Each resource against the account (`checkPerm`): an admin account with no perm entries may do
/// everything; otherwise an entry decides, or the default topic/group perm.
pub fn check_needs(account: &Account, needs: &[Need]) -> Result<(), Denied> {
    if account.admin && account.perms.is_empty() {
        return Ok(());
    }
    for (resource, needed) in needs {
        let owned = account
            .perms
            .get(resource)
            .copied()
            .unwrap_or(if is_group(resource) {
                account.default_group_perm
            } else {
                account.default_topic_perm
            });
        if !perm::allows(*needed, owned) {
            return Err(deny(
                format!(
                    "No default permission for {} (accessKey={})",
                    describe(resource),
                    account.access_key
                ),
                Some(&account.access_key),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::file::AclFile;
    use crate::acl::sign::{sign, Credentials};

    const FILE: &str = r#"
globalWhiteRemoteAddresses: ["10.10.103.*"]
accounts:
  - accessKey: RocketMQ
    secretKey: 12345678
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms: [topicA=DENY, topicB=PUB|SUB, topicC=SUB]
    groupPerms: [groupA=DENY]
  - accessKey: rocketmq2
    secretKey: 87654321
    whiteRemoteAddress: 192.168.1.*
    admin: true
"#;

    fn rules() -> Rules {
        Rules::build(&AclFile::parse(FILE).unwrap()).unwrap()
    }

    fn signed(code: i32, ext: &[(&str, &str)], ak: &str, sk: &str) -> RemotingCommand {
        let mut r = RemotingCommand::request(code);
        for (k, v) in ext {
            r.set_ext(k, v);
        }
        sign(&mut r, &Credentials::new(ak, sk));
        r
    }

    fn check(req: &RemotingCommand, peer: &str) -> Result<(), String> {
        let rules = rules();
        validate(&rules, req, peer.parse().unwrap(), perm::needs_admin)
            .map(|_| ())
            .map_err(|d| d.message)
    }

    const LOCAL: &str = "127.0.0.1";

    #[test]
    fn order_of_checks() {
        let anon = RemotingCommand::request(17);
        assert_eq!(check(&anon, "10.10.103.7"), Ok(()));
        assert_eq!(
            check(&anon, LOCAL),
            Err("No accessKey is configured".into())
        );
        let unknown = signed(10, &[("topic", "topicB")], "nobody12", "12345678");
        assert_eq!(
            check(&unknown, LOCAL),
            Err("No acl config for nobody12".into())
        );
        let wrong = signed(10, &[("topic", "topicB")], "RocketMQ", "wrong-secret");
        assert_eq!(
            check(&wrong, LOCAL),
            Err("Check signature failed for accessKey=RocketMQ".into())
        );
        // The account's white address skips the signature (RocketMQ's behaviour).
        let wrong_admin = signed(17, &[("topic", "x")], "rocketmq2", "wrong-secret");
        assert_eq!(check(&wrong_admin, "192.168.1.20"), Ok(()));
        assert!(check(&wrong_admin, LOCAL)
            .unwrap_err()
            .contains("signature"));
        let admin = signed(17, &[("topic", "x")], "RocketMQ", "12345678");
        assert_eq!(
            check(&admin, LOCAL),
            Err("Need admin permission for request code=17, but accessKey=RocketMQ is not".into())
        );
        assert_eq!(
            check(&signed(17, &[], "rocketmq2", "87654321"), LOCAL),
            Ok(())
        );
    }

    #[test]
    fn perms_and_defaults() {
        let ok =
            |code, ext: &[(&str, &str)]| check(&signed(code, ext, "RocketMQ", "12345678"), LOCAL);
        assert_eq!(ok(310, &[("b", "topicB")]), Ok(()));
        assert!(ok(310, &[("b", "topicC")])
            .unwrap_err()
            .contains("topic:topicC"));
        assert!(ok(310, &[("b", "topicA")]).is_err());
        assert!(ok(310, &[("b", "other")]).is_err());
        assert_eq!(
            ok(11, &[("topic", "topicC"), ("consumerGroup", "g1")]),
            Ok(())
        );
        let e = ok(11, &[("topic", "topicC"), ("consumerGroup", "groupA")]).unwrap_err();
        assert_eq!(
            e,
            "No default permission for group:groupA (accessKey=RocketMQ)"
        );
        // The trace topic is exempt even though the default topic perm is DENY.
        assert_eq!(ok(310, &[("b", TRACE_TOPIC)]), Ok(()));
        // Codes without resources need only the signature.
        assert_eq!(ok(30, &[("topic", "anything")]), Ok(()));
    }

    #[test]
    fn denial_never_carries_the_secret() {
        let wrong = signed(10, &[("topic", "topicB")], "RocketMQ", "wrong-secret");
        let rules = rules();
        let d = validate(&rules, &wrong, LOCAL.parse().unwrap(), perm::needs_admin).unwrap_err();
        assert!(!d.message.contains("12345678") && !d.message.contains("wrong-secret"));
        assert_eq!(d.access_key.as_deref(), Some("RocketMQ"));
    }
}
