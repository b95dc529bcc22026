//! A slave that learns its master from the name server, and its metadata sync (RocketMQ's
//! `SlaveSynchronize`), with the real `namesrv` and `broker` binaries: no `haMasterAddress`, the
//! master's topics, groups and committed offsets reach the slave and survive its kill -9, and a
//! delayed message is delivered once (by the master, replicated), never by the slave.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use actormq::protocol::body::SubscriptionGroupConfig;
use actormq::storage::metadata::{parse_fastjson, DelayOffsetFile};
use common::ha::{start_master, start_namesrv, start_slave};
use common::rmq::*;
use common::{call, connect, stderr_so_far, wait_until, Server};

/// The first sync runs 3 s after the slave starts, then every 10 s (RocketMQ's schedule).
const SYNC_WAIT: Duration = Duration::from_secs(25);

fn log_of(server: &Server) -> Vec<String> {
    stderr_so_far(server, Duration::from_millis(100))
}

/// Every message of a queue on `addr`, from offset 0.
fn messages(addr: SocketAddr, group: &str, topic: &str) -> Vec<(i64, i64, Vec<u8>)> {
    let mut s = connect(addr);
    pull_all(&mut s, group, topic, 0, "*")
        .into_iter()
        .map(|m| (m.queue_offset, m.commit_log_offset, m.body.to_vec()))
        .collect()
}

fn topic_names(s: &mut TcpStream) -> String {
    let r = call(s, &request(21, &[]));
    assert_eq!(r.code, 0, "{:?}", r.remark);
    String::from_utf8_lossy(&r.body).into_owned()
}

fn group_names(s: &mut TcpStream) -> String {
    let r = call(s, &request(201, &[]));
    assert_eq!(r.code, 0, "{:?}", r.remark);
    String::from_utf8_lossy(&r.body).into_owned()
}

fn committed(s: &mut TcpStream, group: &str, topic: &str) -> Option<i64> {
    let h = [("consumerGroup", group), ("topic", topic), ("queueId", "0")];
    let r = call(s, &request(14, &h));
    (r.code == 0)
        .then(|| r.ext("offset").and_then(|o| o.parse().ok()))
        .flatten()
}

fn file_has(dir: &Path, file: &str, what: &str) -> bool {
    std::fs::read_to_string(dir.join("config").join(file))
        .map(|t| t.contains(what))
        .unwrap_or(false)
}

/// Level 1's offset in `delayOffset.json` text.
fn level_1(text: &str) -> Option<i64> {
    parse_fastjson::<DelayOffsetFile>(text)
        .ok()
        .and_then(|f| f.offset_table.get(&1).copied())
}

fn commit_log_max(addr: SocketAddr) -> String {
    common::ha::max_offset(addr).to_string()
}

