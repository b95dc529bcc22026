//! An orderly consumer: one message at a time per queue, in queue order, while holding the queue's
//! broker lock (renewed every 20 s). Prints each order's steps for 30 s (or until Ctrl-C).
//!
//! `cargo run --example orderly_consumer [NAMESRV] [TOPIC]` (default topic `OrderTopic`).

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
        .unwrap_or_else(|| "OrderTopic".into());
    actormq::cli::init_logging("info");
    let mut cfg = ConsumerConfig::new(&namesrv, "example_orderly_consumer");
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let mut consumer = PushConsumer::new(cfg)?;
    consumer.subscribe(&topic, "*").await?;
    consumer
        .start(Listener::orderly(|msgs, mq| {
            for m in msgs {
                println!("queue={} {}", mq.queue_id, String::from_utf8_lossy(&m.body));
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
