//! A broker's ACL accounts (plain ACL, RocketMQ 4.x): create or update an account (50), delete
//! one (51), the rules' version (52), the global white list (53) and the whole rule set (54).
//! The broker answers these only to an admin account when `aclEnable=true`, so the
//! [`AdminClient`] must sign (see `tools_config`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::client::{json_body, AdminClient};
use super::error::Result;
use crate::protocol::body::DataVersion;
use crate::protocol::codes::request_code as rq;
use crate::protocol::headers::{
    CreateAccessConfigRequestHeader, DeleteAccessConfigRequestHeader,
    GetBrokerAclConfigResponseHeader, GetBrokerClusterAclConfigResponseBody, PlainAccessConfig,
    UpdateGlobalWhiteAddrsConfigRequestHeader,
};
use crate::protocol::RemotingCommand;

/// GET_BROKER_CLUSTER_ACL_INFO's answer (`ClusterAclVersionInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AclVersionInfo {
    pub cluster_name: String,
    pub broker_name: String,
    pub broker_addr: String,
    /// The rules' version.
    pub acl_config_data_version: DataVersion,
    /// Per rules file: its version (one entry when the broker sent no per-file table).
    pub all_acl_config_data_version: BTreeMap<String, DataVersion>,
}

impl AdminClient {
    /// UPDATE_AND_CREATE_ACL_CONFIG (50): create the account `config` names, or replace it.
    pub async fn update_acl_config(&self, addr: &str, config: &PlainAccessConfig) -> Result<()> {
        let header = CreateAccessConfigRequestHeader::from_config(config);
        let cmd = RemotingCommand::request_with(rq::UPDATE_AND_CREATE_ACL_CONFIG, &header);
        self.call_ok(addr, cmd).await.map(drop)
    }

    /// DELETE_ACL_CONFIG (51): remove the account `access_key`.
    pub async fn delete_acl_config(&self, addr: &str, access_key: &str) -> Result<()> {
        let header = DeleteAccessConfigRequestHeader {
            access_key: access_key.to_string(),
        };
        let cmd = RemotingCommand::request_with(rq::DELETE_ACL_CONFIG, &header);
        self.call_ok(addr, cmd).await.map(drop)
    }

    /// GET_BROKER_CLUSTER_ACL_INFO (52): the broker's identity and its rules' version.
    pub async fn acl_version(&self, addr: &str) -> Result<AclVersionInfo> {
        let cmd = RemotingCommand::request(rq::GET_BROKER_CLUSTER_ACL_INFO);
        let resp = self.call_ok(addr, cmd).await?;
        let h: GetBrokerAclConfigResponseHeader = resp.header()?;
        let version: DataVersion = json_body("acl version", h.version.as_bytes())?;
        let all = match h.all_acl_file_version.as_deref().filter(|s| !s.is_empty()) {
            Some(text) => json_body("acl file versions", text.as_bytes())?,
            None => BTreeMap::from([(String::new(), version)]),
        };
        Ok(AclVersionInfo {
            cluster_name: h.cluster_name,
            broker_name: h.broker_name,
            broker_addr: h.broker_addr,
            acl_config_data_version: version,
            all_acl_config_data_version: all,
        })
    }

    /// UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53): replace the global white list with `addrs`
    /// (comma-separated patterns; empty clears it).
    pub async fn update_global_white_addrs(
        &self,
        addr: &str,
        addrs: &str,
        acl_file: Option<&str>,
    ) -> Result<()> {
        let header = UpdateGlobalWhiteAddrsConfigRequestHeader {
            global_white_addrs: addrs.to_string(),
            acl_file_full_path: acl_file.map(str::to_string),
        };
        let cmd = RemotingCommand::request_with(rq::UPDATE_GLOBAL_WHITE_ADDRS_CONFIG, &header);
        self.call_ok(addr, cmd).await.map(drop)
    }

    /// GET_BROKER_CLUSTER_ACL_CONFIG (54): the global white list and every account (secret keys
    /// as the broker shows them: ours masks them).
    pub async fn acl_config(&self, addr: &str) -> Result<GetBrokerClusterAclConfigResponseBody> {
        let cmd = RemotingCommand::request(rq::GET_BROKER_CLUSTER_ACL_CONFIG);
        let resp = self.call_ok(addr, cmd).await?;
        json_body("acl config", &resp.body)
    }
}
