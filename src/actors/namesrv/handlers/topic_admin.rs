//! Admin requests on the route table: DELETE_TOPIC_IN_NAMESRV (216),
//! WIPE_WRITE_PERM_OF_BROKER (205) and its mirror ADD_WRITE_PERM_OF_BROKER (327).

use actix::Addr;

use super::{mailbox, HandlerResult};
use crate::actors::namesrv::messages::{AddWritePerm, DeleteTopic, WipeWritePerm};
use crate::actors::namesrv::NameServer;
use crate::protocol::codes::{request_code, response_code};
use crate::protocol::headers::namesrv::{
    AddWritePermOfBrokerRequestHeader, AddWritePermOfBrokerResponseHeader,
    DeleteTopicFromNamesrvRequestHeader, WipeWritePermOfBrokerRequestHeader,
    WipeWritePermOfBrokerResponseHeader,
};
use crate::protocol::RemotingCommand;

pub async fn handle(ns: &Addr<NameServer>, req: &RemotingCommand) -> HandlerResult {
    let ok = req.response_to(response_code::SUCCESS, None);
    if req.code == request_code::DELETE_TOPIC_IN_NAMESRV {
        let h: DeleteTopicFromNamesrvRequestHeader = req.header()?;
        ns.send(DeleteTopic(h.topic)).await.map_err(mailbox)?;
        return Ok(ok);
    }
    if req.code == request_code::ADD_WRITE_PERM_OF_BROKER {
        let h: AddWritePermOfBrokerRequestHeader = req.header()?;
        let n = ns
            .send(AddWritePerm(h.broker_name))
            .await
            .map_err(mailbox)?;
        return Ok(ok.with_header(&AddWritePermOfBrokerResponseHeader { add_topic_count: n }));
    }
    let h: WipeWritePermOfBrokerRequestHeader = req.header()?;
    let n = ns
        .send(WipeWritePerm(h.broker_name))
        .await
        .map_err(mailbox)?;
    Ok(ok.with_header(&WipeWritePermOfBrokerResponseHeader {
        wipe_topic_count: n,
    }))
}
