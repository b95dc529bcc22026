//! `plain_acl.yml`: reading and writing RocketMQ's file format.
//!
//! The file is YAML written by hand (RocketMQ's example has `secretKey: 12345678`, a YAML number,
//! and `whiteRemoteAddress:` with no value), so it is read as a YAML tree and each field is taken
//! leniently by kind (a number or boolean where text is expected is its text), with an error that
//! names the account and the field when a value has the wrong shape. Syntax errors carry the
//! line and column from the YAML parser. Writing (ACL admin codes 50, 51, 53) renders the same
//! shape back; RocketMQ's `dataVersion` list is kept so the version survives restarts.

use serde_yaml_ng::Value;

use crate::protocol::body::DataVersion;
use crate::protocol::headers::PlainAccessConfig;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AclFile {
    pub global_white_remote_addresses: Vec<String>,
    pub accounts: Vec<PlainAccessConfig>,
    /// The version RocketMQ's broker writes on each change (`dataVersion: [{counter, timestamp}]`).
    pub data_version: DataVersion,
}

/// Why a file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclFileError {
    #[error("cannot read {path}: {why}")]
    Io { path: String, why: String },
    #[error("not valid YAML: {0}")]
    Syntax(String),
    #[error("{0}")]
    Field(String),
}

fn text(v: &Value, what: &str) -> Result<Option<String>, AclFileError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        _ => Err(AclFileError::Field(format!("{what} must be a text value"))),
    }
}

fn list(v: Option<&Value>, what: &str) -> Result<Vec<String>, AclFileError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Sequence(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| text(item, &format!("{what}[{i}]")).transpose())
            .collect(),
        Some(_) => Err(AclFileError::Field(format!("{what} must be a list"))),
    }
}

fn account(v: &Value, index: usize) -> Result<PlainAccessConfig, AclFileError> {
    let Value::Mapping(map) = v else {
        return Err(AclFileError::Field(format!(
            "accounts[{index}] must be a mapping of accessKey, secretKey, ..."
        )));
    };
    let name = map
        .get("accessKey")
        .and_then(|v| text(v, "").ok().flatten())
        .unwrap_or_default();
    let what = |field: &str| format!("accounts[{index}] (accessKey {name:?}) field {field}");
    for key in map.keys() {
        let k = key.as_str().unwrap_or("");
        if !KNOWN_ACCOUNT_KEYS.contains(&k) {
            return Err(AclFileError::Field(format!(
                "{}: unknown key; expected one of {}",
                what(&format!("{key:?}")),
                KNOWN_ACCOUNT_KEYS.join(", ")
            )));
        }
    }
    let get = |field: &str| -> Result<Option<String>, AclFileError> {
        map.get(field).map_or(Ok(None), |v| text(v, &what(field)))
    };
    let admin = match map.get("admin") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => false,
        Some(_) => {
            return Err(AclFileError::Field(format!(
                "{} must be true or false",
                what("admin")
            )))
        }
    };
    Ok(PlainAccessConfig {
        access_key: get("accessKey")?,
        secret_key: get("secretKey")?,
        white_remote_address: get("whiteRemoteAddress")?,
        admin,
        default_topic_perm: get("defaultTopicPerm")?,
        default_group_perm: get("defaultGroupPerm")?,
        topic_perms: list(map.get("topicPerms"), &what("topicPerms"))?,
        group_perms: list(map.get("groupPerms"), &what("groupPerms"))?,
    })
}

const KNOWN_ACCOUNT_KEYS: &[&str] = &[
    "accessKey",
    "secretKey",
    "whiteRemoteAddress",
    "admin",
    "defaultTopicPerm",
    "defaultGroupPerm",
    "topicPerms",
    "groupPerms",
];

