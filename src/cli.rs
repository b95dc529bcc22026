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
    log_config(&cfg);
    Ok(cfg)
}

/// Log the effective config as `key=value` pairs, a few per line, so a person can read it.
fn log_config<T: serde::Serialize>(cfg: &T) {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(cfg) else {
        return;
    };
    let pairs: Vec<String> = map
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) if s.contains(' ') || s.is_empty() => format!("{k}={s:?}"),
            serde_json::Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect();
    tracing::info!("effective config ({} keys):", pairs.len());
    for line in wrap(&pairs, 100) {
        tracing::info!("  {line}");
    }
}

/// Join `items` with spaces into lines of at most `width` characters (longer items stand alone).
fn wrap(items: &[String], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for item in items {
        match lines.last_mut() {
            Some(line) if line.len() + 1 + item.len() <= width => {
                line.push(' ');
                line.push_str(item);
            }
            _ => lines.push(item.clone()),
        }
    }
    lines
}

/// What a program's `main` does with its result: nothing on success; on failure the error in
/// words (returning it from `main` would print its Debug form) and exit status 1.
pub fn exit_with<E: std::fmt::Display>(result: Result<(), E>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The name-server list, as RocketMQ's clients find it: the given value, else `$NAMESRV_ADDR`,
/// else the local default `127.0.0.1:9876`.
pub fn namesrv_or_env(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("NAMESRV_ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:9876".into())
}

/// Print the ready line on stdout (tests and scripts wait for it) and flush.
pub fn announce(line: &str) {
    use std::io::Write;
    // A reader that went away (a closed pipe) is no reason to stop: `println!` would panic.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Log to stderr at `level` (a `tracing` filter); `RUST_LOG` wins when set. Colours only when
/// stderr is a terminal, so files and pipes get plain text.
pub fn init_logging(level: &str) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_ansi(std::io::stderr().is_terminal())
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

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn config_lines_wrap_at_the_width() {
        let items: Vec<String> = ["a=1", "bb=2", "ccc=3"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(wrap(&items, 8), vec!["a=1 bb=2", "ccc=3"]);
        assert_eq!(wrap(&items, 3), vec!["a=1", "bb=2", "ccc=3"]);
    }
}
