//! Message lookup: by offset msg id (VIEW_MESSAGE_BY_ID 33 on the store host it names), by key or
//! unique key through the index (QUERY_MESSAGE 12 on every broker of the topic's route), and one
//! message at a queue offset (PULL_MESSAGE 11 as the `TOOLS_CONSUMER` group). Bodies come back
//! inflated, as Java's admin decodes them.

use std::time::Duration;

use super::client::{route_brokers, success, AdminClient};
use super::error::{AdminError, Result};
use crate::client::broker_api::{self, PullArgs, PullResult, PullStatus};
use crate::client::message::prepare_received;
use crate::client::trace::query::sort_oldest_first;
use crate::client::trace::{decode, TraceRecord};
use crate::clock::now_ms;
use crate::protocol::body::MessageQueue;
use crate::protocol::codes::{request_code as rq, response_code as rc};
use crate::protocol::headers::{QueryMessageRequestHeader, ViewMessageRequestHeader};
use crate::protocol::message::msgid::decode_offset_msg_id;
use crate::protocol::message::{decode_records, properties, MessageExt};
use crate::protocol::RemotingCommand;

/// The group admin tools pull as (`MixAll.TOOLS_CONSUMER_GROUP`).
pub const TOOLS_CONSUMER_GROUP: &str = "TOOLS_CONSUMER";
/// Most messages one QUERY_MESSAGE by key asks of a broker (Java `QueryMsgByKeySubCommand`).
pub const QUERY_MAX_NUM: i32 = 64;
/// Most messages one unique-key query asks of a broker (Java `queryMessageByUniqKey`).
pub const UNIQ_QUERY_MAX_NUM: i32 = 32;

/// One index query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyQuery<'a> {
    pub topic: &'a str,
    pub key: &'a str,
    pub max_num: i32,
    pub begin: i64,
    pub end: i64,
    /// Query by UNIQ_KEY (`_UNIQUE_KEY_QUERY`) rather than by user key.
    pub unique: bool,
}

fn inflated(msgs: Vec<MessageExt>) -> Vec<MessageExt> {
    msgs.into_iter().map(|m| prepare_received(m, "")).collect()
}

impl AdminClient {
    /// QUERY_MESSAGE (12) on the broker at `addr`: the records it found (empty on
    /// QUERY_NOT_FOUND), not yet filtered by key.
    pub async fn query_message(&self, addr: &str, q: &KeyQuery<'_>) -> Result<Vec<MessageExt>> {
        let h = QueryMessageRequestHeader {
            topic: q.topic.to_string(),
            key: q.key.to_string(),
            max_num: q.max_num,
            begin_timestamp: q.begin,
            end_timestamp: q.end,
            unique_key_query: q.unique,
        };
        let cmd = RemotingCommand::request_with(rq::QUERY_MESSAGE, &h);
        let resp = self.call(addr, cmd).await?;
        if resp.code == rc::QUERY_NOT_FOUND {
            return Ok(Vec::new());
        }
        Ok(inflated(decode_records(&success(resp)?.body)))
    }

    /// Messages of `topic` whose KEYS contain `key`, from every broker of the route.
    pub async fn query_by_key(&self, topic: &str, key: &str) -> Result<Vec<MessageExt>> {
        let q = KeyQuery {
            topic,
            key,
            max_num: QUERY_MAX_NUM,
            begin: 0,
            end: i64::MAX,
            unique: false,
        };
        let found = self.query_route(&q).await?;
        Ok(found
            .into_iter()
            .filter(|m| m.topic == topic)
            .filter(|m| {
                m.property(properties::KEYS)
                    .is_some_and(|ks| ks.split(' ').any(|k| k == key))
            })
            .collect())
    }

    /// Messages of `topic` whose unique key (client msg id) is `id`, from every broker.
    pub async fn query_by_unique_key(&self, topic: &str, id: &str) -> Result<Vec<MessageExt>> {
        let q = KeyQuery {
            topic,
            key: id,
            max_num: UNIQ_QUERY_MAX_NUM,
            begin: 0,
            end: i64::MAX,
            unique: true,
        };
        let found = self.query_route(&q).await?;
        Ok(found
            .into_iter()
            .filter(|m| m.topic == topic && m.msg_id() == id)
            .collect())
    }

