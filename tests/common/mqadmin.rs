//! Running the real `mqadmin` binary from the `tests/mqadmin*.rs` files: bounded runs (60 s),
//! stdout and stderr drained on threads, the exit-code and one-line-error checks, JSON parsing,
//! and the column names of a table's first line.
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const MQADMIN: &str = env!("CARGO_BIN_EXE_mqadmin");

/// One finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub out: String,
    pub err: String,
}

impl Run {
    /// Exit 0; returns stdout.
    #[track_caller]
    pub fn ok(self) -> String {
        assert_eq!(self.code, Some(0), "{self:?}");
        self.out
    }

    /// Exit 1 with exactly one stderr line naming `what`, no panic text.
    #[track_caller]
    pub fn fails_with(self, what: &str) {
        assert_eq!(self.code, Some(1), "{self:?}");
        assert_eq!(self.err.lines().count(), 1, "{self:?}");
        assert!(self.err.contains(what), "{self:?}");
        assert!(!self.err.contains("panicked"), "{self:?}");
    }

    /// A usage error: exit 2, clap's message on stderr.
    #[track_caller]
    pub fn fails_usage(self) {
        assert_eq!(self.code, Some(2), "{self:?}");
        assert!(self.err.contains("Usage:"), "{self:?}");
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn json(self) -> Value {
        let out = self.ok();
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }
}

/// Run `mqadmin args` with NAMESRV_ADDR unset (at most 60 s).
pub fn mqadmin(args: &[&str]) -> Run {
    run_env(args, None)
}

/// Run `mqadmin args`, NAMESRV_ADDR = `env` if given (at most 60 s).
pub fn run_env(args: &[&str], env: Option<&str>) -> Run {
    let vars: Vec<(&str, &str)> = env.map(|ns| ("NAMESRV_ADDR", ns)).into_iter().collect();
    run_with(args, &vars)
}

/// Run `mqadmin args` with the environment variables `vars` (at most 60 s). NAMESRV_ADDR, the
/// ACL account variables (ROCKETMQ_HOME, MQADMIN_TOOLS_CONFIG) and JAVA_OPT (RocketMQ's TLS
/// system properties) are unset unless given.
pub fn run_with(args: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(MQADMIN);
    cmd.args(args)
        .env_remove("NAMESRV_ADDR")
        .env_remove("ROCKETMQ_HOME")
        .env_remove("MQADMIN_TOOLS_CONFIG")
        .env_remove("JAVA_OPT")
        .envs(vars.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn mqadmin");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("mqadmin {args:?} ran over 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        out: out.join().unwrap(),
        err: err.join().unwrap(),
    }
}

/// `mqadmin <cmd> -n <ns> args...`.
pub fn adm(ns: &str, cmd: &str, args: &[&str]) -> Run {
    let mut v = vec![cmd, "-n", ns];
    v.extend_from_slice(args);
    mqadmin(&v)
}

/// The first line of `out` and the columns it names (split on 2+ spaces or single spaces
/// before `#`).
pub fn header(out: &str) -> Vec<String> {
    out.lines()
        .next()
        .unwrap_or_default()
        .split('#')
        .skip(1)
        .map(|c| format!("#{}", c.trim()))
        .collect()
}

/// Run a repeating `mqadmin args` (`-i`) until `marker` has started `rounds` stdout lines (at
/// most `limit`), then kill it; returns the stdout lines read. Panics if the rounds never came
/// or the process exited by itself.
pub fn repeating(args: &[&str], marker: &str, rounds: usize, limit: Duration) -> Vec<String> {
    let mut child = Command::new(MQADMIN)
        .args(args)
        .env_remove("NAMESRV_ADDR")
        .env_remove("ROCKETMQ_HOME")
        .env_remove("MQADMIN_TOOLS_CONFIG")
        .env_remove("JAVA_OPT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mqadmin");
    let lines = super::line_channel(child.stdout.take().unwrap());
    let start = Instant::now();
    let mut got = Vec::new();
    while got
        .iter()
        .filter(|l: &&String| l.starts_with(marker))
        .count()
        < rounds
    {
        let left = limit.saturating_sub(start.elapsed());
        match lines.recv_timeout(left) {
            Ok(l) => got.push(l),
            Err(e) => {
                let _ = child.kill();
                let status = child.wait();
                panic!("mqadmin {args:?}: {e:?} before {rounds} rounds ({status:?}): {got:?}");
            }
        }
    }
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(still_running, "mqadmin {args:?} exited by itself: {got:?}");
    got
}
