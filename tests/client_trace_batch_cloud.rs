//! Message trace end to end against the real standalone broker, the two cases
//! `tests/client_trace.rs` leaves out:
//! - a batch send with tracing on writes what RocketMQ 4.9's Java client writes: one Pub record
//!   for the whole batch (its hook sees the `MessageBatch`), msgId = the members' ids joined by
//!   `,`, no tags or keys, keyed by that joined id alone; the consumer still writes SubBefore /
//!   SubAfter per message, found by each message's own id;
//! - the CLOUD access channel: records go to `rmq_sys_TRACE_DATA_<region>` (here created by the
//!   broker through `traceTopicEnable` + `msgTraceTopicName`, with auto-creation off), SubAfter
//!   in the cloud layout, and `query_trace_in` finds them there (and nothing in
//!   RMQ_SYS_TRACE_TOPIC);
//! - with auto-creation on (the default) the cloud trace topic is created by the first trace send.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actormq::client::trace::{cloud_trace_topic, context_code, msg_type, TraceType};
use actormq::client::*;
use common::client::*;

/// The records of `id` in `topic` once every type in `want` is there (or after 20 s).
async fn records_in(
    inst: &ClientInstance,
    topic: &str,
    id: &str,
    want: &[TraceType],
) -> Vec<TraceRecord> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = query_trace_in(inst, topic, id).await.unwrap_or_default();
        let has = |t: &TraceType| r.iter().any(|c| c.trace_type == *t);
        if want.iter().all(has) || Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn of_type(records: &[TraceRecord], t: TraceType) -> Vec<&TraceRecord> {
    records.iter().filter(|c| c.trace_type == t).collect()
}

/// A traced push consumer of `topic` that records the ids it was handed.
async fn traced_consumer(
    b: &Standalone,
    group: &str,
    topic: &str,
    channel: AccessChannel,
) -> (PushConsumer, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Default::default();
    let mut cc = consumer_config(b, group, &format!("c-{group}"));
    cc.enable_trace = true;
    cc.client.access_channel = channel;
    cc.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let mut c = PushConsumer::new(cc).unwrap();
    c.subscribe(topic, "*").await.unwrap();
    let s = seen.clone();
    c.start(Listener::concurrent(move |msgs, _| {
        s.lock().unwrap().extend(msgs.iter().map(|m| m.msg_id()));
        ConsumeResult::Success
    }))
    .await
    .unwrap();
    (c, seen)
}

