//! Transactional messages: each message is stored as a half message, the local transaction runs,
//! and the producer commits it (consumers see it), rolls it back (nobody ever sees it) or answers
//! "unknown", in which case the broker asks again later (`check_local`, after `transactionTimeOut`
//! 6 s, at its scan every `transactionCheckInterval` 60 s) and this example then commits.
//!
//! `cargo run --example transaction_producer [NAMESRV] [TOPIC] [WAIT_SECS]` (default topic
//! `TransactionTopic`; WAIT_SECS, default 0, is how long to stay up answering check-backs).

use std::any::Any;
use std::time::Duration;

use actormq::client::{
    LocalTransactionState, Message, MessageExt, ProducerConfig, TransactionListener,
    TransactionProducer,
};

/// The "local transaction": decided by the order's outcome word in the body.
struct Orders;

impl TransactionListener for Orders {
    fn execute_local(
        &self,
        msg: &Message,
        _arg: &(dyn Any + Send + Sync),
    ) -> LocalTransactionState {
        if msg.body.ends_with(b"paid") {
            LocalTransactionState::Commit
        } else if msg.body.ends_with(b"cancelled") {
            LocalTransactionState::Rollback
        } else {
            LocalTransactionState::Unknown
        }
    }

    fn check_local(&self, msg: &MessageExt) -> LocalTransactionState {
        println!(
            "check-back id={} body={} -> {}",
            msg.msg_id(),
            String::from_utf8_lossy(&msg.body),
            LocalTransactionState::Commit
        );
        LocalTransactionState::Commit
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    actormq::cli::exit_with(run().await)
}

async fn run() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let namesrv = actormq::cli::namesrv_or_env(std::env::args().nth(1));
    let topic = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "TransactionTopic".into());
    let wait: u64 = match std::env::args().nth(3) {
        Some(s) => s
            .parse()
            .map_err(|_| format!("WAIT_SECS {s:?} is not a number"))?,
        None => 0,
    };
    actormq::cli::init_logging("warn");
    let producer = {
        let mut cfg = ProducerConfig::new(&namesrv, "example_transaction_producer");
        // A fresh standalone broker prepares its first commit-log file on the first send.
        cfg.send_timeout = Duration::from_secs(10);
        TransactionProducer::start(cfg, Orders).await?
    };
    for body in ["order-1 paid", "order-2 cancelled", "order-3 pending"] {
        let msg = Message::new(&topic, body).with_keys(&body[..7]);
        let r = producer.send_in_transaction(msg, ()).await?;
        println!(
            "{body:<17} {} id={} local={}",
            r.send.status, r.transaction_id, r.local_state
        );
    }
    if wait > 0 {
        println!("answering check-backs for {wait} s");
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
    producer.shutdown().await?;
    Ok(())
}
