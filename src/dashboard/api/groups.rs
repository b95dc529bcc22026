//! Consumer groups. `GET /api/groups`: every subscription group with its brokers, config and lag,
//! a fixed number of requests per broker set (see [`crate::admin::overview`]), all broker sets
//! concurrently; the answer says how long it took (`elapsedMs`). `GET /api/groups/{group}`:
//! per-queue progress (208) and online clients (203). `POST .../reset-offset` (222, offline
//! fallback 15) and `DELETE /api/groups/{group}` (207 on every broker set).

use std::collections::BTreeMap;
use std::time::Instant;

use actix_web::{web, HttpRequest};
use futures::future::join_all;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiResult};
use super::{broker_sets, ok};
use crate::admin::overview::GroupSummary;
use crate::admin::RESET_TO_MAX;
use crate::dashboard::server::AppState;
use crate::protocol::body::{ConsumeStats, ConsumerConnection};
use crate::protocol::codes::response_code as rc;

/// One group across the broker sets that have it.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GroupRow {
    pub group: String,
    pub brokers: Vec<String>,
    /// The group config's `consumeBroadcastEnable` (whether broadcast consumption is allowed;
    /// the clients' actual mode is in the group detail, from their connections).
    pub broadcast_enable: bool,
    pub consume_enable: bool,
    pub retry_max_times: i32,
    pub lag: i64,
    pub lag_by_topic: BTreeMap<String, i64>,
}

/// Merge per-broker summaries into one row per group, sorted by name.
pub fn merge(summaries: Vec<GroupSummary>) -> Vec<GroupRow> {
    let mut rows: BTreeMap<String, GroupRow> = BTreeMap::new();
    for s in summaries {
        let row = rows.entry(s.group.clone()).or_insert_with(|| GroupRow {
            group: s.group.clone(),
            brokers: Vec::new(),
            broadcast_enable: s.config.consume_broadcast_enable,
            consume_enable: s.config.consume_enable,
            retry_max_times: s.config.retry_max_times,
            lag: 0,
            lag_by_topic: BTreeMap::new(),
        });
        row.brokers.push(s.broker_name);
        row.lag += s.lag;
        for (t, l) in s.lag_by_topic {
            *row.lag_by_topic.entry(t).or_default() += l;
        }
    }
    rows.into_values().collect()
}

async fn list(state: web::Data<AppState>) -> ApiResult {
    let t0 = Instant::now();
    let sets = broker_sets(&state.admin.cluster_info().await?);
    let per_broker = join_all(
        sets.iter()
            .map(|(name, addr)| state.admin.broker_group_summaries(name, addr)),
    )
    .await;
    // A broker set that does not answer leaves its groups out and says why, rather than
    // hiding every other broker's groups behind one error.
    let (mut all, mut errors) = (Vec::new(), Vec::new());
    for ((name, _), r) in sets.iter().zip(per_broker) {
        match r {
            Ok(v) => all.extend(v),
            Err(e) => errors.push(serde_json::json!({"brokerName": name, "error": e.to_string()})),
        }
    }
    if all.is_empty() && !errors.is_empty() {
        return Err(ApiError::new(
            actix_web::http::StatusCode::BAD_GATEWAY,
            format!("no broker answered: {}", errors[0]["error"]),
        ));
    }
    let rows = merge(all);
    Ok(ok(&serde_json::json!({
        "groups": rows,
        "errors": errors,
        "elapsedMs": t0.elapsed().as_secs_f64() * 1000.0,
    })))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QueueRow {
    topic: String,
    broker_name: String,
    queue_id: i32,
    broker_offset: i64,
    consumer_offset: i64,
    lag: i64,
    last_timestamp: i64,
}

/// `None` when the broker says nobody of the group is online / has progress.
fn absent_ok<T>(r: crate::admin::Result<T>) -> Result<Option<T>, ApiError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if matches!(e.code(), Some(rc::CONSUMER_NOT_ONLINE)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn detail(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult {
    let group = path.into_inner();
    let (stats, conns) = futures::join!(
        state.admin.group_consume_stats(&group, None),
        state.admin.group_consumer_connection(&group)
    );
    let stats = absent_ok(stats)?.unwrap_or_else(ConsumeStats::default);
    let conns = absent_ok(conns)?.unwrap_or_else(ConsumerConnection::default);
    let queues: Vec<QueueRow> = stats
        .offset_table
        .iter()
        .map(|(mq, o)| QueueRow {
            topic: mq.topic.clone(),
            broker_name: mq.broker_name.clone(),
            queue_id: mq.queue_id,
            broker_offset: o.broker_offset,
            consumer_offset: o.consumer_offset,
            lag: (o.broker_offset - o.consumer_offset).max(0),
            last_timestamp: o.last_timestamp,
        })
        .collect();
    Ok(ok(&serde_json::json!({
        "group": group,
        "consumeTps": stats.consume_tps,
        "lag": queues.iter().map(|q| q.lag).sum::<i64>(),
        "queues": queues,
        "connections": conns,
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResetBody {
    topic: String,
    /// Milliseconds since the epoch; -1 (or absent) = the newest offset.
    timestamp: Option<i64>,
    #[serde(default = "yes")]
    force: bool,
}

fn yes() -> bool {
    true
}

async fn reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ResetBody>,
) -> ApiResult {
    let admin = state.guard.authorize(&req, &state.admin)?;
    let b = body.into_inner();
    let ts = b.timestamp.unwrap_or(RESET_TO_MAX);
    let r = admin
        .reset_offset_by_time(b.topic.trim(), &path, ts, b.force)
        .await?;
    let offsets: Vec<serde_json::Value> = r
        .offsets
        .iter()
        .map(|(mq, o)| {
            serde_json::json!({"brokerName": mq.broker_name, "queueId": mq.queue_id, "offset": o})
        })
        .collect();
    Ok(ok(
        &serde_json::json!({ "mode": r.mode, "offsets": offsets }),
    ))
}

async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult {
    let admin = state.guard.authorize(&req, &state.admin)?;
    let group = path.into_inner();
    let sets = broker_sets(&admin.cluster_info().await?);
    for (_, addr) in &sets {
        admin.delete_subscription_group(addr, &group, true).await?;
    }
    let brokers: Vec<&str> = sets.iter().map(|(n, _)| n.as_str()).collect();
    Ok(ok(
        &serde_json::json!({ "deleted": group, "brokers": brokers }),
    ))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/groups", web::get().to(list))
        .route("/groups/{group}", web::get().to(detail))
        .route("/groups/{group}", web::delete().to(delete))
        .route("/groups/{group}/reset-offset", web::post().to(reset));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::body::SubscriptionGroupConfig;

    fn summary(group: &str, broker: &str, lag: i64) -> GroupSummary {
        GroupSummary {
            group: group.into(),
            broker_name: broker.into(),
            config: SubscriptionGroupConfig::new(group),
            lag_by_topic: BTreeMap::from([("T".to_string(), lag)]),
            lag,
        }
    }

    #[test]
    fn merge_sums_lag_across_brokers() {
        let rows = merge(vec![
            summary("g", "a", 2),
            summary("g", "b", 3),
            summary("f", "a", 0),
        ]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].group, "f");
        assert_eq!(rows[1].lag, 5);
        assert_eq!(rows[1].lag_by_topic["T"], 5);
        assert_eq!(rows[1].brokers, vec!["a", "b"]);
    }
}
