//! Topics: `GET /api/topics?filter=ALL|NORMAL|RETRY|DLQ|SYSTEM` (206 + 304),
//! `POST /api/topics` create or update on every master of a cluster (17),
//! `DELETE /api/topics/{topic}` (215 on its brokers, 216 on the name servers), and per topic
//! `status` (202), `route` (105), `consumers` (300) and `POST .../send` (a test message sent with
//! the client library's producer, as `mqadmin sendMessage` does).

use actix_web::{web, HttpRequest};
use futures::future::join_all;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiResult};
use super::{broker_sets, ok};
use crate::admin::client::route_brokers;
use crate::client::{Message, Producer, ProducerConfig};
use crate::dashboard::server::AppState;
use crate::protocol::body::{perm, TopicConfig};

/// The producer group test messages are sent as (mqadmin's `sendMessage` uses the same).
pub const PRODUCER_GROUP: &str = "DEFAULT_PRODUCER";

/// RocketMQ dashboard's topic kinds.
pub fn topic_kind(topic: &str, system: &std::collections::BTreeSet<String>) -> &'static str {
    if topic.starts_with("%RETRY%") {
        "RETRY"
    } else if topic.starts_with("%DLQ%") {
        "DLQ"
    } else if system.contains(topic) {
        "SYSTEM"
    } else {
        "NORMAL"
    }
}

/// The system topics: the name servers' list (304: cluster and broker names) and every broker
/// set's own (305). A peer without these codes only leaves the SYSTEM kind incomplete.
async fn system_topics(state: &AppState) -> std::collections::BTreeSet<String> {
    let mut out = state
        .admin
        .system_topics()
        .await
        .map(|s| s.topic_list)
        .unwrap_or_default();
    if let Ok(info) = state.admin.cluster_info().await {
        let sets = broker_sets(&info);
        let lists = join_all(
            sets.iter()
                .map(|(_, a)| state.admin.broker_system_topics(a)),
        )
        .await;
        out.extend(lists.into_iter().flatten().flat_map(|l| l.topic_list));
    }
    out
}

#[derive(Deserialize)]
struct ListQuery {
    filter: Option<String>,
}

#[derive(Serialize)]
struct TopicRow<'a> {
    topic: &'a str,
    kind: &'static str,
}

