//! Epochs and runtime truncation (src/storage/epoch.rs, truncate.rs, role.rs) on real stores in
//! temp dirs with 64 KiB CommitLog files: truncating a running store and appending again, a
//! crash-style reopen of a truncated store, a slave becoming master with a partial record
//! buffered, an old master returning as a slave and dropping the tail the new master never had,
//! histories with nothing in common; and GET_BROKER_EPOCH_CACHE (1007) on the real broker binary.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use actormq::actors::broker::logic::ha_session::{MasterSession, MasterStep};
use actormq::config::{load, BrokerConfig, Sources};
use actormq::protocol::body::controller::EpochEntryCache;
use actormq::protocol::codes::request_code;
use actormq::protocol::ha::{encode_report, DEFAULT_TRANSFER_BATCH_SIZE};
use actormq::protocol::message::decode_record;
use actormq::protocol::RemotingCommand;
use actormq::storage::epoch::{entry, EpochEntry};
use actormq::storage::{
    Durability, FlushDiskType, GetStatus, MessageStore, MessageToStore, PutResult, StoreConfig,
    StoreError,
};
use bytes::{Bytes, BytesMut};
use common::rmq::{create_topic, send};
use common::{call, connect, start_broker, BROKER};

const FILE: u64 = 64 * 1024;
const QUEUES: [(&str, i32); 4] = [("A", 0), ("A", 1), ("B", 0), ("C", 3)];

fn cfg(dir: &Path) -> StoreConfig {
    let mut c = StoreConfig::with_root(dir);
    c.mapped_file_size_commit_log = FILE;
    c.mapped_file_size_consume_queue = 50 * 20;
    c.flush_disk_type = FlushDiskType::AsyncFlush;
    c.flush_interval_commit_log = 10;
    c.flush_interval_consume_queue = 50;
    c.max_hash_slot_num = 64;
    c.max_index_num = 4000;
    c
}

/// Message `i`: queue `QUEUES[i % 4]`, key `k{i}`, a body naming it.
fn put(s: &MessageStore, i: usize) -> PutResult {
    let (topic, q) = QUEUES[i % 4];
    let mut body = format!("m{i}-").into_bytes();
    body.resize(100 + (i * 37) % 900, b'x');
    let props = format!("KEYS\u{1}k{i}\u{2}UNIQ_KEY\u{1}U{i}");
    s.put_message(MessageToStore::new(topic, q, Bytes::from(body), &props))
        .unwrap()
}

fn put_range(s: &MessageStore, from: usize, to: usize) -> Vec<PutResult> {
    (from..to).map(|i| put(s, i)).collect()
}

/// Every queue's messages (queue offset -> body prefix up to '-').
fn queues(s: &MessageStore) -> BTreeMap<(String, i32), Vec<(i64, String)>> {
    let mut out = BTreeMap::new();
    for (topic, q) in QUEUES {
        let (min, max) = (s.min_offset(topic, q), s.max_offset(topic, q));
        let mut v = Vec::new();
        for off in min..max {
            let r = s.get_message(topic, q, off, 1, None);
            assert_eq!(r.status, GetStatus::Found, "{topic}/{q} at {off}");
            let m = decode_record(&r.messages[0]).unwrap();
            assert_eq!(m.queue_offset, off);
            let body = String::from_utf8_lossy(&m.body).to_string();
            v.push((off, body.split('-').next().unwrap().to_string()));
        }
        let after = s.get_message(topic, q, max, 1, None);
        assert!(
            after.messages.is_empty(),
            "{topic}/{q}: nothing at max {max}"
        );
        out.insert((topic.to_string(), q), v);
    }
    out
}

/// Copy `master`'s CommitLog from `pos` to its end into `slave` in transfers cut at odd sizes.
fn replicate(master: &MessageStore, slave: &MessageStore, mut pos: u64) -> u64 {
    let cuts = [7usize, 1000, 20_000, 3, 32 * 1024];
    let mut k = 0;
    while let Some(chunk) = master.read_commit_log(pos as i64, DEFAULT_TRANSFER_BATCH_SIZE) {
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            let n = cuts[k % cuts.len()].min(rest.len());
            k += 1;
            slave.append_replicated(pos, &rest[..n]).unwrap();
            pos += n as u64;
            rest = &rest[n..];
        }
    }
    pos
}

