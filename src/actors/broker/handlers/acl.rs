//! ACL on the broker: the gate `dispatch` runs before routing (plus the message's own topic for
//! CONSUMER_SEND_MSG_BACK before, and for VIEW_MESSAGE_BY_ID after: known only from the store),
//! and the ACL admin codes as RocketMQ's
//! `AdminBrokerProcessor`: UPDATE_AND_CREATE_ACL_CONFIG (50), DELETE_ACL_CONFIG (51),
//! GET_BROKER_CLUSTER_ACL_INFO (52), UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53) and
//! GET_BROKER_CLUSTER_ACL_CONFIG (54, secrets masked). Changes write the ACL file concerned on a
//! blocking thread (`AclState` does the atomic write). Runs on the connection's arbiter.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{json_body, ok, HandlerResult};
use crate::acl::perm::SUB;
use crate::acl::state::broker_admin;
use crate::acl::{AclError, AclOp, AclState};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::net::ConnInfo;
use crate::config::dashboard::MASK;
use crate::error::ServiceError;
use crate::protocol::codes::request_code as code;
use crate::protocol::headers::{
    split_list, CreateAccessConfigRequestHeader, DeleteAccessConfigRequestHeader,
    GetBrokerAclConfigResponseHeader, GetBrokerClusterAclConfigResponseBody,
    UpdateGlobalWhiteAddrsConfigRequestHeader,
};
use crate::protocol::RemotingCommand;

/// The check before routing. `Ok` carries the access key the request passed with (None when ACL
/// is off or the peer is white-listed).
pub fn admit(
    ctx: &BrokerCtx,
    req: &RemotingCommand,
    conn: &ConnInfo,
) -> Result<Option<String>, ServiceError> {
    match &ctx.acl {
        None => Ok(None),
        Some(acl) => Ok(acl.admit(req, conn.peer, broker_admin)?),
    }
}

/// The checks that need the store, before routing: a CONSUMER_SEND_MSG_BACK copies the message
/// at `offset` into the group's retry topic, where the group's consumers read it, so the account
/// must be allowed to SUB the message's own topic (RocketMQ checks the group only, which lets a
/// consumer of one topic read any other topic's messages through its retry topic).
pub fn before(
    ctx: &BrokerCtx,
    req: &RemotingCommand,
    access_key: &str,
) -> Result<(), ServiceError> {
    let Some(acl) = &ctx.acl else { return Ok(()) };
    if req.code != code::CONSUMER_SEND_MSG_BACK {
        return Ok(());
    }
    let offset = req.ext("offset").and_then(|o| o.trim().parse::<i64>().ok());
    // No message there: the handler gives its own answer.
    let Some(msg) = offset.and_then(|o| ctx.store.lookup_message(o)) else {
        return Ok(());
    };
    acl.check_more(access_key, &[(msg.topic, SUB)])
        .map_err(|d| {
            tracing::warn!(
                code = req.code,
                access_key,
                "ACL refused the send-back: {}",
                d.message
            );
            AclError::Denied(d).into()
        })
}

/// The check after routing: a VIEW_MESSAGE_BY_ID answer is replaced by a denial when the
/// account may not SUB the message's topic.
pub fn after(
    ctx: &BrokerCtx,
    req: &RemotingCommand,
    access_key: Option<&str>,
    resp: RemotingCommand,
) -> RemotingCommand {
    let (Some(acl), Some(ak)) = (&ctx.acl, access_key) else {
        return resp;
    };
    if req.code != code::VIEW_MESSAGE_BY_ID || resp.code != 0 {
        return resp;
    }
    let topic = match crate::protocol::message::decode_record(&resp.body) {
        Ok(m) => m.topic,
        Err(_) => return resp,
    };
    match acl.check_more(ak, &[(topic, SUB)]) {
        Ok(()) => resp,
        Err(d) => {
            tracing::warn!(
                code = req.code,
                access_key = ak,
                "ACL refused the message view: {}",
                d.message
            );
            ServiceError::from(AclError::Denied(d)).into_response(req)
        }
    }
}

fn state(ctx: &BrokerCtx, op: AclOp) -> Result<Arc<AclState>, ServiceError> {
    ctx.acl
        .clone()
        .ok_or_else(|| AclError::not_enabled(op).into())
}

/// Run an ACL change on a blocking thread (it writes the file).
async fn change(
    acl: Arc<AclState>,
    op: AclOp,
    f: impl FnOnce(&AclState) -> Result<(), crate::acl::rules::InvalidRules> + Send + 'static,
) -> Result<(), ServiceError> {
    tokio::task::spawn_blocking(move || f(&acl))
        .await
        .map_err(|e| AclError::Failed {
            op,
            why: e.to_string(),
        })?
        .map_err(|e| AclError::Failed { op, why: e.0 }.into())
}

/// UPDATE_AND_CREATE_ACL_CONFIG (50).
pub async fn update_account(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: CreateAccessConfigRequestHeader = req.header()?;
    let acl = state(ctx, AclOp::UpdateAccount)?;
    let ak = h.access_key.clone();
    change(acl, AclOp::UpdateAccount, move |s| {
        s.update_account(h.to_config())
    })
    .await?;
    tracing::info!(access_key = %ak, "ACL account created or updated");
    Ok(ok(req))
}

/// DELETE_ACL_CONFIG (51).
pub async fn delete_account(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: DeleteAccessConfigRequestHeader = req.header()?;
    let acl = state(ctx, AclOp::DeleteAccount)?;
    let ak = h.access_key.clone();
    change(acl, AclOp::DeleteAccount, move |s| {
        s.delete_account(&h.access_key)
    })
    .await?;
    tracing::info!(access_key = %ak, "ACL account deleted");
    Ok(ok(req))
}

/// UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53).
pub async fn update_global_white(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: UpdateGlobalWhiteAddrsConfigRequestHeader = req.header()?;
    let acl = state(ctx, AclOp::GlobalWhite)?;
    let addrs = split_list(Some(&h.global_white_addrs));
    let file = h.acl_file_full_path.clone();
    change(acl, AclOp::GlobalWhite, move |s| {
        s.update_global_white(addrs, file.as_deref())
    })
    .await?;
    tracing::info!(addrs = %h.global_white_addrs, "ACL global white list updated");
    Ok(ok(req))
}

/// GET_BROKER_CLUSTER_ACL_INFO (52): `plainAclFile`'s data version, each ACL file's, and this
/// broker's identity.
pub fn version_info(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let acl = state(ctx, AclOp::Read)?;
    let version = acl.rules().version;
    let all: BTreeMap<String, _> = acl.versions().into_iter().collect();
    let text = |v| serde_json::to_string(v).expect("serializable");
    Ok(ok(req).with_header(&GetBrokerAclConfigResponseHeader {
        version: text(&version),
        all_acl_file_version: Some(serde_json::to_string(&all).expect("serializable")),
        broker_name: ctx.cfg.broker_name.clone(),
        broker_addr: ctx.broker_addr.clone(),
        cluster_name: ctx.cfg.broker_cluster_name.clone(),
    }))
}

/// GET_BROKER_CLUSTER_ACL_CONFIG (54): the accounts and the global white list, secrets masked.
pub fn config(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let acl = state(ctx, AclOp::Read)?;
    let file = acl.file();
    let mut accounts = file.accounts;
    for a in &mut accounts {
        a.secret_key = Some(MASK.to_string());
    }
    Ok(
        ok(req).with_body(json_body(&GetBrokerClusterAclConfigResponseBody {
            global_white_addrs: file.global_white_remote_addresses,
            plain_access_configs: accounts,
        })),
    )
}
