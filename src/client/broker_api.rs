//! Typed client-side calls: one async function per request the client makes of a name server or
//! broker (routes, heartbeat, unregister, consumer list, offsets, pull, send-back, queue locks),
//! turning response codes into values or [`ClientError`]s. No state; every call goes through [`Net`].

use std::time::Duration;

use super::error::{ClientError, Result};
use super::net::Net;
use crate::protocol::body::{
    fastjson, GetConsumerListByGroupResponseBody, HeartbeatData, LockBatchRequestBody,
    LockBatchResponseBody, MessageQueue, TopicRouteData, UnlockBatchRequestBody,
};
use crate::protocol::codes::{request_code as rq, response_code as rc};
use crate::protocol::headers::*;
use crate::protocol::message::{decode_records, MessageExt};
use crate::protocol::RemotingCommand;

fn expect(resp: &RemotingCommand, code: i32) -> Result<()> {
    if resp.code == code {
        Ok(())
    } else {
        Err(ClientError::broker(resp.code, resp.remark.as_deref()))
    }
}

/// The topic's route, or `None` when the name server does not know it (TOPIC_NOT_EXIST).
pub async fn get_route(
    net: &Net,
    topic: &str,
    timeout: Duration,
) -> Result<Option<TopicRouteData>> {
    let h = GetRouteInfoRequestHeader {
        topic: topic.to_string(),
        accept_standard_json_only: Some(true),
    };
    let resp = net
        .call_namesrv(
            RemotingCommand::request_with(rq::GET_ROUTEINFO_BY_TOPIC, &h),
            timeout,
        )
        .await?;
    if resp.code == rc::TOPIC_NOT_EXIST {
        return Ok(None);
    }
    expect(&resp, rc::SUCCESS)?;
    let json = fastjson::normalize_keys(&resp.body)?;
    serde_json::from_str(&json)
        .map(Some)
        .map_err(|e| ClientError::Protocol(format!("route of {topic}: {e}")))
}

pub async fn heartbeat(
    net: &Net,
    addr: &str,
    data: &HeartbeatData,
    timeout: Duration,
) -> Result<()> {
    let cmd = RemotingCommand::request(rq::HEART_BEAT).with_body(data.encode());
    expect(&net.call(addr, cmd, timeout).await?, rc::SUCCESS)
}

pub async fn unregister(
    net: &Net,
    addr: &str,
    client_id: &str,
    producer_group: Option<&str>,
    consumer_group: Option<&str>,
    timeout: Duration,
) -> Result<()> {
    let h = UnregisterClientRequestHeader {
        client_id: client_id.to_string(),
        producer_group: producer_group.map(str::to_string),
        consumer_group: consumer_group.map(str::to_string),
    };
    let cmd = RemotingCommand::request_with(rq::UNREGISTER_CLIENT, &h);
    expect(&net.call(addr, cmd, timeout).await?, rc::SUCCESS)
}

pub async fn consumer_ids(
    net: &Net,
    addr: &str,
    group: &str,
    timeout: Duration,
) -> Result<Vec<String>> {
    let h = GetConsumerListByGroupRequestHeader {
        consumer_group: group.to_string(),
    };
    let resp = net
        .call(
            addr,
            RemotingCommand::request_with(rq::GET_CONSUMER_LIST_BY_GROUP, &h),
            timeout,
        )
        .await?;
    expect(&resp, rc::SUCCESS)?;
    Ok(GetConsumerListByGroupResponseBody::decode(&resp.body)?.consumer_id_list)
}

