//! Recovery without a child process: torn tails (file cut mid-record, last record corrupted) after
//! clean and abnormal stops, consume-queue rebuild after deleting `consumequeue/` or damaging a
//! queue file, and index rebuild.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::time::Duration;

use actormq::protocol::message::decode_record;
use actormq::storage::{FlushDiskType, GetStatus, MessageStore, MessageToStore, StoreConfig};
use bytes::Bytes;

fn cfg(dir: &Path) -> StoreConfig {
    let mut c = StoreConfig::with_root(dir);
    c.mapped_file_size_commit_log = 64 * 1024;
    c.mapped_file_size_consume_queue = 100 * 20;
    c.flush_disk_type = FlushDiskType::AsyncFlush;
    c.max_hash_slot_num = 64;
    c.max_index_num = 1000;
    c
}

fn msg(q: i32, i: usize) -> MessageToStore {
    let props = format!("KEYS\u{1}key{i}\u{2}UNIQ_KEY\u{1}U{i}");
    MessageToStore::new("R", q, Bytes::from(vec![i as u8; 300 + i % 50]), &props)
}

/// Write `n` messages over 3 queues, stop cleanly; returns (phys offset, size) of each.
fn fill(dir: &Path, n: usize) -> Vec<(i64, i64)> {
    let store = MessageStore::open(cfg(dir)).unwrap();
    let v = (0..n)
        .map(|i| {
            let r = store.put_message(msg((i % 3) as i32, i)).unwrap();
            (r.phys_offset, r.wrote_bytes)
        })
        .collect();
    store.shutdown().unwrap();
    v
}

fn commitlog_file(dir: &Path, phys: i64) -> (PathBuf, u64) {
    let start = phys as u64 / (64 * 1024) * (64 * 1024);
    (
        dir.join("commitlog").join(format!("{start:020}")),
        phys as u64 - start,
    )
}

/// Every queue's units decode to intact records with matching offsets, and nothing is served at
/// or past the CommitLog end. Returns the number of messages.
fn check_consistent(store: &MessageStore) -> usize {
    let mut total = 0;
    for q in 0..3 {
        let max = store.max_offset("R", q);
        let mut off = store.min_offset("R", q);
        while off < max {
            let g = store.get_message("R", q, off, 32, None);
            assert_eq!(g.status, GetStatus::Found, "queue {q} offset {off}");
            for b in &g.messages {
                let m = decode_record(b).unwrap();
                assert!(m.crc_ok());
                assert_eq!((m.queue_id, m.queue_offset), (q, off));
                assert!(m.commit_log_offset + m.store_size as i64 <= store.commit_log_max_offset());
                off += 1;
                total += 1;
            }
        }
        assert_eq!(
            store.get_message("R", q, max, 1, None).status,
            GetStatus::OffsetOverflowOne
        );
    }
    assert!(store.lookup(store.commit_log_max_offset()).is_none());
    total
}

fn torn_tail_case(abnormal: bool, cut: bool) {
    let dir = tempfile::tempdir().unwrap();
    let recs = fill(dir.path(), 400);
    let (last_phys, last_size) = *recs.last().unwrap();
    let (path, pos) = commitlog_file(dir.path(), last_phys);
    if cut {
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(pos + last_size as u64 / 2)
            .unwrap();
    } else {
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[pos as usize + last_size as usize - 10] ^= 0x5A; // inside the properties
        bytes[pos as usize + 200] ^= 0xFF; // inside the body: CRC mismatch
        std::fs::write(&path, bytes).unwrap();
    }
    if abnormal {
        std::fs::write(dir.path().join("abort"), b"").unwrap();
    }
    let store = MessageStore::open(cfg(dir.path())).unwrap();
    assert_eq!(
        store.commit_log_max_offset(),
        last_phys,
        "recovered end is the start of the torn record"
    );
    assert_eq!(check_consistent(&store), 399);
    let q: i32 = 399 % 3;
    assert_eq!(store.max_offset("R", q), 133);
    // The next append reuses the torn record's place and queue offset.
    let r = store.put_message(msg(q, 9999)).unwrap();
    assert_eq!((r.phys_offset, r.queue_offset), (last_phys, 133));
    for (phys, _) in &recs[..399] {
        assert!(decode_record(&store.lookup(*phys).unwrap())
            .unwrap()
            .crc_ok());
    }
}

#[test]
fn torn_tail_cut_mid_record_after_clean_stop() {
    torn_tail_case(false, true);
}

