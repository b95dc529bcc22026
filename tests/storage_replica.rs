//! The store side of replication (src/storage/replica.rs): a "master" and a "slave" store in temp
//! dirs with 64 KiB CommitLog files, bytes copied the way the HA connection will copy them
//! (transfers of at most 32 KiB from `read_commit_log`, cut at arbitrary points, not at record
//! boundaries), starting where a new slave starts. The slave must end up byte-identical over the
//! replicated range, serve the same pulls and key queries, refuse misplaced bytes, and resume
//! after a crash-style reopen without a gap or a duplicate.

use std::path::Path;

use actormq::protocol::ha::DEFAULT_TRANSFER_BATCH_SIZE;
use actormq::protocol::message::{decode_record, encode_batch, BatchItem};
use actormq::storage::{
    FlushDiskType, GetStatus, MessageBatchToStore, MessageStore, MessageToStore, StoreConfig,
    StoreError,
};
use bytes::Bytes;

const FILE: u64 = 64 * 1024;
const QUEUES: [(&str, i32); 5] = [("A", 0), ("A", 1), ("A", 2), ("B", 0), ("C", 1)];

fn cfg(dir: &Path) -> StoreConfig {
    let mut c = StoreConfig::with_root(dir);
    c.mapped_file_size_commit_log = FILE;
    c.mapped_file_size_consume_queue = 100 * 20;
    c.flush_disk_type = FlushDiskType::AsyncFlush;
    c.flush_interval_commit_log = 10;
    c.flush_interval_consume_queue = 50;
    c.max_hash_slot_num = 64;
    c.max_index_num = 4000;
    c
}

/// Messages `from..to` on the master: topics A (3 queues) and B, with keys, and every 10th
/// iteration a batch of 4 on C/1.
fn produce(master: &MessageStore, from: usize, to: usize) {
    for i in from..to {
        let (topic, q) = QUEUES[i % 4];
        let props = format!(
            "TAGS\u{1}t{}\u{2}KEYS\u{1}k{i} common\u{2}UNIQ_KEY\u{1}U{i}",
            i % 3
        );
        let body = Bytes::from(vec![(i % 251) as u8; 100 + (i * 37) % 900]);
        master
            .put_message(MessageToStore::new(topic, q, body, &props))
            .unwrap();
        if i % 10 == 0 {
            let items: Vec<BatchItem> = (0..4)
                .map(|j| BatchItem {
                    flag: j,
                    body: Bytes::from(format!("batch-{i}-{j}")),
                    properties: format!("KEYS\u{1}bk{i}-{j}"),
                })
                .collect();
            master
                .put_batch(MessageBatchToStore {
                    topic: "C".into(),
                    queue_id: 1,
                    sys_flag: 0,
                    born_timestamp: 1,
                    born_host: "10.0.0.9:5555".parse().unwrap(),
                    store_host: "10.0.0.1:10911".parse().unwrap(),
                    body: encode_batch(&items).freeze(),
                    properties: String::new(),
                    wait_store_msg_ok: false,
                })
                .unwrap();
        }
    }
}

/// Copy the master's CommitLog from `pos` to its end in transfers of at most 32 KiB, each cut
/// into pieces of varying size. Returns the stream position reached.
fn replicate(master: &MessageStore, slave: &MessageStore, mut pos: u64) -> u64 {
    let cuts = [7usize, 1000, 20_000, 3, 32 * 1024];
    let mut k = 0;
    while let Some(chunk) = master.read_commit_log(pos as i64, DEFAULT_TRANSFER_BATCH_SIZE) {
        assert!(chunk.len() <= DEFAULT_TRANSFER_BATCH_SIZE);
        assert_eq!(
            pos / FILE,
            (pos + chunk.len() as u64 - 1) / FILE,
            "one file"
        );
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            let n = cuts[k % cuts.len()].min(rest.len());
            k += 1;
            let end = slave.append_replicated(pos, &rest[..n]).unwrap();
            pos += n as u64;
            rest = &rest[n..];
            assert!(end <= pos, "whole records only");
            assert_eq!(slave.replica_expected_offset(), Some(pos));
        }
    }
    pos
}

