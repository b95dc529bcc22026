//! `namesrv`: the route registry. `namesrv [-c FILE] [--set key=value]... [--print-config]`.

use actormq::cli::{announce, prepare, shutdown_signal, CommonArgs};
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
    let cfg = match prepare::<NamesrvConfig>("namesrv", &cli.common, |c| c.log_level.clone()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let spin = cfg.net.idle_poll();
    let result = actormq::idle_poll::system(spin).block_on(async move {
        let handle = actormq::actors::namesrv::start(&cfg).await?;
        // The signal handlers are installed (first poll) and the dashboard started before the
        // ready lines, so a SIGTERM sent as soon as they are read stops the process cleanly.
        let stop = shutdown_signal();
        tokio::pin!(stop);
        let _ = futures::poll!(&mut stop);
        let dashboard = if cfg.dashboard.dashboard_enable {
            let ns = format!("127.0.0.1:{}", handle.local_addr.port());
            Some(actormq::dashboard::start(
                &cfg.dashboard,
                &ns,
                &cfg.acl,
                &cfg.tls,
            )?)
        } else {
            None
        };
        announce(&format!("namesrv listening on {}", handle.local_addr));
        if let Some(d) = &dashboard {
            announce(&format!("dashboard listening on {}", d.local_addr));
        }
        stop.await;
        tracing::info!("shutting down");
        if let Some(d) = dashboard {
            d.stop().await;
        }
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
