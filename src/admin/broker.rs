//! Broker-wide administration: runtime info (28), the broker's configuration as properties text
//! (26 get, 25 update). Config bodies are Java `.properties` text both ways.

use std::collections::BTreeMap;

use super::client::{json_body, AdminClient};
use super::error::{AdminError, Result};
use crate::protocol::body::{admin, DataVersion, KvTable};
use crate::protocol::codes::request_code as rq;
use crate::protocol::headers::GetBrokerConfigResponseHeader;
use crate::protocol::RemotingCommand;

/// A broker's (or name server's) configuration as it answered: key -> value, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ConfigTable {
    /// The broker's config DataVersion (response header `version`), when sent.
    pub version: Option<DataVersion>,
    pub entries: BTreeMap<String, String>,
}

impl ConfigTable {
    /// Parse a properties body.
    pub fn parse(body: &[u8]) -> Result<ConfigTable> {
        Ok(ConfigTable {
            version: None,
            entries: admin::parse_properties(body)?.into_iter().collect(),
        })
    }
}

/// `key=value` lines of `pairs`, the body UPDATE_BROKER_CONFIG / UPDATE_NAMESRV_CONFIG take; a
/// key or value that would not survive properties text is refused.
pub fn properties_text(pairs: &[(String, String)]) -> Result<String> {
    let mut clean = Vec::new();
    for (k, v) in pairs {
        if k.trim().is_empty() || k.contains(['=', ':', '\n', '#', '!']) || v.contains('\n') {
            return Err(AdminError::Invalid(format!("bad config pair '{k}={v}'")));
        }
        clean.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok(admin::properties_text(clean.iter().map(|(k, v)| (k, v))))
}

impl AdminClient {
    /// GET_BROKER_RUNTIME_INFO (28): the broker's runtime KV table.
    pub async fn runtime_info(&self, addr: &str) -> Result<KvTable> {
        let cmd = RemotingCommand::request(rq::GET_BROKER_RUNTIME_INFO);
        let resp = self.call_ok(addr, cmd).await?;
        json_body("runtime info", &resp.body)
    }

    /// GET_BROKER_CONFIG (26): every config key of the broker at `addr`.
    pub async fn broker_config(&self, addr: &str) -> Result<ConfigTable> {
        let cmd = RemotingCommand::request(rq::GET_BROKER_CONFIG);
        let resp = self.call_ok(addr, cmd).await?;
        let mut t = ConfigTable::parse(&resp.body)?;
        t.version = resp
            .header::<GetBrokerConfigResponseHeader>()
            .ok()
            .and_then(|h| serde_json::from_str(&h.version).ok());
        Ok(t)
    }

    /// UPDATE_BROKER_CONFIG (25): set `pairs` on the broker at `addr`.
    /// UPDATE_BROKER_CONFIG; returns the broker's remark (actormq says which keys wait for a
    /// restart; RocketMQ sends none).
    pub async fn update_broker_config(
        &self,
        addr: &str,
        pairs: &[(String, String)],
    ) -> Result<Option<String>> {
        let body = properties_text(pairs)?;
        let cmd = RemotingCommand::request(rq::UPDATE_BROKER_CONFIG).with_body(body.into_bytes());
        self.call_ok(addr, cmd).await.map(|r| r.remark)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_round_trip_and_bad_pairs() {
        let t = properties_text(&[("a".into(), "1".into()), ("b".into(), "x y".into())]).unwrap();
        assert_eq!(t, "a=1\nb=x y\n");
        assert_eq!(
            ConfigTable::parse(t.as_bytes()).unwrap().entries["b"],
            "x y"
        );
        assert!(properties_text(&[("a=b".into(), "1".into())]).is_err());
        assert!(properties_text(&[("".into(), "1".into())]).is_err());
    }
}