impl AclFile {
    /// Parse the file's text.
    pub fn parse(yaml: &str) -> Result<Self, AclFileError> {
        let root: Value =
            serde_yaml_ng::from_str(yaml).map_err(|e| AclFileError::Syntax(e.to_string()))?;
        let map = match &root {
            Value::Mapping(m) => m.clone(),
            Value::Null => Default::default(),
            _ => {
                return Err(AclFileError::Field(
                    "the file must be a mapping with globalWhiteRemoteAddresses and accounts"
                        .into(),
                ))
            }
        };
        for key in map.keys() {
            let k = key.as_str().unwrap_or("");
            if !["globalWhiteRemoteAddresses", "accounts", "dataVersion"].contains(&k) {
                return Err(AclFileError::Field(format!(
                    "unknown top-level key {key:?}; expected globalWhiteRemoteAddresses, accounts, dataVersion"
                )));
            }
        }
        let accounts = match map.get("accounts") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Sequence(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| account(v, i))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(AclFileError::Field("accounts must be a list".into())),
        };
        let data_version = match map.get("dataVersion") {
            Some(Value::Sequence(v)) if !v.is_empty() => {
                serde_yaml_ng::from_value(v[0].clone()).unwrap_or_default()
            }
            _ => DataVersion::default(),
        };
        Ok(AclFile {
            global_white_remote_addresses: list(
                map.get("globalWhiteRemoteAddresses"),
                "globalWhiteRemoteAddresses",
            )?,
            accounts,
            data_version,
        })
    }

    /// Read and parse a file.
    pub fn load(path: &std::path::Path) -> Result<Self, AclFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| AclFileError::Io {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        Self::parse(&text)
    }

    /// The file's text, as the ACL admin codes write it.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# Written by the broker (ACL admin request); RocketMQ's plain_acl.yml format.\n",
        );
        out.push_str("globalWhiteRemoteAddresses:\n");
        for a in &self.global_white_remote_addresses {
            out.push_str(&format!("  - {}\n", quote(a)));
        }
        out.push_str("accounts:\n");
        for a in &self.accounts {
            render_account(&mut out, a);
        }
        out.push_str(&format!(
            "dataVersion:\n  - counter: {}\n    timestamp: {}\n",
            self.data_version.counter, self.data_version.timestamp
        ));
        out
    }

    /// The account with this access key.
    pub fn account(&self, access_key: &str) -> Option<&PlainAccessConfig> {
        self.accounts
            .iter()
            .find(|a| a.access_key.as_deref() == Some(access_key))
    }
}

fn render_account(out: &mut String, a: &PlainAccessConfig) {
    out.push_str(&format!(
        "  - accessKey: {}\n",
        quote(a.access_key.as_deref().unwrap_or(""))
    ));
    let mut field = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            out.push_str(&format!("    {name}: {}\n", quote(v)));
        }
    };
    field("secretKey", &a.secret_key);
    field("whiteRemoteAddress", &a.white_remote_address);
    field("defaultTopicPerm", &a.default_topic_perm);
    field("defaultGroupPerm", &a.default_group_perm);
    out.push_str(&format!("    admin: {}\n", a.admin));
    for (name, items) in [
        ("topicPerms", &a.topic_perms),
        ("groupPerms", &a.group_perms),
    ] {
        if !items.is_empty() {
            out.push_str(&format!("    {name}:\n"));
            for i in items {
                out.push_str(&format!("      - {}\n", quote(i)));
            }
        }
    }
}

/// A YAML double-quoted scalar (always quoted, so `12345678` stays text and `*` is no alias).
fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
globalWhiteRemoteAddresses:
  - 10.10.103.*
  - 192.168.0.*

accounts:
  - accessKey: RocketMQ
    secretKey: 12345678
    whiteRemoteAddress:
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - topicA=DENY
      - topicB=PUB|SUB
    groupPerms:
      # the group should convert to retry topic
      - groupA=DENY
  - accessKey: rocketmq2
    secretKey: 12345678
    whiteRemoteAddress: 192.168.1.*
    admin: true
"#;

    #[test]
    fn reads_rocketmq_example_and_round_trips() {
        let f = AclFile::parse(EXAMPLE).unwrap();
        assert_eq!(
            f.global_white_remote_addresses,
            ["10.10.103.*", "192.168.0.*"]
        );
        assert_eq!(f.accounts.len(), 2);
        let a = f.account("RocketMQ").unwrap();
        assert_eq!(a.secret_key.as_deref(), Some("12345678"));
        assert_eq!(a.white_remote_address, None);
        assert_eq!(a.topic_perms, ["topicA=DENY", "topicB=PUB|SUB"]);
        assert!(f.account("rocketmq2").unwrap().admin);
        let mut g = f.clone();
        g.data_version = DataVersion {
            state_version: 0,
            counter: 3,
            timestamp: 99,
        };
        assert_eq!(AclFile::parse(&g.render()).unwrap(), g);
    }

    #[test]
    fn errors_name_the_place() {
        let e = AclFile::parse("accounts:\n  - accessKey: [x\n").unwrap_err();
        assert!(
            matches!(e, AclFileError::Syntax(ref s) if s.contains("line")),
            "{e}"
        );
        let e = AclFile::parse("accounts:\n  - accessKey: abcdefg\n    topicPerms: x\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("accounts[0]") && e.contains("topicPerms"), "{e}");
        let e = AclFile::parse("accounts:\n  - accessKey: abcdefg\n    secretkey: x\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown key") && e.contains("secretkey"), "{e}");
        let e = AclFile::parse("acounts: []\n").unwrap_err().to_string();
        assert!(e.contains("acounts"), "{e}");
        assert_eq!(AclFile::parse("").unwrap(), AclFile::default());
    }
}
