//! The Prometheus endpoint (`metricsExporterType=PROM`): `GET /metrics` answers RIP-46's broker
//! metrics in the Prometheus text format (0.0.4), encoded by `prometheus-client` from the
//! broker's counters and tables at scrape time (`collector`, `gauges`).
//!
//! Scrapes are rare, so the endpoint runs on its own thread ("broker-metrics", a one-thread tokio
//! runtime with hyper), off the broker's I/O arbiters; the listener is bound during the broker's
//! start so a taken port fails the start. The thread holds only a `Weak` to the broker: once the
//! broker is gone a scrape answers 503.

pub mod collector;
pub mod gauges;

use std::borrow::Cow;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::registry::Registry;

use self::collector::Scrape;
use super::context::BrokerCtx;
use super::heartbeat::{GetConsumerConnection, ProducerConnectionCounts};
use super::startup::StartError;
use crate::config::BrokerConfig;
use crate::protocol::body::ConsumerConnection;

/// Most consumer groups whose connections one scrape asks the `HeartbeatActor` for.
const MAX_CONNECTION_GROUPS: usize = 1_000;

/// Bind the endpoint's listener (`metricsPromExporterHost`, else `brokerIP1`; port
/// `metricsPromExporterPort`). `None` when the exporter is disabled.
pub fn bind(cfg: &BrokerConfig) -> Result<Option<std::net::TcpListener>, StartError> {
    if !cfg.metrics.enabled() {
        return Ok(None);
    }
    let host = match cfg.metrics.metrics_prom_exporter_host.as_str() {
        "" => cfg.broker_ip1.as_str(),
        h => h,
    };
    let port = cfg.metrics.metrics_prom_exporter_port;
    let bound = std::net::TcpListener::bind((host, port)).and_then(|l| {
        l.set_nonblocking(true)?;
        Ok(l)
    });
    bound.map(Some).map_err(|source| StartError::Bind {
        addr: format!("{host}:{port} (metrics)"),
        source,
    })
}

/// Serve `/metrics` from `listener` (if the exporter is on) on the "broker-metrics" thread.
pub fn start(
    ctx: &Arc<BrokerCtx>,
    listener: Option<std::net::TcpListener>,
) -> Result<Option<SocketAddr>, StartError> {
    let Some(listener) = listener else {
        return Ok(None);
    };
    let fail = |source| StartError::Bind {
        addr: "metrics endpoint".into(),
        source,
    };
    let addr = listener.local_addr().map_err(fail)?;
    let labels = common_labels(&ctx.cfg);
    let weak = Arc::downgrade(ctx);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(fail)?;
    std::thread::Builder::new()
        .name("broker-metrics".into())
        .spawn(move || rt.block_on(serve(listener, weak, labels)))
        .map_err(fail)?;
    Ok(Some(addr))
}

/// `cluster`, `node_type`, `node_id` (the broker name), then the `metricsLabel` pairs.
fn common_labels(cfg: &BrokerConfig) -> Vec<(Cow<'static, str>, Cow<'static, str>)> {
    let mut v: Vec<(Cow<'static, str>, Cow<'static, str>)> = vec![
        ("cluster".into(), cfg.broker_cluster_name.clone().into()),
        ("node_type".into(), "broker".into()),
        ("node_id".into(), cfg.broker_name.clone().into()),
    ];
    // Checked when the config was loaded.
    for (k, val) in cfg.metrics.labels().unwrap_or_default() {
        v.push((k.into(), val.into()));
    }
    v
}

async fn serve(
    listener: std::net::TcpListener,
    ctx: Weak<BrokerCtx>,
    labels: Vec<(Cow<'static, str>, Cow<'static, str>)>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("metrics listener: {e}");
            return;
        }
    };
    let labels = Arc::new(labels);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("metrics accept: {e}");
                continue;
            }
        };
        let (ctx, labels) = (ctx.clone(), labels.clone());
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |req| answer(req, ctx.clone(), labels.clone()));
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await
            {
                tracing::debug!("metrics connection: {e}");
            }
        });
    }
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

async fn answer(
    req: Request<Incoming>,
    ctx: Weak<BrokerCtx>,
    labels: Arc<Vec<(Cow<'static, str>, Cow<'static, str>)>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    const TEXT: &str = "text/plain; charset=utf-8";
    if req.method() != hyper::Method::GET || req.uri().path() != "/metrics" {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            TEXT,
            "only GET /metrics\n".into(),
        ));
    }
    let Some(ctx) = ctx.upgrade() else {
        return Ok(reply(
            StatusCode::SERVICE_UNAVAILABLE,
            TEXT,
            "broker stopped\n".into(),
        ));
    };
    let connections = consumer_connections(&ctx).await;
    let producers = ctx
        .heartbeat
        .send(ProducerConnectionCounts)
        .await
        .unwrap_or_default();
    let mut registry = Registry::with_labels(labels.iter().cloned());
    registry.register_collector(Box::new(Scrape::new(ctx, connections, producers)));
    let mut text = String::new();
    match prometheus_text::encode(&mut text, &registry) {
        Ok(()) => Ok(reply(StatusCode::OK, prometheus_text::CONTENT_TYPE, text)),
        Err(e) => Ok(reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            TEXT,
            format!("cannot encode the metrics: {e}\n"),
        )),
    }
}

/// The online consumer groups' connections (asked of the `HeartbeatActor`, which owns them).
async fn consumer_connections(ctx: &BrokerCtx) -> Vec<(String, ConsumerConnection)> {
    let groups: Vec<String> = ctx
        .groups
        .read()
        .iter()
        .take(MAX_CONNECTION_GROUPS)
        .map(|g| g.group_name.clone())
        .filter(|g| ctx.subscriptions.load().group(g).is_some())
        .collect();
    let mut out = Vec::new();
    for group in groups {
        if let Ok(Some(c)) = ctx
            .heartbeat
            .send(GetConsumerConnection(group.clone()))
            .await
        {
            out.push((group, c));
        }
    }
    out
}
