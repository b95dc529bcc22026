//! GET_BROKER_CLUSTER_INFO (106): every broker by name and every cluster's broker names.

use actix::Addr;

use super::json_body;
use super::{mailbox, HandlerResult};
use crate::actors::namesrv::messages::GetClusterInfo;
use crate::actors::namesrv::NameServer;
use crate::protocol::codes::response_code;
use crate::protocol::RemotingCommand;

pub async fn handle(ns: &Addr<NameServer>, req: &RemotingCommand) -> HandlerResult {
    let info = ns.send(GetClusterInfo).await.map_err(mailbox)?;
    Ok(req
        .response_to(response_code::SUCCESS, None)
        .with_body(json_body(&info)))
}
