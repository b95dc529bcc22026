//! The one support module of the integration tests. This file: the binaries under test, child
//! processes (start a real server on port 0 and read its listening lines, run to exit, SIGTERM,
//! SIGSTOP) and remoting frames over plain blocking TCP. Submodules: [`rmq`] raw RocketMQ
//! requests built as a client would send them, [`client`] the helpers of the client-library tests
//! (a standalone broker with short timers, topic creation that waits for the route, client
//! configs), [`real_clients`] the third-party clients, [`ha`] master/slave deployments,
//! [`mqadmin`] runs of the `mqadmin` binary, [`dashboard`] a broker with its dashboard and a small
//! HTTP client, [`acl`] ACL files, brokers and name servers with ACL on and signed requests,
//! [`acl_broker`] the client tests' ACL standalone broker on [`acl`], [`controller`] controller
//! groups and raw controller-mode requests, [`failover`] a broker set in controller mode with its
//! controllers, load and history checker. Every wait is bounded.
#![allow(dead_code)]

pub mod acl;
pub mod acl_broker;
pub mod client;
pub mod controller;
pub mod dashboard;
pub mod failover;
pub mod ha;
pub mod mqadmin;
pub mod real_clients;
pub mod rmq;
pub mod tls;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actormq::protocol::frame;
use actormq::protocol::RemotingCommand;
use bytes::{Bytes, BytesMut};

/// The broker binary (standalone mode runs the name server in the same process).
pub const BROKER: &str = env!("CARGO_BIN_EXE_broker");
/// The name server binary.
pub const NAMESRV: &str = env!("CARGO_BIN_EXE_namesrv");

/// Forward the lines of `r` (a child's stdout or stderr) to the returned channel from a reader
/// thread, until end of stream, a read error, or the receiver is dropped.
pub fn line_channel(r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The loopback address of a `... listening on HOST:PORT` line (the port it names on 127.0.0.1).
pub fn listening_addr(line: &str) -> SocketAddr {
    let a: SocketAddr = line
        .rsplit(' ')
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected line: {line}"));
    SocketAddr::from(([127, 0, 0, 1], a.port()))
}

/// A server child process, killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub stdout_lines: mpsc::Receiver<String>,
    pub stderr_lines: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawn `bin` with `args` under `RUST_LOG=log`, its stdout read into a line channel and its
/// stderr sent to `stderr`.
pub fn spawn<S: AsRef<std::ffi::OsStr>>(
    bin: &str,
    args: &[S],
    log: &str,
    stderr: Stdio,
) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(bin)
        .args(args)
        .env("RUST_LOG", log)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
    let lines = line_channel(child.stdout.take().unwrap());
    (child, lines)
}

/// The command line of `key=value` settings: `--set` before each, as the server binaries take them.
pub fn set_args<S: AsRef<str>>(sets: &[S]) -> Vec<String> {
    sets.iter()
        .flat_map(|s| ["--set".to_string(), s.as_ref().to_string()])
        .collect()
}

/// Start `bin` with `args`, wait (at most 20 s) for its `... listening on HOST:PORT` line.
pub fn start(bin: &str, args: &[&str]) -> Server {
    let (mut child, rx) = spawn(bin, args, "info", Stdio::piped());
    let erx = line_channel(child.stderr.take().unwrap());
    let line = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(line) => line,
        Err(e) => {
            // Say why: a server that exited at start usually printed the reason on stderr.
            let _ = child.kill();
            let _ = child.wait();
            let mut why = Vec::new();
            // Ends when stderr closes (the child is gone) or after 2 s of silence.
            while let Ok(l) = erx.recv_timeout(Duration::from_secs(2)) {
                why.push(l);
            }
            panic!(
                "{bin} printed no listening line within 20 s ({e}); its stderr:\n{}",
                why.join("\n")
            );
        }
    };
    let addr = listening_addr(&line);
    assert!(line.contains("listening on"), "{line}");
    Server {
        child,
        addr,
        stdout_lines: rx,
        stderr_lines: erx,
    }
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Read exactly one frame's bytes (length word included).
pub fn read_frame_bytes(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let n = u32::from_be_bytes(len) as usize;
    let mut buf = vec![0u8; 4 + n];
    buf[..4].copy_from_slice(&len);
    s.read_exact(&mut buf[4..])?;
    Ok(buf)
}

