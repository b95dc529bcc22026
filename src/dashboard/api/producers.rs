//! `GET /api/producers`: online producers. With `topic` and `group`: that group's connections
//! (GET_PRODUCER_CONNECTION_LIST 204, as rocketmq-dashboard's page asks); without: every producer
//! group of every broker set (GET_ALL_PRODUCER_INFO 328, one request per broker set).

use std::collections::BTreeMap;

use actix_web::web;
use futures::future::join_all;
use serde::Deserialize;

use super::error::ApiResult;
use super::{broker_sets, ok};
use crate::dashboard::server::AppState;
use crate::protocol::body::admin::ProducerInfo;

#[derive(Deserialize)]
struct Query {
    topic: Option<String>,
    group: Option<String>,
}

async fn list(state: web::Data<AppState>, q: web::Query<Query>) -> ApiResult {
    let nonempty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    if let (Some(topic), Some(group)) = (nonempty(&q.topic), nonempty(&q.group)) {
        let conns = state
            .admin
            .group_producer_connection(&group, &topic)
            .await?;
        return Ok(ok(
            &serde_json::json!({ "group": group, "connections": conns.connection_set }),
        ));
    }
    let sets = broker_sets(&state.admin.cluster_info().await?);
    let answers = join_all(sets.iter().map(|(_, a)| state.admin.all_producer_info(a))).await;
    let mut groups: BTreeMap<String, Vec<ProducerInfo>> = BTreeMap::new();
    for a in answers {
        for (g, list) in a?.data {
            groups.entry(g).or_default().extend(list);
        }
    }
    for list in groups.values_mut() {
        list.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        list.dedup_by(|a, b| a.client_id == b.client_id);
    }
    Ok(ok(&serde_json::json!({ "groups": groups })))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/producers", web::get().to(list));
}