/// The CommitLog bytes of both stores agree over `[from, end)`, and so do the ends.
fn same_commit_log(a: &MessageStore, b: &MessageStore, from: u64) {
    assert_eq!(a.commit_log_max_offset(), b.commit_log_max_offset());
    let mut p = from;
    while let Some(x) = a.read_commit_log(p as i64, 1 << 20) {
        let y = b.read_commit_log(p as i64, x.len()).unwrap();
        assert_eq!(x, y, "CommitLog bytes at {p}");
        p += x.len() as u64;
    }
    assert_eq!(p as i64, a.commit_log_max_offset());
}

fn crash_reopen(s: std::sync::Arc<MessageStore>, dir: &Path) -> std::sync::Arc<MessageStore> {
    drop(s);
    std::fs::write(dir.join("abort"), b"").unwrap(); // as if it had crashed
    MessageStore::open(cfg(dir)).unwrap()
}

fn ends(v: &[EpochEntry]) -> Vec<(i32, i64, i64)> {
    v.iter()
        .map(|e| (e.epoch, e.start_offset, e.end_offset))
        .collect()
}

fn cache(s: &MessageStore) -> EpochEntryCache {
    s.epoch_cache("C", "b", 0)
}

#[test]
fn truncate_to_then_append_continues_and_a_crash_recovers_the_truncated_store() {
    let dir = tempfile::tempdir().unwrap();
    let s = MessageStore::open(cfg(dir.path())).unwrap();
    let puts = put_range(&s, 0, 400);
    let old_max = s.commit_log_max_offset() as u64;
    assert!(old_max > 4 * FILE, "several files: {old_max}");
    let before = queues(&s);
    let cut = 150;
    let point = puts[cut].phys_offset as u64;

    assert!(matches!(
        s.truncate_to(point + 1),
        Err(StoreError::NotARecordBoundary { .. })
    ));
    assert!(matches!(
        s.truncate_to(old_max + 1),
        Err(StoreError::TruncateOutOfRange { .. })
    ));
    assert_eq!(
        s.commit_log_max_offset() as u64,
        old_max,
        "refusals change nothing"
    );

    s.truncate_to(point).unwrap();
    assert_eq!(s.commit_log_max_offset() as u64, point);
    let after = queues(&s);
    for (key, msgs) in &after {
        let kept: Vec<_> = before[key]
            .iter()
            .filter(|(_, b)| b[1..].parse::<usize>().unwrap() < cut)
            .cloned()
            .collect();
        assert_eq!(
            msgs, &kept,
            "{key:?} keeps exactly the records before the point"
        );
    }
    // The truncated bytes are gone from the file itself, not only from the positions.
    let f = dir
        .path()
        .join("commitlog")
        .join(format!("{:020}", point - point % FILE));
    let on_disk = std::fs::read(&f).unwrap();
    assert!(on_disk[(point % FILE) as usize..].iter().all(|b| *b == 0));
    let mut later = point - point % FILE + FILE;
    while later < old_max {
        // Removed, or prepared afresh as the next file (zeros).
        let name = dir.path().join("commitlog").join(format!("{later:020}"));
        let bytes = std::fs::read(&name).unwrap_or_default();
        assert!(bytes.iter().all(|b| *b == 0), "{name:?} holds old data");
        later += FILE;
    }
    s.flush().unwrap();
    assert!(s
        .query_by_key("A", &format!("k{}", cut + 4), 10, 0, i64::MAX)
        .is_empty());
    assert_eq!(s.query_by_key("A", "k4", 10, 0, i64::MAX).len(), 1);

    // Appends continue from the point, with the queue offsets continuing the truncated queues.
    let more = put_range(&s, 1000, 1100);
    assert_eq!(more[0].phys_offset as u64, point);
    for (i, r) in (1000..1100).zip(&more) {
        let (topic, q) = QUEUES[i % 4];
        let key = (topic.to_string(), q);
        let base = after[&key].last().map_or(0, |(o, _)| o + 1);
        let nth = (1000..i).filter(|j| j % 4 == i % 4).count() as i64;
        assert_eq!(r.queue_offset, base + nth, "message {i}");
    }
    s.flush().unwrap();
    assert_eq!(s.query_by_key("B", "k1002", 10, 0, i64::MAX).len(), 1);
    let grown = queues(&s);
    let end = s.commit_log_max_offset();

    let s = crash_reopen(s, dir.path());
    assert_eq!(s.commit_log_max_offset(), end);
    assert_eq!(queues(&s), grown, "the reopened store is the truncated one");
    assert!(s
        .query_by_key("A", &format!("k{}", cut + 4), 10, 0, i64::MAX)
        .is_empty());
    assert_eq!(s.query_by_key("B", "k1002", 10, 0, i64::MAX).len(), 1);
}