    /// The trace records of message `msg_id` in `trace_topic` (RMQ_SYS_TRACE_TOPIC by default),
    /// oldest first: QUERY_MESSAGE by key = msg id on every broker of the trace topic, records
    /// of other messages batched in the same trace message left out (Java
    /// `QueryMsgTraceByIdSubCommand`). Empty when the trace topic does not exist. A record
    /// without a client host of its own (4.x writers leave it out of Pub and Sub records) gets
    /// the born host of the trace message that carried it, the host RocketMQ's `TraceView`
    /// shows.
    pub async fn query_trace(&self, trace_topic: &str, msg_id: &str) -> Result<Vec<TraceRecord>> {
        if self.route(trace_topic).await?.is_none() {
            return Ok(Vec::new());
        }
        let q = KeyQuery {
            topic: trace_topic,
            key: msg_id,
            max_num: QUERY_MAX_NUM,
            begin: 0,
            end: now_ms(),
            unique: false,
        };
        let mut out: Vec<TraceRecord> = Vec::new();
        for m in self.query_route(&q).await? {
            let text = String::from_utf8_lossy(&m.body);
            let host = m.born_host.ip().to_string();
            out.extend(decode(&text).into_iter().filter_map(|mut c| {
                if c.bean().msg_id != msg_id {
                    return None;
                }
                for b in c.beans.iter_mut().filter(|b| b.client_host.is_empty()) {
                    b.client_host.clone_from(&host);
                }
                Some(c)
            }));
        }
        sort_oldest_first(&mut out);
        out.dedup();
        Ok(out)
    }

    async fn query_route(&self, q: &KeyQuery<'_>) -> Result<Vec<MessageExt>> {
        let route = self.route_of(q.topic).await?;
        let mut out = Vec::new();
        for (_, addr) in route_brokers(&route) {
            out.extend(self.query_message(&addr, q).await?);
        }
        Ok(out)
    }

    /// VIEW_MESSAGE_BY_ID (33): the record at commit-log `offset` of the broker at `addr`.
    pub async fn view_message(&self, addr: &str, offset: i64) -> Result<MessageExt> {
        let h = ViewMessageRequestHeader { offset };
        let cmd = RemotingCommand::request_with(rq::VIEW_MESSAGE_BY_ID, &h);
        let resp = success(self.call(addr, cmd).await?)?;
        inflated(decode_records(&resp.body))
            .into_iter()
            .next()
            .ok_or_else(|| AdminError::NotFound(format!("no message at offset {offset} of {addr}")))
    }

    /// The message named by an offset msg id (store host + commit-log offset).
    pub async fn view_by_offset_id(&self, offset_msg_id: &str) -> Result<MessageExt> {
        let (host, offset) = decode_offset_msg_id(offset_msg_id)
            .map_err(|_| AdminError::Invalid(format!("{offset_msg_id} is not an offset msg id")))?;
        self.view_message(&host.to_string(), offset).await
    }

    /// The message with id `id`: as an offset msg id first, then (when `topic` is given) as a
    /// unique key (Java `viewMessage(topic, msgId)`).
    pub async fn view_by_id(&self, topic: Option<&str>, id: &str) -> Result<MessageExt> {
        let direct = self.view_by_offset_id(id).await;
        match (direct, topic) {
            (Ok(m), _) => Ok(m),
            (Err(e), None) => Err(e),
            (Err(e), Some(t)) => self
                .query_by_unique_key(t, id)
                .await?
                .into_iter()
                .next()
                .ok_or(e),
        }
    }

    /// PULL_MESSAGE (11) of up to `max` messages of `mq` from `offset`, as [`TOOLS_CONSUMER_GROUP`]
    /// with subscription `sub` (`*` or `TagA || TagB`), from the broker at `addr`, no long
    /// polling. The messages come back inflated and tag-filtered.
    pub async fn pull_from(
        &self,
        addr: &str,
        mq: &MessageQueue,
        sub: &str,
        offset: i64,
        max: i32,
    ) -> Result<PullResult> {
        self.pull_as(TOOLS_CONSUMER_GROUP, addr, mq, sub, offset, max)
            .await
    }

    /// [`Self::pull_from`] as consumer group `group` (it names the puller; no offset is
    /// committed).
    pub async fn pull_as(
        &self,
        group: &str,
        addr: &str,
        mq: &MessageQueue,
        sub: &str,
        offset: i64,
        max: i32,
    ) -> Result<PullResult> {
        let args = PullArgs {
            group,
            mq,
            offset,
            max_nums: max,
            sys_flag: crate::protocol::codes::pull_sys_flag::FLAG_SUBSCRIPTION,
            commit_offset: 0,
            suspend: Duration::ZERO,
            subscription: sub,
            sub_version: 0,
        };
        let mut r = broker_api::pull(&self.net, addr, args, self.timeout()).await?;
        let tags: Vec<&str> = sub.split("||").map(str::trim).collect();
        let all = sub.trim() == "*" || sub.trim().is_empty();
        r.msgs = inflated(std::mem::take(&mut r.msgs))
            .into_iter()
            .filter(|m| all || m.tags().is_some_and(|t| tags.contains(&t)))
            .collect();
        if r.status == PullStatus::Found && r.msgs.is_empty() {
            r.status = PullStatus::NoMatchedMsg;
        }
        Ok(r)
    }
}
