//! The dashboard's JSON API over real HTTP against the real standalone broker (dashboard on
//! port 0, temp dir): a topic created through the API is listed by the API and by `mqadmin
//! topicList`; sends move the day's totals and the collector's TPS series; resetting a group's
//! offset changes the lag `/api/groups` shows; admin actions need the password (401) or a
//! loopback bind (403 otherwise); broker refusals come back as JSON with the RocketMQ code.
//! Every wait is bounded.

mod common;

use std::time::Duration;

use actormq::client::{ConsumeResult, Listener, PushConsumer};
use common::dashboard::*;
use common::mqadmin::adm;
use serde_json::json;

#[test]
fn topic_created_through_the_api_is_listed_here_and_by_mqadmin() {
    let d = start_dashboard(&[]);
    let a = d.dashboard;
    let r = post(
        a,
        "/api/topics",
        json!({"topic": "DashApiT", "readQueueNums": 4, "writeQueueNums": 4}),
    );
    assert_eq!(r.ok()["brokers"], json!(["broker-a"]));
    let listed = wait_for(Duration::from_secs(15), || {
        api_topics(a)
            .contains(&"DashApiT".to_string())
            .then_some(())
    });
    assert!(listed.is_some(), "DashApiT never listed by /api/topics");
    let out = adm(&d.b.namesrv_addr(), "topicList", &[]).ok();
    assert!(out.lines().any(|l| l.trim() == "DashApiT"), "{out}");
    let status = get(a, "/api/topics/DashApiT/status").ok();
    assert_eq!(status["queues"].as_array().unwrap().len(), 4);
    let route = get(a, "/api/topics/DashApiT/route").ok();
    assert_eq!(route["queueDatas"][0]["readQueueNums"], 4, "{route}");
    let normal = get(a, "/api/topics?filter=NORMAL").ok().to_string();
    assert!(normal.contains("DashApiT"));
    let system = get(a, "/api/topics?filter=SYSTEM").ok().to_string();
    assert!(
        system.contains("SCHEDULE_TOPIC_XXXX") && !system.contains("DashApiT"),
        "{system}"
    );
    assert_eq!(get(a, "/api/topics?filter=BOGUS").status, 400);
    // Delete: gone from the API and from mqadmin.
    assert_eq!(
        request(a, "DELETE", "/api/topics/DashApiT", None, &[]).status,
        200
    );
    let gone = wait_for(Duration::from_secs(15), || {
        (!api_topics(a).contains(&"DashApiT".to_string())).then_some(())
    });
    assert!(gone.is_some(), "DashApiT still listed after delete");
}

