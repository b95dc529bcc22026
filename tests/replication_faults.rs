//! Faults on the HA (replication) stream, against the real `broker` binary, with raw TCP peers
//! speaking the wire protocol of `actormq::protocol::ha`:
//! - a "slave" reporting an offset beyond the master's CommitLog end (or a negative one) is
//!   disconnected, the first with a WARN;
//! - a "master" sending a real slave a garbage transfer header, or data at an offset other than
//!   the slave's CommitLog end (or, for an empty slave, not at a CommitLog file start): the slave
//!   closes the connection, says why in a WARN, writes nothing, and reconnects 5 s later;
//! - a master logs its slaves' lag every 60 s.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use actormq::protocol::ha;
use bytes::BytesMut;
use common::ha::{max_offset, runtime_info, start_master, start_namesrv, start_slave};
use common::rmq::{create_topic, send};
use common::{closed_by_server, connect, wait_until, Server};

const WAIT: Duration = Duration::from_secs(10);
/// A slave retries its master every 5 s; this leaves room for a loaded machine.
const RECONNECT_WITHIN: Duration = Duration::from_secs(9);

/// Wait (at most `limit`) for a stderr line of `server` matching `pred`; every line read so far
/// comes back in the error.
fn wait_line(
    server: &Server,
    limit: Duration,
    pred: impl Fn(&str) -> bool,
) -> Result<String, Vec<String>> {
    let start = Instant::now();
    let mut seen = Vec::new();
    while let Some(left) = limit.checked_sub(start.elapsed()) {
        match server.stderr_lines.recv_timeout(left) {
            Ok(l) if pred(&l) => return Ok(l),
            Ok(l) => seen.push(l),
            Err(_) => break,
        }
    }
    Err(seen)
}

fn send_messages(addr: SocketAddr, n: usize) {
    let mut s = connect(addr);
    assert_eq!(create_topic(&mut s, "FaultTopic", 2).code, 0);
    for i in 0..n {
        let r = send(
            &mut s,
            "FaultTopic",
            (i % 2) as i32,
            format!("m{i}").as_bytes(),
            "T",
            "",
            &[],
        );
        assert_eq!(r.code, 0, "{:?}", r.remark);
    }
}

fn report(s: &mut TcpStream, offset: u64) {
    let mut b = BytesMut::new();
    ha::encode_report(offset, &mut b).unwrap();
    s.write_all(&b).unwrap();
}

#[test]
fn a_slave_reporting_beyond_the_masters_end_is_disconnected_with_a_warning() {
    let (mdir, ns) = (tempfile::tempdir().unwrap(), start_namesrv());
    let (master, ha_addr) = start_master(mdir.path(), ns.addr, &[]);
    send_messages(master.addr, 3);
    let end = max_offset(master.addr) as u64;
    assert!(end > 0);
    // No slave yet: no lag figure (nothing to lag behind).
    let info = runtime_info(master.addr);
    assert_eq!(info["haSlaveCount"], "0", "{info:?}");
    assert_eq!(info["haSlaveAckOffset"], "0", "{info:?}");
    assert!(!info.contains_key("haLagBytes"), "{info:?}");

    let mut s = connect(ha_addr);
    report(&mut s, end + 1_000_000);
    assert!(
        closed_by_server(&mut s, WAIT),
        "the master kept a slave ahead of it"
    );
    let warn = wait_line(&master, WAIT, |l| l.contains("HA slave disconnected"))
        .unwrap_or_else(|seen| panic!("no disconnect logged: {seen:?}"));
    assert!(warn.contains("WARN"), "{warn}");
    assert!(
        warn.contains(&format!("beyond this master's CommitLog end {end}")),
        "{warn}"
    );

    // A negative report (garbage) closes the connection too.
    let mut s = connect(ha_addr);
    s.write_all(&[0xff; 8]).unwrap();
    assert!(
        closed_by_server(&mut s, WAIT),
        "the master kept a garbage report"
    );

    // Neither counts as a slave any more, and the master serves a real one afterwards.
    assert!(wait_until(WAIT, || runtime_info(master.addr)
        ["haSlaveCount"]
        == "0"));
    let sdir = tempfile::tempdir().unwrap();
    let slave = start_slave(sdir.path(), ns.addr, Some(ha_addr), &[]);
    assert!(
        wait_until(WAIT, || max_offset(slave.addr) as u64 == end),
        "{:?}",
        common::stderr_so_far(&slave, Duration::from_millis(100))
    );
}

