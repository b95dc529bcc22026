//! The JSON API under `/api/`: what the pages call and scripts may call. One file per resource;
//! handlers are thin: parse the request, make the admin calls, shape the answer. Reads are open,
//! admin actions (POST/DELETE) pass the [`super::auth::AdminGuard`] first and run with the
//! admin client it hands out (the logged-in ACL account's when ACL is on).

pub mod cluster;
pub mod dlq;
pub mod error;
pub mod groups;
pub mod messages;
pub mod producers;
pub mod topics;
pub mod trace;

use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::admin::client::select_broker_addr;
use crate::protocol::body::ClusterInfo;

/// A 200 answer with `v` as JSON.
pub fn ok<T: Serialize>(v: &T) -> HttpResponse {
    HttpResponse::Ok().json(v)
}

/// (broker name, address to ask: the master, else a slave) of every broker set, sorted.
pub fn broker_sets(info: &ClusterInfo) -> Vec<(String, String)> {
    info.broker_addr_table
        .iter()
        .filter_map(|(name, bd)| Some((name.clone(), select_broker_addr(bd)?)))
        .collect()
}

/// A query value that must be present and non-blank (trimmed), else 400 naming it.
pub fn required<'a>(v: Option<&'a str>, name: &str) -> Result<&'a str, error::ApiError> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| error::ApiError::bad_request(format!("{name} is required")))
}

/// Milliseconds since the epoch of a query value: a number, or empty for `default`.
pub fn time_param(v: Option<&str>, default: i64) -> Result<i64, error::ApiError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => s.parse().map_err(|_| {
            error::ApiError::bad_request(format!("'{s}' is not a time in milliseconds"))
        }),
    }
}

/// Every `/api/` route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api")
            .configure(cluster::routes)
            .configure(topics::routes)
            .configure(groups::routes)
            .configure(producers::routes)
            .configure(messages::routes)
            .configure(dlq::routes)
            .configure(trace::routes)
            .configure(crate::dashboard::login::routes)
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(error::ApiError::new(
                    actix_web::http::StatusCode::NOT_FOUND,
                    "no such API path",
                ))
            })),
    );
}
