//! REGISTER_BROKER (103): a broker announces itself and its topics. The body is JSON or, with
//! `compressed=true`, RocketMQ's zlib form; `bodyCrc32` (when non-zero) must match.

use actix::Addr;

use super::{mailbox, HandlerResult};
use crate::actors::namesrv::messages::RegisterBroker;
use crate::actors::namesrv::route_table::{ConnId, Registration};
use crate::actors::namesrv::NameServer;
use crate::error::ServiceError;
use crate::protocol::body::RegisterBrokerBody;
use crate::protocol::codes::response_code;
use crate::protocol::headers::namesrv::{
    RegisterBrokerRequestHeader, RegisterBrokerResponseHeader,
};
use crate::protocol::RemotingCommand;

pub async fn handle(ns: &Addr<NameServer>, req: &RemotingCommand, conn: ConnId) -> HandlerResult {
    let h: RegisterBrokerRequestHeader = req.header()?;
    let expected = h.body_crc32.unwrap_or(0);
    if expected != 0 {
        let actual = (crc32fast::hash(&req.body) & 0x7FFF_FFFF) as i32;
        if actual != expected {
            return Err(ServiceError::BodyCrcMismatch { expected, actual });
        }
    }
    let body = RegisterBrokerBody::decode(&req.body, h.compressed.unwrap_or(false))?;
    let reg = Registration {
        cluster: h.cluster_name,
        broker_addr: h.broker_addr,
        broker_name: h.broker_name,
        broker_id: h.broker_id,
        ha_server_addr: h.ha_server_addr,
        topics: Some(body.topic_config_serialize_wrapper),
        conn,
    };
    let result = ns.send(RegisterBroker(reg)).await.map_err(mailbox)?;
    Ok(req
        .response_to(response_code::SUCCESS, None)
        .with_header(&RegisterBrokerResponseHeader {
            ha_server_addr: result.ha_server_addr,
            master_addr: result.master_addr,
        }))
}
