//! Connections that misbehave at the transport level (issue 9, items 1 and 5): a consumer that
//! pipelines pulls and never reads its socket, idle and half-sent connections, and many peers
//! each holding a nearly complete 16 MiB frame. Each test drives the real broker binary over TCP,
//! checks the bound (RssAnon from /proc, closed sockets) and that a new connection still works.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use actormq::protocol::RemotingCommand;
use common::rmq::{create_topic, next_opaque, pull, pull_header, send};
use common::{
    closed_by_server, connect, frame_bytes, read_frame_bytes, rss_anon, start_broker, Broker,
    BROKER,
};

const MIB: u64 = 1024 * 1024;

/// A normal send and pull on a fresh connection.
fn still_serves(b: &Broker, topic: &str) {
    let mut s = connect(b.addr);
    let r = send(&mut s, topic, 0, b"still serving", "", "", &[]);
    assert_eq!(r.code, 0, "send after the attack: {:?}", r.remark);
    let offset: i64 = r.ext("queueOffset").unwrap().parse().unwrap();
    let (r, msgs) = pull(&mut s, "StillG", topic, 0, offset, "*", 0);
    assert_eq!(r.code, 0, "pull after the attack: {:?}", r.remark);
    assert_eq!(&msgs[0].body[..], b"still serving");
}

fn pull_request(group: &str, topic: &str) -> RemotingCommand {
    let h = pull_header(group, topic);
    RemotingCommand::request_with(11, &h).with_opaque(next_opaque())
}

/// Issue 9 item 1: pipelined PULL_MESSAGE (maxMsgNums=32, sysFlag=4, 1 KiB messages) on a
/// connection that never reads. Before: RssAnon grew ~300 MB/s without bound. Now the broker
/// stops reading that connection once its replies back up, every accepted request is still
/// answered when the peer finally reads, and other connections are served meanwhile.
#[test]
fn a_consumer_that_never_reads_cannot_exhaust_memory() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    assert_eq!(create_topic(&mut s, "SlowT", 1).code, 0);
    let body = vec![b'x'; 1024];
    for _ in 0..64 {
        assert_eq!(send(&mut s, "SlowT", 0, &body, "", "", &[]).code, 0);
    }
    let pid = b.server.child.id();
    let before = rss_anon(pid);

    // The attacker: pipeline pulls for up to 6 s, never reading a reply.
    let mut slow = connect(b.addr);
    slow.set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let frame = frame_bytes(&pull_request("SlowG0", "SlowT"));
    let mut writer = slow.try_clone().unwrap();
    let attack = std::thread::spawn(move || {
        let start = Instant::now();
        let mut written = 0usize;
        // Stops at the first write that times out: the broker has stopped reading.
        while start.elapsed() < Duration::from_secs(6) && writer.write_all(&frame).is_ok() {
            written += 1;
        }
        written
    });
    let mut peak = before;
    let watch = Instant::now();
    while !attack.is_finished() && watch.elapsed() < Duration::from_secs(15) {
        peak = peak.max(rss_anon(pid));
        std::thread::sleep(Duration::from_millis(100));
    }
    let written = attack.join().unwrap();
    peak = peak.max(rss_anon(pid));
    eprintln!(
        "pulls written {written}; RssAnon {} -> peak {} MiB",
        before / MIB,
        peak / MIB
    );
    assert!(written > 1_000, "the attacker got {written} pulls through");
    assert!(
        peak < before + 96 * MIB,
        "RssAnon grew from {} to {} MiB while the peer did not read",
        before / MIB,
        peak / MIB
    );
    // Other connections are served while the slow one is paused.
    still_serves(&b, "SlowT");

    // The peer reads at last: every complete request it sent is answered, in order.
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut answered = 0;
    while answered < written {
        let f = read_frame_bytes(&mut slow).expect("a reply for every accepted pull");
        assert!(f.len() > 32 * 1024, "each reply carries 32 messages");
        answered += 1;
    }
    drop(slow);
    still_serves(&b, "SlowT");
}

/// Issue 9 item 5: `serverChannelMaxIdleTimeSeconds` closes idle connections, connections that
/// stopped mid-frame and connections that went silent after one request; a busy one stays.
#[test]
fn idle_and_half_sent_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &["serverChannelMaxIdleTimeSeconds=2"]);
    let mut idle = connect(b.addr);
    let mut half = connect(b.addr);
    let frame = frame_bytes(&pull_request("G", "T"));
    half.write_all(&frame[..frame.len() / 2]).unwrap();
    let mut once = connect(b.addr);
    assert_eq!(create_topic(&mut once, "IdleT", 1).code, 0);
    let mut busy = connect(b.addr);

    let start = Instant::now();
    // The busy connection sends a request every 300 ms for 4 s and is never closed.
    while start.elapsed() < Duration::from_secs(4) {
        assert_eq!(create_topic(&mut busy, "IdleT", 1).code, 0);
        std::thread::sleep(Duration::from_millis(300));
    }
    for (name, s) in [
        ("idle", &mut idle),
        ("half", &mut half),
        ("once", &mut once),
    ] {
        assert!(
            closed_by_server(s, Duration::from_secs(5)),
            "the {name} connection is closed after 2 s of silence"
        );
    }
    assert_eq!(create_topic(&mut busy, "IdleT", 1).code, 0);
    still_serves(&b, "IdleT");
}

/// Issue 9 item 5: 20 connections each send 16 MiB - 1 of a 16 MiB frame and stop. Before: +328
/// MB held for as long as they stay. Now incomplete frames share one budget
/// (`incompleteFramesMaxBytes`, 128 MiB by default): the connections past it are closed.
#[test]
fn half_sent_large_frames_share_one_bounded_budget() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let pid = b.server.child.id();
    let before = rss_anon(pid);
    let frame_len: usize = 16 * 1024 * 1024;
    let mut chunk = vec![0u8; frame_len - 1];
    chunk[..4].copy_from_slice(&((frame_len - 4) as u32).to_be_bytes());
    chunk[4..8].copy_from_slice(&8u32.to_be_bytes());
    let mut conns: Vec<TcpStream> = Vec::new();
    let mut refused = 0;
    for _ in 0..20 {
        let mut s = connect(b.addr);
        s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
        match s.write_all(&chunk) {
            Ok(()) => conns.push(s),
            Err(_) => refused += 1,
        }
    }
    // A write can land in socket buffers before the broker closes its side: count the
    // connections the broker actually closed.
    let mut open = 0;
    for s in &mut conns {
        if !closed_by_server(s, Duration::from_millis(500)) {
            open += 1;
        }
    }
    let after = rss_anon(pid);
    eprintln!(
        "open {open}, refused while writing {refused}; RssAnon {} -> {} MiB",
        before / MIB,
        after / MIB
    );
    assert!(
        open <= 8,
        "{open} connections hold 16 MiB frames (budget: 8)"
    );
    assert!(
        after < before + 160 * MIB,
        "RssAnon grew from {} to {} MiB",
        before / MIB,
        after / MIB
    );
    let mut s = connect(b.addr);
    assert_eq!(create_topic(&mut s, "BigFrameT", 1).code, 0);
    still_serves(&b, "BigFrameT");
}
