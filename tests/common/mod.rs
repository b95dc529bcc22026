//! Helpers for integration tests: start a real server binary on port 0, read its listening line,
//! and talk remoting frames over plain TCP. Every wait is bounded.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actormq::protocol::frame;
use actormq::protocol::RemotingCommand;
use bytes::{Bytes, BytesMut};

/// A server child process, killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub stderr_lines: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `bin` with `args`, wait (at most 20 s) for its `... listening on HOST:PORT` line.
pub fn start(bin: &str, args: &[&str]) -> Server {
    let mut child = Command::new(bin)
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn server");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (etx, erx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if etx.send(line).is_err() {
                break;
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("server printed its listening line within 20 s");
    let addr = line
        .rsplit(' ')
        .next()
        .and_then(|a| a.parse::<SocketAddr>().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {line}"));
    assert!(line.contains("listening on"), "{line}");
    let addr = SocketAddr::from(([127, 0, 0, 1], addr.port()));
    Server {
        child,
        addr,
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

/// Send a request and read its response.
pub fn call(s: &mut TcpStream, cmd: &RemotingCommand) -> RemotingCommand {
    send(s, cmd);
    let bytes = read_frame_bytes(s).expect("response frame");
    let resp = frame::parse(Bytes::from(bytes)).expect("parse response");
    assert!(resp.is_response());
    assert_eq!(resp.opaque, cmd.opaque);
    resp
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
