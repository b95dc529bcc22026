//! Ordered messages: each order's steps go to one queue (selected by the order id), so an orderly
//! consumer sees them in sequence.
//!
//! `cargo run --example orderly_producer [NAMESRV] [TOPIC]` (default topic `OrderTopic`).

use actormq::client::{Message, Producer, ProducerConfig};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    actormq::cli::exit_with(run().await)
}

async fn run() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let namesrv = actormq::cli::namesrv_or_env(std::env::args().nth(1));
    let topic = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "OrderTopic".into());
    actormq::cli::init_logging("warn");
    let producer = {
        let mut cfg = ProducerConfig::new(&namesrv, "example_orderly_producer");
        // A fresh standalone broker prepares its first commit-log file on the first send, which
        // can take several seconds: allow for it.
        cfg.send_timeout = std::time::Duration::from_secs(10);
        Producer::start(cfg).await?
    };
    for step in ["created", "paid", "shipped", "delivered"] {
        for order in 0..5 {
            let id = format!("order-{order}");
            let msg = Message::new(&topic, format!("{id} {step}")).with_keys(&id);
            let r = producer.send_orderly(msg, &id).await?;
            println!("{id} {step} -> queue {}", r.queue.queue_id);
        }
    }
    producer.shutdown().await?;
    Ok(())
}
