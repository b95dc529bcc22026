//! Admin calls added with the broker's admin codes: questions the broker relays to a client
//! (GET_CONSUMER_RUNNING_INFO 307, CONSUME_MESSAGE_DIRECTLY 309), consume time spans (303),
//! consume-queue dumps (321), broker-side offset cloning (314), producer tables (328) and the
//! system topic lists (304 from a name server, 305 from a broker).

use super::client::{json_body, AdminClient};
use super::error::Result;
use crate::protocol::body::admin::{
    ConsumeMessageDirectlyResult, ConsumerRunningInfo, ProducerTableInfo,
    QueryConsumeQueueResponseBody, QueryConsumeTimeSpanBody,
};
use crate::protocol::body::TopicList;
use crate::protocol::codes::request_code as rq;
use crate::protocol::headers::{
    CloneGroupOffsetRequestHeader, ConsumeMessageDirectlyResultRequestHeader,
    GetConsumerRunningInfoRequestHeader, QueryConsumeQueueRequestHeader,
    QueryConsumeTimeSpanRequestHeader,
};
use crate::protocol::RemotingCommand;

/// One QUERY_CONSUME_QUEUE request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumeQueueQuery<'a> {
    pub topic: &'a str,
    pub queue_id: i32,
    /// First consume-queue index.
    pub index: i64,
    pub count: i32,
    /// The group whose subscription evaluates each entry's tag.
    pub group: Option<&'a str>,
}

impl AdminClient {
    /// GET_CONSUMER_RUNNING_INFO (307) via the broker at `addr`, answered by client `client_id`
    /// of `group`; `jstack` asks for the client's thread dump too.
    pub async fn consumer_running_info(
        &self,
        addr: &str,
        group: &str,
        client_id: &str,
        jstack: bool,
    ) -> Result<ConsumerRunningInfo> {
        let h = GetConsumerRunningInfoRequestHeader {
            consumer_group: group.to_string(),
            client_id: client_id.to_string(),
            jstack_enable: Some(jstack),
        };
        let cmd = RemotingCommand::request_with(rq::GET_CONSUMER_RUNNING_INFO, &h);
        let resp = self.call_ok(addr, cmd).await?;
        Ok(ConsumerRunningInfo::from_fastjson(&resp.body)?)
    }

    /// CONSUME_MESSAGE_DIRECTLY (309) via the broker at `addr`: client `client_id` of `group`
    /// runs its listener on the message `offset_msg_id` and reports the result.
    pub async fn consume_message_directly(
        &self,
        addr: &str,
        group: &str,
        client_id: &str,
        offset_msg_id: &str,
    ) -> Result<ConsumeMessageDirectlyResult> {
        let h = ConsumeMessageDirectlyResultRequestHeader {
            consumer_group: group.to_string(),
            client_id: Some(client_id.to_string()),
            msg_id: Some(offset_msg_id.to_string()),
            broker_name: None,
        };
        let cmd = RemotingCommand::request_with(rq::CONSUME_MESSAGE_DIRECTLY, &h);
        let resp = self.call_ok(addr, cmd).await?;
        Ok(ConsumeMessageDirectlyResult::decode(&resp.body)?)
    }

    /// QUERY_CONSUME_TIME_SPAN (303) on the broker at `addr`.
    pub async fn consume_time_span(
        &self,
        addr: &str,
        topic: &str,
        group: &str,
    ) -> Result<QueryConsumeTimeSpanBody> {
        let h = QueryConsumeTimeSpanRequestHeader {
            topic: topic.to_string(),
            group: group.to_string(),
        };
        let cmd = RemotingCommand::request_with(rq::QUERY_CONSUME_TIME_SPAN, &h);
        let resp = self.call_ok(addr, cmd).await?;
        Ok(QueryConsumeTimeSpanBody::decode(&resp.body)?)
    }

    /// QUERY_CONSUME_QUEUE (321) on the broker at `addr`.
    pub async fn query_consume_queue(
        &self,
        addr: &str,
        q: &ConsumeQueueQuery<'_>,
    ) -> Result<QueryConsumeQueueResponseBody> {
        let h = QueryConsumeQueueRequestHeader {
            topic: q.topic.to_string(),
            queue_id: q.queue_id,
            index: q.index,
            count: q.count,
            consumer_group: q.group.map(str::to_string),
        };
        let cmd = RemotingCommand::request_with(rq::QUERY_CONSUME_QUEUE, &h);
        let resp = self.call_ok(addr, cmd).await?;
        Ok(QueryConsumeQueueResponseBody::decode(&resp.body)?)
    }

    /// CLONE_GROUP_OFFSET (314) on the broker at `addr`: the broker copies `src`'s offsets of
    /// `topic` (None = every topic) to `dest` itself.
    pub async fn clone_group_offset_on(
        &self,
        addr: &str,
        src: &str,
        dest: &str,
        topic: Option<&str>,
        offline: bool,
    ) -> Result<()> {
        let h = CloneGroupOffsetRequestHeader {
            src_group: src.to_string(),
            dest_group: dest.to_string(),
            topic: topic.map(str::to_string),
            offline: Some(offline),
        };
        let cmd = RemotingCommand::request_with(rq::CLONE_GROUP_OFFSET, &h);
        self.call_ok(addr, cmd).await.map(drop)
    }

    /// GET_ALL_PRODUCER_INFO (328) on the broker at `addr`: producers by group.
    pub async fn all_producer_info(&self, addr: &str) -> Result<ProducerTableInfo> {
        let cmd = RemotingCommand::request(rq::GET_ALL_PRODUCER_INFO);
        let resp = self.call_ok(addr, cmd).await?;
        Ok(ProducerTableInfo::decode(&resp.body)?)
    }

    /// GET_SYSTEM_TOPIC_LIST_FROM_NS (304).
    pub async fn system_topics(&self) -> Result<TopicList> {
        let cmd = RemotingCommand::request(rq::GET_SYSTEM_TOPIC_LIST_FROM_NS);
        let resp = self.namesrv_ok(cmd).await?;
        json_body("system topic list", &resp.body)
    }

    /// GET_SYSTEM_TOPIC_LIST_FROM_BROKER (305) on the broker at `addr`.
    pub async fn broker_system_topics(&self, addr: &str) -> Result<TopicList> {
        let cmd = RemotingCommand::request(rq::GET_SYSTEM_TOPIC_LIST_FROM_BROKER);
        let resp = self.call_ok(addr, cmd).await?;
        json_body("system topic list", &resp.body)
    }
}
