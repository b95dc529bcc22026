//! Consumer and producer groups: subscription-group configs (200, 201, 207), consume progress
//! (208), connections (203, 204). Group-wide helpers find the brokers through the route of the
//! group's retry topic `%RETRY%<group>`, as RocketMQ's admin does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::client::{json_body, route_brokers, AdminClient};
use super::error::{AdminError, Result};
use crate::client::message::retry_topic;
use crate::protocol::body::{
    ConsumeStats, ConsumerConnection, DataVersion, ProducerConnection, SubscriptionGroupConfig,
};
use crate::protocol::codes::{request_code as rq, response_code as rc};
use crate::protocol::headers::{
    DeleteSubscriptionGroupRequestHeader, GetConsumeStatsRequestHeader,
    GetConsumerConnectionListRequestHeader, GetProducerConnectionListRequestHeader,
};
use crate::protocol::RemotingCommand;

/// GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201) answer (`SubscriptionGroupWrapper`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionGroups {
    pub data_version: DataVersion,
    pub subscription_group_table: BTreeMap<String, SubscriptionGroupConfig>,
}

impl AdminClient {
    /// GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201) on the broker at `addr`.
    pub async fn subscription_groups(&self, addr: &str) -> Result<SubscriptionGroups> {
        let cmd = RemotingCommand::request(rq::GET_ALL_SUBSCRIPTIONGROUP_CONFIG);
        let resp = self.call_ok(addr, cmd).await?;
        json_body("subscription groups", &resp.body)
    }

    /// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200) on the broker at `addr`.
    pub async fn create_subscription_group(
        &self,
        addr: &str,
        config: &SubscriptionGroupConfig,
    ) -> Result<()> {
        let body = serde_json::to_vec(config).expect("serializable");
        let cmd = RemotingCommand::request(rq::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP).with_body(body);
        self.call_ok(addr, cmd).await.map(drop)
    }

    /// DELETE_SUBSCRIPTIONGROUP (207) on the broker at `addr`; `remove_offset` also drops the
    /// group's stored offsets.
    pub async fn delete_subscription_group(
        &self,
        addr: &str,
        group: &str,
        remove_offset: bool,
    ) -> Result<()> {
        let h = DeleteSubscriptionGroupRequestHeader {
            group_name: group.to_string(),
            remove_offset: Some(remove_offset),
        };
        let cmd = RemotingCommand::request_with(rq::DELETE_SUBSCRIPTIONGROUP, &h);
        self.call_ok(addr, cmd).await.map(drop)
    }

    /// GET_CONSUME_STATS (208) on the broker at `addr`; `topic` None = every topic of the group.
    pub async fn consume_stats(
        &self,
        addr: &str,
        group: &str,
        topic: Option<&str>,
    ) -> Result<ConsumeStats> {
        let h = GetConsumeStatsRequestHeader {
            consumer_group: group.to_string(),
            topic: topic.map(str::to_string),
        };
        let cmd = RemotingCommand::request_with(rq::GET_CONSUME_STATS, &h);
        let resp = self.call_ok(addr, cmd).await?;
        Ok(ConsumeStats::from_fastjson(&resp.body)?)
    }

    /// The group's progress on every broker of `%RETRY%<group>`'s route, merged (TPS summed).
    /// An empty result is CONSUMER_NOT_ONLINE, as in Java `examineConsumeStats`.
    pub async fn group_consume_stats(
        &self,
        group: &str,
        topic: Option<&str>,
    ) -> Result<ConsumeStats> {
        let route = self.route_of(&retry_topic(group)).await?;
        let mut all = ConsumeStats::default();
        for (_, addr) in route_brokers(&route) {
            let s = self.consume_stats(&addr, group, topic).await?;
            all.consume_tps += s.consume_tps;
            all.offset_table.extend(s.offset_table);
        }
        if all.offset_table.is_empty() {
            return Err(AdminError::refused(
                rc::CONSUMER_NOT_ONLINE,
                Some("Not found the consumer group consume stats, because return offset table is empty, maybe the consumer not consume any message"),
            ));
        }
        Ok(all)
    }

    /// GET_CONSUMER_CONNECTION_LIST (203) on the broker at `addr`.
    pub async fn consumer_connection(&self, addr: &str, group: &str) -> Result<ConsumerConnection> {
        let h = GetConsumerConnectionListRequestHeader {
            consumer_group: group.to_string(),
        };
        let cmd = RemotingCommand::request_with(rq::GET_CONSUMER_CONNECTION_LIST, &h);
        let resp = self.call_ok(addr, cmd).await?;
        Ok(ConsumerConnection::decode(&resp.body)?)
    }

    /// The group's online consumers, asked of the first broker of `%RETRY%<group>`'s route.
    /// No connection is CONSUMER_NOT_ONLINE (the broker's answer).
    pub async fn group_consumer_connection(&self, group: &str) -> Result<ConsumerConnection> {
        let route = self.route_of(&retry_topic(group)).await?;
        let (_, addr) = route_brokers(&route)
            .into_iter()
            .next()
            .ok_or_else(|| AdminError::NotFound(format!("group {group} has no broker")))?;
        self.consumer_connection(&addr, group).await
    }

    /// GET_PRODUCER_CONNECTION_LIST (204) on the broker at `addr`.
    pub async fn producer_connection(&self, addr: &str, group: &str) -> Result<ProducerConnection> {
        let h = GetProducerConnectionListRequestHeader {
            producer_group: group.to_string(),
        };
        let cmd = RemotingCommand::request_with(rq::GET_PRODUCER_CONNECTION_LIST, &h);
        let resp = self.call_ok(addr, cmd).await?;
        Ok(ProducerConnection::decode(&resp.body)?)
    }

    /// The producers of `group` sending to `topic`, asked of the first broker of the topic's
    /// route (Java `examineProducerConnectionInfo`).
    pub async fn group_producer_connection(
        &self,
        group: &str,
        topic: &str,
    ) -> Result<ProducerConnection> {
        let route = self.route_of(topic).await?;
        let (_, addr) = route_brokers(&route)
            .into_iter()
            .next()
            .ok_or_else(|| AdminError::NotFound(format!("topic {topic} has no broker")))?;
        self.producer_connection(&addr, group).await
    }
}
