//! PUT_KV_CONFIG (100), GET_KV_CONFIG (101), DELETE_KV_CONFIG (102), GET_KVLIST_BY_NAMESPACE (219).
//! A missing item is QUERY_NOT_FOUND (22), as in RocketMQ.

use actix::Addr;

use super::json_body;
use super::{mailbox, HandlerResult};
use crate::actors::namesrv::messages::{KvReply, KvRequest};
use crate::actors::namesrv::NameServer;
use crate::error::ServiceError;
use crate::protocol::body::KvTable;
use crate::protocol::codes::{request_code, response_code};
use crate::protocol::headers::namesrv::{
    DeleteKVConfigRequestHeader, GetKVConfigRequestHeader, GetKVConfigResponseHeader,
    GetKVListByNamespaceRequestHeader, PutKVConfigRequestHeader,
};
use crate::protocol::RemotingCommand;

pub async fn handle(ns: &Addr<NameServer>, req: &RemotingCommand) -> HandlerResult {
    let ask = match req.code {
        request_code::PUT_KV_CONFIG => {
            let h: PutKVConfigRequestHeader = req.header()?;
            KvRequest::Put {
                namespace: h.namespace,
                key: h.key,
                value: h.value,
            }
        }
        request_code::GET_KV_CONFIG => {
            let h: GetKVConfigRequestHeader = req.header()?;
            KvRequest::Get {
                namespace: h.namespace,
                key: h.key,
            }
        }
        request_code::DELETE_KV_CONFIG => {
            let h: DeleteKVConfigRequestHeader = req.header()?;
            KvRequest::Delete {
                namespace: h.namespace,
                key: h.key,
            }
        }
        _ => {
            let h: GetKVListByNamespaceRequestHeader = req.header()?;
            KvRequest::List {
                namespace: h.namespace,
            }
        }
    };
    let what = match &ask {
        KvRequest::Get { namespace, key } => format!("Namespace: {namespace} Key: {key}"),
        KvRequest::List { namespace } => format!("Namespace: {namespace}"),
        _ => String::new(),
    };
    let ok = req.response_to(response_code::SUCCESS, None);
    match ns.send(ask).await.map_err(mailbox)? {
        KvReply::Done => Ok(ok),
        KvReply::Value(Some(value)) => {
            Ok(ok.with_header(&GetKVConfigResponseHeader { value: Some(value) }))
        }
        KvReply::List(Some(table)) => Ok(ok.with_body(json_body(&KvTable { table }))),
        KvReply::Value(None) | KvReply::List(None) => {
            Err(ServiceError::NotFound(format!("No config item, {what}")))
        }
    }
}
