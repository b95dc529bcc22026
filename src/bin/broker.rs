//! `broker`: the message broker. `broker [-c FILE] [--set key=value]... [--print-config]`.
//! With `standalone = true` it also runs a name server in the same process.

use std::io::Write;

use actormq::cli::{init_logging, shutdown_signal, CommonArgs};
use actormq::config::BrokerConfig;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "broker",
    version,
    about = "actormq broker (RocketMQ 4.x protocol)"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let (cfg, ignored) = match cli.common.load::<BrokerConfig>() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("broker: config error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if cli.common.print_config {
        println!(
            "{}",
            serde_json::to_string_pretty(&cfg).expect("config serializes")
        );
        return std::process::ExitCode::SUCCESS;
    }
    init_logging(&cfg.log_level);
    for key in ignored {
        tracing::warn!(%key, "RocketMQ config key accepted but not used by actormq");
    }
    tracing::info!(config = %serde_json::to_string(&cfg).unwrap_or_default(), "effective config");

    let name = cfg.broker_name.clone();
    let system = actix_rt::System::new();
    let result = system.block_on(async move {
        let broker = actormq::actors::broker::start(cfg).await?;
        println!("broker {name} listening on {}", broker.local_addr);
        let _ = std::io::stdout().flush();
        shutdown_signal().await;
        broker.shutdown().await;
        Ok::<_, actormq::actors::broker::StartError>(())
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("broker: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