#[test]
fn a_crash_right_after_truncation_keeps_the_cut_and_sync_flush_acks_only_after_a_sync() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path());
    c.flush_disk_type = FlushDiskType::SyncFlush;
    let s = MessageStore::open(c.clone()).unwrap();
    let puts = put_range(&s, 0, 300);
    for p in &puts {
        p.durability.wait().unwrap();
    }
    let point = puts[100].phys_offset as u64;
    s.truncate_to(point).unwrap();
    // The flusher knows the bytes past the point are gone: a new append waits for its own sync.
    let syncs = s.sync_count();
    let r = put(&s, 100); // the size of the record that stood there
    assert_eq!(r.phys_offset as u64, point);
    assert!(matches!(r.durability, Durability::Pending { .. }));
    r.durability.wait().unwrap();
    assert!(s.sync_count() > syncs);
    s.truncate_to(point).unwrap();
    let q = queues(&s);
    drop(s);
    std::fs::write(dir.path().join("abort"), b"").unwrap();
    let s = MessageStore::open(c).unwrap();
    assert_eq!(
        s.commit_log_max_offset() as u64,
        point,
        "nothing after the cut came back"
    );
    assert_eq!(queues(&s), q);
}

#[test]
fn truncate_at_a_file_start_and_at_an_end_of_file_blank() {
    let dir = tempfile::tempdir().unwrap();
    let s = MessageStore::open(cfg(dir.path())).unwrap();
    let puts = put_range(&s, 0, 300);
    // The first record of the third file: the second file ends in a blank before it.
    let i = puts
        .iter()
        .position(|p| p.phys_offset as u64 == 2 * FILE)
        .expect("a record starts the third file");
    let prev = &puts[i - 1];
    let blank = (prev.phys_offset + prev.wrote_bytes) as u64;
    assert!(blank < 2 * FILE, "the second file ends in a blank");
    if blank + 8 < 2 * FILE {
        assert!(matches!(
            s.truncate_to(blank + 8),
            Err(StoreError::NotARecordBoundary { .. })
        ));
    }
    s.truncate_to(2 * FILE).unwrap();
    assert_eq!(s.commit_log_max_offset() as u64, 2 * FILE);
    assert_eq!(put(&s, 900).phys_offset as u64, 2 * FILE);
    s.truncate_to(blank).unwrap();
    assert_eq!(s.commit_log_max_offset() as u64, blank);
    let r = put(&s, 901);
    assert!(r.phys_offset as u64 == blank || r.phys_offset as u64 == 2 * FILE);
    let q = queues(&s);
    let s = crash_reopen(s, dir.path());
    assert_eq!(queues(&s), q);
}

