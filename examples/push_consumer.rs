//! A clustering push consumer of `TagA || TagB`, printing what it receives for 30 s (or until
//! Ctrl-C), then shutting down cleanly (offsets committed, group left).
//!
//! `cargo run --example push_consumer [NAMESRV] [TOPIC]`; start several to watch the group
//! rebalance (each logs its assignment).

use std::time::Duration;

use actormq::client::*;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // `main` returning the error would print its Debug form; say it in words instead.
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // As RocketMQ's clients: the argument, else $NAMESRV_ADDR, else the local default.
    let namesrv = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("NAMESRV_ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:9876".into());
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
