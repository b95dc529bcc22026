//! `mqclient-consume`: a push consumer on the command line, printing what it owns and what it
//! receives, one line each, so scripts and the multi-process tests can watch a consumer group:
//!
//! ```text
//! READY <client id>
//! ASSIGN <topic> <broker:queue,...>     (each time the owned queues change)
//! MSG <topic> <queue id> <queue offset> <keys> <body as UTF-8, lossy>
//! DONE                                   (after a clean shutdown)
//! ```
//! It shuts down cleanly when stdin closes or `--secs` pass, whichever is first. `--fast` shortens
//! the client timers (rebalance, heartbeat, route refresh 1 s) for tests. `--access-key` and
//! `--secret-key` sign its requests (a broker with ACL on); `--tls` (with `--tls-ca` or
//! `--tls-insecure`) connects over TLS.

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::Duration;

use actormq::cli::init_logging;
use actormq::client::*;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "mqclient-consume",
    about = "actormq client: consume a topic and print it"
)]
struct Cli {
    #[arg(long, default_value = "127.0.0.1:9876")]
    namesrv: String,
    #[arg(long)]
    group: String,
    #[arg(long)]
    topic: String,
    #[arg(long, default_value = "*")]
    expr: String,
    #[arg(long, default_value = "DEFAULT")]
    instance: String,
    #[arg(long)]
    orderly: bool,
    #[arg(long)]
    broadcast: bool,
    /// Start a group without stored offsets at the first message (default: the last).
    #[arg(long)]
    from_first: bool,
    #[arg(long)]
    fast: bool,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 600)]
    secs: u64,
    /// Sign every request as this ACL account (with --secret-key), for a broker with
    /// `aclEnable=true`.
    #[arg(long, requires = "secret_key")]
    access_key: Option<String>,
    /// Secret key of --access-key.
    #[arg(long, requires = "access_key")]
    secret_key: Option<String>,
    #[command(flatten)]
    tls: actormq::tls::args::TlsArgs,
}

fn out(line: String) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{line}");
    let _ = o.flush();
}

/// The consumer the flags describe (`--fast`: short timers, for tests).
fn consumer_config(cli: &Cli) -> std::result::Result<ConsumerConfig, String> {
    let mut cfg = ConsumerConfig::new(&cli.namesrv, &cli.group);
    cfg.client.instance_name = cli.instance.clone();
    if let (Some(ak), Some(sk)) = (&cli.access_key, &cli.secret_key) {
        cfg.client.credentials = Some(actormq::acl::sign::Credentials::new(ak.clone(), sk.clone()));
    }
    cfg.client.tls = cli.tls.client().map_err(|e| e.to_string())?;
    if cli.broadcast {
        cfg.message_model = MessageModel::Broadcasting;
    }
    if cli.from_first {
        cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    }
    if cli.fast {
        let s = Duration::from_secs(1);
        cfg.client.poll_name_server_interval = s;
        cfg.client.heartbeat_broker_interval = s;
        cfg.rebalance_interval = s;
        cfg.lock_interval = s;
        cfg.persist_offset_interval = Duration::from_millis(500);
        cfg.long_poll_suspend = Duration::from_secs(2);
        cfg.pull_error_delay = Duration::from_millis(300);
    }
    Ok(cfg)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging("info");
    let cfg = match consumer_config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mqclient-consume: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let print = |msgs: &[MessageExt], _: &MessageQueue| {
        for m in msgs {
            out(format!(
                "MSG {} {} {} {} {}",
                m.topic,
                m.queue_id,
                m.queue_offset,
                m.property("KEYS").unwrap_or("-"),
                String::from_utf8_lossy(&m.body)
            ));
        }
        ConsumeResult::Success
    };
    let listener = if cli.orderly {
        Listener::orderly(print)
    } else {
        Listener::concurrent(print)
    };
    let mut consumer = match PushConsumer::new(cfg) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mqclient-consume: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let started = async {
        consumer.subscribe(&cli.topic, &cli.expr).await?;
        consumer.start(listener).await
    };
    if let Err(e) = started.await {
        eprintln!("mqclient-consume: {e}");
        return std::process::ExitCode::from(1);
    }
    out(format!("READY {}", consumer.client_id()));
    let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        for _ in std::io::stdin()
            .lock()
            .lines()
            .map_while(std::result::Result::ok)
        {}
        let _ = tx.send(());
    });
    let consumer = Arc::new(consumer);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(cli.secs);
    let mut last = String::new();
    loop {
        let owned: Vec<String> = consumer
            .assignment()
            .await
            .into_iter()
            .filter(|q| q.topic == cli.topic)
            .map(|q| format!("{}:{}", q.broker_name, q.queue_id))
            .collect();
        let now = owned.join(",");
        if now != last {
            out(format!(
                "ASSIGN {} {}",
                cli.topic,
                if now.is_empty() { "-" } else { &now }
            ));
            last = now;
        }
        tokio::select! {
            _ = &mut rx => break,
            _ = tokio::time::sleep_until(deadline) => break,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
    let consumer = match Arc::try_unwrap(consumer) {
        Ok(c) => c,
        Err(_) => return std::process::ExitCode::from(1),
    };
    if let Err(e) = consumer.shutdown().await {
        eprintln!("mqclient-consume: shutdown: {e}");
        return std::process::ExitCode::from(1);
    }
    out("DONE".into());
    std::process::ExitCode::SUCCESS
}
