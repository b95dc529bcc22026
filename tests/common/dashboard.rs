//! For the `tests/dashboard*.rs` files: the real standalone broker with its dashboard on
//! port 0 (the `dashboard listening on` line read like the other listener lines), and a minimal
//! HTTP/1.1 client over blocking TCP (`Connection: close`, bounded timeouts) that returns the
//! status and the JSON body. No mock: every request reaches the real actix-web server.
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::client::Standalone;
use super::{listening_addr, set_args, spawn, BROKER};

/// A standalone broker and its dashboard address.
pub struct DashBroker {
    pub b: Standalone,
    pub dashboard: SocketAddr,
}

/// Start the standalone broker with the dashboard on 127.0.0.1:0 plus `extra` `--set` pairs
/// (which may override the dashboard keys).
pub fn start_dashboard(extra: &[&str]) -> DashBroker {
    let dir = tempfile::tempdir().unwrap();
    let mut sets: Vec<String> = vec![
        "standalone=true".into(),
        "listenAddr=127.0.0.1".into(),
        "listenPort=0".into(),
        "namesrvListenPort=0".into(),
        format!("storePathRootDir={}", dir.path().display()),
        "mappedFileSizeCommitLog=67108864".into(),
        "warmMappedFileEnable=false".into(),
        "clientChannelExpiredTime=3000".into(),
        "clientScanInterval=500".into(),
        "dashboardEnable=true".into(),
        "dashboardListenPort=0".into(),
    ];
    sets.extend(extra.iter().map(|s| s.to_string()));
    let (child, rx) = spawn(BROKER, &set_args(&sets), "warn", Stdio::inherit());
    let (mut namesrv, mut broker, mut dashboard) = (None, None, None);
    let deadline = Instant::now() + Duration::from_secs(30);
    while dashboard.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .expect("broker printed its dashboard listening line within 30 s");
        if line.starts_with("namesrv listening on") {
            namesrv = Some(listening_addr(&line));
        } else if line.starts_with("dashboard listening on") {
            dashboard = Some(listening_addr(&line));
        } else if line.starts_with("broker ") {
            broker = Some(listening_addr(&line));
        }
    }
    let d = DashBroker {
        b: Standalone {
            child,
            namesrv: namesrv.expect("namesrv line before the dashboard line"),
            broker: broker.expect("broker line before the dashboard line"),
            dir,
        },
        dashboard: dashboard.unwrap(),
    };
    // The ready lines come before the broker's first registration: wait for the dashboard to
    // see the broker, so a test's first admin action has a broker to act on. (Over plain HTTP:
    // a dashboard with TLS on speaks HTTPS only, and its test waits in its own way.)
    let https = extra
        .iter()
        .any(|s| s.starts_with("tlsMode=") && *s != "tlsMode=disabled");
    if !https {
        let registered = super::wait_until(Duration::from_secs(20), || {
            let c = get(d.dashboard, "/api/cluster");
            c.status == 200 && c.body.contains("brokerName")
        });
        assert!(registered, "the broker never showed in /api/cluster");
    }
    d
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    /// The body as JSON (panics with the body otherwise).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    /// 200 and the JSON body.
    #[track_caller]
    pub fn ok(&self) -> Value {
        assert_eq!(self.status, 200, "{}", self.body);
        self.json()
    }
}

/// `method path` with an optional JSON body and extra headers, at most 30 s.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if body.is_some() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", payload.len()));
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(payload.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").expect("HTTP head");
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line: {head}"));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Answer { status, body }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

pub fn get(addr: SocketAddr, path: &str) -> Answer {
    request(addr, "GET", path, None, &[])
}

pub fn post(addr: SocketAddr, path: &str, body: Value) -> Answer {
    request(addr, "POST", path, Some(&body), &[])
}

/// Poll `f` every 200 ms until it returns `Some` or `limit` passes.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() >= limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The names listed by `GET /api/topics`.
pub fn api_topics(addr: SocketAddr) -> Vec<String> {
    get(addr, "/api/topics").ok()["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["topic"].as_str().unwrap().to_string())
        .collect()
}

/// The lag `GET /api/groups` shows for `group` (None when not listed).
pub fn api_group_lag(addr: SocketAddr, group: &str) -> Option<i64> {
    get(addr, "/api/groups").ok()["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == group)
        .map(|g| g["lag"].as_i64().unwrap())
}

/// Run the install script (idempotent); its failure fails the test with the script's output.
pub fn install_browser() {
    let out = std::process::Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/install-browser.sh"
        ))
        .output()
        .expect("run scripts/install-browser.sh");
    assert!(
        out.status.success(),
        "scripts/install-browser.sh failed: the page tests need /usr/bin/chromium and \
         playwright-core in target/browser\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "no /usr/bin/chromium after the install"
    );
}