#[tokio::test]
async fn a_traced_batch_send_writes_one_pub_record_for_the_whole_batch() {
    const N: usize = 5;
    let b = start_broker(&["traceTopicEnable=true"]);
    create_topic(&b, "TraceBatchT", 2);
    let mut pc = producer_config(&b, "pg-trace-batch");
    pc.enable_trace = true;
    let p = Producer::start(pc).await.unwrap();
    let msgs: Vec<Message> = (0..N)
        .map(|i| {
            Message::new("TraceBatchT", format!("body-{i}"))
                .with_tags("TagB")
                .with_keys(&format!("bk-{i}"))
        })
        .collect();
    let body_total: usize = msgs.iter().map(|m| m.body.len()).sum();
    let r = p.send_batch(msgs).await.unwrap();
    assert_eq!(r.status, SendStatus::SendOk);
    let ids: Vec<String> = r.msg_id.split(',').map(str::to_string).collect();
    assert_eq!(ids.len(), N, "batch msg id {}", r.msg_id);

    let (c, seen) =
        traced_consumer(&b, "cg-trace-batch", "TraceBatchT", AccessChannel::Local).await;
    assert!(wait_for(Duration::from_secs(20), || seen.lock().unwrap().len() >= N).await);

    // The Pub record: found by the joined id (the batch's SendResult msgId), as Java keys it.
    let inst = ClientInstance::get(&client_config(&b, "q-trace-batch")).unwrap();
    let recs = records_in(&inst, "RMQ_SYS_TRACE_TOPIC", &r.msg_id, &[TraceType::Pub]).await;
    let pubs = of_type(&recs, TraceType::Pub);
    assert_eq!(pubs.len(), 1, "one Pub record for the batch: {recs:?}");
    let pr = pubs[0];
    assert_eq!(pr.group_name, "pg-trace-batch");
    assert_eq!(pr.region_id, "DefaultRegion");
    assert!(pr.success);
    let pb = pr.bean();
    assert_eq!(pb.topic, "TraceBatchT");
    assert_eq!(pb.msg_id, r.msg_id);
    assert_eq!(pb.offset_msg_id, r.offset_msg_id);
    assert_eq!(
        pb.offset_msg_id.split(',').count(),
        N,
        "{}",
        pb.offset_msg_id
    );
    // The batch has no tags or keys of its own; bodyLength is the encoded batch body (the
    // members' bodies plus their record headers and properties).
    assert_eq!((pb.tags.as_str(), pb.keys.as_str()), ("", ""));
    assert!(pb.body_length as usize > body_total, "{}", pb.body_length);
    assert_eq!(pb.msg_type, msg_type::NORMAL);
    let s = p.trace_stats().unwrap();
    assert_eq!((s.enqueued, s.dropped), (1, 0), "one record queued: {s:?}");

    // Each member: SubBefore / SubAfter under its own id, with its own keys; no Pub record is
    // indexed under a member id (Java's trace message for a batch carries only the joined id).
    let sub = [TraceType::SubBefore, TraceType::SubAfter];
    for (i, id) in ids.iter().enumerate() {
        let recs = records_in(&inst, "RMQ_SYS_TRACE_TOPIC", id, &sub).await;
        let before = of_type(&recs, TraceType::SubBefore);
        let after = of_type(&recs, TraceType::SubAfter);
        assert_eq!((before.len(), after.len()), (1, 1), "{id}: {recs:?}");
        assert_eq!(before[0].group_name, "cg-trace-batch");
        assert_eq!(before[0].bean().keys, format!("bk-{i}"));
        assert!(after[0].success);
        assert_eq!(after[0].request_id, before[0].request_id);
        assert!(of_type(&recs, TraceType::Pub).is_empty(), "{recs:?}");
    }
    c.shutdown().await.unwrap();
    p.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_cloud_channel_writes_to_the_regions_trace_topic_in_the_cloud_layout() {
    let cloud_topic = cloud_trace_topic("DefaultRegion");
    assert_eq!(cloud_topic, "rmq_sys_TRACE_DATA_DefaultRegion");
    let name = format!("msgTraceTopicName={cloud_topic}");
    let b = start_broker(&[
        "traceTopicEnable=true",
        &name,
        "autoCreateTopicEnable=false",
    ]);
    wait_route(&b, &cloud_topic, 1);
    create_topic(&b, "TraceCloudT", 2);
    let mut pc = producer_config(&b, "pg-trace-cloud");
    pc.enable_trace = true;
    pc.client.access_channel = AccessChannel::Cloud;
    let p = Producer::start(pc).await.unwrap();
    let msg = Message::new("TraceCloudT", "cloudy")
        .with_tags("TagC")
        .with_keys("ck-1");
    let r = p.send(msg).await.unwrap();
    let (c, seen) =
        traced_consumer(&b, "cg-trace-cloud", "TraceCloudT", AccessChannel::Cloud).await;
    assert!(wait_for(Duration::from_secs(20), || !seen.lock().unwrap().is_empty()).await);

    let inst = ClientInstance::get(&client_config(&b, "q-trace-cloud")).unwrap();
    let all = [TraceType::Pub, TraceType::SubBefore, TraceType::SubAfter];
    let recs = records_in(&inst, &cloud_topic, &r.msg_id, &all).await;
    let (pubs, before, after) = (
        of_type(&recs, TraceType::Pub),
        of_type(&recs, TraceType::SubBefore),
        of_type(&recs, TraceType::SubAfter),
    );
    assert_eq!(
        (pubs.len(), before.len(), after.len()),
        (1, 1, 1),
        "{recs:?}"
    );
    // Oldest first, the cloud SubAfter (no timestamp of its own) after its SubBefore.
    let order: Vec<_> = recs.iter().map(|c| c.trace_type).collect();
    assert_eq!(order, all, "{recs:?}");
    assert_eq!(pubs[0].group_name, "pg-trace-cloud");
    assert_eq!(pubs[0].bean().tags, "TagC");
    assert_eq!(pubs[0].bean().keys, "ck-1");
    assert_eq!(before[0].group_name, "cg-trace-cloud");
    // The cloud SubAfter: no timeStamp / groupName on the wire.
    let a = after[0];
    assert_eq!(a.access_channel, AccessChannel::Cloud);
    assert_eq!((a.time_stamp, a.group_name.as_str()), (0, ""));
    assert_eq!(a.request_id, before[0].request_id);
    assert!(a.success);
    assert_eq!(a.context_code, context_code::SUCCESS);
    assert_eq!(a.bean().keys, "ck-1");
    // The admin API (mqadmin queryMsgTraceById -t, the dashboard) reads the same records.
    let admin = actormq::admin::client::AdminClient::new(&b.namesrv_addr()).unwrap();
    let mut via_admin = admin.query_trace(&cloud_topic, &r.msg_id).await.unwrap();
    // ... with the host that wrote each record where it names none (as RocketMQ's TraceView).
    for c in via_admin.iter_mut() {
        for bean in c.beans.iter_mut() {
            assert_eq!(bean.client_host, "127.0.0.1", "{}", c.region_id);
            bean.client_host.clear();
        }
    }
    assert_eq!(via_admin, recs);
    // Nothing went to the local trace topic (the broker does not even have it).
    assert!(query_trace(&inst, &r.msg_id).await.unwrap().is_empty());
    let s = p.trace_stats().unwrap();
    assert!(s.sent == 1 && s.failed == 0, "{s:?}");
    c.shutdown().await.unwrap();
    p.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_cloud_trace_topic_is_auto_created_by_the_first_trace_send() {
    // Default broker: no trace topic at start, autoCreateTopicEnable on (as RocketMQ's).
    let b = start_broker(&[]);
    create_topic(&b, "TraceAutoT", 1);
    let mut pc = producer_config(&b, "pg-trace-auto");
    pc.enable_trace = true;
    pc.client.access_channel = AccessChannel::Cloud;
    let p = Producer::start(pc).await.unwrap();
    let r = p.send(Message::new("TraceAutoT", "x")).await.unwrap();
    let inst = ClientInstance::get(&client_config(&b, "q-trace-auto")).unwrap();
    let topic = cloud_trace_topic("DefaultRegion");
    let recs = records_in(&inst, &topic, &r.msg_id, &[TraceType::Pub]).await;
    assert_eq!(of_type(&recs, TraceType::Pub).len(), 1, "{recs:?}");
    p.shutdown().await.unwrap();
}
