//! The group list at scale: 100 topics and 1,000 subscription groups (each with committed
//! offsets behind the topic's head) on the real standalone broker, then `GET /api/groups` timed
//! over HTTP. The test checks the answer (every group listed with its lag); the time is printed,
//! not asserted (shared CI machines vary): `cargo test --test dashboard_perf -- --nocapture`
//! shows it, and docs/performance.md ("Dashboard") records a run. Every wait is bounded.

mod common;

use std::time::Instant;

use actormq::protocol::body::SubscriptionGroupConfig;
use actormq::protocol::codes::{request_code, response_code};
use actormq::protocol::headers::UpdateConsumerOffsetRequestHeader;
use actormq::protocol::RemotingCommand;
use common::dashboard::*;
use common::{call, connect, rmq};

const TOPICS: usize = 100;
const GROUPS: usize = 1000;

#[test]
fn group_list_with_1000_groups_and_100_topics() {
    let d = start_dashboard(&[]);
    let mut s = connect(d.b.broker);
    for t in 0..TOPICS {
        let topic = format!("PerfT{t}");
        let r = rmq::create_topic(&mut s, &topic, 1);
        assert_eq!(r.code, response_code::SUCCESS, "{:?}", r.remark);
        for i in 0..3 {
            let r = rmq::send(&mut s, &topic, 0, format!("m{i}").as_bytes(), "", "", &[]);
            assert_eq!(r.code, response_code::SUCCESS, "{:?}", r.remark);
        }
    }
    for g in 0..GROUPS {
        let group = format!("perf_group_{g}");
        let body = serde_json::to_vec(&SubscriptionGroupConfig::new(&group)).unwrap();
        let c = RemotingCommand::request(request_code::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP)
            .with_opaque(rmq::next_opaque())
            .with_body(body);
        assert_eq!(call(&mut s, &c).code, response_code::SUCCESS);
        // Committed offset 1 of 3: a lag of 2 on the group's topic.
        let h = UpdateConsumerOffsetRequestHeader {
            consumer_group: group,
            topic: format!("PerfT{}", g % TOPICS),
            queue_id: 0,
            commit_offset: 1,
            bname: None,
        };
        let c = RemotingCommand::request_with(request_code::UPDATE_CONSUMER_OFFSET, &h)
            .with_opaque(rmq::next_opaque());
        assert_eq!(call(&mut s, &c).code, response_code::SUCCESS);
    }
    let a = d.dashboard;
    let mut times = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let v = get(a, "/api/groups").ok();
        times.push(t0.elapsed());
        assert_eq!(v["errors"], serde_json::json!([]), "{}", v["errors"]);
        let groups = v["groups"].as_array().unwrap();
        let perf: Vec<_> = groups
            .iter()
            .filter(|g| g["group"].as_str().unwrap().starts_with("perf_group_"))
            .collect();
        assert_eq!(perf.len(), GROUPS);
        assert!(perf.iter().all(|g| g["lag"] == 2), "every group lags 2");
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "dashboard /api/groups with {GROUPS} groups and {TOPICS} topics: median {:.1} ms over HTTP \
         (min {:.1} ms, max {:.1} ms, 5 runs)",
        median.as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
}
