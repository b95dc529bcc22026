//! `broker`: the message broker. `broker [-c FILE] [--set key=value]... [--print-config]`.
//! With `standalone = true` it also runs a name server in the same process.

use actormq::cli::{announce, prepare, shutdown_signal, CommonArgs};
use actormq::config::BrokerConfig;
use clap::Parser;

/// mimalloc instead of glibc's malloc: a sync send allocates and frees a few dozen small blocks,
/// some freed on another thread than the one that allocated them; glibc spent ~20 % of the I/O
/// thread's samples in malloc/free, `malloc_consolidate` and arena-lock wake-ups under P1.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "broker",
    version,
    about = "actormq broker (RocketMQ 4.x protocol)"
)]
struct Cli {
    /// Name servers, `host:port;host:port` (RocketMQ's `mqbroker -n`): the `namesrvAddr` key.
    #[arg(short = 'n', long = "namesrvAddr", value_name = "ADDRS")]
    namesrv: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> std::process::ExitCode {
    let mut cli = Cli::parse();
    if let Some(addrs) = cli.namesrv.take() {
        // Like a --set given first: an explicit `--set namesrvAddr=...` still wins.
        cli.common.set.insert(0, format!("namesrvAddr={addrs}"));
    }
    let cfg = match prepare::<BrokerConfig>("broker", &cli.common, |c| c.log_level.clone()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let name = cfg.broker_name.clone();
    let (dashboard_cfg, tls_cfg) = (cfg.dashboard.clone(), cfg.tls.clone());
    let acl_cfg = cfg.acl.clone();
    let spin = cfg.net.idle_poll();
    let result = actormq::idle_poll::system(spin).block_on(async move {
        let broker = match actormq::actors::broker::start(cfg).await {
            Ok(b) => b,
            Err(e) => {
                // Exit here: nothing was acknowledged, and tearing down a half-started system
                // would only add noise after the one line that matters.
                eprintln!("broker: {e}");
                std::process::exit(1);
            }
        };
        // The signal handlers are installed (first poll) and the dashboard started before the
        // ready lines, so a SIGTERM sent as soon as they are read stops the process cleanly.
        let stop = shutdown_signal();
        tokio::pin!(stop);
        let _ = futures::poll!(&mut stop);
        // The dashboard reads through the embedded name server (standalone mode only: the
        // config refuses dashboardEnable otherwise); its line comes after the others.
        let dashboard = match (&broker.namesrv, dashboard_cfg.dashboard_enable) {
            (Some(ns), true) => {
                let addr = format!("127.0.0.1:{}", ns.local_addr.port());
                match actormq::dashboard::start(&dashboard_cfg, &addr, &acl_cfg, &tls_cfg) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        eprintln!("broker: {e}");
                        std::process::exit(1);
                    }
                }
            }
            _ => None,
        };
        if let Some(ns) = &broker.namesrv {
            announce(&format!("namesrv listening on {}", ns.local_addr));
        }
        announce(&format!("broker {name} listening on {}", broker.local_addr));
        if let Some(ha) = broker.ha_addr {
            announce(&format!("ha listening on {ha}"));
        }
        if let Some(m) = broker.metrics_addr {
            announce(&format!("metrics listening on {m}"));
        }
        // After the others, so the lines before it keep their order for scripts that read them.
        if let Some(fast) = broker.fast_addr {
            announce(&format!("vip channel listening on {fast}"));
        }
        if let Some(d) = &dashboard {
            announce(&format!("dashboard listening on {}", d.local_addr));
        }
        stop.await;
        if let Some(d) = dashboard {
            d.stop().await;
        }
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
