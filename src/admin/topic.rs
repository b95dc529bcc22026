//! Topic administration: create/update on a broker (17), delete on brokers (215) and name servers
//! (216), the topic lists of the name servers (206, 224), per-queue offsets (202) and the groups
//! consuming a topic (300). Route-wide helpers follow RocketMQ's rule: one call per broker set of
//! the route, to its master (else a slave).

use super::client::{json_body, route_brokers, AdminClient};
use super::error::Result;
use crate::protocol::body::{GroupList, TopicConfig, TopicList, TopicStatsTable};
use crate::protocol::codes::request_code as rq;
use crate::protocol::headers::{
    CreateTopicRequestHeader, DeleteTopicFromNamesrvRequestHeader, DeleteTopicRequestHeader,
    GetTopicStatsInfoRequestHeader, GetTopicsByClusterRequestHeader,
    QueryTopicConsumeByWhoRequestHeader,
};
use crate::protocol::RemotingCommand;

/// The template topic new topics are created from (`TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC`).
pub const DEFAULT_TOPIC: &str = "TBW102";

impl AdminClient {
    /// UPDATE_AND_CREATE_TOPIC (17) on the broker at `addr`.
    pub async fn create_topic(&self, addr: &str, config: &TopicConfig) -> Result<()> {
        let h = CreateTopicRequestHeader {
            topic: config.topic_name.clone(),
            default_topic: DEFAULT_TOPIC.to_string(),
            read_queue_nums: config.read_queue_nums,
            write_queue_nums: config.write_queue_nums,
            perm: config.perm,
            topic_filter_type: config.topic_filter_type.clone(),
            topic_sys_flag: Some(config.topic_sys_flag),
            order: Some(config.order),
        };
        let cmd = RemotingCommand::request_with(rq::UPDATE_AND_CREATE_TOPIC, &h);
        self.call_ok(addr, cmd).await.map(drop)
    }

    /// DELETE_TOPIC_IN_BROKER (215) on the broker at `addr`.
    pub async fn delete_topic_in_broker(&self, addr: &str, topic: &str) -> Result<()> {
        let h = DeleteTopicRequestHeader {
            topic: topic.to_string(),
        };
        let cmd = RemotingCommand::request_with(rq::DELETE_TOPIC_IN_BROKER, &h);
        self.call_ok(addr, cmd).await.map(drop)
    }

    /// DELETE_TOPIC_IN_NAMESRV (216) on every name server; the first failure is returned after
    /// all were asked.
    pub async fn delete_topic_in_namesrv(&self, topic: &str) -> Result<()> {
        let h = DeleteTopicFromNamesrvRequestHeader {
            topic: topic.to_string(),
        };
        let cmd = RemotingCommand::request_with(rq::DELETE_TOPIC_IN_NAMESRV, &h);
        first_error(self.each_namesrv(cmd).await)
    }

    /// GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206).
    pub async fn topic_list(&self) -> Result<TopicList> {
        let cmd = RemotingCommand::request(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
        let resp = self.namesrv_ok(cmd).await?;
        json_body("topic list", &resp.body)
    }

    /// GET_TOPICS_BY_CLUSTER (224): the topics with queues on `cluster`'s brokers.
    pub async fn topics_by_cluster(&self, cluster: &str) -> Result<TopicList> {
        let h = GetTopicsByClusterRequestHeader {
            cluster: cluster.to_string(),
        };
        let resp = self
            .namesrv_ok(RemotingCommand::request_with(rq::GET_TOPICS_BY_CLUSTER, &h))
            .await?;
        json_body("topic list", &resp.body)
    }

    /// GET_TOPIC_STATS_INFO (202) on the broker at `addr`.
    pub async fn topic_stats(&self, addr: &str, topic: &str) -> Result<TopicStatsTable> {
        let h = GetTopicStatsInfoRequestHeader {
            topic: topic.to_string(),
        };
        let cmd = RemotingCommand::request_with(rq::GET_TOPIC_STATS_INFO, &h);
        let resp = self.call_ok(addr, cmd).await?;
        Ok(TopicStatsTable::from_fastjson(&resp.body)?)
    }

    /// The topic's per-queue offsets on every broker of its route, merged (Java
    /// `examineTopicStats`).
    pub async fn topic_status(&self, topic: &str) -> Result<TopicStatsTable> {
        let route = self.route_of(topic).await?;
        let mut all = TopicStatsTable::default();
        for (_, addr) in route_brokers(&route) {
            all.offset_table
                .extend(self.topic_stats(&addr, topic).await?.offset_table);
        }
        Ok(all)
    }

    /// QUERY_TOPIC_CONSUME_BY_WHO (300) on the broker at `addr`: groups with offsets of `topic`.
    pub async fn consume_by_who(&self, addr: &str, topic: &str) -> Result<GroupList> {
        let h = QueryTopicConsumeByWhoRequestHeader {
            topic: topic.to_string(),
        };
        let cmd = RemotingCommand::request_with(rq::QUERY_TOPIC_CONSUME_BY_WHO, &h);
        let resp = self.call_ok(addr, cmd).await?;
        json_body("group list", &resp.body)
    }

    /// The groups consuming `topic` on any broker of its route, sorted and deduplicated (Java
    /// `queryTopicConsumeByWho`).
    pub async fn topic_consumers(&self, topic: &str) -> Result<Vec<String>> {
        let route = self.route_of(topic).await?;
        let mut groups = Vec::new();
        for (_, addr) in route_brokers(&route) {
            groups.extend(self.consume_by_who(&addr, topic).await?.group_list);
        }
        groups.sort();
        groups.dedup();
        Ok(groups)
    }
}

/// `Ok` when every result is, else the first error.
pub(crate) fn first_error<T>(results: Vec<(String, Result<T>)>) -> Result<()> {
    for (_, r) in results {
        r?;
    }
    Ok(())
}
