//! Push and pull consumers in one process against the real standalone broker (members of one
//! group are separate client instances, distinct instance names): tag subscriptions, offsets
//! committed at shutdown (no redelivery flood after a clean restart), broadcasting, orderly
//! consumption across a rebalance, retries ending in the DLQ, explicit pull offsets.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actormq::client::*;
use common::client::*;

type Log = Arc<Mutex<Vec<(String, MessageExt)>>>;

fn recorder(
    log: &Log,
    who: &str,
    result: ConsumeResult,
) -> impl Fn(&[MessageExt], &MessageQueue) -> ConsumeResult + Send + Sync + 'static {
    let (log, who) = (log.clone(), who.to_string());
    move |msgs, _| {
        let mut l = log.lock().unwrap();
        for m in msgs {
            l.push((who.clone(), m.clone()));
        }
        result
    }
}

fn keys(log: &Log) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .map(|(_, m)| m.property("KEYS").unwrap_or("").to_string())
        .collect()
}

/// The queues of `topic` a member owns (its retry-topic queue left out).
async fn owned(c: &PushConsumer, topic: &str) -> Vec<MessageQueue> {
    c.assignment()
        .await
        .into_iter()
        .filter(|q| q.topic == topic)
        .collect()
}

async fn start_push(
    b: &Standalone,
    cfg: ConsumerConfig,
    topic: &str,
    expr: &str,
    l: Listener,
) -> PushConsumer {
    let _ = b;
    let mut c = PushConsumer::new(cfg).unwrap();
    c.subscribe(topic, expr).await.unwrap();
    c.start(l).await.unwrap();
    c
}

