//! ACL admin headers (codes 50-54, mqadmin -> broker), field for field as RocketMQ 4.9's
//! `CreateAccessConfigRequestHeader`, `DeleteAccessConfigRequestHeader`,
//! `UpdateGlobalWhiteAddrsConfigRequestHeader` and `GetBrokerAclConfigResponseHeader`, plus
//! `PlainAccessConfig`, the one account shape shared by these headers, the 54 body and the
//! `plain_acl.yml` file (same camelCase keys in JSON and YAML).

use serde::{Deserialize, Serialize};

use super::command_header;

command_header! {
    /// UPDATE_AND_CREATE_ACL_CONFIG (50) request: create or replace one account. The two perm
    /// lists are comma-joined `name=PERM` entries (`topicA=DENY,topicB=PUB|SUB`).
    pub struct CreateAccessConfigRequestHeader {
        access_key: String = "accessKey",
        secret_key: Option<String> = "secretKey",
        white_remote_address: Option<String> = "whiteRemoteAddress",
        /// Java's primitive `boolean`: absent means false.
        admin: Option<bool> = "admin",
        default_topic_perm: Option<String> = "defaultTopicPerm",
        default_group_perm: Option<String> = "defaultGroupPerm",
        topic_perms: Option<String> = "topicPerms",
        group_perms: Option<String> = "groupPerms",
    }
}

command_header! {
    /// DELETE_ACL_CONFIG (51) request.
    pub struct DeleteAccessConfigRequestHeader {
        access_key: String = "accessKey",
    }
}

command_header! {
    /// UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53) request: the new global white list, comma-joined
    /// (an empty text clears it). `aclFileFullPath` names the ACL file to change (4.9's
    /// multi-file layout); absent or empty = `plainAclFile`.
    pub struct UpdateGlobalWhiteAddrsConfigRequestHeader {
        global_white_addrs: String = "globalWhiteAddrs",
        acl_file_full_path: Option<String> = "aclFileFullPath",
    }
}

command_header! {
    /// GET_BROKER_CLUSTER_ACL_INFO (52) response (`GetBrokerAclConfigResponseHeader`).
    pub struct GetBrokerAclConfigResponseHeader {
        /// The rules' `DataVersion` as JSON (`{"counter":..,"timestamp":..}`).
        version: String = "version",
        /// JSON object: file path -> `DataVersion`.
        all_acl_file_version: Option<String> = "allAclFileVersion",
        broker_name: String = "brokerName",
        broker_addr: String = "brokerAddr",
        cluster_name: String = "clusterName",
    }
}

/// `PlainAccessConfig`: one account, as in `plain_acl.yml`, the 50 header (split) and the 54 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PlainAccessConfig {
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub white_remote_address: Option<String>,
    pub admin: bool,
    pub default_topic_perm: Option<String>,
    pub default_group_perm: Option<String>,
    pub topic_perms: Vec<String>,
    pub group_perms: Vec<String>,
}

impl PlainAccessConfig {
    /// An account with only its keys set (everything else as the file's defaults).
    pub fn with_keys(access_key: &str, secret_key: &str) -> Self {
        PlainAccessConfig {
            access_key: Some(access_key.into()),
            secret_key: Some(secret_key.into()),
            ..Default::default()
        }
    }
}

/// GET_BROKER_CLUSTER_ACL_CONFIG (54) response body (`GetBrokerClusterAclConfigResponseBody`,
/// RocketMQ 4.7-4.9.7). Secret keys are masked by the broker (RocketMQ removed 54 in 4.9.8
/// because it revealed them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct GetBrokerClusterAclConfigResponseBody {
    pub global_white_addrs: Vec<String>,
    pub plain_access_configs: Vec<PlainAccessConfig>,
}

/// Split a comma-joined header list as Java's `UtilAll.split`: pieces trimmed, empties dropped.
pub fn split_list(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl CreateAccessConfigRequestHeader {
    /// The account this request describes (perm lists split on commas).
    pub fn to_config(&self) -> PlainAccessConfig {
        PlainAccessConfig {
            access_key: Some(self.access_key.clone()),
            secret_key: self.secret_key.clone(),
            white_remote_address: self.white_remote_address.clone(),
            admin: self.admin.unwrap_or(false),
            default_topic_perm: self.default_topic_perm.clone(),
            default_group_perm: self.default_group_perm.clone(),
            topic_perms: split_list(self.topic_perms.as_deref()),
            group_perms: split_list(self.group_perms.as_deref()),
        }
    }

    /// The request for `config` (perm lists comma-joined), as mqadmin sends it.
    pub fn from_config(config: &PlainAccessConfig) -> Self {
        let join = |v: &[String]| (!v.is_empty()).then(|| v.join(","));
        CreateAccessConfigRequestHeader {
            access_key: config.access_key.clone().unwrap_or_default(),
            secret_key: config.secret_key.clone(),
            white_remote_address: config.white_remote_address.clone(),
            admin: Some(config.admin),
            default_topic_perm: config.default_topic_perm.clone(),
            default_group_perm: config.default_group_perm.clone(),
            topic_perms: join(&config.topic_perms),
            group_perms: join(&config.group_perms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::error::ProtocolError;
    use crate::protocol::header::{CommandHeader, ExtFields};

    #[test]
    fn create_round_trips_and_splits_lists() {
        let mut e = ExtFields::default();
        for (k, v) in [
            ("accessKey", "RocketMQ"),
            ("secretKey", "12345678"),
            ("admin", "true"),
            ("topicPerms", "topicA=DENY, topicB=PUB|SUB,"),
            ("groupPerms", "groupA=SUB"),
        ] {
            e.insert(k.into(), v.into());
        }
        let h = CreateAccessConfigRequestHeader::from_ext(&e).unwrap();
        let c = h.to_config();
        assert!(c.admin);
        assert_eq!(c.topic_perms, vec!["topicA=DENY", "topicB=PUB|SUB"]);
        assert_eq!(c.group_perms, vec!["groupA=SUB"]);
        let back = CreateAccessConfigRequestHeader::from_config(&c);
        assert_eq!(
            back.topic_perms.as_deref(),
            Some("topicA=DENY,topicB=PUB|SUB")
        );
        assert_eq!(back.to_config(), c);
        e.remove("accessKey");
        assert_eq!(
            CreateAccessConfigRequestHeader::from_ext(&e),
            Err(ProtocolError::MissingField("accessKey"))
        );
    }

    #[test]
    fn account_json_uses_java_names() {
        let c = PlainAccessConfig {
            access_key: Some("ak".into()),
            default_topic_perm: Some("PUB".into()),
            ..Default::default()
        };
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"accessKey\":\"ak\"") && json.contains("\"defaultTopicPerm\""));
        let body: GetBrokerClusterAclConfigResponseBody =
            serde_json::from_str(r#"{"globalWhiteAddrs":["10.*"],"plainAccessConfigs":[{"accessKey":"x","admin":true}]}"#)
                .unwrap();
        assert!(body.plain_access_configs[0].admin);
        assert_eq!(split_list(None), Vec::<String>::new());
    }
}
