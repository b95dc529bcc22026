//! The compiled rules: what `plain_acl.yml` says, checked and parsed once (address patterns,
//! perm bits, group names as `%RETRY%<group>` resources as RocketMQ keys them), so a request check
//! is hash lookups and integer compares. Built from an [`AclFile`]; an invalid file is an error
//! naming the account and the field, and the previous rules stay in force.

use std::collections::HashMap;

use super::address::AddressPattern;
use super::file::AclFile;
use super::perm;
use super::sign::SigningKey;
use crate::protocol::body::DataVersion;
use crate::protocol::headers::PlainAccessConfig;

/// RocketMQ's retry-topic prefix: group resources are keyed `%RETRY%<group>`.
pub const RETRY_PREFIX: &str = "%RETRY%";

/// Keys must be longer than this (RocketMQ's `ACCESS_KEY_MIN_LENGTH` / `SECRET_KEY_MIN_LENGTH`).
pub const KEY_MIN_LENGTH: usize = 6;

/// `%RETRY%<group>`.
pub fn group_resource(group: &str) -> String {
    format!("{RETRY_PREFIX}{group}")
}

/// An invalid account or pattern (the text names which).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRules(pub String);

/// One account, compiled.
#[derive(Debug, Clone)]
pub struct Account {
    pub access_key: String,
    pub secret_key: String,
    /// `secret_key`'s HMAC key schedule, done once per rules build (see `sign`).
    pub key: SigningKey,
    pub white: AddressPattern,
    pub admin: bool,
    pub default_topic_perm: u8,
    pub default_group_perm: u8,
    /// Topic name or `%RETRY%<group>` -> perm bits.
    pub perms: HashMap<String, u8>,
}

/// Everything a request check needs.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub global_white: Vec<AddressPattern>,
    pub accounts: HashMap<String, Account>,
    pub version: DataVersion,
}

/// Check one account as RocketMQ's `PlainPermissionManager` does when it loads or updates it.
pub fn check_account(c: &PlainAccessConfig) -> Result<Account, InvalidRules> {
    let ak = c.access_key.clone().unwrap_or_default();
    if ak.len() <= KEY_MIN_LENGTH {
        return Err(InvalidRules(format!(
            "The accessKey={ak} cannot be null and length should longer than {KEY_MIN_LENGTH}"
        )));
    }
    let sk = c.secret_key.clone().unwrap_or_default();
    if sk.len() <= KEY_MIN_LENGTH {
        return Err(InvalidRules(format!(
            "The secretKey of accessKey={ak} cannot be null and length should longer than {KEY_MIN_LENGTH}"
        )));
    }
    let bad = |field: &str, why: String| InvalidRules(format!("accessKey={ak} {field}: {why}"));
    let white = AddressPattern::parse(c.white_remote_address.as_deref().unwrap_or(""))
        .map_err(|e| bad("whiteRemoteAddress", e.to_string()))?;
    let default_topic_perm = perm::parse_default(c.default_topic_perm.as_deref())
        .map_err(|e| bad("defaultTopicPerm", e.to_string()))?;
    let default_group_perm = perm::parse_default(c.default_group_perm.as_deref())
        .map_err(|e| bad("defaultGroupPerm", e.to_string()))?;
    let mut perms = HashMap::new();
    for (field, entries, is_group) in [
        ("topicPerms", &c.topic_perms, false),
        ("groupPerms", &c.group_perms, true),
    ] {
        for entry in entries {
            let (name, p) = entry.split_once('=').ok_or_else(|| {
                bad(
                    field,
                    format!("'{entry}' is not Res=Perm (for example topicA=SUB)"),
                )
            })?;
            let bits = perm::parse(p).map_err(|e| bad(field, format!("'{entry}': {e}")))?;
            let name = name.trim();
            let key = if is_group {
                group_resource(name)
            } else {
                name.to_string()
            };
            perms.insert(key, bits);
        }
    }
    Ok(Account {
        access_key: ak,
        key: SigningKey::new(&sk),
        secret_key: sk,
        white,
        admin: c.admin,
        default_topic_perm,
        default_group_perm,
        perms,
    })
}

impl Rules {
    /// Compile a file.
    pub fn build(file: &AclFile) -> Result<Self, InvalidRules> {
        let global_white = file
            .global_white_remote_addresses
            .iter()
            .map(|p| {
                AddressPattern::parse(p)
                    .map_err(|e| InvalidRules(format!("globalWhiteRemoteAddresses: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut accounts = HashMap::new();
        for (i, c) in file.accounts.iter().enumerate() {
            let a = check_account(c).map_err(|e| InvalidRules(format!("accounts[{i}]: {e}")))?;
            if accounts.contains_key(&a.access_key) {
                return Err(InvalidRules(format!(
                    "accounts[{i}]: accessKey={} appears twice",
                    a.access_key
                )));
            }
            accounts.insert(a.access_key.clone(), a);
        }
        Ok(Rules {
            global_white,
            accounts,
            version: file.data_version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(ak: &str, sk: &str) -> PlainAccessConfig {
        PlainAccessConfig::with_keys(ak, sk)
    }

    #[test]
    fn compiles_perms_with_group_resources() {
        let mut c = acct("RocketMQ", "12345678");
        c.default_group_perm = Some("SUB".into());
        c.topic_perms = vec!["topicA=DENY".into(), "topicB=PUB|SUB".into()];
        c.group_perms = vec!["groupA=DENY".into()];
        let a = check_account(&c).unwrap();
        assert_eq!(a.default_topic_perm, perm::DENY);
        assert_eq!(a.default_group_perm, perm::SUB);
        assert_eq!(a.perms["topicB"], perm::PUB | perm::SUB);
        assert_eq!(a.perms["%RETRY%groupA"], perm::DENY);
        assert!(!a.white.matches("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn the_shipped_example_compiles() {
        let f = AclFile::parse(include_str!("../../conf/plain_acl.yml")).unwrap();
        let r = Rules::build(&f).unwrap();
        assert!(r.accounts["rocketmq2"].admin && !r.accounts["RocketMQ"].admin);
        assert!(r.global_white.is_empty());
    }

    #[test]
    fn refuses_what_rocketmq_refuses() {
        assert!(check_account(&acct("short", "12345678")).is_err());
        assert!(check_account(&acct("abcdefg", "123456")).is_err());
        let mut c = acct("abcdefg", "1234567");
        c.topic_perms = vec!["topicA".into()];
        let e = check_account(&c).unwrap_err().0;
        assert!(e.contains("topicPerms") && e.contains("Res=Perm"), "{e}");
        c.topic_perms = vec!["topicA=ALL".into()];
        assert!(check_account(&c).unwrap_err().0.contains("ALL"));
        c.topic_perms.clear();
        c.white_remote_address = Some("10.0.0.999".into());
        assert!(check_account(&c)
            .unwrap_err()
            .0
            .contains("whiteRemoteAddress"));
        let file = AclFile {
            accounts: vec![acct("abcdefg", "1234567"), acct("abcdefg", "7654321")],
            ..Default::default()
        };
        assert!(Rules::build(&file).unwrap_err().0.contains("twice"));
        let file = AclFile {
            global_white_remote_addresses: vec!["x.y".into()],
            ..Default::default()
        };
        assert!(Rules::build(&file).is_err());
    }
}
