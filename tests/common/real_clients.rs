//! The real third-party RocketMQ clients the tests drive (PyPI `rocketmq==0.4.4`, npm
//! `ali-ons@3.12.0`), installed into `target/real-clients/` by `scripts/install-real-clients.sh`.
//!
//! A test that needs them calls [`real_clients_dir`]: the first call in a test binary runs the
//! install script (idempotent, and locked against a parallel run), so `cargo test` on a fresh
//! clone runs these tests instead of skipping them. If the install fails the test fails, with the
//! command to run by hand in its message: there is no silent skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const INSTALL_LIMIT: Duration = Duration::from_secs(600);

/// `target/real-clients`, with both clients installed; panics with the reason otherwise.
pub fn real_clients_dir() -> PathBuf {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(install)
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn install() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/real-clients");
    let how = "install them with `bash scripts/install-real-clients.sh` (needs python3 with venv \
               and pip, npm, and access to PyPI and the npm registry)";
    let log = std::env::temp_dir().join(format!("actormq-install-{}.log", std::process::id()));
    let log_file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut child = Command::new("bash")
        .arg(root.join("scripts/install-real-clients.sh"))
        .current_dir(root)
        .stdout(Stdio::from(
            log_file.try_clone().map_err(|e| e.to_string())?,
        ))
        .stderr(Stdio::from(log_file))
        .spawn()
        .map_err(|e| format!("cannot run the real-client install script ({e}); {how}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > INSTALL_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "installing the real clients took over {INSTALL_LIMIT:?}; {how}"
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let ready =
        dir.join("venv/bin/python").exists() && dir.join("node/node_modules/ali-ons").exists();
    if status.success() && ready {
        Ok(dir)
    } else {
        Err(format!(
            "the real RocketMQ clients are not installed ({status}); {how}. Script output:\n{output}"
        ))
    }
}

/// Run a real client's script (HOME in a temp dir, at most `limit`), assert it exited 0, and
/// return its JSON summary (its last stdout line starting with `{`).
pub fn run_client(mut cmd: Command, limit: Duration) -> serde_json::Value {
    let home = tempfile::tempdir().unwrap();
    cmd.env("HOME", home.path());
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start client");
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("client did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_default()
        .to_string();
    eprintln!("client summary: {line}");
    assert!(
        out.status.success(),
        "client failed: {line}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&line).expect("JSON summary")
}
