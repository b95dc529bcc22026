//! MessageStore facade: appends across file boundaries, pull statuses and caps, batches,
//! transactions, lookups, time search, key queries, arrivals, SYNC_FLUSH group commit, disk-full
//! refusal, retention and clean restart. Small files so every test crosses boundaries quickly.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use actormq::protocol::message::{
    decode_offset_msg_id, decode_record, encode_batch, java_string_hash, sys_flag, BatchItem,
};
use actormq::storage::retention::Plan;
use actormq::storage::{
    FlushDiskType, GetStatus, MessageBatchToStore, MessageStore, MessageToStore, StoreConfig,
    StoreError,
};
use bytes::Bytes;

fn cfg(dir: &std::path::Path, mode: FlushDiskType) -> StoreConfig {
    let mut c = StoreConfig::with_root(dir);
    c.mapped_file_size_commit_log = 64 * 1024;
    c.mapped_file_size_consume_queue = 100 * 20;
    c.flush_disk_type = mode;
    c.flush_interval_commit_log = 10;
    c.flush_interval_consume_queue = 50;
    c.max_hash_slot_num = 64;
    c.max_index_num = 400;
    c
}

fn msg(topic: &str, q: i32, i: usize) -> MessageToStore {
    let props = format!(
        "TAGS\u{1}tag{}\u{2}KEYS\u{1}k{i} common\u{2}UNIQ_KEY\u{1}U{i:08}",
        i % 3
    );
    MessageToStore::new(
        topic,
        q,
        Bytes::from(vec![(i % 251) as u8; 200 + i % 300]),
        &props,
    )
}

