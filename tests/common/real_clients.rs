//! The real third-party RocketMQ clients the tests drive (PyPI `rocketmq==0.4.4`, npm
//! `ali-ons@3.12.0`), installed into `target/real-clients/` by `scripts/install-real-clients.sh`.
//!
//! A test that needs them calls [`real_clients_dir`]: the first call in a test binary runs the
//! install script (idempotent, and locked against a parallel run), so `cargo test` on a fresh
//! clone runs these tests instead of skipping them. If the install fails the test fails, with the
//! command to run by hand in its message: there is no silent skip.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::line_channel;

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

/// A consumer script gives up after this long (seconds); the test waits a little longer for its
/// summary.
const CLIENT_LIMIT: u64 = 120;

/// A running client script: its stdout lines (progress and summary) and stderr lines.
pub struct ClientRun {
    pub child: Child,
    out: Receiver<String>,
    err: Receiver<String>,
    home: tempfile::TempDir,
}

#[derive(Clone, Copy)]
pub enum Client {
    PythonCpp,
    NodeAliOns,
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients")).join(name)
}

/// Start the HA consumer script (`tests/clients/ha_consumer.*`) of `client` against the name
/// server list `ns`, waiting for keys `key-0` .. `key-(count-1)` of `topic`.
pub fn start_consumer(client: Client, ns: &str, topic: &str, count: usize) -> ClientRun {
    let dir = real_clients_dir();
    let args = [
        ns.to_string(),
        topic.to_string(),
        count.to_string(),
        format!("CG_ha_{topic}"),
        CLIENT_LIMIT.to_string(),
    ];
    let mut cmd = match client {
        Client::PythonCpp => {
            let mut c = Command::new(dir.join("venv/bin/python"));
            c.arg(script("ha_consumer.py"));
            c
        }
        Client::NodeAliOns => {
            // Run from the install dir so `require('ali-ons')` finds it.
            let copy = dir.join("node/ha_consumer.js");
            std::fs::copy(script("ha_consumer.js"), &copy).unwrap();
            let mut c = Command::new("node");
            c.current_dir(dir.join("node")).arg(copy);
            c
        }
    };
    let home = tempfile::tempdir().unwrap();
    let mut child = cmd
        .args(&args)
        .env("HOME", home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the client");
    let out = line_channel(child.stdout.take().unwrap());
    let err = line_channel(child.stderr.take().unwrap());
    ClientRun {
        child,
        out,
        err,
        home,
    }
}

impl ClientRun {
    /// Wait (at most `limit`) until the client has received `n` distinct messages.
    pub fn wait_progress(&mut self, n: usize, limit: Duration) {
        let start = Instant::now();
        while let Some(left) = limit.checked_sub(start.elapsed()) {
            let Ok(line) = self.out.recv_timeout(left) else {
                break;
            };
            let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if v["progress"].as_u64().is_some_and(|p| p as usize >= n) {
                return;
            }
        }
        panic!(
            "the client did not receive {n} messages within {limit:?}: {}",
            self.errors()
        );
    }

    pub fn errors(&self) -> String {
        let lines: Vec<String> = self.err.try_iter().collect();
        lines.join("\n")
    }

    /// The client's summary once it exits (it must exit 0: every message arrived).
    pub fn finish(mut self) -> serde_json::Value {
        let limit = Duration::from_secs(CLIENT_LIMIT + 30);
        let start = Instant::now();
        let mut summary = serde_json::Value::Null;
        while let Some(left) = limit.checked_sub(start.elapsed()) {
            match self.out.recv_timeout(left) {
                Ok(line) => {
                    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
                    if v.get("progress").is_none() {
                        summary = v;
                    }
                }
                Err(_) => break, // stdout closed: the client exited
            }
        }
        let status = wait_exit(&mut self.child, Duration::from_secs(10));
        eprintln!("client summary: {summary}");
        // SHOW_CLIENT_LOGS=N prints the last N lines of the client's own logs even on success.
        if let Some(n) = std::env::var("SHOW_CLIENT_LOGS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            eprintln!("client logs:\n{}", log_tails(self.home.path(), n));
        }
        assert!(
            status == Some(0) && summary["missing_count"] == 0,
            "client exit {status:?}, summary {summary}\nstderr:\n{}\nclient logs:\n{}",
            self.errors(),
            log_tails(self.home.path(), 60)
        );
        summary
    }
}

/// The last `lines` lines of every log file the client wrote under its `HOME` (the C++ client
/// logs to `~/logs/rocketmq-cpp/`), so a failure shows what the client saw.
fn log_tails(home: &Path, lines: usize) -> String {
    let mut out = String::new();
    let mut dirs = vec![home.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(text) = std::fs::read(&path) {
                let text = String::from_utf8_lossy(&text);
                let all: Vec<&str> = text.lines().collect();
                let tail = &all[all.len().saturating_sub(lines)..];
                out.push_str(&format!(
                    "--- {} ---\n{}\n",
                    path.display(),
                    tail.join("\n")
                ));
            }
        }
    }
    out
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

impl Drop for ClientRun {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