/// Wait (at most `limit`) for the slave to connect; returns the connection and how long it took.
fn wait_accept(l: &TcpListener, limit: Duration) -> (TcpStream, Duration) {
    l.set_nonblocking(true).unwrap();
    let start = Instant::now();
    loop {
        match l.accept() {
            Ok((s, _)) => return (s, start.elapsed()),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    start.elapsed() < limit,
                    "the slave did not connect within {limit:?}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// A fake master's turn: wait for the slave to (re)connect, read its first report, send
/// `bytes`, and return the report once the slave has closed the connection (it must).
fn serve_once(l: &TcpListener, bytes: &[u8]) -> u64 {
    let (mut s, took) = wait_accept(l, RECONNECT_WITHIN);
    eprintln!("the slave connected after {took:?}");
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut first = [0u8; ha::REPORT_LEN];
    s.read_exact(&mut first)
        .expect("the slave reports on connect");
    s.write_all(bytes).unwrap();
    assert!(
        closed_by_server(&mut s, WAIT),
        "the slave kept a bad stream: {:02x?}",
        &bytes[..bytes.len().min(16)]
    );
    ha::parse_report(&first).unwrap()
}

fn transfer(offset: u64, body: &[u8]) -> Vec<u8> {
    let mut b = BytesMut::new();
    ha::encode_transfer(offset, body, &mut b).unwrap();
    b.to_vec()
}

/// The slave's WARN about the closed master connection, which must name `why`.
fn assert_slave_warned(slave: &Server, why: &str) {
    let line = wait_line(slave, WAIT, |l| {
        l.contains("HA connection to the master closed")
    })
    .unwrap_or_else(|seen| panic!("no close logged: {seen:?}"));
    assert!(
        line.contains("WARN") && line.contains(why),
        "expected `{why}`: {line}"
    );
}

/// A slave whose `haMasterAddress` is a listener of the test's.
fn fake_master_slave(dir: &Path, ns: SocketAddr) -> (TcpListener, Server) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let fake: SocketAddr = l.local_addr().unwrap();
    let slave = start_slave(dir, ns, Some(fake), &[]);
    (l, slave)
}

#[test]
fn an_empty_slave_drops_a_garbage_or_misplaced_stream_writes_nothing_and_reconnects() {
    let (dir, ns) = (tempfile::tempdir().unwrap(), start_namesrv());
    let (l, slave) = fake_master_slave(dir.path(), ns.addr);

    // A header with a negative body size.
    let mut garbage = transfer(0, b"");
    garbage[8..12].copy_from_slice(&(-7i32).to_be_bytes());
    assert_eq!(serve_once(&l, &garbage), 0, "an empty slave reports 0");
    assert_slave_warned(&slave, "negative transfer body size -7");
    assert_eq!(max_offset(slave.addr), 0);

    // A header claiming more than any slave takes (4 MiB): closed without waiting for it.
    let mut huge = BytesMut::new();
    ha::encode_transfer_header(0, 1 << 30, &mut huge).unwrap();
    assert_eq!(serve_once(&l, &huge), 0);
    assert_slave_warned(&slave, "exceeds the limit");

    // Data for an empty slave that does not start at a CommitLog file start.
    assert_eq!(serve_once(&l, &transfer(4096, &[0xab; 64])), 0);
    assert_slave_warned(&slave, "append at 4096");
    assert_eq!(max_offset(slave.addr), 0, "nothing written");
    // And it keeps trying.
    let _ = wait_accept(&l, RECONNECT_WITHIN);
}

#[test]
fn a_slave_takes_transfers_as_large_as_its_master_sends_whatever_its_own_batch_size() {
    let (mdir, sdir, ns) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        start_namesrv(),
    );
    // 128 KiB transfers from the master; the slave keeps the default 32 KiB, which is a
    // master's setting and must not limit what the slave takes (it once closed every transfer).
    let (master, ha_addr) = start_master(mdir.path(), ns.addr, &["haTransferBatchSize=131072"]);
    let mut s = connect(master.addr);
    assert_eq!(create_topic(&mut s, "BigBatch", 1).code, 0);
    let body = vec![b'b'; 4000];
    for _ in 0..100 {
        assert_eq!(send(&mut s, "BigBatch", 0, &body, "T", "", &[]).code, 0);
    }
    let end = max_offset(master.addr);
    assert!(end > 300_000, "{end}");
    let slave = start_slave(sdir.path(), ns.addr, Some(ha_addr), &[]);
    assert!(
        wait_until(WAIT, || max_offset(slave.addr) == end),
        "the slave reached {} of {end}",
        max_offset(slave.addr)
    );
    assert!(wait_line(&slave, Duration::from_millis(200), |l| l
        .contains("exceeds"))
    .is_err());
}

#[test]
fn a_slave_with_data_drops_a_transfer_not_at_its_end_and_keeps_its_commit_log() {
    let (mdir, sdir, ns) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        start_namesrv(),
    );
    let (master, ha_addr) = start_master(mdir.path(), ns.addr, &[]);
    send_messages(master.addr, 5);
    let end = max_offset(master.addr) as u64;
    let mut slave = start_slave(sdir.path(), ns.addr, Some(ha_addr), &[]);
    assert!(wait_until(WAIT, || max_offset(slave.addr) as u64 == end));
    common::terminate(&mut slave, WAIT);
    drop(slave);

    // The same store now follows a fake master.
    let (l, slave) = fake_master_slave(sdir.path(), ns.addr);
    assert_eq!(max_offset(slave.addr) as u64, end);
    // Ahead of its end (a gap), then behind it (an overlap): each closes the connection.
    assert_eq!(
        serve_once(&l, &transfer(end + 64, &[0xab; 64])),
        end,
        "reports its end"
    );
    assert_slave_warned(&slave, &format!("append at {}", end + 64));
    assert_eq!(max_offset(slave.addr) as u64, end);
    assert_eq!(serve_once(&l, &transfer(end - 16, &[0xcd; 64])), end);
    assert_slave_warned(&slave, &format!("append at {}", end - 16));
    assert_eq!(max_offset(slave.addr) as u64, end, "nothing written");
    let _ = wait_accept(&l, RECONNECT_WITHIN);
}

/// RocketMQ's printMasterAndSlaveDiff: 10 s after start and every 60 s after that, the master
/// logs its end, the slaves' ack and the lag between them. (The first line is what this waits for.)
#[test]
fn a_master_logs_its_slaves_lag_every_minute() {
    let (mdir, sdir, ns) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        start_namesrv(),
    );
    let (master, ha_addr) = start_master(mdir.path(), ns.addr, &[]);
    send_messages(master.addr, 2);
    let end = max_offset(master.addr) as u64;
    let slave = start_slave(sdir.path(), ns.addr, Some(ha_addr), &[]);
    assert!(wait_until(WAIT, || max_offset(slave.addr) as u64 == end));
    let line = wait_line(&master, Duration::from_secs(30), |l| {
        l.contains("slave fall behind master")
    })
    .unwrap_or_else(|seen| panic!("no lag line within 30 s: {seen:?}"));
    assert!(line.contains("INFO"), "{line}");
    for part in [
        format!("master_max_offset={end}"),
        format!("slave_ack_offset={end}"),
        "lag_bytes=0".into(),
        "slaves=1".into(),
    ] {
        assert!(line.contains(&part), "{part} in {line}");
    }
}
