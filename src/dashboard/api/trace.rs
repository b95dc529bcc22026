//! `GET /api/trace/{msgId}?traceTopic=T`: the trace records of a message (Pub, SubBefore,
//! SubAfter...) from the trace topic (default `RMQ_SYS_TRACE_TOPIC`), through the admin client's
//! trace query (the one `mqadmin queryMsgTraceById` uses). Empty when nothing was traced.

use actix_web::web;
use serde::Deserialize;

use super::error::ApiResult;
use super::ok;
use crate::dashboard::server::AppState;

/// RocketMQ's default trace topic.
pub const DEFAULT_TRACE_TOPIC: &str = "RMQ_SYS_TRACE_TOPIC";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Query {
    trace_topic: Option<String>,
}

async fn trace(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<Query>,
) -> ApiResult {
    let topic = q
        .trace_topic
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(DEFAULT_TRACE_TOPIC);
    let records = state.admin.query_trace(topic, path.trim()).await?;
    let rows: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            let b = r.bean();
            serde_json::json!({
                "type": r.trace_type.as_str(),
                "timestamp": r.time_stamp,
                "group": r.group_name,
                "costTime": r.cost_time,
                "success": r.success,
                "requestId": r.request_id,
                "contextCode": r.context_code,
                "topic": b.topic,
                "msgId": b.msg_id,
                "tags": b.tags,
                "keys": b.keys,
                "storeHost": b.store_host,
                "clientHost": b.client_host,
                "retryTimes": b.retry_times,
            })
        })
        .collect();
    Ok(ok(
        &serde_json::json!({ "traceTopic": topic, "records": rows }),
    ))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/trace/{msgId}", web::get().to(trace));
}