#[test]
fn append_read_across_files_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(cfg(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    let mut results = Vec::new();
    for i in 0..1000 {
        let r = store.put_message(msg("T", (i % 2) as i32, i)).unwrap();
        assert_eq!(r.queue_offset, (i / 2) as i64);
        // Visible to a pull right after the append returns.
        let g = store.get_message("T", (i % 2) as i32, r.queue_offset, 1, None);
        assert_eq!(g.status, GetStatus::Found);
        assert_eq!(g.messages[0].len() as i64, r.wrote_bytes);
        let (host, off) = decode_offset_msg_id(&r.msg_id).unwrap();
        assert_eq!((host.port(), off), (10911, r.phys_offset));
        results.push(r);
    }
    assert!(
        store.commit_log_max_offset() > 5 * 64 * 1024,
        "crossed several CommitLog files"
    );
    for (i, r) in results.iter().enumerate() {
        let m = decode_record(&store.lookup(r.phys_offset).unwrap()).unwrap();
        assert_eq!(m.body.len(), 200 + i % 300);
        assert!(m.crc_ok());
        assert_eq!(m.queue_offset, r.queue_offset);
        assert_eq!(m.store_timestamp, r.store_timestamp);
    }
    store.shutdown().unwrap();
    assert!(!dir.path().join("abort").exists());
    drop(store);

    let store = MessageStore::open(cfg(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    assert_eq!(store.max_offset("T", 0), 500);
    assert_eq!(store.max_offset("T", 1), 500);
    let g = store.get_message("T", 1, 0, 32, None);
    assert_eq!(g.status, GetStatus::Found);
    assert_eq!(g.messages.len(), 32);
    for (k, b) in g.messages.iter().enumerate() {
        let m = decode_record(b).unwrap();
        assert_eq!(m.queue_offset, k as i64);
        assert_eq!(m.commit_log_offset, results[2 * k + 1].phys_offset);
    }
    let r = store.put_message(msg("T", 0, 1000)).unwrap();
    assert_eq!(r.queue_offset, 500, "queue offsets continue after restart");
    assert!(r.phys_offset >= results.last().unwrap().phys_offset);
}

#[test]
fn pull_statuses_filter_and_caps() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(cfg(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    let g = store.get_message("none", 0, 5, 32, None);
    assert_eq!(
        (g.status, g.next_begin_offset),
        (GetStatus::NoMatchedLogicQueue, 0)
    );
    for i in 0..60 {
        store.put_message(msg("P", 0, i)).unwrap();
    }
    let g = store.get_message("P", 0, 60, 32, None);
    assert_eq!(
        (g.status, g.next_begin_offset),
        (GetStatus::OffsetOverflowOne, 60)
    );
    let g = store.get_message("P", 0, 99, 32, None);
    assert_eq!(
        (g.status, g.next_begin_offset),
        (GetStatus::OffsetOverflowBadly, 60)
    );
    // The in-memory cap: 32 messages per pull.
    let g = store.get_message("P", 0, 0, 100, None);
    assert_eq!(
        (g.status, g.messages.len(), g.next_begin_offset),
        (GetStatus::Found, 32, 32)
    );
    assert_eq!((g.min_offset, g.max_offset), (0, 60));
    assert_eq!(g.queue_offsets, (0..32).collect::<Vec<i64>>());
    let g = store.get_message("P", 0, 10, 5, None);
    assert_eq!((g.messages.len(), g.next_begin_offset), (5, 15));
    // Tag filter on the tags code: only tag1 (i % 3 == 1).
    let want = java_string_hash("tag1") as i64;
    let f = move |code: i64| code == want;
    let g = store.get_message("P", 0, 0, 10, Some(&f));
    assert_eq!(g.messages.len(), 10);
    for b in &g.messages {
        assert_eq!(decode_record(b).unwrap().tags(), Some("tag1"));
    }
    assert_eq!(
        g.next_begin_offset, 29,
        "offset after the last scanned unit"
    );
    let none = |_: i64| false;
    let g = store.get_message("P", 0, 0, 10, Some(&none));
    assert_eq!(
        (g.status, g.next_begin_offset),
        (GetStatus::NoMatchedMessage, 60)
    );
    // Byte cap: a pull never exceeds 256 KiB in memory unless a single message does.
    assert!(g.total_bytes() <= 256 * 1024);
}

#[test]
fn batch_transactions_lookup_time_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(cfg(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    let items: Vec<BatchItem> = (0..5)
        .map(|i| BatchItem {
            flag: i,
            body: Bytes::from(format!("batch-{i}")),
            properties: format!("UNIQ_KEY\u{1}B{i}\u{2}KEYS\u{1}bk{i}"),
        })
        .collect();
    let batch = MessageBatchToStore {
        topic: "B".into(),
        queue_id: 3,
        sys_flag: 0,
        born_timestamp: 1,
        born_host: "10.0.0.9:5555".parse().unwrap(),
        store_host: "10.0.0.1:10911".parse().unwrap(),
        body: encode_batch(&items).freeze(),
        properties: "CLUSTER\u{1}DefaultCluster".into(),
        wait_store_msg_ok: true,
    };
    let r = store.put_batch(batch).unwrap();
    assert_eq!((r.queue_offset, r.msg_count), (0, 5));
    assert_eq!(r.msg_id.split(',').count(), 5);
    assert_eq!(store.max_offset("B", 3), 5);
    let g = store.get_message("B", 3, 0, 32, None);
    for (i, b) in g.messages.iter().enumerate() {
        let m = decode_record(b).unwrap();
        assert_eq!(m.body.as_ref(), format!("batch-{i}").as_bytes());
        assert_eq!(m.flag, i as i32);
        assert_eq!(
            m.properties,
            format!("UNIQ_KEY\u{1}B{i}\u{2}KEYS\u{1}bk{i}\u{2}CLUSTER\u{1}DefaultCluster")
        );
        assert_eq!(m.queue_offset, i as i64);
    }
    assert!(matches!(
        store.put_batch(MessageBatchToStore {
            body: Bytes::from_static(b"junk"),
            ..sample_batch()
        }),
        Err(StoreError::IllegalMessage(_))
    ));

    // Prepared transaction: stored (offset 0) but not in any consume queue.
    let mut half = msg("H", 0, 1);
    half.sys_flag = sys_flag::TRANSACTION_PREPARED_TYPE;
    let r = store.put_message(half).unwrap();
    assert_eq!(r.queue_offset, 0);
    assert_eq!(store.max_offset("H", 0), 0);
    assert!(store.lookup_message(r.phys_offset).is_some());
    assert!(store.lookup(r.phys_offset + 1).is_none());

    // Too big and too long.
    let mut big = msg("T", 0, 0);
    big.body = Bytes::from(vec![0u8; 4 * 1024 * 1024 + 1]);
    assert!(matches!(
        store.put_message(big),
        Err(StoreError::IllegalMessage(_))
    ));
    let long = "x".repeat(128);
    assert!(matches!(
        store.put_message(msg(&long, 0, 0)),
        Err(StoreError::IllegalMessage(_))
    ));

    // Time search and key queries.
    let mut stamps = Vec::new();
    for i in 0..20 {
        stamps.push(store.put_message(msg("S", 0, i)).unwrap().store_timestamp);
        if i % 5 == 4 {
            std::thread::sleep(Duration::from_millis(15));
        }
    }
    assert_eq!(store.offset_by_time("S", 0, stamps[10]), 10);
    assert_eq!(store.offset_by_time("S", 0, 0), 0);
    assert_eq!(store.offset_by_time("S", 0, i64::MAX), 19);
    assert_eq!(store.earliest_store_time("S", 0), Some(stamps[0]));
    store.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let found = loop {
        let f = store.query_by_key("S", "k7", 10, 0, i64::MAX);
        if !f.is_empty() || Instant::now() > deadline {
            break f;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(found.len(), 1);
    assert_eq!(
        decode_record(&found[0]).unwrap().property("UNIQ_KEY"),
        Some("U00000007")
    );
    assert_eq!(
        store.query_by_key("S", "U00000003", 10, 0, i64::MAX).len(),
        1
    );
    assert_eq!(
        store.query_by_key("S", "common", 100, 0, i64::MAX).len(),
        20
    );
    assert_eq!(store.query_by_key("S", "common", 4, 0, i64::MAX).len(), 4);
    assert!(store
        .query_by_key("S", "k7", 10, 0, stamps[0] - 5000)
        .is_empty());
    assert!(store.query_by_key("T", "k7", 10, 0, i64::MAX).is_empty());
    assert_eq!(store.query_by_key("B", "bk2", 10, 0, i64::MAX).len(), 1);
}

fn sample_batch() -> MessageBatchToStore {
    MessageBatchToStore {
        topic: "B".into(),
        queue_id: 0,
        sys_flag: 0,
        born_timestamp: 0,
        born_host: "127.0.0.1:1".parse().unwrap(),
        store_host: "127.0.0.1:10911".parse().unwrap(),
        body: Bytes::new(),
        properties: String::new(),
        wait_store_msg_ok: true,
    }
}

#[test]
fn arrivals_are_notified_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(cfg(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    store.add_arrival_listener(Arc::new(move |_| {
        c2.fetch_add(1, Ordering::Relaxed);
    }));
    let mut rx = store.subscribe_arrivals();
    for i in 0..50 {
        store.put_message(msg("A", (i % 2) as i32, i)).unwrap();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut max = [0i64; 2];
    rt.block_on(async {
        while max != [25, 25] {
            let batch = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .unwrap()
                .unwrap();
            for a in batch {
                assert_eq!(a.topic, "A");
                max[a.queue_id as usize] = max[a.queue_id as usize].max(a.max_offset);
            }
        }
    });
    assert!(calls.load(Ordering::Relaxed) >= 1);
    assert!(
        calls.load(Ordering::Relaxed) <= 50,
        "batched per round, never more than once per message"
    );
}

#[test]
fn sync_flush_group_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(cfg(dir.path(), FlushDiskType::SyncFlush)).unwrap();
    let before = store.sync_count();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let s = store.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    let r = s.put_message(msg("G", t, i)).unwrap();
                    r.durability.wait().unwrap();
                    let g = s.get_message("G", t, r.queue_offset, 1, None);
                    assert_eq!(g.status, GetStatus::Found);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let syncs = store.sync_count() - before;
    assert!(
        syncs < 400,
        "{syncs} syncs for 400 acknowledged appends: no group commit"
    );
    // Async await works on a runtime too; WAIT=false does not wait.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = store.put_message(msg("G", 0, 1)).unwrap();
    rt.block_on(r.durability.flushed()).unwrap();
    let mut m = msg("G", 0, 2);
    m.wait_store_msg_ok = false;
    assert!(matches!(
        store.put_message(m).unwrap().durability,
        actormq::storage::Durability::Done
    ));
}

#[test]
fn disk_full_refuses_appends_without_harm() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(cfg(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    let r = store.put_message(msg("D", 0, 1)).unwrap();
    store.set_disk_usage_probe(|_| Ok(95.5));
    let e = store.put_message(msg("D", 0, 2)).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, StoreError::DiskFull(_)));
    assert!(
        text.contains("commitlog") && text.contains("95.5%") && text.contains("90%"),
        "{text}"
    );
    assert!(store.put_batch(sample_batch()).is_err());
    // Stored data is still served.
    assert_eq!(store.get_message("D", 0, 0, 1, None).messages.len(), 1);
    assert!(store.lookup(r.phys_offset).is_some());
    store.set_disk_usage_probe(|_| Ok(50.0));
    assert_eq!(store.put_message(msg("D", 0, 3)).unwrap().queue_offset, 1);
}

#[test]
fn retention_deletes_old_files_but_never_held_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(cfg(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    for i in 0..1000 {
        store.put_message(msg("R", 0, i)).unwrap();
    }
    store.flush().unwrap();
    let held = store.get_message("R", 0, 0, 1, None).messages.remove(0);
    let files = std::fs::read_dir(dir.path().join("commitlog"))
        .unwrap()
        .count();
    assert!(files >= 5);
    let later = SystemTime::now() + Duration::from_secs(73 * 3600);
    let n = store.run_retention(
        later,
        Plan {
            delete_expired: true,
            force: false,
        },
    );
    assert_eq!(
        n, 0,
        "the oldest file is held by a reader; nothing behind it can go first"
    );
    assert_eq!(decode_record(&held).unwrap().queue_offset, 0);
    drop(held);
    // Not expired yet: nothing deleted.
    assert_eq!(
        store.run_retention(
            SystemTime::now(),
            Plan {
                delete_expired: true,
                force: false
            }
        ),
        0
    );
    let expired = Plan {
        delete_expired: true,
        force: false,
    };
    let n = retry_retention(&store, later, expired);
    assert!(n >= 4, "deleted {n}");
    assert!(store.commit_log_min_offset() > 0);
    let min = store.min_offset("R", 0);
    assert!(min > 0);
    let g = store.get_message("R", 0, 0, 4, None);
    assert_eq!(
        (g.status, g.next_begin_offset),
        (GetStatus::OffsetTooSmall, min)
    );
    let g = store.get_message("R", 0, min, 4, None);
    assert_eq!(g.status, GetStatus::Found);
    assert!(
        decode_record(&g.messages[0]).unwrap().commit_log_offset >= store.commit_log_min_offset()
    );
    drop(g);
    // Forced deletion under disk pressure removes the oldest file even if not expired.
    for i in 0..300 {
        store.put_message(msg("R", 0, i)).unwrap();
    }
    store.flush().unwrap();
    let before = store.commit_log_min_offset();
    let force = Plan {
        delete_expired: true,
        force: true,
    };
    let deleted = retry_retention(&store, SystemTime::now(), force);
    assert_eq!(deleted, 1, "forced deletion takes one file per pass");
    assert!(store.commit_log_min_offset() > before);
    store.put_message(msg("R", 0, 1)).unwrap();
}

#[test]
fn a_store_directory_is_opened_by_one_instance_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(cfg(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    store.prepare_queue("New", 2).unwrap();
    let t = Instant::now();
    assert!(matches!(
        MessageStore::open(cfg(dir.path(), FlushDiskType::AsyncFlush)),
        Err(StoreError::InUse { .. })
    ));
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(store.put_message(msg("New", 2, 0)).unwrap().queue_offset, 0);
    store.shutdown().unwrap();
    assert!(matches!(
        store.put_message(msg("New", 2, 1)),
        Err(StoreError::ShutDown)
    ));
    drop(store);
    let again = MessageStore::open(cfg(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    assert_eq!(again.max_offset("New", 2), 1);
}

#[test]
fn retention_thread_frees_space_under_disk_pressure() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path(), FlushDiskType::AsyncFlush);
    c.clean_resource_interval = 20;
    c.delete_commit_log_files_interval = 0;
    let store = MessageStore::open(c).unwrap();
    for i in 0..1000 {
        store.put_message(msg("P", 0, i)).unwrap();
    }
    store.flush().unwrap();
    // 88 %: above cleanForciblyRatio (85) but below the hard watermark (90): files go, appends
    // are still accepted.
    store.set_disk_usage_probe(|_| Ok(88.0));
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.commit_log_min_offset() < 3 * 64 * 1024 {
        assert!(
            Instant::now() < deadline,
            "retention thread deleted nothing"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(store.put_message(msg("P", 0, 1)).is_ok());
    // Pressure gone: deletions stop (let a pass in progress finish).
    store.set_disk_usage_probe(|_| Ok(50.0));
    std::thread::sleep(Duration::from_millis(200));
    assert!(store.min_offset("P", 0) > 0);
    let g = store.get_message("P", 0, store.min_offset("P", 0), 1, None);
    assert_eq!(g.status, GetStatus::Found);
}

#[test]
fn raw_commit_log_reads_and_memory_check() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(cfg(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    let a = store.put_message(msg("M", 0, 1)).unwrap();
    let b = store.put_message(msg("M", 0, 2)).unwrap();
    let raw = store.read_commit_log(a.phys_offset, 1 << 20).unwrap();
    assert_eq!(raw.len() as i64, a.wrote_bytes + b.wrote_bytes);
    assert_eq!(
        raw.slice(..a.wrote_bytes as usize),
        store.lookup(a.phys_offset).unwrap()
    );
    assert_eq!(store.read_commit_log(a.phys_offset, 10).unwrap().len(), 10);
    assert!(store
        .read_commit_log(store.commit_log_max_offset(), 10)
        .is_none());
    assert!(store.read_commit_log(-1, 10).is_none());
    assert!(store.is_in_memory("M", 0, 0));
    assert!(!store.is_in_memory("M", 0, 2));
    assert!(!store.is_in_memory("None", 0, 0));
}

/// Beyond the in-memory window (here: ratio 0, so every message), a pull gets the on-disk caps
/// (8 messages) only when its CommitLog range is not in the page cache; a cached backlog gets the
/// in-memory caps (32).
#[test]
fn disk_caps_apply_to_uncached_data_only() {
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(cfg(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    for i in 0..600 {
        store.put_message(msg("D", 0, i)).unwrap();
    }
    store
        .tunables
        .access_in_memory_max_ratio
        .store(0, Ordering::Relaxed);
    assert!(!store.is_in_memory("D", 0, 0), "outside the window");
    let pulled = |store: &MessageStore| store.get_message("D", 0, 0, 100, None).messages.len();
    assert_eq!(pulled(&store), 32, "written just now: still cached");
    // Write back (which also drops our mapping's page entries), then drop the first file from
    // the page cache through its own descriptor.
    store.flush().unwrap();
    let first = dir.path().join("commitlog").join("00000000000000000000");
    let f = std::fs::File::open(&first).unwrap();
    f.sync_all().unwrap();
    let rc = unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    assert_eq!(rc, 0);
    assert_eq!(pulled(&store), 8, "not cached: the on-disk caps");
    // Read back into the cache (as readahead or another reader would): the larger caps again.
    std::fs::read(&first).unwrap();
    assert_eq!(pulled(&store), 32);
}

#[test]
fn deleting_a_topic_drops_its_queues() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(cfg(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    for i in 0..10 {
        store.put_message(msg("Gone", (i % 2) as i32, i)).unwrap();
        store.put_message(msg("Kept", 0, i)).unwrap();
    }
    assert_eq!(store.queue_ids("Gone"), vec![0, 1]);
    assert_eq!(store.delete_topic("Gone").unwrap(), 2);
    assert!(store.queue_ids("Gone").is_empty());
    assert!(!dir.path().join("consumequeue/Gone").exists());
    assert_eq!(
        store.get_message("Gone", 0, 0, 1, None).status,
        GetStatus::NoMatchedLogicQueue
    );
    assert_eq!(store.max_offset("Kept", 0), 10);
    // A new message starts the topic afresh.
    assert_eq!(
        store.put_message(msg("Gone", 0, 1)).unwrap().queue_offset,
        0
    );
}

/// The store's own threads may hold a file for a moment (dispatch, flush): a pass skips it then
/// and a later one deletes it.
fn retry_retention(store: &MessageStore, now: SystemTime, plan: Plan) -> usize {
    for _ in 0..100 {
        let n = store.run_retention(now, plan);
        if n > 0 {
            return n;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    0
}
