//! Command-line plumbing shared by the binaries: the common flags, logging setup, and the
//! shutdown signal.

use std::path::PathBuf;

use clap::Args;

use crate::config::{self, ConfigError, ConfigKeys, Sources};

/// Flags every server binary takes.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Config file: TOML (`.toml`) or Java properties (RocketMQ's `*.conf`).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Set one config key (repeatable), e.g. `--set listenPort=0`. Wins over the file and env.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print the effective config as JSON and exit.
    #[arg(long = "print-config")]
    pub print_config: bool,
}

impl CommonArgs {
    /// Load the config layers for these flags.
    pub fn load<T: ConfigKeys>(&self) -> Result<(T, Vec<String>), ConfigError> {
        config::load(&Sources::from_args(self.config.clone(), self.set.clone()))
    }
}

/// What a server binary does before it starts: load the config (exit 2 with the reason on a bad
/// one), `--print-config` (print and exit 0), otherwise set up logging, warn about accepted-but-
/// unused RocketMQ keys and log the effective config. `Err(code)` means: exit with it now.
pub fn prepare<T: ConfigKeys>(
    bin: &str,
    args: &CommonArgs,
    log_level: impl Fn(&T) -> String,
) -> Result<T, std::process::ExitCode> {
    let (cfg, ignored) = args.load::<T>().map_err(|e| {
        eprintln!("{bin}: config error: {e}");
        std::process::ExitCode::from(2)
    })?;
    let json = serde_json::to_string_pretty(&cfg).expect("config serializes");
    if args.print_config {
        println!("{json}");
        return Err(std::process::ExitCode::SUCCESS);
    }
    init_logging(&log_level(&cfg));
    for key in ignored {
        tracing::warn!(%key, "RocketMQ config key accepted but not used by actormq");
    }
    tracing::info!(config = %serde_json::to_string(&cfg).unwrap_or_default(), "effective config");
    Ok(cfg)
}

/// Print the ready line on stdout (tests and scripts wait for it) and flush.
pub fn announce(line: &str) {
    use std::io::Write;
    println!("{line}");
    let _ = std::io::stdout().flush();
}

/// Log to stderr at `level` (a `tracing` filter); `RUST_LOG` wins when set.
pub fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
