//! A clustering push consumer of `TagA || TagB`, printing what it receives for 30 s (or until
//! Ctrl-C), then shutting down cleanly (offsets committed, group left).
//!
//! `cargo run --example push_consumer [NAMESRV] [TOPIC]`; start several to watch the group
//! rebalance (each logs its assignment).

use std::time::Duration;

use actormq::client::*;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    actormq::cli::exit_with(run().await)
}

async fn run() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let namesrv = actormq::cli::namesrv_or_env(std::env::args().nth(1));
    let topic = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "TopicTest".into());
    actormq::cli::init_logging("info");
    let mut cfg = ConsumerConfig::new(&namesrv, "example_consumer");
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let mut consumer = PushConsumer::new(cfg)?;
    consumer.subscribe(&topic, "TagA || TagB").await?;
    consumer
        .start(Listener::concurrent(|msgs, mq| {
            for m in msgs {
                println!(
                    "queue={} offset={} tags={} body={}",
                    mq,
                    m.queue_offset,
                    m.tags().unwrap_or("-"),
                    String::from_utf8_lossy(&m.body)
                );
            }
            ConsumeResult::Success
        }))
        .await?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = tokio::time::sleep(Duration::from_secs(30)) => {}
    }
    consumer.shutdown().await?;
    Ok(())
}