#[test]
fn torn_tail_cut_mid_record_after_crash() {
    torn_tail_case(true, true);
}

#[test]
fn corrupt_last_record_after_clean_stop() {
    torn_tail_case(false, false);
}

#[test]
fn corrupt_last_record_after_crash() {
    torn_tail_case(true, false);
}

#[test]
fn consume_queue_rebuilt_after_deleting_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 500);
    let before: Vec<(i64, Vec<Bytes>)> = {
        let s = MessageStore::open(cfg(dir.path())).unwrap();
        (0..3)
            .map(|q| (s.max_offset("R", q), all_records(&s, q)))
            .collect()
    };
    std::fs::remove_dir_all(dir.path().join("consumequeue")).unwrap();
    let store = MessageStore::open(cfg(dir.path())).unwrap();
    for q in 0..3 {
        assert_eq!(store.max_offset("R", q), before[q as usize].0);
        assert_eq!(all_records(&store, q), before[q as usize].1);
    }
    assert_eq!(check_consistent(&store), 500);
    assert_eq!(
        store.put_message(msg(0, 1)).unwrap().queue_offset,
        before[0].0
    );
}

fn all_records(s: &MessageStore, q: i32) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut off = 0;
    loop {
        let g = s.get_message("R", q, off, 32, None);
        if g.messages.is_empty() {
            return out;
        }
        off = g.next_begin_offset;
        out.extend(g.messages.iter().map(|b| Bytes::copy_from_slice(b)));
    }
}

#[test]
fn damaged_or_lagging_consume_queue_is_repaired() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 450);
    // Queue 1: a file of the wrong size. Queue 2: its newest units lost (zeroed), as after a crash
    // where the CommitLog reached disk but the queue did not.
    let q1 = dir.path().join("consumequeue/R/1");
    let first = std::fs::read_dir(&q1)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    OpenOptions::new()
        .write(true)
        .open(&first)
        .unwrap()
        .set_len(1000)
        .unwrap();
    let q2 = dir.path().join("consumequeue/R/2");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&q2)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let last = names.last().unwrap();
    let mut b = std::fs::read(last).unwrap();
    let used = b
        .chunks(20)
        .take_while(|u| u.iter().any(|x| *x != 0))
        .count();
    for x in &mut b[(used - 5) * 20..used * 20] {
        *x = 0;
    }
    std::fs::write(last, b).unwrap();
    std::fs::write(dir.path().join("abort"), b"").unwrap();
    let store = MessageStore::open(cfg(dir.path())).unwrap();
    for q in 0..3 {
        assert_eq!(store.max_offset("R", q), 150, "queue {q}");
    }
    assert_eq!(check_consistent(&store), 450);
}

#[test]
fn index_rebuilt_after_crash_without_index_files() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 200);
    std::fs::remove_dir_all(dir.path().join("index")).unwrap();
    std::fs::write(dir.path().join("abort"), b"").unwrap();
    let store = MessageStore::open(cfg(dir.path())).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let hits = store.query_by_key("R", "key150", 10, 0, i64::MAX);
        if hits.len() == 1 {
            assert_eq!(decode_record(&hits[0]).unwrap().body.len(), 300);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "index not rebuilt");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(store.query_by_key("R", "U7", 10, 0, i64::MAX).len(), 1);
}

#[test]
fn one_deleted_queue_directory_is_rebuilt_after_a_clean_stop() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 900); // ~5 CommitLog files: a clean-stop scan covers only the last three
    let before = {
        let s = MessageStore::open(cfg(dir.path())).unwrap();
        let r = all_records(&s, 1);
        s.shutdown().unwrap();
        r
    };
    assert_eq!(before.len(), 300);
    std::fs::remove_dir_all(dir.path().join("consumequeue/R/1")).unwrap();
    let store = MessageStore::open(cfg(dir.path())).unwrap();
    assert_eq!(store.min_offset("R", 1), 0);
    assert_eq!(all_records(&store, 1), before);
    assert_eq!(check_consistent(&store), 900);
}

#[test]
fn open_fails_cleanly_on_a_damaged_middle_file() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 600);
    // A middle CommitLog file of the wrong size is corruption recovery cannot repair.
    let p = dir.path().join("commitlog").join(format!("{:020}", 65536));
    OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(100)
        .unwrap();
    let e = MessageStore::open(cfg(dir.path()))
        .err()
        .expect("must refuse");
    assert!(e.to_string().contains("00000000000000065536"), "{e}");
}
