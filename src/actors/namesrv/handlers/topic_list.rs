//! GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206), GET_TOPICS_BY_CLUSTER (224) and
//! GET_SYSTEM_TOPIC_LIST_FROM_NS (304): topic names.

use actix::Addr;

use super::json_body;
use super::{mailbox, HandlerResult};
use crate::actors::namesrv::messages::{GetTopics, SystemTopics};
use crate::actors::namesrv::NameServer;
use crate::protocol::codes::{request_code, response_code};
use crate::protocol::headers::namesrv::GetTopicsByClusterRequestHeader;
use crate::protocol::RemotingCommand;

pub async fn handle(ns: &Addr<NameServer>, req: &RemotingCommand) -> HandlerResult {
    let cluster = if req.code == request_code::GET_TOPICS_BY_CLUSTER {
        Some(req.header::<GetTopicsByClusterRequestHeader>()?.cluster)
    } else {
        None
    };
    let list = ns.send(GetTopics { cluster }).await.map_err(mailbox)?;
    Ok(req
        .response_to(response_code::SUCCESS, None)
        .with_body(json_body(&list)))
}

/// 304: cluster and broker names, plus one broker address (the admin then asks that broker for
/// its own system topics, GET_SYSTEM_TOPIC_LIST_FROM_BROKER).
pub async fn system_topics(ns: &Addr<NameServer>, req: &RemotingCommand) -> HandlerResult {
    let list = ns.send(SystemTopics).await.map_err(mailbox)?;
    Ok(req
        .response_to(response_code::SUCCESS, None)
        .with_body(json_body(&list)))
}
