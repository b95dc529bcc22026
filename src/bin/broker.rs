//! `broker`: the message broker. `broker [-c FILE] [--set key=value]... [--print-config]`.
//! With `standalone = true` it also runs a name server in the same process.

use actormq::cli::{announce, prepare, shutdown_signal, CommonArgs};
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
    let cfg = match prepare::<BrokerConfig>("broker", &cli.common, |c| c.log_level.clone()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let name = cfg.broker_name.clone();
    let result = actix_rt::System::new().block_on(async move {
        let broker = actormq::actors::broker::start(cfg).await?;
        announce(&format!("broker {name} listening on {}", broker.local_addr));
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
