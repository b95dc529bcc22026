//! `controller`: a controller of RocketMQ 5 controller mode (one member of the Raft group that
//! elects broker masters). `controller [-c FILE] [--set key=value]... [--print-config]`.

use actormq::cli::{announce, prepare, shutdown_signal, CommonArgs};
use actormq::config::ControllerServerConfig;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "controller",
    version,
    about = "actormq controller (RocketMQ 5 controller mode, Raft by openraft)"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let cfg =
        match prepare::<ControllerServerConfig>("controller", &cli.common, |c| c.log_level.clone())
        {
            Ok(c) => c,
            Err(code) => return code,
        };
    let result = actix_rt::System::new().block_on(async move {
        let handle = actormq::controller::dispatch::start(&cfg).await?;
        let stop = shutdown_signal();
        tokio::pin!(stop);
        let _ = futures::poll!(&mut stop);
        announce(&format!("controller listening on {}", handle.local_addr));
        stop.await;
        tracing::info!("shutting down");
        Ok::<_, std::io::Error>(())
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("controller: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
