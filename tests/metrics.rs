//! The Prometheus endpoint of the real `broker` binary (`metricsExporterType=PROM` on a free
//! port): scraped over HTTP, parsed with `prometheus-parse`, checked against sends, pulls and
//! GET_CONSUME_STATS 208.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use actormq::protocol::body::fastjson::normalize_keys;
use common::rmq::*;
use common::{call, connect, listening_addr, run_to_exit, start_broker, Broker, BROKER};
use prometheus_parse::{Scrape, Value};

/// Start a standalone broker with the exporter on; returns it and the `/metrics` address from
/// its `metrics listening on` line.
fn broker_with_metrics(dir: &std::path::Path) -> (Broker, SocketAddr) {
    let b = start_broker(
        BROKER,
        dir,
        &[
            "metricsExporterType=PROM",
            "metricsPromExporterHost=127.0.0.1",
            "metricsPromExporterPort=0",
            "metricsLabel=env:test",
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = b
            .server
            .stdout_lines
            .recv_timeout(left)
            .expect("the broker printed `metrics listening on` within 20 s");
        if line.starts_with("metrics listening on") {
            let addr = listening_addr(&line);
            return (b, addr);
        }
    }
}

/// GET `path`; the status line, the headers and the body.
fn http_get(addr: SocketAddr, path: &str) -> (String, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (
        status.to_string(),
        headers.to_ascii_lowercase(),
        body.to_string(),
    )
}

fn scrape(addr: SocketAddr) -> Scrape {
    let (status, headers, body) = http_get(addr, "/metrics");
    assert!(status.contains("200"), "{status}");
    assert!(
        headers.contains("content-type: text/plain; version=0.0.4"),
        "{headers}"
    );
    Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text format")
}

/// The value of the one sample of `metric` whose labels include `want` (a histogram: its count).
fn value(s: &Scrape, metric: &str, want: &[(&str, &str)]) -> Option<f64> {
    let mut found = s
        .samples
        .iter()
        .filter(|x| x.metric == metric && want.iter().all(|(k, v)| x.labels.get(k) == Some(*v)));
    let one = found.next()?;
    assert!(
        found.next().is_none(),
        "{metric} {want:?} matches more than one sample"
    );
    Some(match &one.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        Value::Histogram(b) => b.iter().map(|c| c.count).fold(0.0, f64::max),
        Value::Summary(_) => panic!("no summaries expected"),
    })
}

/// GET_CONSUME_STATS 208's diff for `group` on `topic`.
fn consume_stats_diff(s: &mut TcpStream, group: &str, topic: &str) -> f64 {
    let r = call(
        s,
        &request(208, &[("consumerGroup", group), ("topic", topic)]),
    );
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let json = normalize_keys(&r.body).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["offsetTable"]
        .as_object()
        .unwrap()
        .values()
        .map(|w| w["brokerOffset"].as_f64().unwrap() - w["consumerOffset"].as_f64().unwrap())
        .sum()
}

fn commit(s: &mut TcpStream, group: &str, topic: &str, queue: i32, offset: i64) {
    let (q, o) = (queue.to_string(), offset.to_string());
    let r = call(
        s,
        &request(
            15,
            &[
                ("consumerGroup", group),
                ("topic", topic),
                ("queueId", &q),
                ("commitOffset", &o),
            ],
        ),
    );
    assert_eq!(r.code, 0, "{:?}", r.remark);
}