fn assert_same(master: &MessageStore, slave: &MessageStore, start: u64) {
    master.flush().unwrap();
    slave.flush().unwrap();
    let end = master.commit_log_max_offset();
    assert_eq!(slave.commit_log_max_offset(), end);
    assert_eq!(slave.commit_log_min_offset(), start as i64);
    let mut p = start;
    while let Some(m) = master.read_commit_log(p as i64, 1 << 20) {
        let s = slave.read_commit_log(p as i64, 1 << 20).unwrap();
        assert_eq!(m, s, "CommitLog bytes at {p}");
        p += m.len() as u64;
    }
    assert_eq!(p as i64, end);
    let mut first_unique = None;
    for (topic, q) in QUEUES {
        let max = master.max_offset(topic, q);
        assert_eq!(slave.max_offset(topic, q), max, "{topic}/{q}");
        let min = slave.min_offset(topic, q);
        assert!(
            min > 0 && min < max,
            "{topic}/{q}: the slave starts mid-queue"
        );
        let before = slave.get_message(topic, q, min - 1, 1, None);
        assert_eq!(before.status, GetStatus::OffsetTooSmall);
        let mut off = min;
        while off < max {
            let (m, s) = (
                master.get_message(topic, q, off, 32, None),
                slave.get_message(topic, q, off, 32, None),
            );
            assert_eq!(s.status, GetStatus::Found);
            assert_eq!(
                (&m.messages, &m.queue_offsets),
                (&s.messages, &s.queue_offsets)
            );
            assert_eq!(m.next_begin_offset, s.next_begin_offset);
            off = s.next_begin_offset;
        }
        let m = decode_record(&slave.get_message(topic, q, min, 1, None).messages[0]).unwrap();
        if let Some(u) = m
            .properties
            .split('\u{2}')
            .find_map(|p| p.strip_prefix("UNIQ_KEY\u{1}"))
        {
            let i: usize = u[1..].parse().unwrap();
            first_unique = Some(first_unique.map_or(i, |f: usize| f.min(i)));
        }
    }
    // Every key of a replicated message is found on the slave, as on the master.
    let first = first_unique.unwrap() + 4;
    let mut compared = 0;
    for i in (first..first + 200).step_by(7) {
        let (topic, _) = QUEUES[i % 4];
        let key = format!("k{i}");
        let m = master.query_by_key(topic, &key, 10, 0, i64::MAX);
        if m.is_empty() {
            break; // past the last message produced
        }
        assert_eq!(slave.query_by_key(topic, &key, 10, 0, i64::MAX), m, "{key}");
        compared += 1;
    }
    assert!(compared >= 3, "{compared} key queries compared");
}

