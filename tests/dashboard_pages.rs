//! Every dashboard page in headless Chromium (Debian's `chromium` driven by npm playwright-core,
//! installed by `scripts/install-browser.sh`, which this test runs first: a missing browser is a
//! failure, never a skip). Against the real standalone broker with live traffic (a traced
//! producer sending all along, a push consumer online, two messages in its DLQ),
//! `tests/dashboard_pages.cjs` loads each
//! page with no console error, sees its live data, creates a topic in the topics page, and takes
//! a screenshot of each (written over `docs/dashboard/` when `UPDATE_SCREENSHOTS=1`). The topic created in the page is then checked with
//! `mqadmin topicList`. Every wait is bounded.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actormq::client::{ConsumeResult, Listener, Message, Producer, PushConsumer};
use common::dashboard::*;
use common::mqadmin::adm;
use serde_json::json;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn every_page_loads_clean_and_shows_live_data() {
    install_browser();
    let d = start_dashboard(&[]);
    let a = d.dashboard;
    let ns = d.b.namesrv_addr();
    common::client::create_topic(&d.b, "DashPages", 4);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (producer, consumer, trace_id) = rt.block_on(async {
        let mut pc = common::client::producer_config(&d.b, "dash_pages_producer");
        pc.enable_trace = true;
        let p = Producer::start(pc).await.unwrap();
        let mut last = String::new();
        for i in 0..30 {
            let m = Message::new("DashPages", format!("hello {i}"))
                .with_tags("TagA")
                .with_keys(&format!("key{i}"));
            last = p.send(m).await.unwrap().msg_id;
        }
        // Messages tagged ToDlq fail once and, with no retries allowed, go to the DLQ.
        let mut cfg = common::client::consumer_config(&d.b, "dash_pages_group", "dash-pages-c1");
        cfg.max_reconsume_times = 0;
        let mut c = PushConsumer::new(cfg).unwrap();
        c.subscribe("DashPages", "*").await.unwrap();
        c.start(Listener::concurrent(|msgs, _| {
            if msgs.iter().any(|m| m.tags() == Some("ToDlq")) {
                ConsumeResult::Later
            } else {
                ConsumeResult::Success
            }
        }))
        .await
        .unwrap();
        for i in 0..2 {
            let m = Message::new("DashPages", format!("dead {i}")).with_tags("ToDlq");
            p.send(m).await.unwrap();
        }
        (Arc::new(p), c, last)
    });
    // Traffic all along, so the TPS chart has something to draw.
    let stop = Arc::new(AtomicBool::new(false));
    let (p2, stop2) = (producer.clone(), stop.clone());
    rt.spawn(async move {
        while !stop2.load(Ordering::Relaxed) {
            let _ = p2.send(Message::new("DashPages", "tick")).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let traced = wait_for(Duration::from_secs(30), || {
        let t = get(a, &format!("/api/trace/{trace_id}")).ok();
        (!t["records"].as_array().unwrap().is_empty()).then_some(())
    });
    assert!(traced.is_some(), "the trace of {trace_id} never appeared");

    let dead = wait_for(Duration::from_secs(30), || {
        let v = get(a, "/api/dlq?group=dash_pages_group").ok();
        (v["messages"].as_array().unwrap().len() >= 2).then_some(())
    });
    assert!(
        dead.is_some(),
        "the ToDlq messages never reached %DLQ%dash_pages_group"
    );
    // The committed screenshots are refreshed only on request, so a test run leaves the work
    // tree clean.
    let shot_dir = tempfile::tempdir().unwrap();
    let shots = match std::env::var_os("UPDATE_SCREENSHOTS") {
        Some(_) => format!("{ROOT}/docs/dashboard"),
        None => shot_dir.path().display().to_string(),
    };
    std::fs::create_dir_all(&shots).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let cfg = json!({
        "url": format!("http://{a}"),
        "modulePath": format!("{ROOT}/target/browser/node_modules/playwright-core"),
        "userDataDir": profile.path(),
        "shotDir": shots,
        "topic": "DashPages",
        "createTopic": "DashPageCreated",
        "group": "dash_pages_group",
        "consumerInstance": "dash-pages-c1",
        "producerGroup": "dash_pages_producer",
        "traceId": trace_id,
    });
    let script = format!("{ROOT}/tests/dashboard_pages.cjs");
    let (code, out, err) = common::run_to_exit(
        "node",
        &[script.as_str(), &cfg.to_string()],
        Duration::from_secs(240),
    );
    stop.store(true, Ordering::Relaxed);
    assert_eq!(code, Some(0), "page run failed:\n{out}\n{err}");
    let summary: serde_json::Value = serde_json::from_str(out.trim()).expect("summary JSON");
    assert!(summary["messages"].as_u64().unwrap() >= 30, "{summary}");
    for page in [
        "cluster",
        "topics",
        "groups",
        "producers",
        "messages",
        "dlq",
        "trace",
    ] {
        let f = format!("{shots}/{page}.png");
        let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
        assert!(len > 1000, "screenshot {f} missing or empty");
    }
    // The topic created in the page exists for mqadmin too.
    let listed = wait_for(Duration::from_secs(15), || {
        let out = adm(&ns, "topicList", &[]).ok();
        out.lines()
            .any(|l| l.trim() == "DashPageCreated")
            .then_some(())
    });
    assert!(listed.is_some(), "DashPageCreated not in mqadmin topicList");
    rt.block_on(async {
        consumer.shutdown().await.unwrap();
    });
    drop(producer);
}