#[test]
fn counters_and_lag_follow_sends_and_pulls() {
    let dir = tempfile::tempdir().unwrap();
    let (b, maddr) = broker_with_metrics(dir.path());
    let mut s = connect(b.addr);
    assert_eq!(create_topic(&mut s, "MT", 2).code, 0);
    for i in 0..5 {
        let r = send(&mut s, "MT", 0, format!("m-{i}").as_bytes(), "", "", &[]);
        assert_eq!(r.code, 0, "{:?}", r.remark);
    }
    let big = vec![b'x'; 5000];
    assert_eq!(send(&mut s, "MT", 1, &big, "", "", &[]).code, 0);
    assert_eq!(heartbeat(&mut s, "127.0.0.1@m1", "MG", "MT", "*").code, 0);
    let (r, msgs) = pull(&mut s, "MG", "MT", 0, 0, "*", 0);
    assert_eq!((r.code, msgs.len()), (0, 5));
    commit(&mut s, "MG", "MT", 0, 2);
    commit(&mut s, "MG", "MT", 1, 0);

    let m = scrape(maddr);
    let common = [
        ("cluster", "DefaultCluster"),
        ("node_type", "broker"),
        ("node_id", "broker-a"),
        ("env", "test"),
    ];
    let topic = [
        ("topic", "MT"),
        ("message_type", "normal"),
        ("is_system", "false"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        common.iter().chain(extra).copied().collect()
    };
    assert_eq!(
        value(&m, "rocketmq_messages_in_total", &with(&topic)),
        Some(6.0)
    );
    let bytes_in = value(&m, "rocketmq_throughput_in_total", &with(&topic)).unwrap();
    assert!(bytes_in > 5000.0, "{bytes_in}");
    assert_eq!(value(&m, "rocketmq_message_size", &with(&topic)), Some(6.0));
    let out = [
        ("topic", "MT"),
        ("consumer_group", "MG"),
        ("is_retry", "false"),
        ("is_system", "false"),
    ];
    assert_eq!(
        value(&m, "rocketmq_messages_out_total", &with(&out)),
        Some(5.0)
    );
    assert!(value(&m, "rocketmq_throughput_out_total", &with(&out)).unwrap() > 0.0);
    let lag = [("consumer_group", "MG"), ("topic", "MT")];
    let diff = consume_stats_diff(&mut s, "MG", "MT");
    assert_eq!(diff, 4.0);
    assert_eq!(
        value(&m, "rocketmq_consumer_lag_messages", &with(&lag)),
        Some(diff)
    );
    let age = value(&m, "rocketmq_consumer_lag_latency", &with(&lag)).unwrap();
    assert!((0.0..600_000.0).contains(&age), "{age}");
    let conns = [
        ("consumer_group", "MG"),
        ("language", "JAVA"),
        ("consume_mode", "push"),
    ];
    assert_eq!(
        value(&m, "rocketmq_consumer_connections", &with(&conns)),
        Some(1.0)
    );
    let producers = [("language", "JAVA"), ("protocol_type", "remoting")];
    assert_eq!(
        value(&m, "rocketmq_producer_connections", &with(&producers)),
        Some(1.0)
    );
    let sends = [
        ("request_code", "310"),
        ("response_code", "0"),
        ("result", "success"),
    ];
    assert_eq!(value(&m, "rocketmq_rpc_latency", &with(&sends)), Some(6.0));
    assert!(value(&m, "rocketmq_topic_number", &common).unwrap() >= 1.0);
    assert!(value(&m, "rocketmq_consumer_group_number", &common).unwrap() >= 1.0);
    assert!(value(&m, "rocketmq_storage_size", &common).unwrap() > 5000.0);
    assert!(value(&m, "rocketmq_storage_flush_behind_bytes", &common).is_some());
    assert!(value(&m, "rocketmq_storage_dispatch_behind_bytes", &common).is_some());
    assert_eq!(value(&m, "rocketmq_ha_lag_bytes", &common), Some(0.0));

    // More sends and a pull move the counters and the lag again, which still matches 208.
    for i in 0..3 {
        assert_eq!(
            send(&mut s, "MT", 1, format!("n-{i}").as_bytes(), "", "", &[]).code,
            0
        );
    }
    let (_, more) = pull(&mut s, "MG", "MT", 1, 0, "*", 0);
    assert_eq!(more.len(), 4);
    let m = scrape(maddr);
    assert_eq!(
        value(&m, "rocketmq_messages_in_total", &with(&topic)),
        Some(9.0)
    );
    assert_eq!(
        value(&m, "rocketmq_messages_out_total", &with(&out)),
        Some(9.0)
    );
    let diff = consume_stats_diff(&mut s, "MG", "MT");
    assert_eq!(diff, 7.0);
    assert_eq!(
        value(&m, "rocketmq_consumer_lag_messages", &with(&lag)),
        Some(diff)
    );
    let pulls = [("request_code", "11"), ("response_code", "0")];
    assert_eq!(value(&m, "rocketmq_rpc_latency", &with(&pulls)), Some(2.0));

    dashboard_names_are_exported(maddr);

    let (status, _, _) = http_get(maddr, "/other");
    assert!(status.contains("404"), "{status}");
}

#[test]
fn other_exporters_stop_the_start() {
    for t in ["OTLP_GRPC", "LOG"] {
        let set = format!("metricsExporterType={t}");
        let args = [
            "--set",
            "standalone=true",
            "--set",
            "listenPort=0",
            "--set",
            &set,
        ];
        let (code, _, err) = run_to_exit(BROKER, &args, Duration::from_secs(20));
        assert_ne!(code, Some(0), "{err}");
        assert!(
            err.contains("metricsExporterType") && err.contains("not supported"),
            "{err}"
        );
    }
}

/// Every metric docs/grafana-actormq.json queries is one the broker exports (a `# TYPE` line).
fn dashboard_names_are_exported(maddr: SocketAddr) {
    let (_, _, body) = http_get(maddr, "/metrics");
    let typed: Vec<(&str, &str)> = body
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .collect();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/grafana-actormq.json");
    let dash: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut names = Vec::new();
    for panel in dash["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().unwrap() {
            let expr = t["expr"].as_str().unwrap();
            for (i, _) in expr.match_indices("rocketmq_") {
                let name: String = expr[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        }
    }
    assert!(names.len() > 15, "{names:?}");
    for name in names {
        let histogram_part = ["_bucket", "_count", "_sum"]
            .iter()
            .filter_map(|suffix| name.strip_suffix(suffix))
            .any(|base| typed.contains(&(base, "histogram")));
        let exported = histogram_part || typed.iter().any(|(n, _)| *n == name);
        assert!(exported, "dashboard queries {name}, not exported");
    }
}
