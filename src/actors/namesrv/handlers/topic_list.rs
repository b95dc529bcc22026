//! GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206) and GET_TOPICS_BY_CLUSTER (224): topic names.

use actix::Addr;

use super::json_body;
use super::{mailbox, HandlerResult};
use crate::actors::namesrv::messages::GetTopics;
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
