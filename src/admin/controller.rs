//! Admin calls to a RocketMQ 5 controller (embedded in a name server with
//! `enableControllerInNamesrv`, or the `controller` binary): metadata (1005), SyncStateSet data
//! (1006), an admin election (1002), and its config (1010 / 1009); and a broker's epoch history
//! (1007). As RocketMQ's
//! `MQClientAPIImpl`, the data and election requests go to the leader the metadata names; the
//! config requests go to each controller given.

use super::broker::{properties_text, ConfigTable};
use super::client::{json_body, AdminClient};
use super::error::{AdminError, Result};
use crate::clock::now_ms;
use crate::protocol::body::controller::{
    BrokerReplicasInfo, ElectMasterResponseBody, EpochEntryCache,
};
use crate::protocol::codes::request_code as rq;
use crate::protocol::headers::controller::{
    CleanControllerBrokerDataRequestHeader, ElectMasterRequestHeader, ElectMasterResponseHeader,
    GetMetaDataResponseHeader,
};
use crate::protocol::RemotingCommand;

impl AdminClient {
    /// CONTROLLER_GET_METADATA_INFO (1005).
    pub async fn controller_metadata(&self, controller: &str) -> Result<GetMetaDataResponseHeader> {
        let cmd = RemotingCommand::request(rq::CONTROLLER_GET_METADATA_INFO);
        Ok(self.call_ok(controller, cmd).await?.header()?)
    }

    /// The leader's address, from `controller`'s metadata.
    async fn controller_leader(&self, controller: &str) -> Result<String> {
        self.controller_metadata(controller)
            .await?
            .controller_leader_address
            .filter(|a| !a.is_empty())
            .ok_or_else(|| AdminError::NotFound(format!("controller {controller} knows no leader")))
    }

    /// CONTROLLER_GET_SYNC_STATE_DATA (1006) for `brokers` (broker names), from the leader.
    pub async fn sync_state_data(
        &self,
        controller: &str,
        brokers: &[String],
    ) -> Result<BrokerReplicasInfo> {
        let leader = self.controller_leader(controller).await?;
        let body = serde_json::to_vec(brokers).expect("a list of strings serializes");
        let cmd = RemotingCommand::request(rq::CONTROLLER_GET_SYNC_STATE_DATA).with_body(body);
        let resp = self.call_ok(&leader, cmd).await?;
        json_body("BrokerReplicasInfo", &resp.body)
    }

    /// CONTROLLER_ELECT_MASTER (1002) as an admin: make `broker_id` the master of the set.
    pub async fn elect_master(
        &self,
        controller: &str,
        cluster: &str,
        broker_name: &str,
        broker_id: i64,
    ) -> Result<(ElectMasterResponseHeader, ElectMasterResponseBody)> {
        let leader = self.controller_leader(controller).await?;
        let h = ElectMasterRequestHeader {
            cluster_name: cluster.to_string(),
            broker_name: broker_name.to_string(),
            broker_id,
            designate_elect: Some(true),
            invoke_time: Some(now_ms()),
        };
        let cmd = RemotingCommand::request_with(rq::CONTROLLER_ELECT_MASTER, &h);
        let resp = self.call_ok(&leader, cmd).await?;
        let body = if resp.body.is_empty() {
            ElectMasterResponseBody::default()
        } else {
            ElectMasterResponseBody::decode(&resp.body)?
        };
        Ok((resp.header()?, body))
    }

    /// CLEAN_BROKER_DATA (1011) at the controller leader: forget broker ids `ids` (`1;2`; `None`:
    /// the whole set) of `broker_name`; living brokers only with `clean_living`.
    pub async fn clean_broker_data(
        &self,
        controller: &str,
        cluster: Option<&str>,
        broker_name: &str,
        ids: Option<&str>,
        clean_living: bool,
    ) -> Result<()> {
        let leader = self.controller_leader(controller).await?;
        let h = CleanControllerBrokerDataRequestHeader {
            cluster_name: cluster.map(str::to_string),
            broker_name: broker_name.to_string(),
            broker_controller_ids_to_clean: ids.map(str::to_string),
            is_clean_living_broker: Some(clean_living),
            invoke_time: Some(now_ms()),
        };
        let cmd = RemotingCommand::request_with(rq::CLEAN_BROKER_DATA, &h);
        self.call_ok(&leader, cmd).await.map(|_| ())
    }

    /// GET_BROKER_EPOCH_CACHE (1007) of one broker (a controller-mode broker answers it).
    pub async fn broker_epoch_cache(&self, broker: &str) -> Result<EpochEntryCache> {
        let cmd = RemotingCommand::request(rq::GET_BROKER_EPOCH_CACHE);
        let resp = self.call_ok(broker, cmd).await?;
        json_body("EpochEntryCache", &resp.body)
    }

    /// GET_CONTROLLER_CONFIG (1010) of one controller.
    pub async fn controller_config(&self, controller: &str) -> Result<ConfigTable> {
        let cmd = RemotingCommand::request(rq::GET_CONTROLLER_CONFIG);
        ConfigTable::parse(&self.call_ok(controller, cmd).await?.body)
    }

    /// UPDATE_CONTROLLER_CONFIG (1009) on one controller.
    pub async fn update_controller_config(
        &self,
        controller: &str,
        pairs: &[(String, String)],
    ) -> Result<()> {
        let body = properties_text(pairs)?;
        let cmd =
            RemotingCommand::request(rq::UPDATE_CONTROLLER_CONFIG).with_body(body.into_bytes());
        self.call_ok(controller, cmd).await.map(drop)
    }
}

/// The controllers of an `-a` list (`a;b;c`).
pub fn controller_list(list: &str) -> Vec<String> {
    list.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
