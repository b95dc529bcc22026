//! QUERY_DATA_VERSION (322): a broker asks whether its registration is current; an unchanged
//! version also counts as a heartbeat.

use actix::Addr;

use super::json_body;
use super::{mailbox, HandlerResult};
use crate::actors::namesrv::messages::QueryDataVersion;
use crate::actors::namesrv::NameServer;
use crate::protocol::body::DataVersion;
use crate::protocol::codes::response_code;
use crate::protocol::headers::namesrv::{
    QueryDataVersionRequestHeader, QueryDataVersionResponseHeader,
};
use crate::protocol::{ProtocolError, RemotingCommand};

pub async fn handle(ns: &Addr<NameServer>, req: &RemotingCommand) -> HandlerResult {
    let h: QueryDataVersionRequestHeader = req.header()?;
    let version: DataVersion = serde_json::from_slice(&req.body)
        .map_err(|e| ProtocolError::MalformedBody(format!("data version: {e}")))?;
    let (changed, stored) = ns
        .send(QueryDataVersion {
            broker_addr: h.broker_addr,
            version,
        })
        .await
        .map_err(mailbox)?;
    let mut resp = req
        .response_to(response_code::SUCCESS, None)
        .with_header(&QueryDataVersionResponseHeader { changed });
    if let Some(v) = stored {
        resp = resp.with_body(json_body(&v));
    }
    Ok(resp)
}