#[tokio::test]
async fn tag_subscription_and_clean_restart_without_redelivery() {
    let b = start_broker(&[]);
    create_topic(&b, "CTags", 4);
    let p = Producer::start(producer_config(&b, "pg-tags"))
        .await
        .unwrap();
    for i in 0..30 {
        let tag = ["TagA", "TagB", "TagC"][i % 3];
        p.send(
            Message::new("CTags", format!("b{i}"))
                .with_tags(tag)
                .with_keys(&format!("k{i}")),
        )
        .await
        .unwrap();
    }
    let log: Log = Default::default();
    let mut cfg = consumer_config(&b, "cg-tags", "c1");
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let c = start_push(
        &b,
        cfg.clone(),
        "CTags",
        "TagA || TagB",
        Listener::concurrent(recorder(&log, "c1", ConsumeResult::Success)),
    )
    .await;
    assert!(
        wait_for(Duration::from_secs(20), || log.lock().unwrap().len() >= 20).await,
        "got {}",
        log.lock().unwrap().len()
    );
    assert_eq!(owned(&c, "CTags").await.len(), 4);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got: BTreeSet<String> = keys(&log).into_iter().collect();
    let want: BTreeSet<String> = (0..30)
        .filter(|i| i % 3 != 2)
        .map(|i| format!("k{i}"))
        .collect();
    assert_eq!(got, want, "exactly the TagA/TagB messages");
    assert_eq!(log.lock().unwrap().len(), 20, "no duplicates");
    c.shutdown().await.unwrap();

    // Offsets were committed at shutdown: a restart sees only what was sent since.
    for i in 30..40 {
        p.send(
            Message::new("CTags", format!("b{i}"))
                .with_tags("TagA")
                .with_keys(&format!("k{i}")),
        )
        .await
        .unwrap();
    }
    let log2: Log = Default::default();
    let c2 = start_push(
        &b,
        cfg,
        "CTags",
        "TagA || TagB",
        Listener::concurrent(recorder(&log2, "c1", ConsumeResult::Success)),
    )
    .await;
    assert!(wait_for(Duration::from_secs(20), || log2.lock().unwrap().len() >= 10).await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again: BTreeSet<String> = keys(&log2).into_iter().collect();
    assert_eq!(
        again,
        (30..40).map(|i| format!("k{i}")).collect::<BTreeSet<_>>()
    );
    assert_eq!(
        log2.lock().unwrap().len(),
        10,
        "no redelivery after a clean restart"
    );
    c2.shutdown().await.unwrap();
}

#[tokio::test]
async fn broadcasting_delivers_everything_to_every_member() {
    let b = start_broker(&[]);
    create_topic(&b, "CBroad", 4);
    let p = Producer::start(producer_config(&b, "pg-broad"))
        .await
        .unwrap();
    let log: Log = Default::default();
    let mut members = Vec::new();
    for name in ["b1", "b2"] {
        let mut cfg = consumer_config(&b, "cg-broad", name);
        cfg.message_model = MessageModel::Broadcasting;
        cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
        members.push(
            start_push(
                &b,
                cfg,
                "CBroad",
                "*",
                Listener::concurrent(recorder(&log, name, ConsumeResult::Success)),
            )
            .await,
        );
    }
    for c in &members {
        assert_eq!(
            owned(c, "CBroad").await.len(),
            4,
            "broadcasting members own every queue"
        );
    }
    for i in 0..20 {
        p.send(Message::new("CBroad", "x").with_keys(&format!("k{i}")))
            .await
            .unwrap();
    }
    assert!(
        wait_for(Duration::from_secs(20), || log.lock().unwrap().len() >= 40).await,
        "got {}",
        log.lock().unwrap().len()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut per: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (who, m) in log.lock().unwrap().iter() {
        per.entry(who.clone())
            .or_default()
            .insert(m.property("KEYS").unwrap().to_string());
    }
    let all: BTreeSet<String> = (0..20).map(|i| format!("k{i}")).collect();
    assert_eq!(per.get("b1"), Some(&all));
    assert_eq!(per.get("b2"), Some(&all));
    assert_eq!(log.lock().unwrap().len(), 40);
    for c in members {
        c.shutdown().await.unwrap();
    }
    for name in ["b1", "b2"] {
        let f = b
            .dir
            .path()
            .join("client-offsets")
            .join(name)
            .join("cg-broad")
            .join("offsets.json");
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(text.contains("\"offset\": 5"), "local offsets: {text}");
    }
}

#[tokio::test]
async fn orderly_keeps_per_key_order_across_a_rebalance() {
    let b = start_broker(&[]);
    create_topic(&b, "COrder", 4);
    let p = Producer::start(producer_config(&b, "pg-order"))
        .await
        .unwrap();
    let log: Log = Default::default();
    let slow = |log: &Log, who: &str| {
        let f = recorder(log, who, ConsumeResult::Success);
        Listener::orderly(move |m, q| {
            std::thread::sleep(Duration::from_millis(3));
            f(m, q)
        })
    };
    let mut cfg = consumer_config(&b, "cg-order", "o1");
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let c1 = start_push(&b, cfg.clone(), "COrder", "*", slow(&log, "o1")).await;
    const KEYS: usize = 8;
    const PER_KEY: usize = 40;
    let send_range = |from: usize, to: usize| {
        let p = p.clone();
        async move {
            for seq in from..to {
                for k in 0..KEYS {
                    let m = Message::new("COrder", format!("{seq}")).with_keys(&format!("key{k}"));
                    p.send_orderly(m, &format!("key{k}")).await.unwrap();
                }
            }
        }
    };
    send_range(0, PER_KEY / 2).await;
    cfg.client.instance_name = "o2".into();
    let c2 = start_push(&b, cfg, "COrder", "*", slow(&log, "o2")).await;
    send_range(PER_KEY / 2, PER_KEY).await;
    let total = KEYS * PER_KEY;
    assert!(
        wait_for(Duration::from_secs(40), || log.lock().unwrap().len()
            >= total)
        .await,
        "got {}",
        log.lock().unwrap().len()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (a1, a2) = (owned(&c1, "COrder").await, owned(&c2, "COrder").await);
    assert_eq!(a1.len() + a2.len(), 4);
    assert!(
        a1.iter().all(|q| !a2.contains(q)),
        "disjoint: {a1:?} {a2:?}"
    );
    let mut seqs: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut members = BTreeSet::new();
    for (who, m) in log.lock().unwrap().iter() {
        members.insert(who.clone());
        let seq: usize = std::str::from_utf8(&m.body).unwrap().parse().unwrap();
        seqs.entry(m.property("KEYS").unwrap().to_string())
            .or_default()
            .push(seq);
    }
    for (k, s) in &seqs {
        assert_eq!(s, &(0..PER_KEY).collect::<Vec<_>>(), "order of {k}");
    }
    assert_eq!(seqs.len(), KEYS);
    assert_eq!(
        members.len(),
        2,
        "the second member took over queues and consumed"
    );
    c1.shutdown().await.unwrap();
    c2.shutdown().await.unwrap();
}

#[tokio::test]
async fn failed_messages_are_retried_then_reach_the_dlq() {
    let levels = ["1s"; 18].join(" ");
    let b = start_broker(&[&format!("messageDelayLevel={levels}")]);
    create_topic(&b, "CRetry", 1);
    let p = Producer::start(producer_config(&b, "pg-retry"))
        .await
        .unwrap();
    let log: Log = Default::default();
    let mut cfg = consumer_config(&b, "cg-retry", "r1");
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cfg.max_reconsume_times = 2;
    let c = start_push(
        &b,
        cfg.clone(),
        "CRetry",
        "*",
        Listener::concurrent(recorder(&log, "r1", ConsumeResult::Later)),
    )
    .await;
    let sent = p
        .send(Message::new("CRetry", "doomed").with_keys("dead"))
        .await
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(30), || log.lock().unwrap().len() >= 3).await,
        "got {}",
        log.lock().unwrap().len()
    );
    // Deliveries: the original and two retries, each seen under the original topic.
    let l = log.lock().unwrap().clone();
    assert!(l
        .iter()
        .all(|(_, m)| m.topic == "CRetry" && &m.body[..] == b"doomed"));
    assert_eq!(
        l.iter().map(|(_, m)| m.reconsume_times).collect::<Vec<_>>()[..3],
        [0, 1, 2]
    );
    let pc = PullConsumer::start(consumer_config(&b, "dlq-reader", "dr"), &["CRetry"])
        .await
        .unwrap();
    let dlq = MessageQueue::new("%DLQ%cg-retry", "broker-a", 0);
    let mut found = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while found.is_empty() && std::time::Instant::now() < deadline {
        if let Ok(r) = pc.pull(&dlq, "*", 0, 32, None).await {
            found = r.msgs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!found.is_empty(), "the message reached %DLQ%cg-retry");
    assert_eq!(&found[0].body[..], b"doomed");
    assert_eq!(found[0].msg_id(), sent.msg_id);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(log.lock().unwrap().len(), 3, "no delivery after the DLQ");
    c.shutdown().await.unwrap();
    pc.shutdown().await.unwrap();
}

#[tokio::test]
async fn pull_consumer_offsets_are_explicit_and_committed() {
    let b = start_broker(&[]);
    create_topic(&b, "CPull", 2);
    let p = Producer::start(producer_config(&b, "pg-pull"))
        .await
        .unwrap();
    let mq = MessageQueue::new("CPull", "broker-a", 1);
    for i in 0..6 {
        p.send_to_queue(
            Message::new("CPull", format!("m{i}")).with_tags(if i % 2 == 0 {
                "even"
            } else {
                "odd"
            }),
            mq.clone(),
        )
        .await
        .unwrap();
    }
    let pc = PullConsumer::start(consumer_config(&b, "cg-pull", "pc1"), &["CPull"])
        .await
        .unwrap();
    assert_eq!(pc.queues("CPull").await.unwrap().len(), 2);
    assert_eq!(pc.max_offset(&mq).await.unwrap(), 6);
    let r = pc.pull(&mq, "even", 0, 32, None).await.unwrap();
    assert_eq!(r.status, PullStatus::Found);
    assert_eq!(
        r.msgs.iter().map(|m| m.queue_offset).collect::<Vec<_>>(),
        vec![0, 2, 4]
    );
    assert_eq!(r.next_begin_offset, 6);
    let r = pc.pull(&mq, "*", 4, 32, None).await.unwrap();
    assert_eq!(r.msgs.len(), 2);
    let empty = pc
        .pull(&mq, "*", 6, 32, Some(Duration::from_millis(300)))
        .await
        .unwrap();
    assert_eq!(empty.status, PullStatus::NoNewMsg);
    pc.update_consume_offset(&mq, 4);
    pc.shutdown().await.unwrap();
    let again = PullConsumer::start(consumer_config(&b, "cg-pull", "pc2"), &["CPull"])
        .await
        .unwrap();
    assert_eq!(again.fetch_consume_offset(&mq).await.unwrap(), Some(4));
    again.shutdown().await.unwrap();
}

#[tokio::test]
async fn orderly_failure_suspends_and_retries_the_same_message_in_place() {
    let b = start_broker(&[]);
    create_topic(&b, "COrderRetry", 1);
    let p = Producer::start(producer_config(&b, "pg-oretry"))
        .await
        .unwrap();
    for i in 0..6 {
        p.send(Message::new("COrderRetry", format!("{i}")))
            .await
            .unwrap();
    }
    let seen: Arc<Mutex<Vec<String>>> = Default::default();
    let s2 = seen.clone();
    let failed_once = Arc::new(Mutex::new(false));
    let mut cfg = consumer_config(&b, "cg-oretry", "or1");
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let c = start_push(
        &b,
        cfg,
        "COrderRetry",
        "*",
        Listener::orderly(move |msgs, _| {
            let body = String::from_utf8_lossy(&msgs[0].body).to_string();
            s2.lock().unwrap().push(body.clone());
            let mut f = failed_once.lock().unwrap();
            if body == "3" && !*f {
                *f = true;
                return ConsumeResult::Later;
            }
            ConsumeResult::Success
        }),
    )
    .await;
    assert!(wait_for(Duration::from_secs(20), || seen.lock().unwrap().len() >= 7).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(*seen.lock().unwrap(), ["0", "1", "2", "3", "3", "4", "5"]);
    c.shutdown().await.unwrap();
}

#[tokio::test]
async fn subscribing_after_start_announces_and_consumes_the_new_topic() {
    let b = start_broker(&[]);
    create_topic(&b, "CSubA", 2);
    create_topic(&b, "CSubB", 2);
    let p = Producer::start(producer_config(&b, "pg-sub"))
        .await
        .unwrap();
    p.send(Message::new("CSubA", "a").with_keys("a"))
        .await
        .unwrap();
    p.send(Message::new("CSubB", "b").with_keys("b"))
        .await
        .unwrap();
    let log: Log = Default::default();
    let mut cfg = consumer_config(&b, "cg-sub", "s1");
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let c = start_push(
        &b,
        cfg,
        "CSubA",
        "*",
        Listener::concurrent(recorder(&log, "s1", ConsumeResult::Success)),
    )
    .await;
    assert!(wait_for(Duration::from_secs(10), || !log.lock().unwrap().is_empty()).await);
    assert!(owned(&c, "CSubB").await.is_empty());
    c.subscribe("CSubB", "*").await.unwrap();
    assert_eq!(owned(&c, "CSubB").await.len(), 2, "rebalanced at once");
    assert!(wait_for(Duration::from_secs(10), || log.lock().unwrap().len() >= 2).await);
    let k: BTreeSet<String> = keys(&log).into_iter().collect();
    assert_eq!(k, BTreeSet::from(["a".to_string(), "b".to_string()]));
    c.shutdown().await.unwrap();
}
