//! Messages. `GET /api/messages?topic=T&begin=MS&end=MS`: the topic's messages stored in the
//! window (SEARCH_OFFSET_BY_TIMESTAMP then PULL_MESSAGE per queue, at most [`MAX_MESSAGES`]);
//! `?topic=T&key=K`: by key (QUERY_MESSAGE); `GET /api/messages/{id}?topic=T`: one message by
//! offset msg id or unique key. `POST /api/messages/{id}/resend {group, clientId?, topic?}`:
//! CONSUME_MESSAGE_DIRECTLY (309) to one online client of the group.

use actix_web::{web, HttpRequest};
use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::{ok, required, time_param};
use crate::admin::client::route_queues;
use crate::admin::commands::view::MessageView;
use crate::admin::AdminClient;
use crate::client::broker_api::PullStatus;
use crate::clock::now_ms;
use crate::dashboard::server::AppState;

/// Most messages a time-window query returns (rocketmq-dashboard shows at most 2000 too).
pub const MAX_MESSAGES: usize = 2000;
const BATCH: i32 = 32;

/// The messages of `topic` stored in `[begin, end]`, oldest first per queue, at most
/// [`MAX_MESSAGES`]; the flag says whether the limit cut the list.
pub async fn by_time(
    admin: &AdminClient,
    topic: &str,
    begin: i64,
    end: i64,
) -> crate::admin::Result<(Vec<MessageView>, bool)> {
    let route = admin.route_of(topic).await?;
    let mut out = Vec::new();
    for (mq, addr) in route_queues(&route, topic) {
        let from = admin.search_offset(&addr, &mq, begin).await?;
        let to = admin.max_offset(&addr, &mq).await?;
        let mut offset = from;
        while offset < to {
            let r = admin.pull_from(&addr, &mq, "*", offset, BATCH).await?;
            if !matches!(r.status, PullStatus::Found | PullStatus::NoMatchedMsg) {
                break;
            }
            for m in r
                .msgs
                .iter()
                .filter(|m| m.store_timestamp >= begin && m.store_timestamp <= end)
            {
                if out.len() == MAX_MESSAGES {
                    return Ok((out, true));
                }
                out.push(MessageView::of(m));
            }
            let past_end = r.msgs.last().is_some_and(|m| m.store_timestamp > end);
            if past_end || r.next_begin_offset <= offset {
                break;
            }
            offset = r.next_begin_offset;
        }
    }
    Ok((out, false))
}

#[derive(Deserialize)]
struct ListQuery {
    topic: Option<String>,
    key: Option<String>,
    begin: Option<String>,
    end: Option<String>,
}

async fn list(state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult {
    let topic = required(q.topic.as_deref(), "topic")?;
    if let Some(key) = q.key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        let msgs = state.admin.query_by_key(topic, key).await?;
        let views: Vec<MessageView> = msgs.iter().map(MessageView::of).collect();
        return Ok(ok(
            &serde_json::json!({ "messages": views, "truncated": false }),
        ));
    }
    let now = now_ms();
    let begin = time_param(q.begin.as_deref(), now - 3_600_000)?;
    let end = time_param(q.end.as_deref(), now)?;
    if begin > end {
        return Err(ApiError::bad_request("begin is after end"));
    }
    let (views, truncated) = by_time(&state.admin, topic, begin, end).await?;
    Ok(ok(
        &serde_json::json!({ "messages": views, "truncated": truncated }),
    ))
}

#[derive(Deserialize)]
struct IdQuery {
    topic: Option<String>,
}

async fn by_id(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<IdQuery>,
) -> ApiResult {
    let topic = q.topic.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let m = state.admin.view_by_id(topic, path.trim()).await?;
    let tracks = state.admin.message_track(&m).await.unwrap_or_default();
    Ok(ok(
        &serde_json::json!({ "message": MessageView::of(&m), "tracks": tracks }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResendBody {
    pub group: String,
    pub client_id: Option<String>,
    pub topic: Option<String>,
}

/// CONSUME_MESSAGE_DIRECTLY of message `id` to `clientId` (default: the group's first online
/// client), through the broker that stores the message.
pub async fn resend(admin: &AdminClient, id: &str, b: &ResendBody) -> ApiResult {
    let group = b.group.trim();
    if group.is_empty() {
        return Err(ApiError::bad_request("group is required"));
    }
    let topic = b.topic.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let m = admin.view_by_id(topic, id.trim()).await?;
    let client = match b
        .client_id
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(c) => c.to_string(),
        None => admin
            .group_consumer_connection(group)
            .await?
            .connection_set
            .first()
            .map(|c| c.client_id.clone())
            .ok_or_else(|| ApiError::bad_request(format!("no client of {group} is online")))?,
    };
    let addr = m.store_host.to_string();
    let r = admin
        .consume_message_directly(&addr, group, &client, &m.offset_msg_id())
        .await?;
    Ok(ok(&serde_json::json!({ "clientId": client, "result": r })))
}

async fn resend_handler(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ResendBody>,
) -> ApiResult {
    let admin = state.guard.authorize(&req, &state.admin)?;
    resend(&admin, &path, &body).await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/messages", web::get().to(list))
        .route("/messages/{id}", web::get().to(by_id))
        .route("/messages/{id}/resend", web::post().to(resend_handler));
}
