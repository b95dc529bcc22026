//! `namesrv`: the route registry. `namesrv [-c FILE] [--set key=value]... [--print-config]`.

use std::io::Write;

use actormq::cli::{init_logging, shutdown_signal, CommonArgs};
use actormq::config::NamesrvConfig;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "namesrv",
    version,
    about = "actormq name server (RocketMQ 4.x protocol)"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let (cfg, ignored) = match cli.common.load::<NamesrvConfig>() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("namesrv: config error: {e}");
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

    let system = actix_rt::System::new();
    let result = system.block_on(async move {
        let handle = actormq::actors::namesrv::start(&cfg).await?;
        println!("namesrv listening on {}", handle.local_addr);
        let _ = std::io::stdout().flush();
        shutdown_signal().await;
        tracing::info!("shutting down");
        Ok::<_, std::io::Error>(())
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("namesrv: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