pub fn send(s: &mut TcpStream, cmd: &RemotingCommand) {
    let mut b = BytesMut::new();
    frame::encode(cmd, &mut b);
    s.write_all(&b).unwrap();
}

/// Send a request and read its response, skipping requests the server sends meanwhile (e.g.
/// NOTIFY_CONSUMER_IDS_CHANGED).
pub fn call(s: &mut TcpStream, cmd: &RemotingCommand) -> RemotingCommand {
    send(s, cmd);
    for _ in 0..100 {
        let bytes = read_frame_bytes(s).expect("response frame");
        let resp = frame::parse(Bytes::from(bytes)).expect("parse response");
        if !resp.is_response() {
            continue;
        }
        assert_eq!(resp.opaque, cmd.opaque);
        return resp;
    }
    panic!("no response among 100 frames");
}

/// Poll `f` every 50 ms until it returns true or `limit` passes.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A standalone broker (with its embedded name server) started from the real binary.
pub struct Broker {
    pub server: Server,
    pub namesrv: SocketAddr,
    pub addr: SocketAddr,
    pub dir: std::path::PathBuf,
}

/// Start `target/.../broker` in standalone mode on free ports with `dir` as its store, plus extra
/// `--set` pairs. Waits (at most 20 s) for both listening lines.
pub fn start_broker(bin: &str, dir: &std::path::Path, sets: &[&str]) -> Broker {
    let mut args: Vec<String> = vec![
        "standalone=true",
        "listenAddr=127.0.0.1",
        "listenPort=0",
        "namesrvListenPort=0",
        "mappedFileSizeCommitLog=8388608",
        "mappedFileSizeConsumeQueue=60000",
        "flushConsumerOffsetInterval=200",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    args.push(format!("storePathRootDir={}", dir.display()));
    args.extend(sets.iter().map(|s| s.to_string()));
    let args = set_args(&args);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = start(bin, &refs);
    // The first line was the name server's; the broker's follows.
    let namesrv = server.addr;
    let line = server_next_line(&server);
    assert!(
        line.starts_with("broker ") && line.contains("listening on"),
        "{line}"
    );
    Broker {
        addr: listening_addr(&line),
        server,
        namesrv,
        dir: dir.to_path_buf(),
    }
}

fn server_next_line(server: &Server) -> String {
    server
        .stdout_lines
        .recv_timeout(Duration::from_secs(20))
        .expect("second listening line within 20 s")
}

/// Anonymous resident memory of process `pid` (`RssAnon` in /proc), in bytes.
pub fn rss_anon(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .expect("RssAnon line")
}

/// Encode `cmd` as one frame's bytes.
pub fn frame_bytes(cmd: &RemotingCommand) -> Vec<u8> {
    let mut b = BytesMut::new();
    frame::encode(cmd, &mut b);
    b.to_vec()
}

/// True once the server has closed `s` (a read returns end of stream or a reset), waiting at
/// most `limit`. Frames the server sends meanwhile are discarded.
pub fn closed_by_server(s: &mut TcpStream, limit: Duration) -> bool {
    let start = Instant::now();
    let mut buf = [0u8; 64 * 1024];
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

/// Run `bin` with `args` until it exits (at most `limit`, then it is killed): exit code (None if
/// killed by a signal or the limit), stdout and stderr.
pub fn run_to_exit(bin: &str, args: &[&str], limit: Duration) -> (Option<i32>, String, String) {
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// SIGTERM `server` and wait (at most `limit`) for it to exit; returns how long it took.
pub fn terminate(server: &mut Server, limit: Duration) -> Duration {
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    let start = Instant::now();
    while server.child.try_wait().unwrap().is_none() && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        server.child.try_wait().unwrap().is_some(),
        "process did not stop within {limit:?} of SIGTERM"
    );
    start.elapsed()
}

/// Every line the server has written to stderr so far (waits `settle` for late lines).
pub fn stderr_so_far(server: &Server, settle: Duration) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(l) = server.stderr_lines.recv_timeout(settle) {
        out.push(l);
    }
    out
}

/// Freeze process `pid` with SIGSTOP and wait (≤ 2 s) until the kernel reports it stopped, so no
/// thread of it is still running when the caller goes on.
pub fn freeze(pid: u32) {
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGSTOP) }, 0);
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The state follows the parenthesised command name.
        let state = stat.rsplit(") ").next().and_then(|r| r.chars().next());
        if state == Some('T') {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "process {pid} did not stop: {stat}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
