//! `GET /api/cluster`: every broker (cluster, name, id, address, role, version, in/out TPS,
//! today's totals, disk use) from GET_BROKER_CLUSTER_INFO (106) and one GET_BROKER_RUNTIME_INFO
//! (28) per broker, concurrently. `GET /api/cluster/history`: the collector's samples for the
//! charts.

use actix_web::{web, HttpResponse};
use futures::future::join_all;
use serde::Serialize;

use super::error::ApiResult;
use super::ok;
use crate::dashboard::collector::first_tps;
use crate::dashboard::server::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BrokerRow {
    cluster: String,
    broker_name: String,
    broker_id: i64,
    addr: String,
    role: String,
    version: String,
    put_tps: f64,
    get_tps: f64,
    put_total_today: i64,
    get_total_today: i64,
    /// Bytes between the commit log's min and max offsets.
    store_bytes: i64,
    /// `commitLogDiskRatio` when the broker reports it (0..1).
    disk_ratio: Option<f64>,
    /// Why the runtime info is missing, when it is.
    error: Option<String>,
}

async fn cluster(state: web::Data<AppState>) -> ApiResult {
    let info = state.admin.cluster_info().await?;
    let mut targets = Vec::new();
    for (cluster, names) in &info.cluster_addr_table {
        for name in names {
            if let Some(bd) = info.broker_addr_table.get(name) {
                for (id, addr) in &bd.broker_addrs {
                    targets.push((cluster.clone(), name.clone(), *id, addr.clone()));
                }
            }
        }
    }
    let infos = join_all(targets.iter().map(|t| state.admin.runtime_info(&t.3))).await;
    let history = state.collector.history.lock();
    let rows: Vec<BrokerRow> = targets
        .into_iter()
        .zip(infos)
        .map(|((cluster, broker_name, broker_id, addr), kv)| {
            let latest = history.latest(&format!("{broker_name}/{broker_id}"));
            let (kv, error) = match kv {
                Ok(kv) => (kv.table, None),
                Err(e) => (Default::default(), Some(e.to_string())),
            };
            let get = |k: &str| kv.get(k).cloned().unwrap_or_default();
            let num = |k: &str| get(k).trim().parse::<i64>().unwrap_or(0);
            let tps = |k: &str, fallback: f64| first_tps(&get(k)).unwrap_or(fallback);
            BrokerRow {
                role: kv
                    .get("brokerRole")
                    .cloned()
                    .unwrap_or_else(|| if broker_id == 0 { "MASTER" } else { "SLAVE" }.to_string()),
                version: get("brokerVersionDesc"),
                put_tps: tps("putTps", latest.map_or(0.0, |s| s.put_tps)),
                get_tps: tps("getTransferedTps", latest.map_or(0.0, |s| s.get_tps)),
                put_total_today: num("msgPutTotalTodayNow"),
                get_total_today: num("msgGetTotalTodayNow"),
                store_bytes: (num("commitLogMaxOffset") - num("commitLogMinOffset")).max(0),
                disk_ratio: kv
                    .get("commitLogDiskRatio")
                    .and_then(|v| v.trim().parse().ok()),
                error,
                cluster,
                broker_name,
                broker_id,
                addr,
            }
        })
        .collect();
    Ok(ok(&serde_json::json!({ "brokers": rows })))
}

async fn history(state: web::Data<AppState>) -> HttpResponse {
    let snapshot = state.collector.history.lock().snapshot();
    ok(&serde_json::json!({
        "intervalMs": crate::dashboard::collector::INTERVAL.as_millis() as u64,
        "series": snapshot,
    }))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/cluster", web::get().to(cluster))
        .route("/cluster/history", web::get().to(history));
}