#[test]
fn sends_move_totals_and_the_tps_series() {
    let d = start_dashboard(&[]);
    let a = d.dashboard;
    assert_eq!(
        post(a, "/api/topics", json!({"topic": "DashTps"})).status,
        200
    );
    let before = get(a, "/api/cluster").ok()["brokers"][0]["putTotalToday"]
        .as_i64()
        .unwrap();
    let mut id = String::new();
    for i in 0..20 {
        let r = post(
            a,
            "/api/topics/DashTps/send",
            json!({"body": format!("m{i}"), "keys": "k1"}),
        );
        let v = r.ok();
        assert_eq!(v["status"], "SEND_OK", "{v}");
        id = v["msgId"].as_str().unwrap().to_string();
    }
    let c = get(a, "/api/cluster").ok();
    let b = &c["brokers"][0];
    assert!(b["putTotalToday"].as_i64().unwrap() >= before + 20, "{c}");
    assert_eq!(b["role"], "ASYNC_MASTER");
    assert!(b["storeBytes"].as_i64().unwrap() > 0, "{c}");
    // The collector samples every 10 s: within two intervals a sample shows the puts.
    let moved = wait_for(Duration::from_secs(30), || {
        let h = get(a, "/api/cluster/history").ok();
        let series = h["series"]["broker-a/0"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        series
            .iter()
            .any(|s| s["putTps"].as_f64().unwrap_or(0.0) > 0.0)
            .then_some(series.len())
    });
    assert!(moved.is_some(), "the in-TPS series never moved");
    // The messages are found by time, key and id.
    let by_time = get(a, "/api/messages?topic=DashTps").ok();
    assert_eq!(
        by_time["messages"].as_array().unwrap().len(),
        20,
        "{by_time}"
    );
    let by_key = get(a, "/api/messages?topic=DashTps&key=k1").ok();
    assert_eq!(by_key["messages"].as_array().unwrap().len(), 20);
    let one = get(a, &format!("/api/messages/{id}?topic=DashTps")).ok();
    assert_eq!(one["message"]["body"], "m19", "{one}");
    assert_eq!(get(a, "/api/messages").status, 400);
    let dlq = get(a, "/api/dlq?group=NoSuchGroup").ok();
    assert_eq!(dlq["messages"], json!([]));
    let trace = get(a, &format!("/api/trace/{id}")).ok();
    assert_eq!(trace["records"], json!([]), "nothing traced: {trace}");
}

#[test]
fn resetting_an_offset_changes_the_lag() {
    let d = start_dashboard(&[]);
    let a = d.dashboard;
    let ns = d.b.namesrv_addr();
    let topic = json!({"topic": "DashLag", "readQueueNums": 2, "writeQueueNums": 2});
    assert_eq!(post(a, "/api/topics", topic).status, 200);
    adm(
        &ns,
        "updateSubGroup",
        &["-c", "DefaultCluster", "-g", "dash_lag_group"],
    )
    .ok();
    for i in 0..10 {
        post(
            a,
            "/api/topics/DashLag/send",
            json!({"body": format!("m{i}")}),
        )
        .ok();
    }
    // A real consumer reads everything and commits (a group without committed offsets cannot
    // be reset: RocketMQ answers "consumer group not exist"), then leaves.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let consumer = rt.block_on(async {
        let cfg = common::client::consumer_config(&d.b, "dash_lag_group", "dash-c1");
        let mut c = PushConsumer::new(cfg).unwrap();
        c.subscribe("DashLag", "*").await.unwrap();
        c.start(Listener::concurrent(|_, _| ConsumeResult::Success))
            .await
            .unwrap();
        c
    });
    let caught_up = wait_for(Duration::from_secs(30), || {
        let g = get(a, "/api/groups/dash_lag_group").ok();
        (g["queues"].as_array().unwrap().len() == 2 && g["lag"] == 0).then_some(g)
    });
    let g = caught_up.expect("the consumer never caught up");
    assert_eq!(
        g["connections"]["connectionSet"][0]["clientId"]
            .as_str()
            .map(|c| c.contains("dash-c1")),
        Some(true),
        "{g}"
    );
    rt.block_on(consumer.shutdown()).unwrap();
    drop(rt);
    assert_eq!(api_group_lag(a, "dash_lag_group"), Some(0));
    let r = post(
        a,
        "/api/groups/dash_lag_group/reset-offset",
        json!({"topic": "DashLag", "timestamp": 0}),
    )
    .ok();
    assert_eq!(r["offsets"].as_array().unwrap().len(), 2, "{r}");
    let lag = wait_for(Duration::from_secs(10), || {
        (api_group_lag(a, "dash_lag_group") == Some(10)).then_some(())
    });
    assert!(
        lag.is_some(),
        "lag after reset to the start: {:?}",
        api_group_lag(a, "dash_lag_group")
    );
    let detail = get(a, "/api/groups/dash_lag_group").ok();
    assert_eq!(detail["lag"], 10, "{detail}");
    post(
        a,
        "/api/groups/dash_lag_group/reset-offset",
        json!({"topic": "DashLag"}),
    )
    .ok();
    let lag = wait_for(Duration::from_secs(10), || {
        (api_group_lag(a, "dash_lag_group") == Some(0)).then_some(())
    });
    assert!(lag.is_some(), "lag after reset to the end");
    // mqadmin agrees on the new progress.
    let out = adm(&ns, "consumerProgress", &["-g", "dash_lag_group"]).ok();
    assert!(out.contains("Diff Total: 0"), "{out}");
    assert_eq!(
        request(a, "DELETE", "/api/groups/dash_lag_group", None, &[]).status,
        200
    );
    assert_eq!(api_group_lag(a, "dash_lag_group"), None);
}

