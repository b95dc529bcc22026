//! Message trace end to end against the real standalone broker: with `enable_trace` on a
//! producer and a push consumer, a message's Pub, SubBefore and SubAfter records reach
//! RMQ_SYS_TRACE_TOPIC (created by `traceTopicEnable=true`) and `query_trace` finds them by the
//! message id; without the trace topic, traced sends still succeed (tracing quietly off).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actormq::client::trace::{context_code, msg_type, TraceType};
use actormq::client::*;
use common::client::*;

async fn records_of(inst: &ClientInstance, id: &str, want: &[TraceType]) -> Vec<TraceRecord> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = query_trace(inst, id).await.unwrap_or_default();
        let has = |t: &TraceType| r.iter().any(|c| c.trace_type == *t);
        if want.iter().all(has) || Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn one(records: &[TraceRecord], t: TraceType) -> &TraceRecord {
    let v: Vec<_> = records.iter().filter(|c| c.trace_type == t).collect();
    assert_eq!(v.len(), 1, "one {t:?} record in {records:?}");
    v[0]
}

#[tokio::test]
async fn sent_and_consumed_message_has_pub_sub_before_and_sub_after_records() {
    let b = start_broker(&["traceTopicEnable=true"]);
    create_topic(&b, "TraceT", 2);
    let mut pc = producer_config(&b, "pg-trace");
    pc.enable_trace = true;
    let p = Producer::start(pc).await.unwrap();
    let msg = Message::new("TraceT", "hello")
        .with_tags("TagA")
        .with_keys("order-1")
        .with_keys("order-2");
    let r = p.send(msg).await.unwrap();
    assert_eq!(r.status, SendStatus::SendOk);
    let failing = p
        .send(Message::new("TraceT", "fail").with_tags("TagF"))
        .await
        .unwrap();

    let seen: Arc<Mutex<Vec<String>>> = Default::default();
    let mut cc = consumer_config(&b, "cg-trace", "c-trace");
    cc.enable_trace = true;
    cc.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let mut c = PushConsumer::new(cc).unwrap();
    c.subscribe("TraceT", "*").await.unwrap();
    let s = seen.clone();
    c.start(Listener::concurrent(move |msgs, _| {
        s.lock().unwrap().extend(msgs.iter().map(|m| m.msg_id()));
        if msgs.iter().any(|m| &m.body[..] == b"fail") {
            ConsumeResult::Later
        } else {
            ConsumeResult::Success
        }
    }))
    .await
    .unwrap();
    assert!(wait_for(Duration::from_secs(20), || seen.lock().unwrap().len() >= 2).await);
    assert!(seen.lock().unwrap().contains(&r.msg_id));

    let inst = ClientInstance::get(&client_config(&b, "q-trace")).unwrap();
    let all = [TraceType::Pub, TraceType::SubBefore, TraceType::SubAfter];
    let recs = records_of(&inst, &r.msg_id, &all).await;

    let p_rec = one(&recs, TraceType::Pub);
    assert_eq!(p_rec.group_name, "pg-trace");
    assert_eq!(p_rec.region_id, "DefaultRegion");
    assert!(p_rec.success);
    let pb = p_rec.bean();
    assert_eq!(pb.topic, "TraceT");
    assert_eq!(pb.msg_id, r.msg_id);
    assert_eq!(pb.offset_msg_id, r.offset_msg_id);
    assert_eq!(pb.tags, "TagA");
    assert_eq!(pb.keys, "order-1 order-2");
    assert_eq!(pb.body_length, 5);
    assert_eq!(pb.msg_type, msg_type::NORMAL);
    let store: std::net::SocketAddr = pb.store_host.parse().unwrap();
    assert_eq!(
        store.port(),
        b.broker.port(),
        "store host {}",
        pb.store_host
    );

    let before = one(&recs, TraceType::SubBefore);
    assert_eq!(before.group_name, "cg-trace");
    assert_eq!(before.bean().retry_times, 0);
    assert_eq!(before.bean().keys, "order-1 order-2");
    let after = one(&recs, TraceType::SubAfter);
    assert_eq!(after.group_name, "cg-trace");
    assert_eq!(after.request_id, before.request_id);
    assert!(after.success);
    assert_eq!(after.context_code, context_code::SUCCESS);
    assert!(after.time_stamp >= before.time_stamp);
    let s = p.trace_stats().unwrap();
    assert!(s.sent >= 1 && s.dropped == 0 && s.failed == 0, "{s:?}");

    // A listener asking for a retry: SubAfter success false, contextCode FAILED.
    let sub = [TraceType::SubBefore, TraceType::SubAfter];
    let recs = records_of(&inst, &failing.msg_id, &sub).await;
    let failed = one(&recs, TraceType::SubAfter);
    assert!(!failed.success);
    assert_eq!(failed.context_code, context_code::FAILED);
    assert_eq!(one(&recs, TraceType::Pub).bean().tags, "TagF");

    // Unknown ids find nothing.
    assert!(query_trace(&inst, "00000000000000000000000000000000")
        .await
        .unwrap()
        .is_empty());
    c.shutdown().await.unwrap();
    p.shutdown().await.unwrap();
}

#[tokio::test]
async fn without_trace_topic_traced_sends_still_succeed() {
    let b = start_broker(&["traceTopicEnable=false", "autoCreateTopicEnable=false"]);
    create_topic(&b, "NoTraceT", 2);
    let mut pc = producer_config(&b, "pg-notrace");
    pc.enable_trace = true;
    let p = Producer::start(pc).await.unwrap();
    let mut ids = Vec::new();
    let started = Instant::now();
    for i in 0..50 {
        let m = Message::new("NoTraceT", format!("m{i}")).with_keys(&format!("k{i}"));
        let r = p.send(m).await.unwrap();
        assert_eq!(r.status, SendStatus::SendOk);
        ids.push(r.msg_id);
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "traced sends were slowed: {:?}",
        started.elapsed()
    );
    // Let the dispatcher try (and fail) to send its batch, then send more: still fine.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = p.send(Message::new("NoTraceT", "after")).await.unwrap();
    assert_eq!(r.status, SendStatus::SendOk);
    // Every Pub record was queued and its trace message failed (no trace topic), none dropped.
    let ok = wait_for(Duration::from_secs(10), || {
        p.trace_stats().is_some_and(|s| s.failed >= 50)
    })
    .await;
    let s = p.trace_stats().unwrap();
    assert!(ok && s.dropped == 0 && s.sent == 0, "{s:?}");
    let inst = ClientInstance::get(&client_config(&b, "q-notrace")).unwrap();
    assert!(query_trace(&inst, &ids[0]).await.unwrap().is_empty());
    p.shutdown().await.unwrap();
}
