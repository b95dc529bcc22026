//! Reads from a slave, broker side (RocketMQ 4.x `suggestWhichBrokerId`), with the real binaries:
//! a master with `slaveReadEnable=true` points a consumer reading far behind the CommitLog's end
//! (`accessMessageInMemoryMaxRatio=0`: any message read) at broker 1 and one at the end at 0; a
//! master without `slaveReadEnable` always answers 0; the slave answers 0, serves the same
//! messages at the same offsets and never stores an offset piggybacked on a pull.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use actormq::protocol::headers::pull::PullMessageRequestHeader;
use actormq::protocol::RemotingCommand;
use common::ha::{start_master, start_namesrv, start_slave};
use common::rmq::*;
use common::{call, connect, wait_until};

const TOPIC: &str = "ReadsT";
const GROUP: &str = "GReads";
const N: usize = 40;
const WAIT: Duration = Duration::from_secs(15);

fn suggested(r: &RemotingCommand) -> i64 {
    r.ext("suggestWhichBrokerId")
        .and_then(|v| v.parse().ok())
        .expect("suggestWhichBrokerId in every pull answer")
}

fn next_begin(r: &RemotingCommand) -> i64 {
    r.ext("nextBeginOffset")
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn send_n(addr: SocketAddr, tag: &str) {
    let mut s = connect(addr);
    assert_eq!(create_topic(&mut s, TOPIC, 1).code, 0);
    for i in 0..N {
        let body = format!("{tag}-{i}");
        let r = send(&mut s, TOPIC, 0, body.as_bytes(), "T", "", &[]);
        assert_eq!(r.code, 0, "{:?}", r.remark);
    }
}

/// (queue offset, CommitLog offset, body) of every message of the queue.
fn contents(s: &mut TcpStream) -> Vec<(i64, i64, Vec<u8>)> {
    pull_all(s, GROUP, TOPIC, 0, "*")
        .into_iter()
        .map(|m| (m.queue_offset, m.commit_log_offset, m.body.to_vec()))
        .collect()
}

/// A pull of the first 4 messages and one at the queue's end: their `suggestWhichBrokerId`s.
fn suggestions(s: &mut TcpStream) -> (i64, i64) {
    let h = PullMessageRequestHeader {
        max_msg_nums: 4,
        ..pull_header(GROUP, TOPIC)
    };
    let c = RemotingCommand::request_with(11, &h).with_opaque(next_opaque());
    let behind = call(s, &c);
    assert_eq!(behind.code, 0, "{:?}", behind.remark);
    assert_eq!(next_begin(&behind), 4);
    let (end, msgs) = pull(s, GROUP, TOPIC, 0, N as i64, "*", 0);
    assert_eq!(end.code, 19, "at the end: PULL_NOT_FOUND");
    assert!(msgs.is_empty());
    (suggested(&behind), suggested(&end))
}

#[test]
fn master_suggests_its_slave_for_reads_far_behind_and_the_slave_serves_them() {
    let ns = start_namesrv();
    let mdir = tempfile::tempdir().unwrap();
    let sdir = tempfile::tempdir().unwrap();
    let (master, ha) = start_master(
        mdir.path(),
        ns.addr,
        &["slaveReadEnable=true", "accessMessageInMemoryMaxRatio=0"],
    );
    send_n(master.addr, "m");
    let mut ms = connect(master.addr);
    assert_eq!(
        suggestions(&mut ms),
        (1, 0),
        "behind: slave; at the end: master"
    );

    let slave = start_slave(sdir.path(), ns.addr, Some(ha), &[]);
    let mut ss = connect(slave.addr);
    assert_eq!(create_topic(&mut ss, TOPIC, 1).code, 0);
    let expected = contents(&mut ms);
    assert_eq!(expected.len(), N);
    let mut last = Vec::new();
    assert!(
        wait_until(WAIT, || {
            last = contents(&mut ss);
            last == expected
        }),
        "slave has {} of {N}",
        last.len()
    );
    // The slave (slaveReadEnable off) serves the pull and points back at the master.
    assert_eq!(suggestions(&mut ss), (0, 0));

    // A commit offset piggybacked on a pull is stored by the master, never by the slave.
    for s in [&mut ss, &mut ms] {
        let h = PullMessageRequestHeader {
            sys_flag: 0x1 | 0x4,
            commit_offset: 7,
            ..pull_header(GROUP, TOPIC)
        };
        let r = call(
            s,
            &RemotingCommand::request_with(11, &h).with_opaque(next_opaque()),
        );
        assert_eq!(r.code, 0, "{:?}", r.remark);
    }
    let stored = |s: &mut TcpStream| {
        let ext = [("consumerGroup", GROUP), ("topic", TOPIC), ("queueId", "0")];
        let r = call(s, &request(14, &ext));
        (r.code == 0).then(|| r.ext("offset").and_then(|v| v.parse::<i64>().ok()))
    };
    assert_eq!(stored(&mut ms), Some(Some(7)), "the master stores it");
    assert_ne!(stored(&mut ss), Some(Some(7)), "the slave does not");
}

#[test]
fn without_slave_read_enable_a_master_always_suggests_itself() {
    let ns = start_namesrv();
    let mdir = tempfile::tempdir().unwrap();
    let (master, _ha) = start_master(
        mdir.path(),
        ns.addr,
        &["slaveReadEnable=false", "accessMessageInMemoryMaxRatio=0"],
    );
    send_n(master.addr, "n");
    assert_eq!(suggestions(&mut connect(master.addr)), (0, 0));
}

#[test]
fn with_slave_read_enable_a_read_within_memory_stays_on_the_master() {
    let ns = start_namesrv();
    let mdir = tempfile::tempdir().unwrap();
    let (master, _ha) = start_master(mdir.path(), ns.addr, &["slaveReadEnable=true"]);
    send_n(master.addr, "o");
    // Default ratio 40 %: a few KiB behind the end is in memory.
    assert_eq!(suggestions(&mut connect(master.addr)), (0, 0));
}
