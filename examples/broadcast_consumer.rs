//! A broadcasting consumer: every member of the group gets every message; offsets live in a local
//! file (`~/.rocketmq_offsets/<instance>/<group>/offsets.json`). Run two with different instance
//! names to see both receive everything.
//!
//! `cargo run --example broadcast_consumer [NAMESRV] [TOPIC] [INSTANCE]`

use std::time::Duration;

use actormq::client::*;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    actormq::cli::exit_with(run().await)
}

async fn run() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let namesrv = actormq::cli::namesrv_or_env(args.next());
    let topic = args.next().unwrap_or_else(|| "TopicTest".into());
    let instance = args.next().unwrap_or_else(|| "broadcast-1".into());
    actormq::cli::init_logging("info");
    let mut cfg = ConsumerConfig::new(&namesrv, "example_broadcast_consumer");
    cfg.message_model = MessageModel::Broadcasting;
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cfg.client.instance_name = instance.clone();
    let mut consumer = PushConsumer::new(cfg)?;
    consumer.subscribe(&topic, "*").await?;
    consumer
        .start(Listener::concurrent(move |msgs, mq| {
            for m in msgs {
                println!(
                    "[{instance}] queue={} {}",
                    mq.queue_id,
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
