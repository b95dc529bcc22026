//! Send messages every way the producer can: sync, async (future and callback), oneway, batch.
//!
//! `cargo run --example producer [NAMESRV] [TOPIC]` (defaults `127.0.0.1:9876`, `TopicTest`)
//! against `cargo run --bin broker -- -c conf/standalone.toml`.

use actormq::client::{Message, Producer, ProducerConfig};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    actormq::cli::exit_with(run().await)
}

async fn run() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let namesrv = actormq::cli::namesrv_or_env(std::env::args().nth(1));
    let topic = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "TopicTest".into());
    actormq::cli::init_logging("warn");
    let producer = {
        let mut cfg = ProducerConfig::new(&namesrv, "example_producer");
        // A fresh standalone broker prepares its first commit-log file on the first send, which
        // can take several seconds: allow for it.
        cfg.send_timeout = std::time::Duration::from_secs(10);
        Producer::start(cfg).await?
    };
    for i in 0..10 {
        let tag = if i % 2 == 0 { "TagA" } else { "TagB" };
        let msg = Message::new(&topic, format!("Hello RocketMQ {i}"))
            .with_tags(tag)
            .with_keys(&format!("key-{i}"));
        let r = producer.send(msg).await?;
        println!(
            "sync  {} id={} queue={} offset={}",
            r.status, r.msg_id, r.queue, r.queue_offset
        );
    }
    let pending = producer.send_async(Message::new(&topic, "async hello").with_tags("TagA"));
    let (tx, rx) = tokio::sync::oneshot::channel();
    producer.send_with_callback(
        Message::new(&topic, "callback hello").with_tags("TagB"),
        move |r| {
            let _ = tx.send(r.map(|r| r.msg_id));
        },
    );
    println!("async id={}", pending.await?.msg_id);
    println!("callback id={}", rx.await??);
    producer
        .send_oneway(Message::new(&topic, "oneway hello").with_tags("TagA"))
        .await?;
    let batch = (0..3)
        .map(|i| Message::new(&topic, format!("batch {i}")).with_tags("TagA"))
        .collect();
    let r = producer.send_batch(batch).await?;
    println!("batch ids={} first offset={}", r.msg_id, r.queue_offset);
    producer.shutdown().await?;
    Ok(())
}
