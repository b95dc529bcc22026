//! Producer against the real standalone broker: every send form (sync, async future, callback,
//! oneway, batch, selector), what arrives (tags, keys, properties, delay), and the typed errors
//! (unknown topic, oversized body, timeout).

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use actormq::client::*;
use common::client::*;

#[tokio::test]
async fn every_send_form_delivers_with_tags_keys_and_properties() {
    let b = start_broker(&[]);
    let p = Producer::start(producer_config(&b, "pg-forms"))
        .await
        .unwrap();
    let t = "ClientSendForms";
    // Sync send to a new topic (auto-created from TBW102: 4 queues).
    let r = p
        .send(
            Message::new(t, "sync")
                .with_tags("TagA")
                .with_keys("k-sync")
                .with_property("color", "red"),
        )
        .await
        .unwrap();
    assert_eq!(r.status, SendStatus::SendOk);
    assert_eq!(r.msg_id.len(), 32);
    assert_eq!(r.queue.topic, t);
    // Future form: starts without being polled, result comes later.
    let fut = p.send_async(
        Message::new(t, "async")
            .with_tags("TagB")
            .with_keys("k-async"),
    );
    // Callback form.
    let (tx, rx) = tokio::sync::oneshot::channel();
    p.send_with_callback(Message::new(t, "callback").with_keys("k-cb"), move |r| {
        let _ = tx.send(r);
    });
    assert!(fut.await.unwrap().queue_offset >= 0);
    assert_eq!(rx.await.unwrap().unwrap().status, SendStatus::SendOk);
    p.send_oneway(Message::new(t, "oneway").with_keys("k-oneway"))
        .await
        .unwrap();
    let batch: Vec<Message> = (0..3)
        .map(|i| Message::new(t, format!("batch-{i}")).with_keys(&format!("k-batch-{i}")))
        .collect();
    let br = p.send_batch(batch).await.unwrap();
    assert_eq!(br.msg_id.split(',').count(), 3);
    // Selector: same key -> same queue, every time.
    let mut queues = BTreeSet::new();
    for i in 0..5 {
        let r = p
            .send_orderly(
                Message::new(t, format!("ordered-{i}")).with_keys("k-ord"),
                "order-42",
            )
            .await
            .unwrap();
        queues.insert(r.queue.queue_id);
    }
    assert_eq!(queues.len(), 1, "one sharding key maps to one queue");

    let got = pull_topic(&b, t, 12, Duration::from_secs(15)).await;
    let keys: BTreeSet<String> = got
        .iter()
        .filter_map(|m| m.property("KEYS").map(str::to_string))
        .collect();
    for k in [
        "k-sync",
        "k-async",
        "k-cb",
        "k-oneway",
        "k-batch-0",
        "k-batch-2",
        "k-ord",
    ] {
        assert!(keys.contains(k), "missing {k}: {keys:?}");
    }
    assert_eq!(got.len(), 12, "each message exactly once");
    let sync = got
        .iter()
        .find(|m| m.property("KEYS") == Some("k-sync"))
        .unwrap();
    assert_eq!(&sync.body[..], b"sync");
    assert_eq!(sync.tags(), Some("TagA"));
    assert_eq!(sync.property("color"), Some("red"));
    assert_eq!(sync.msg_id(), r.msg_id);
    // Batch messages sit in one queue with consecutive offsets.
    let mut bo: Vec<(i32, i64)> = got
        .iter()
        .filter(|m| m.property("KEYS").is_some_and(|k| k.starts_with("k-batch")))
        .map(|m| (m.queue_id, m.queue_offset))
        .collect();
    bo.sort();
    assert!(
        bo.windows(2)
            .all(|w| w[0].0 == w[1].0 && w[1].1 == w[0].1 + 1),
        "{bo:?}"
    );
    p.shutdown().await.unwrap();
}

#[tokio::test]
async fn delayed_message_arrives_after_its_level() {
    let b =
        start_broker(&["messageDelayLevel=2s 2s 2s 2s 2s 2s 2s 2s 2s 2s 2s 2s 2s 2s 2s 2s 2s 2s"]);
    let p = Producer::start(producer_config(&b, "pg-delay"))
        .await
        .unwrap();
    let t = "ClientDelay";
    let sent = Instant::now();
    p.send(Message::new(t, "late").with_delay_level(1))
        .await
        .unwrap();
    let got = pull_topic(&b, t, 1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1);
    assert!(
        sent.elapsed() >= Duration::from_millis(1900),
        "arrived after {:?}",
        sent.elapsed()
    );
    assert!(got[0].store_timestamp >= got[0].born_timestamp + 1900);
}

#[tokio::test]
async fn unknown_topic_oversized_body_and_timeout_are_typed_errors() {
    let b = start_broker(&["autoCreateTopicEnable=false"]);
    let p = Producer::start(producer_config(&b, "pg-errors"))
        .await
        .unwrap();
    let e = p.send(Message::new("NoSuchTopic", "x")).await.unwrap_err();
    assert_eq!(e, ClientError::TopicNotExist("NoSuchTopic".into()));
    create_topic(&b, "ClientErrors", 2);
    let big = vec![7u8; 4 * 1024 * 1024 + 1];
    let e = p.send(Message::new("ClientErrors", big)).await.unwrap_err();
    assert!(
        matches!(e, ClientError::BodyTooLarge { size, max } if size == max + 1),
        "{e:?}"
    );
    let ok = p
        .send(Message::new("ClientErrors", vec![1u8; 1024 * 1024]))
        .await
        .unwrap();
    assert_eq!(ok.status, SendStatus::SendOk);

    // A name server that accepts connections but never answers: the send times out in time.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut cfg = ProducerConfig::new(&silent.local_addr().unwrap().to_string(), "pg-timeout");
    cfg.client.instance_name = "timeout".into();
    cfg.client.request_timeout = Duration::from_millis(500);
    cfg.send_timeout = Duration::from_millis(800);
    let p2 = Producer::start(cfg).await.unwrap();
    let t0 = Instant::now();
    let e = p2.send(Message::new("Anything", "x")).await.unwrap_err();
    assert!(matches!(e, ClientError::Timeout { .. }), "{e:?}");
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t0.elapsed()
    );
    drop(silent);
}
