//! UNREGISTER_BROKER (104): a broker leaves cleanly.

use actix::Addr;

use super::{mailbox, HandlerResult};
use crate::actors::namesrv::messages::UnregisterBroker;
use crate::actors::namesrv::NameServer;
use crate::protocol::codes::response_code;
use crate::protocol::headers::namesrv::UnRegisterBrokerRequestHeader;
use crate::protocol::RemotingCommand;

pub async fn handle(ns: &Addr<NameServer>, req: &RemotingCommand) -> HandlerResult {
    let h: UnRegisterBrokerRequestHeader = req.header()?;
    ns.send(UnregisterBroker {
        broker_addr: h.broker_addr,
        broker_name: h.broker_name,
        broker_id: h.broker_id,
    })
    .await
    .map_err(mailbox)?;
    Ok(req.response_to(response_code::SUCCESS, None))
}