#[test]
fn admin_actions_need_the_password_and_errors_are_json() {
    let d = start_dashboard(&["dashboardAdminPassword=s3cret"]);
    let a = d.dashboard;
    let body = json!({"topic": "DashAuth"});
    let r = request(a, "POST", "/api/topics", Some(&body), &[]);
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("password"));
    let wrong = request(
        a,
        "POST",
        "/api/topics",
        Some(&body),
        &[("X-Admin-Password", "nope")],
    );
    assert_eq!(wrong.status, 401);
    // Basic auth with any user name ("admin:s3cret").
    let ok = request(
        a,
        "POST",
        "/api/topics",
        Some(&body),
        &[("Authorization", "Basic YWRtaW46czNjcmV0")],
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    // Reads stay open.
    assert_eq!(get(a, "/api/cluster").status, 200);
    // A broker refusal: its code and remark come back as JSON.
    let bad = request(
        a,
        "POST",
        "/api/topics",
        Some(&json!({"topic": "bad topic!"})),
        &[("X-Admin-Password", "s3cret")],
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    let v = bad.json();
    assert!(
        v["code"].as_i64().is_some() && v["remark"].as_str().is_some(),
        "{v}"
    );
    let missing = get(a, "/api/topics/NoSuchTopic/status");
    assert_eq!(missing.status, 404);
    assert!(missing.json()["error"]
        .as_str()
        .unwrap()
        .contains("NoSuchTopic"));
    let junk = request(
        a,
        "POST",
        "/api/topics",
        None,
        &[("X-Admin-Password", "s3cret")],
    );
    assert_eq!(junk.status, 400);
    assert!(junk.json()["error"].is_string());
    assert_eq!(get(a, "/api/nothing").status, 404);
    // The password never shows in the printed config.
    let out = std::process::Command::new(common::BROKER)
        .args([
            "--set",
            "standalone=true",
            "--set",
            "dashboardAdminPassword=s3cret",
            "--print-config",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("dashboardAdminPassword") && !text.contains("s3cret"),
        "{text}"
    );
}

#[test]
fn a_public_bind_without_password_refuses_admin_actions() {
    let d = start_dashboard(&["dashboardListenAddr=0.0.0.0"]);
    let r = post(d.dashboard, "/api/topics", json!({"topic": "DashOpen"}));
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("dashboardAdminPassword"));
    assert_eq!(get(d.dashboard, "/api/topics").status, 200);
}

#[test]
fn dashboard_keys_are_checked() {
    let run = |sets: &[&str]| {
        let mut args: Vec<&str> = Vec::new();
        for s in sets {
            args.extend(["--set", s]);
        }
        args.push("--print-config");
        common::run_to_exit(common::BROKER, &args, Duration::from_secs(20))
    };
    let (code, _, err) = run(&["dashboardEnable=true"]);
    assert_ne!(code, Some(0));
    assert!(err.contains("dashboardEnable"), "{err}");
    let (code, _, err) = run(&["standalone=true", "dashboardListenAddr=nohost"]);
    assert_ne!(code, Some(0));
    assert!(err.contains("dashboardListenAddr"), "{err}");
    let (code, out, _) = run(&["standalone=true", "dashboardEnable=true"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("\"dashboardListenPort\": 8080")
            || out.contains("\"dashboardListenPort\":8080"),
        "{out}"
    );
}

#[test]
fn the_name_server_serves_the_dashboard_and_stops_cleanly() {
    let args = common::set_args(&[
        "listenPort=0",
        "listenAddr=127.0.0.1",
        "kvConfigPath=",
        "dashboardEnable=true",
        "dashboardListenPort=0",
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut ns = common::start(common::NAMESRV, &refs);
    let line = ns
        .stdout_lines
        .recv_timeout(Duration::from_secs(20))
        .expect("the dashboard line");
    assert!(line.starts_with("dashboard listening on "), "{line}");
    let a = common::listening_addr(&line);
    let dir = tempfile::tempdir().unwrap();
    let (_master, _) = common::ha::start_master(dir.path(), ns.addr, &[]);
    let listed = wait_for(Duration::from_secs(20), || {
        let c = get(a, "/api/cluster").ok();
        (c["brokers"][0]["brokerName"] == "broker-a" && c["brokers"][0]["error"].is_null())
            .then_some(c)
    });
    assert!(listed.is_some(), "the broker never showed in /api/cluster");
    let page = get(a, "/");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("/assets/cluster.js"));
    assert_eq!(get(a, "/assets/app.js").status, 200);
    assert_eq!(get(a, "/assets/nope.js").status, 404);
    common::terminate(&mut ns, Duration::from_secs(20));
    assert!(ns.child.wait().unwrap().success());
}

#[test]
fn sigterm_right_after_the_first_ready_line_is_a_clean_stop() {
    for _ in 0..3 {
        let args = common::set_args(&[
            "listenPort=0",
            "listenAddr=127.0.0.1",
            "kvConfigPath=",
            "dashboardEnable=true",
            "dashboardListenPort=0",
        ]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut ns = common::start(common::NAMESRV, &refs);
        common::terminate(&mut ns, Duration::from_secs(20));
        let status = ns.child.wait().unwrap();
        assert!(status.success(), "{status}");
    }
}
