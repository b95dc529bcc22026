//! Dead letters: `GET /api/dlq?group=G&begin=MS&end=MS` lists `%DLQ%G` in the window (an
//! unknown DLQ topic is an empty list: the group never dead-lettered anything);
//! `POST /api/dlq/{id}/resend {group, clientId?}` hands one back to the group's client (309).

use actix_web::{web, HttpRequest};
use serde::Deserialize;

use super::error::ApiResult;
use super::messages::{by_time, resend, ResendBody};
use super::{ok, required, time_param};
use crate::client::message::dlq_topic;
use crate::clock::now_ms;
use crate::dashboard::server::AppState;

#[derive(Deserialize)]
struct Query {
    group: Option<String>,
    begin: Option<String>,
    end: Option<String>,
}

async fn list(state: web::Data<AppState>, q: web::Query<Query>) -> ApiResult {
    let group = required(q.group.as_deref(), "group")?;
    let topic = dlq_topic(group);
    let now = now_ms();
    let begin = time_param(q.begin.as_deref(), now - 24 * 3_600_000)?;
    let end = time_param(q.end.as_deref(), now)?;
    if state.admin.route(&topic).await?.is_none() {
        return Ok(ok(
            &serde_json::json!({ "topic": topic, "messages": [], "truncated": false }),
        ));
    }
    let (views, truncated) = by_time(&state.admin, &topic, begin, end).await?;
    Ok(ok(
        &serde_json::json!({ "topic": topic, "messages": views, "truncated": truncated }),
    ))
}

async fn resend_dlq(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ResendBody>,
) -> ApiResult {
    let admin = state.guard.authorize(&req, &state.admin)?;
    let mut b = body.into_inner();
    b.topic = Some(dlq_topic(b.group.trim()));
    resend(&admin, &path, &b).await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/dlq", web::get().to(list))
        .route("/dlq/{id}/resend", web::post().to(resend_dlq));
}