#[test]
fn a_slave_without_ha_master_address_learns_its_master_from_the_name_server() {
    let (mdir, sdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ns = start_namesrv();
    // The slave registers first: the name server has no master to name yet; a later
    // registration (every second here) is answered with it.
    let slave = start_slave(sdir.path(), ns.addr, None, &[]);
    let (master, _ha) = start_master(mdir.path(), ns.addr, &[]);
    let mut m = connect(master.addr);
    assert_eq!(create_topic(&mut m, "SyncA", 1).code, 0);
    let r = send(&mut m, "SyncA", 0, b"learned", "", "", &[]);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let on_master = messages(master.addr, "GSyncA", "SyncA");
    assert_eq!(on_master.len(), 1);

    // The topic comes with the metadata sync, the message with replication from the HA
    // address the name server named: same queue offset, same CommitLog offset, same body.
    let mut last = Vec::new();
    let replicated = wait_until(SYNC_WAIT, || {
        last = messages(slave.addr, "GSyncA", "SyncA");
        last == on_master
    });
    assert!(replicated, "slave has {last:?}; log: {:?}", log_of(&slave));
    let log = log_of(&slave);
    assert!(
        log.iter().any(|l| l.contains("master changed")),
        "the slave logs the learned master: {log:?}"
    );
}

fn create_group(s: &mut TcpStream, group: &str) {
    let body = serde_json::to_vec(&SubscriptionGroupConfig::new(group)).unwrap();
    let r = call(s, &request(200, &[]).with_body(body));
    assert_eq!(r.code, 0, "{:?}", r.remark);
}

fn commit(s: &mut TcpStream, group: &str, topic: &str, offset: i64) {
    let offset = offset.to_string();
    let h = [
        ("consumerGroup", group),
        ("topic", topic),
        ("queueId", "0"),
        ("commitOffset", offset.as_str()),
    ];
    let r = call(s, &request(15, &h));
    assert_eq!(r.code, 0, "{:?}", r.remark);
}

/// The slave holds SyncT, GSyncB and GSyncB's offset 5 on SyncT.
fn slave_has_everything(addr: SocketAddr) -> bool {
    let mut s = connect(addr);
    topic_names(&mut s).contains("\"SyncT\"")
        && group_names(&mut s).contains("\"GSyncB\"")
        && committed(&mut s, "GSyncB", "SyncT") == Some(5)
}

#[test]
fn topics_groups_and_offsets_reach_the_slave_and_survive_its_restart() {
    let (mdir, sdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ns = start_namesrv();
    let (master, _ha) = start_master(mdir.path(), ns.addr, &[]);
    let mut slave = start_slave(sdir.path(), ns.addr, None, &[]);
    let mut m = connect(master.addr);
    assert_eq!(create_topic(&mut m, "SyncT", 2).code, 0);
    create_group(&mut m, "GSyncB");
    commit(&mut m, "GSyncB", "SyncT", 5);

    assert!(
        wait_until(SYNC_WAIT, || slave_has_everything(slave.addr)),
        "slave log: {:?}",
        log_of(&slave)
    );
    // Written by the sync itself (not at shutdown): the files have it before the kill -9.
    let dir = sdir.path();
    assert!(wait_until(SYNC_WAIT, || {
        file_has(dir, "topics.json", "\"SyncT\"")
            && file_has(dir, "subscriptionGroup.json", "\"GSyncB\"")
            && file_has(dir, "consumerOffset.json", "\"SyncT@GSyncB\"")
    }));

    // No master to sync from any more: what the restarted slave holds is what it saved.
    drop(master);
    slave.child.kill().unwrap();
    slave.child.wait().unwrap();
    drop(slave);
    let slave = start_slave(sdir.path(), ns.addr, None, &[]);
    assert!(slave_has_everything(slave.addr), "{:?}", log_of(&slave));
}

#[test]
fn a_delayed_message_is_delivered_once_by_the_master_and_replicated() {
    let (mdir, sdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ns = start_namesrv();
    let (master, _ha) = start_master(mdir.path(), ns.addr, &[]);
    let slave = start_slave(sdir.path(), ns.addr, None, &[]);
    let mut m = connect(master.addr);
    assert_eq!(create_topic(&mut m, "SyncD", 1).code, 0);
    // Level 1 = 1 s: due while both brokers hold the SCHEDULE_TOPIC copy.
    let r = send(&mut m, "SyncD", 0, b"later", "", "", &[("DELAY", "1")]);
    assert_eq!(r.code, 0, "{:?}", r.remark);

    let mut on_master = Vec::new();
    assert!(wait_until(Duration::from_secs(10), || {
        on_master = messages(master.addr, "GSyncD", "SyncD");
        !on_master.is_empty()
    }));
    assert_eq!(on_master.len(), 1, "{on_master:?}");
    // The slave has exactly the master's copy (same offsets), and the CommitLogs end at the
    // same offset: had the slave delivered it too, its CommitLog would have its own write.
    let mut last = Vec::new();
    let same = wait_until(SYNC_WAIT, || {
        last = messages(slave.addr, "GSyncD", "SyncD");
        last == on_master && commit_log_max(slave.addr) == commit_log_max(master.addr)
    });
    assert!(same, "slave has {last:?}; slave log: {:?}", log_of(&slave));
    // The master's delay offsets reach the slave (and its delayOffset.json).
    let dir = sdir.path();
    assert!(
        wait_until(SYNC_WAIT, || {
            let mut s = connect(slave.addr);
            let r = call(&mut s, &request(45, &[]));
            let saved = std::fs::read_to_string(dir.join("config").join("delayOffset.json"));
            r.code == 0
                && level_1(&String::from_utf8_lossy(&r.body)) == Some(1)
                && level_1(&saved.unwrap_or_default()) == Some(1)
        }),
        "slave log: {:?}",
        log_of(&slave)
    );
    // Replication still follows: one more message arrives, still one delayed copy.
    let r = send(&mut m, "SyncD", 0, b"after", "", "", &[]);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let on_master = messages(master.addr, "GSyncD", "SyncD");
    assert_eq!(on_master.len(), 2);
    assert!(wait_until(SYNC_WAIT, || messages(
        slave.addr, "GSyncD", "SyncD"
    ) == on_master));
    let log = log_of(&slave);
    assert!(
        log.iter()
            .all(|l| !l.contains("HA connection to the master closed")),
        "replication never broke: {log:?}"
    );
}
