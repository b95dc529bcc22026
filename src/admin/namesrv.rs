//! Name-server administration: KV config (100, 101, 102), broker write permission (205 wipe,
//! 327 add) and the name server's own configuration (319 get, 318 update). Changes go to every
//! name server of the list, as RocketMQ's admin does, and report per address.

use super::broker::{properties_text, ConfigTable};
use super::client::{success, AdminClient};
use super::error::Result;
use crate::protocol::codes::{request_code as rq, response_code as rc};
use crate::protocol::headers::{
    AddWritePermOfBrokerRequestHeader, AddWritePermOfBrokerResponseHeader,
    DeleteKVConfigRequestHeader, GetKVConfigRequestHeader, GetKVConfigResponseHeader,
    PutKVConfigRequestHeader, WipeWritePermOfBrokerRequestHeader,
    WipeWritePermOfBrokerResponseHeader,
};
use crate::protocol::RemotingCommand;

impl AdminClient {
    /// PUT_KV_CONFIG (100) on every name server.
    pub async fn put_kv_config(&self, namespace: &str, key: &str, value: &str) -> Result<()> {
        let h = PutKVConfigRequestHeader {
            namespace: namespace.to_string(),
            key: key.to_string(),
            value: value.to_string(),
        };
        let cmd = RemotingCommand::request_with(rq::PUT_KV_CONFIG, &h);
        super::topic::first_error(self.each_namesrv(cmd).await)
    }

    /// GET_KV_CONFIG (101): the value, `None` when absent (QUERY_NOT_FOUND).
    pub async fn get_kv_config(&self, namespace: &str, key: &str) -> Result<Option<String>> {
        let h = GetKVConfigRequestHeader {
            namespace: namespace.to_string(),
            key: key.to_string(),
        };
        let cmd = RemotingCommand::request_with(rq::GET_KV_CONFIG, &h);
        let resp = self.net.call_namesrv(cmd, self.timeout()).await?;
        if resp.code == rc::QUERY_NOT_FOUND {
            return Ok(None);
        }
        Ok(success(resp)?.header::<GetKVConfigResponseHeader>()?.value)
    }

    /// DELETE_KV_CONFIG (102) on every name server.
    pub async fn delete_kv_config(&self, namespace: &str, key: &str) -> Result<()> {
        let h = DeleteKVConfigRequestHeader {
            namespace: namespace.to_string(),
            key: key.to_string(),
        };
        let cmd = RemotingCommand::request_with(rq::DELETE_KV_CONFIG, &h);
        super::topic::first_error(self.each_namesrv(cmd).await)
    }

    /// WIPE_WRITE_PERM_OF_BROKER (205) on every name server: (address, topics changed or error).
    pub async fn wipe_write_perm(&self, broker_name: &str) -> Vec<(String, Result<i32>)> {
        let h = WipeWritePermOfBrokerRequestHeader {
            broker_name: broker_name.to_string(),
        };
        let cmd = RemotingCommand::request_with(rq::WIPE_WRITE_PERM_OF_BROKER, &h);
        self.perm_change(cmd, |r| {
            Ok(r.header::<WipeWritePermOfBrokerResponseHeader>()?
                .wipe_topic_count)
        })
        .await
    }

    /// ADD_WRITE_PERM_OF_BROKER (327) on every name server: (address, topics changed or error).
    pub async fn add_write_perm(&self, broker_name: &str) -> Vec<(String, Result<i32>)> {
        let h = AddWritePermOfBrokerRequestHeader {
            broker_name: broker_name.to_string(),
        };
        let cmd = RemotingCommand::request_with(rq::ADD_WRITE_PERM_OF_BROKER, &h);
        self.perm_change(cmd, |r| {
            Ok(r.header::<AddWritePermOfBrokerResponseHeader>()?
                .add_topic_count)
        })
        .await
    }

    /// Send a write-permission change to every name server; each answer's topic count.
    async fn perm_change(
        &self,
        cmd: RemotingCommand,
        count: impl Fn(RemotingCommand) -> Result<i32>,
    ) -> Vec<(String, Result<i32>)> {
        self.each_namesrv(cmd)
            .await
            .into_iter()
            .map(|(a, r)| (a, r.and_then(&count)))
            .collect()
    }

    /// GET_NAMESRV_CONFIG (319) of every name server: (address, config or error).
    pub async fn namesrv_config(&self) -> Vec<(String, Result<ConfigTable>)> {
        let cmd = RemotingCommand::request(rq::GET_NAMESRV_CONFIG);
        self.each_namesrv(cmd)
            .await
            .into_iter()
            .map(|(a, r)| (a, r.and_then(|resp| ConfigTable::parse(&resp.body))))
            .collect()
    }

    /// UPDATE_NAMESRV_CONFIG (318) on every name server; the first failure after all were asked.
    pub async fn update_namesrv_config(&self, pairs: &[(String, String)]) -> Result<()> {
        let body = properties_text(pairs)?;
        let cmd = RemotingCommand::request(rq::UPDATE_NAMESRV_CONFIG).with_body(body.into_bytes());
        super::topic::first_error(self.each_namesrv(cmd).await)
    }
}