#[test]
fn a_slave_becomes_master_with_a_partial_record_buffered() {
    let (mdir, sdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = MessageStore::open(cfg(mdir.path())).unwrap();
    assert_eq!(m.become_master(1).unwrap(), 0);
    put_range(&m, 0, 200);
    let s = MessageStore::open(cfg(sdir.path())).unwrap();
    assert_eq!(s.prepare_as_slave(&cache(&m)).unwrap(), 0);
    assert_eq!(ends(&s.epoch_entries()), vec![(1, 0, 0)]);
    let start = m.replication_start_for_empty_slave();
    let mut pos = replicate(&m, &s, start);
    put_range(&m, 200, 210);
    let chunk = m.read_commit_log(pos as i64, 100).unwrap();
    s.append_replicated(pos, &chunk).unwrap();
    pos += chunk.len() as u64;
    let end = s.commit_log_max_offset() as u64;
    assert_eq!(s.replica_expected_offset(), Some(pos));
    assert!(end < pos, "a partial record is buffered");

    assert_eq!(s.become_master(3).unwrap(), end);
    assert_eq!(
        s.replica_expected_offset(),
        Some(end),
        "the partial record is dropped"
    );
    let e = end as i64;
    assert_eq!(ends(&s.epoch_entries()), vec![(1, 0, e), (3, e, e)]);
    assert_eq!(
        s.become_master(3).unwrap(),
        end,
        "the same epoch again keeps its entry"
    );
    assert!(matches!(s.become_master(2), Err(StoreError::Epoch(_))));
    let next = put(&s, 5000).phys_offset as u64;
    assert!(
        next == end || next == end - end % FILE + FILE,
        "{next} after {end}"
    );
    let s = crash_reopen(s, sdir.path());
    assert_eq!(s.epoch_entries()[1], {
        let mut x = entry(3, end);
        x.end_offset = s.commit_log_max_offset();
        x
    });
}

#[test]
fn an_old_master_returning_as_slave_drops_the_tail_the_new_master_never_had() {
    let (adir, bdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = MessageStore::open(cfg(adir.path())).unwrap();
    a.become_master(1).unwrap();
    put_range(&a, 0, 200);
    let b = MessageStore::open(cfg(bdir.path())).unwrap();
    assert_eq!(b.prepare_as_slave(&cache(&a)).unwrap(), 0);
    let start = a.replication_start_for_empty_slave();
    let x = replicate(&a, &b, start);
    // A writes a tail B never receives, then B is elected with epoch 2 and takes writes.
    put_range(&a, 200, 260);
    assert_eq!(b.become_master(2).unwrap(), x);
    put_range(&b, 3000, 3050);
    let xi = x as i64;
    let b_end = b.commit_log_max_offset();
    assert_eq!(
        ends(&cache(&b).epoch_list),
        vec![(1, 0, xi), (2, xi, b_end)]
    );

    // A returns as a slave of B.
    assert_eq!(a.prepare_as_slave(&cache(&b)).unwrap(), x);
    assert_eq!(a.commit_log_max_offset(), xi);
    assert_eq!(a.replica_expected_offset(), Some(x));
    assert_eq!(ends(&a.epoch_entries()), vec![(1, 0, xi), (2, xi, xi)]);
    // What a 4.x-protocol HA connection does with that: A reports x, B streams from x.
    let mut report = BytesMut::new();
    encode_report(a.replica_expected_offset().unwrap_or(0), &mut report).unwrap();
    let now = Instant::now();
    let mut sess = MasterSession::new(now, Duration::from_secs(5), Duration::from_secs(20));
    let empty_start = b.replication_start_for_empty_slave();
    let got = sess.on_reports(&mut report, now, b_end as u64, empty_start);
    assert_eq!(got.unwrap(), Some(x));
    assert_eq!(sess.step(now).unwrap(), MasterStep::Stream(x));
    replicate(&b, &a, x);
    same_commit_log(&a, &b, start);
    let (qa, qb) = (queues(&a), queues(&b));
    for (key, msgs) in &qb {
        let first = msgs.first().map_or(0, |(o, _)| *o);
        let mine: Vec<_> = qa[key]
            .iter()
            .filter(|(o, _)| *o >= first)
            .cloned()
            .collect();
        assert_eq!(&mine, msgs, "{key:?}: the same message at every offset");
    }
    assert!(a.query_by_key("A", "k204", 10, 0, i64::MAX).is_empty());

    // Crash-style reopen: the truncated store and the adopted history survive; comparing again
    // with B keeps everything.
    let a = crash_reopen(a, adir.path());
    same_commit_log(&a, &b, start);
    assert_eq!(queues(&a), qa);
    assert_eq!(ends(&a.epoch_entries()), vec![(1, 0, xi), (2, xi, b_end)]);
    assert_eq!(a.prepare_as_slave(&cache(&b)).unwrap(), b_end as u64);
    assert_eq!(a.commit_log_max_offset(), b_end);
}

#[test]
fn histories_without_a_common_epoch_start_the_slave_empty() {
    let (adir, bdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = MessageStore::open(cfg(adir.path())).unwrap();
    a.become_master(1).unwrap();
    put_range(&a, 0, 150);
    let b = MessageStore::open(cfg(bdir.path())).unwrap();
    b.become_master(4).unwrap();
    put_range(&b, 500, 700);

    assert_eq!(a.prepare_as_slave(&cache(&b)).unwrap(), 0);
    assert_eq!(
        (a.commit_log_min_offset(), a.commit_log_max_offset()),
        (0, 0)
    );
    assert_eq!(a.replica_expected_offset(), None, "an empty slave");
    for (topic, q) in QUEUES {
        assert_eq!(a.max_offset(topic, q), 0, "{topic}/{q}");
    }
    assert_eq!(ends(&a.epoch_entries()), vec![(4, 0, 0)]);
    let start = b.replication_start_for_empty_slave();
    replicate(&b, &a, start);
    same_commit_log(&a, &b, start);
    let a = crash_reopen(a, adir.path());
    same_commit_log(&a, &b, start);
    for (topic, q) in QUEUES {
        assert_eq!(
            a.max_offset(topic, q),
            b.max_offset(topic, q),
            "{topic}/{q}"
        );
    }
}

#[test]
fn the_epoch_file_path_is_configurable_and_a_damaged_file_stops_the_start() {
    let (c, _) = load::<BrokerConfig>(&Sources {
        sets: vec!["storePathRootDir=/r".into()],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        c.store.epoch_file_path(),
        Path::new("/r/epochFileCheckpoint")
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("elsewhere").join("epochs");
    let (c, _) = load::<BrokerConfig>(&Sources {
        sets: vec![
            format!("storePathRootDir={}", dir.path().join("store").display()),
            format!("storePathEpochFile={}", path.display()),
        ],
        ..Default::default()
    })
    .unwrap();
    let mut sc = c.store.clone();
    sc.mapped_file_size_commit_log = FILE;
    let s = MessageStore::open(sc.clone()).unwrap();
    s.become_master(7).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("1\n") && text.ends_with("\n7-0\n"),
        "{text:?}"
    );
    drop(s);
    std::fs::write(&path, "1\n0\nseven-0\n").unwrap();
    let err = MessageStore::open(sc)
        .err()
        .expect("a damaged epoch file fails the start");
    assert!(err.to_string().contains("epochs"), "{err}");
}

#[test]
fn the_broker_answers_get_broker_epoch_cache() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(
        BROKER,
        dir.path(),
        &["brokerName=bx", "brokerClusterName=cx"],
    );
    let mut s = connect(b.addr);
    assert_eq!(create_topic(&mut s, "EP", 1).code, 0);
    let r = send(&mut s, "EP", 0, b"hello", "", "", &[]);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let resp = call(
        &mut s,
        &RemotingCommand::request(request_code::GET_BROKER_EPOCH_CACHE),
    );
    assert_eq!(resp.code, 0, "{:?}", resp.remark);
    let body = resp.body.clone();
    let text = String::from_utf8_lossy(&body).to_string();
    let c = EpochEntryCache::decode(&body).unwrap();
    assert_eq!(
        (c.cluster_name.as_str(), c.broker_name.as_str()),
        ("cx", "bx")
    );
    assert_eq!(c.broker_id, 0);
    assert!(c.epoch_list.is_empty(), "never in controller mode: {text}");
    assert!(c.max_offset > 0, "{text}");
    for k in [
        "clusterName",
        "brokerName",
        "brokerId",
        "epochList",
        "maxOffset",
    ] {
        assert!(text.contains(&format!("\"{k}\"")), "{k} in {text}");
    }
}