/// The group's stored offset, `None` when the broker has none (QUERY_NOT_FOUND).
pub async fn query_offset(
    net: &Net,
    addr: &str,
    group: &str,
    mq: &MessageQueue,
    timeout: Duration,
) -> Result<Option<i64>> {
    let h = QueryConsumerOffsetRequestHeader {
        consumer_group: group.to_string(),
        topic: mq.topic.clone(),
        queue_id: mq.queue_id,
        bname: None,
    };
    let resp = net
        .call(
            addr,
            RemotingCommand::request_with(rq::QUERY_CONSUMER_OFFSET, &h),
            timeout,
        )
        .await?;
    if resp.code == rc::QUERY_NOT_FOUND {
        return Ok(None);
    }
    expect(&resp, rc::SUCCESS)?;
    Ok(Some(resp.header::<OffsetResponseHeader>()?.offset))
}

pub async fn update_offset(
    net: &Net,
    addr: &str,
    group: &str,
    mq: &MessageQueue,
    offset: i64,
    timeout: Duration,
) -> Result<()> {
    let h = UpdateConsumerOffsetRequestHeader {
        consumer_group: group.to_string(),
        topic: mq.topic.clone(),
        queue_id: mq.queue_id,
        commit_offset: offset,
        bname: None,
    };
    let cmd = RemotingCommand::request_with(rq::UPDATE_CONSUMER_OFFSET, &h);
    expect(&net.call(addr, cmd, timeout).await?, rc::SUCCESS)
}

async fn offset_call(
    net: &Net,
    addr: &str,
    cmd: RemotingCommand,
    timeout: Duration,
) -> Result<i64> {
    let resp = net.call(addr, cmd, timeout).await?;
    expect(&resp, rc::SUCCESS)?;
    Ok(resp.header::<OffsetResponseHeader>()?.offset)
}

pub async fn max_offset(
    net: &Net,
    addr: &str,
    mq: &MessageQueue,
    timeout: Duration,
) -> Result<i64> {
    let h = GetMaxOffsetRequestHeader {
        topic: mq.topic.clone(),
        queue_id: mq.queue_id,
        bname: None,
    };
    offset_call(
        net,
        addr,
        RemotingCommand::request_with(rq::GET_MAX_OFFSET, &h),
        timeout,
    )
    .await
}

pub async fn min_offset(
    net: &Net,
    addr: &str,
    mq: &MessageQueue,
    timeout: Duration,
) -> Result<i64> {
    let h = GetMinOffsetRequestHeader {
        topic: mq.topic.clone(),
        queue_id: mq.queue_id,
        bname: None,
    };
    offset_call(
        net,
        addr,
        RemotingCommand::request_with(rq::GET_MIN_OFFSET, &h),
        timeout,
    )
    .await
}

pub async fn search_offset(
    net: &Net,
    addr: &str,
    mq: &MessageQueue,
    ts: i64,
    timeout: Duration,
) -> Result<i64> {
    let h = SearchOffsetRequestHeader {
        topic: mq.topic.clone(),
        queue_id: mq.queue_id,
        timestamp: ts,
        bname: None,
    };
    offset_call(
        net,
        addr,
        RemotingCommand::request_with(rq::SEARCH_OFFSET_BY_TIMESTAMP, &h),
        timeout,
    )
    .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullStatus {
    Found,
    NoNewMsg,
    NoMatchedMsg,
    OffsetIllegal,
}

#[derive(Debug, Clone)]
pub struct PullResult {
    pub status: PullStatus,
    pub next_begin_offset: i64,
    pub min_offset: i64,
    pub max_offset: i64,
    /// The broker id to pull this queue from next (`suggestWhichBrokerId`).
    pub suggest_which_broker_id: i64,
    /// Raw records as stored (not yet tag-filtered or inflated).
    pub msgs: Vec<MessageExt>,
}

pub struct PullArgs<'a> {
    pub group: &'a str,
    pub mq: &'a MessageQueue,
    pub offset: i64,
    pub max_nums: i32,
    pub sys_flag: i32,
    pub commit_offset: i64,
    pub suspend: Duration,
    pub subscription: &'a str,
    pub sub_version: i64,
}

