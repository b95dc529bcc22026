//! GET_ROUTEINFO_BY_TOPIC (105): the brokers and queues of a topic, or TOPIC_NOT_EXIST (17).
//! The body is always the standard JSON form (quoted map keys), which every client accepts.

use actix::Addr;

use super::json_body;
use super::{mailbox, HandlerResult};
use crate::actors::namesrv::messages::GetRoute;
use crate::actors::namesrv::NameServer;
use crate::error::ServiceError;
use crate::protocol::codes::response_code;
use crate::protocol::headers::namesrv::GetRouteInfoRequestHeader;
use crate::protocol::RemotingCommand;

pub async fn handle(ns: &Addr<NameServer>, req: &RemotingCommand) -> HandlerResult {
    let h: GetRouteInfoRequestHeader = req.header()?;
    match ns.send(GetRoute(h.topic.clone())).await.map_err(mailbox)? {
        Some(route) => Ok(req
            .response_to(response_code::SUCCESS, None)
            .with_body(json_body(&route))),
        None => Err(ServiceError::TopicNotExist(format!(
            "No topic route info in name server for the topic: {}",
            h.topic
        ))),
    }
}