async fn list(state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult {
    let (topics, system) = futures::join!(state.admin.topic_list(), system_topics(&state));
    let topics = topics?.topic_list;
    let filter = q.filter.as_deref().unwrap_or("ALL").to_ascii_uppercase();
    if !["ALL", "NORMAL", "RETRY", "DLQ", "SYSTEM"].contains(&filter.as_str()) {
        return Err(ApiError::bad_request(format!(
            "filter '{filter}' is not ALL, NORMAL, RETRY, DLQ or SYSTEM"
        )));
    }
    let rows: Vec<TopicRow> = topics
        .iter()
        .map(|t| TopicRow {
            topic: t,
            kind: topic_kind(t, &system),
        })
        .filter(|r| filter == "ALL" || r.kind == filter)
        .collect();
    Ok(ok(&serde_json::json!({ "topics": rows })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    topic: String,
    #[serde(default = "default_queues")]
    read_queue_nums: i32,
    #[serde(default = "default_queues")]
    write_queue_nums: i32,
    #[serde(default = "default_perm")]
    perm: i32,
    #[serde(default)]
    order: bool,
    /// The cluster whose masters get the topic; default: every broker set.
    cluster: Option<String>,
}

fn default_queues() -> i32 {
    8
}

fn default_perm() -> i32 {
    perm::READ | perm::WRITE
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<CreateBody>,
) -> ApiResult {
    let admin = state.guard.authorize(&req, &state.admin)?;
    let b = body.into_inner();
    let topic = b.topic.trim();
    if topic.is_empty() {
        return Err(ApiError::bad_request("topic name is empty"));
    }
    let config = TopicConfig {
        topic_name: topic.to_string(),
        read_queue_nums: b.read_queue_nums,
        write_queue_nums: b.write_queue_nums,
        perm: b.perm,
        order: b.order,
        ..Default::default()
    };
    let targets: Vec<(String, String)> = match b.cluster.as_deref().map(str::trim) {
        Some(c) if !c.is_empty() => {
            let info = admin.cluster_info().await?;
            crate::admin::client::masters_of(&info, c)?
        }
        _ => broker_sets(&admin.cluster_info().await?),
    };
    if targets.is_empty() {
        return Err(ApiError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "no broker is registered with the name server",
        ));
    }
    for (_, addr) in &targets {
        admin.create_topic(addr, &config).await?;
    }
    let brokers: Vec<&str> = targets.iter().map(|(n, _)| n.as_str()).collect();
    Ok(ok(
        &serde_json::json!({ "topic": topic, "brokers": brokers }),
    ))
}

async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult {
    let admin = state.guard.authorize(&req, &state.admin)?;
    let topic = path.into_inner();
    let route = admin.route_of(&topic).await?;
    for (_, addr) in route_brokers(&route) {
        admin.delete_topic_in_broker(&addr, &topic).await?;
    }
    admin.delete_topic_in_namesrv(&topic).await?;
    Ok(ok(&serde_json::json!({ "deleted": topic })))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QueueStatus {
    broker_name: String,
    queue_id: i32,
    min_offset: i64,
    max_offset: i64,
    last_update_timestamp: i64,
}

async fn status(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult {
    let stats = state.admin.topic_status(&path).await?;
    let queues: Vec<QueueStatus> = stats
        .offset_table
        .iter()
        .map(|(mq, o)| QueueStatus {
            broker_name: mq.broker_name.clone(),
            queue_id: mq.queue_id,
            min_offset: o.min_offset,
            max_offset: o.max_offset,
            last_update_timestamp: o.last_update_timestamp,
        })
        .collect();
    Ok(ok(
        &serde_json::json!({ "topic": path.as_str(), "queues": queues }),
    ))
}

async fn route(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult {
    Ok(ok(&state.admin.route_of(&path).await?))
}

async fn consumers(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult {
    let groups = state.admin.topic_consumers(&path).await?;
    Ok(ok(
        &serde_json::json!({ "topic": path.as_str(), "groups": groups }),
    ))
}

#[derive(Deserialize)]
struct SendBody {
    body: String,
    tags: Option<String>,
    keys: Option<String>,
}

async fn send(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<SendBody>,
) -> ApiResult {
    let admin = state.guard.authorize(&req, &state.admin)?;
    let b = body.into_inner();
    let mut msg = Message::new(path.as_str(), b.body.into_bytes());
    if let Some(t) = b.tags.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        msg = msg.with_tags(t);
    }
    if let Some(k) = b.keys.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        msg = msg.with_keys(k);
    }
    let mut config = ProducerConfig::new(&admin.namesrv_addrs().join(";"), PRODUCER_GROUP);
    config.client.instance_name = format!("dashboard-{}", std::process::id());
    config.client.request_timeout = admin.timeout();
    config.client.credentials = admin.credentials();
    let producer = Producer::start(config)
        .await
        .map_err(crate::admin::AdminError::from)?;
    let result = producer.send(msg).await;
    let _ = producer.shutdown().await;
    let r = result.map_err(crate::admin::AdminError::from)?;
    Ok(ok(&serde_json::json!({
        "status": r.status.to_string(),
        "msgId": r.msg_id,
        "offsetMsgId": r.offset_msg_id,
        "brokerName": r.queue.broker_name,
        "queueId": r.queue.queue_id,
        "queueOffset": r.queue_offset,
    })))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/topics", web::get().to(list))
        .route("/topics", web::post().to(create))
        .route("/topics/{topic}", web::delete().to(delete))
        .route("/topics/{topic}/status", web::get().to(status))
        .route("/topics/{topic}/route", web::get().to(route))
        .route("/topics/{topic}/consumers", web::get().to(consumers))
        .route("/topics/{topic}/send", web::post().to(send));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let sys = ["TBW102".to_string()].into_iter().collect();
        assert_eq!(topic_kind("%RETRY%g", &sys), "RETRY");
        assert_eq!(topic_kind("%DLQ%g", &sys), "DLQ");
        assert_eq!(topic_kind("TBW102", &sys), "SYSTEM");
        assert_eq!(topic_kind("T", &sys), "NORMAL");
    }
}