pub async fn pull(net: &Net, addr: &str, a: PullArgs<'_>, timeout: Duration) -> Result<PullResult> {
    let h = PullMessageRequestHeader {
        consumer_group: a.group.to_string(),
        topic: a.mq.topic.clone(),
        queue_id: a.mq.queue_id,
        queue_offset: a.offset,
        max_msg_nums: a.max_nums,
        sys_flag: a.sys_flag,
        commit_offset: a.commit_offset,
        suspend_timeout_millis: a.suspend.as_millis() as i64,
        subscription: Some(a.subscription.to_string()),
        sub_version: a.sub_version,
        expression_type: Some("TAG".to_string()),
        bname: None,
    };
    let resp = net
        .call(
            addr,
            RemotingCommand::request_with(rq::PULL_MESSAGE, &h),
            timeout,
        )
        .await?;
    let status = match resp.code {
        rc::SUCCESS => PullStatus::Found,
        rc::PULL_NOT_FOUND => PullStatus::NoNewMsg,
        rc::PULL_RETRY_IMMEDIATELY => PullStatus::NoMatchedMsg,
        rc::PULL_OFFSET_MOVED => PullStatus::OffsetIllegal,
        c => return Err(ClientError::broker(c, resp.remark.as_deref())),
    };
    let rh = resp.header::<PullMessageResponseHeader>()?;
    let msgs = if status == PullStatus::Found {
        decode_records(&resp.body)
    } else {
        Vec::new()
    };
    Ok(PullResult {
        status,
        next_begin_offset: rh.next_begin_offset,
        min_offset: rh.min_offset,
        max_offset: rh.max_offset,
        suggest_which_broker_id: rh.suggest_which_broker_id,
        msgs,
    })
}

/// CONSUMER_SEND_MSG_BACK: redeliver later through the retry topic (delay level 0 lets the broker
/// use 3 + reconsume times), or straight to the DLQ with a negative level.
pub async fn send_back(
    net: &Net,
    addr: &str,
    msg: &MessageExt,
    group: &str,
    delay_level: i32,
    max_reconsume: i32,
    timeout: Duration,
) -> Result<()> {
    let h = ConsumerSendMsgBackRequestHeader {
        offset: msg.commit_log_offset,
        group: group.to_string(),
        delay_level,
        origin_msg_id: Some(msg.msg_id()),
        origin_topic: Some(msg.topic.clone()),
        unit_mode: Some(false),
        max_reconsume_times: Some(max_reconsume),
        bname: None,
    };
    let cmd = RemotingCommand::request_with(rq::CONSUMER_SEND_MSG_BACK, &h);
    expect(&net.call(addr, cmd, timeout).await?, rc::SUCCESS)
}

/// LOCK_BATCH_MQ: returns the queues the broker granted.
pub async fn lock_batch(
    net: &Net,
    addr: &str,
    group: &str,
    client_id: &str,
    mqs: Vec<MessageQueue>,
    timeout: Duration,
) -> Result<Vec<MessageQueue>> {
    let body = LockBatchRequestBody {
        client_id: client_id.to_string(),
        consumer_group: group.to_string(),
        mq_set: mqs,
    };
    let cmd = RemotingCommand::request(rq::LOCK_BATCH_MQ).with_body(body.encode());
    let resp = net.call(addr, cmd, timeout).await?;
    expect(&resp, rc::SUCCESS)?;
    Ok(LockBatchResponseBody::decode(&resp.body)?.lock_ok_mq_set)
}

pub async fn unlock_batch(
    net: &Net,
    addr: &str,
    group: &str,
    client_id: &str,
    mqs: Vec<MessageQueue>,
    timeout: Duration,
) -> Result<()> {
    let body = UnlockBatchRequestBody {
        client_id: client_id.to_string(),
        consumer_group: group.to_string(),
        mq_set: mqs,
    };
    let cmd = RemotingCommand::request(rq::UNLOCK_BATCH_MQ).with_body(body.encode());
    expect(&net.call(addr, cmd, timeout).await?, rc::SUCCESS)
}