#[test]
fn slave_copies_the_master_and_resumes_after_a_crash() {
    let (mdir, sdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = MessageStore::open(cfg(mdir.path())).unwrap();
    produce(&master, 0, 600);
    let start = master.replication_start_for_empty_slave();
    assert!(start >= 3 * FILE && start.is_multiple_of(FILE), "{start}");
    assert!(master.commit_log_max_offset() as u64 > start);

    let slave = MessageStore::open(cfg(sdir.path())).unwrap();
    assert_eq!(slave.replica_expected_offset(), None);
    assert!(matches!(
        slave.append_replicated(start + 1, b"x"),
        Err(StoreError::ReplicaStartUnaligned { .. })
    ));
    let mut pos = replicate(&master, &slave, start);
    assert_same(&master, &slave, start);

    // Misplaced or corrupt bytes are refused and change nothing.
    let end = slave.commit_log_max_offset() as u64;
    for at in [end + 1, end - 1, 0, start] {
        assert!(matches!(
            slave.append_replicated(at, b"abcdefgh"),
            Err(StoreError::NotAtCommitLogEnd { .. })
        ));
    }
    assert!(matches!(
        slave.append_replicated(end, &[0xAB; 64]),
        Err(StoreError::Corrupt(_))
    ));
    assert_eq!(slave.commit_log_max_offset() as u64, end);
    assert_eq!(slave.replica_expected_offset(), Some(end));

    // More traffic across further files, then stop the slave in the middle of a record.
    produce(&master, 600, 900);
    let chunk = master.read_commit_log(pos as i64, 1000).unwrap();
    let whole_end = slave.append_replicated(pos, &chunk).unwrap();
    pos += chunk.len() as u64;
    assert!(whole_end < pos, "the piece ends inside a record");
    drop(slave);
    std::fs::write(sdir.path().join("abort"), b"").unwrap(); // as if it had crashed

    let slave = MessageStore::open(cfg(sdir.path())).unwrap();
    let resumed = slave.commit_log_max_offset() as u64;
    assert_eq!(resumed, whole_end, "recovered to the last whole record");
    assert_eq!(slave.replica_expected_offset(), Some(resumed));
    assert!(matches!(
        slave.append_replicated(pos, &[0u8; 8]),
        Err(StoreError::NotAtCommitLogEnd { .. })
    ));
    replicate(&master, &slave, resumed);
    assert_same(&master, &slave, start);

    // The files themselves are identical.
    for e in std::fs::read_dir(sdir.path().join("commitlog")).unwrap() {
        let e = e.unwrap();
        let theirs = std::fs::read(mdir.path().join("commitlog").join(e.file_name())).unwrap();
        assert_eq!(
            std::fs::read(e.path()).unwrap(),
            theirs,
            "{:?}",
            e.file_name()
        );
    }
}

#[test]
fn empty_master_and_slave_start_at_zero() {
    let (mdir, sdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = MessageStore::open(cfg(mdir.path())).unwrap();
    assert_eq!(master.replication_start_for_empty_slave(), 0);
    produce(&master, 0, 40);
    let slave = MessageStore::open(cfg(sdir.path())).unwrap();
    let pos = replicate(&master, &slave, 0);
    assert_eq!(pos as i64, master.commit_log_max_offset());
    slave.flush().unwrap();
    for (topic, q) in QUEUES {
        assert_eq!(slave.max_offset(topic, q), master.max_offset(topic, q));
        assert_eq!(slave.min_offset(topic, q), 0);
    }
    assert_eq!(
        slave.query_by_key("A", "common", 100, 0, i64::MAX).len(),
        30
    );
}

#[test]
fn one_append_may_cross_file_ends() {
    let (mdir, sdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = MessageStore::open(cfg(mdir.path())).unwrap();
    produce(&master, 0, 400);
    let end = master.commit_log_max_offset() as u64;
    assert!(end > 3 * FILE);
    // All of the master's bytes, glued across file ends, sent in 100 KiB appends.
    let mut all = Vec::new();
    while let Some(c) = master.read_commit_log(all.len() as i64, 1 << 20) {
        all.extend_from_slice(&c);
    }
    assert_eq!(all.len() as u64, end);
    let slave = MessageStore::open(cfg(sdir.path())).unwrap();
    // A blank whose size does not reach the file end is refused.
    let mut bad = all[..FILE as usize].to_vec();
    let blank_at = (0..FILE as usize - 8)
        .rev()
        .find(|&p| bad[p + 4..p + 8] == 0xCBD4_3194u32.to_be_bytes())
        .unwrap();
    bad[blank_at..blank_at + 4].copy_from_slice(&8i32.to_be_bytes());
    assert!(matches!(
        slave.append_replicated(0, &bad),
        Err(StoreError::Corrupt(_))
    ));
    assert_eq!(slave.replica_expected_offset(), None, "still empty");
    let mut pos = 0;
    for piece in all.chunks(100 * 1024) {
        slave.append_replicated(pos, piece).unwrap();
        pos += piece.len() as u64;
    }
    assert_eq!(slave.commit_log_max_offset() as u64, end);
    slave.flush().unwrap();
    for (topic, q) in QUEUES {
        let max = master.max_offset(topic, q);
        assert_eq!(slave.max_offset(topic, q), max);
        let (m, s) = (
            master.get_message(topic, q, 0, 1000, None),
            slave.get_message(topic, q, 0, 1000, None),
        );
        assert_eq!((m.messages, m.queue_offsets), (s.messages, s.queue_offsets));
    }
}
