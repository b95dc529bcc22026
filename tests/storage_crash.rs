//! Crash test with a real child process. The child (this test binary re-run with
//! `ACTORMQ_CRASH_CHILD_DIR` set, filtered to `crash_child`) appends under SYNC_FLUSH from four
//! threads and prints `ACK id phys queue_id queue_offset size` after each append is acknowledged
//! (durable). The parent SIGKILLs it at a random moment (sometimes during start-up/recovery),
//! reopens the store, and checks that every acknowledged record is present and intact, that queue
//! offsets stay consistent, and that nothing past the recovered end is served. 25 cycles on one
//! store directory, bounded in time.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actormq::protocol::message::decode_record;
use actormq::storage::{FlushDiskType, GetStatus, MessageStore, MessageToStore, StoreConfig};
use bytes::Bytes;
use common::line_channel;
use rand::Rng;

const CHILD_DIR: &str = "ACTORMQ_CRASH_CHILD_DIR";
const CHILD_START: &str = "ACTORMQ_CRASH_CHILD_START";
const TOPIC: &str = "Crash";
const QUEUES: i32 = 4;

fn cfg(dir: &Path) -> StoreConfig {
    let mut c = StoreConfig::with_root(dir);
    c.flush_disk_type = FlushDiskType::SyncFlush;
    c.mapped_file_size_commit_log = 64 * 1024;
    c.mapped_file_size_consume_queue = 50 * 20;
    c.max_hash_slot_num = 128;
    c.max_index_num = 2000;
    c.flush_interval_consume_queue = 20;
    c
}

fn body(id: u64) -> Vec<u8> {
    (0..(64 + id % 700))
        .map(|j| (id.wrapping_mul(31).wrapping_add(j)) as u8)
        .collect()
}

#[derive(Debug, Clone, Copy)]
struct Ack {
    id: u64,
    phys: i64,
    queue_id: i32,
    queue_offset: i64,
    size: i64,
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut it = line.strip_prefix("ACK ")?.split(' ');
    let mut n = || it.next()?.parse::<i64>().ok();
    let a = Ack {
        id: n()? as u64,
        phys: n()?,
        queue_id: n()? as i32,
        queue_offset: n()?,
        size: n()?,
    };
    it.next().is_none().then_some(a)
}

/// Append from 4 threads until `stop`; report each acknowledged append.
fn append_loop(
    store: &Arc<MessageStore>,
    start: u64,
    stop: &Arc<AtomicBool>,
    report: impl Fn(Ack) + Send + Sync,
) {
    std::thread::scope(|s| {
        for t in 0..QUEUES as u64 {
            let report = &report;
            s.spawn(move || {
                let mut k = 0;
                while !stop.load(Ordering::Relaxed) {
                    let id = start + t + QUEUES as u64 * k;
                    k += 1;
                    let props = format!("KEYS\u{1}id{id}\u{2}UNIQ_KEY\u{1}U{id}");
                    let m = MessageToStore::new(TOPIC, t as i32, Bytes::from(body(id)), &props);
                    let r = match store.put_message(m) {
                        Ok(r) => r,
                        Err(_) => return,
                    };
                    if r.durability.wait().is_ok() {
                        report(Ack {
                            id,
                            phys: r.phys_offset,
                            queue_id: t as i32,
                            queue_offset: r.queue_offset,
                            size: r.wrote_bytes,
                        });
                    }
                }
            });
        }
    });
}

/// Every acknowledged record is present, intact and reachable through its queue; the queues'
/// tails (or all of them with `full`) hold only intact records before the CommitLog end.
fn verify(store: &MessageStore, acks: &[Ack], full: bool) {
    let end = store.commit_log_max_offset();
    for a in acks {
        let Some(b) = store.lookup(a.phys) else {
            let start = a.phys as u64 / 65536 * 65536;
            let path = store.config().commit_log_dir().join(format!("{start:020}"));
            let raw = std::fs::read(&path).unwrap_or_default();
            let at = (a.phys as u64 - start) as usize;
            let rec = Bytes::copy_from_slice(
                &raw[at.min(raw.len())..(at + a.size as usize).min(raw.len())],
            );
            panic!(
                "acknowledged {a:?} is missing (end {end}); file len {}, bytes {:02x?}, decode {:?}",
                raw.len(),
                &rec[..rec.len().min(48)],
                decode_record(&rec).map(|m| (m.crc_ok(), m.commit_log_offset, m.queue_offset))
            );
        };
        assert_eq!(b.len() as i64, a.size);
        let m = decode_record(&b).unwrap();
        assert!(m.crc_ok(), "{a:?} corrupt");
        assert_eq!(m.body.as_ref(), &body(a.id)[..], "{a:?} body");
        assert_eq!((m.queue_id, m.queue_offset), (a.queue_id, a.queue_offset));
        assert_eq!(m.property("UNIQ_KEY"), Some(format!("U{}", a.id).as_str()));
        let g = store.get_message(TOPIC, a.queue_id, a.queue_offset, 1, None);
        assert_eq!(g.status, GetStatus::Found);
        assert_eq!(g.messages[0], b);
    }
    assert!(
        store.lookup(end).is_none(),
        "something is served past the recovered end"
    );
    for q in 0..QUEUES {
        let max = store.max_offset(TOPIC, q);
        let from = if full {
            store.min_offset(TOPIC, q)
        } else {
            (max - 100).max(0)
        };
        for off in from..max {
            let g = store.get_message(TOPIC, q, off, 1, None);
            assert_eq!(
                g.status,
                GetStatus::Found,
                "queue {q} offset {off} of {max}"
            );
            let m = decode_record(&g.messages[0]).unwrap();
            assert!(m.crc_ok());
            assert_eq!((m.queue_id, m.queue_offset), (q, off));
            assert!(m.commit_log_offset + m.store_size as i64 <= end);
        }
        assert_eq!(
            store.get_message(TOPIC, q, max, 1, None).status,
            GetStatus::OffsetOverflowOne
        );
    }
}

/// Child entry point. Without the environment variable it runs the same workload in-process for a
/// moment and verifies it after a clean restart, so it is a real test on its own too.
#[test]
fn crash_child() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        let start: u64 = std::env::var(CHILD_START).unwrap().parse().unwrap();
        let store = MessageStore::open(cfg(Path::new(&dir))).unwrap();
        let out = Mutex::new(std::io::stdout());
        let stop = Arc::new(AtomicBool::new(false));
        append_loop(&store, start, &stop, |a| {
            let mut o = out.lock().unwrap();
            let _ = writeln!(
                o,
                "ACK {} {} {} {} {}",
                a.id, a.phys, a.queue_id, a.queue_offset, a.size
            );
            let _ = o.flush();
        });
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let acks = Mutex::new(Vec::new());
    {
        let store = MessageStore::open(cfg(dir.path())).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let timer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            s2.store(true, Ordering::Relaxed);
        });
        append_loop(&store, 0, &stop, |a| acks.lock().unwrap().push(a));
        timer.join().unwrap();
        store.shutdown().unwrap();
    }
    let acks = acks.into_inner().unwrap();
    assert!(!acks.is_empty());
    let store = MessageStore::open(cfg(dir.path())).unwrap();
    verify(&store, &acks, true);
}

#[test]
fn sigkill_during_sync_appends_loses_no_acknowledged_record() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::thread_rng();
    let mut all: Vec<Ack> = Vec::new();
    let cycles = 25;
    let mut killed_early = 0;
    for cycle in 0..cycles {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_START, (cycle as u64 * 10_000_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = line_channel(child.stdout.take().unwrap());
        let got: Arc<Mutex<Vec<Ack>>> = Arc::default();
        let g2 = got.clone();
        let reader = std::thread::spawn(move || {
            for line in lines {
                if let Some(a) = parse_ack(&line) {
                    g2.lock().unwrap().push(a);
                }
            }
        });
        if cycle % 5 == 4 {
            // Kill early: during start-up, recovery or the first appends.
            std::thread::sleep(Duration::from_millis(rng.gen_range(0..40)));
            killed_early += 1;
        } else {
            let deadline = Instant::now() + Duration::from_secs(20);
            while got.lock().unwrap().is_empty() {
                assert!(
                    Instant::now() < deadline,
                    "child never acknowledged anything"
                );
                std::thread::sleep(Duration::from_millis(2));
            }
            std::thread::sleep(Duration::from_millis(rng.gen_range(5..250)));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        let acks = std::mem::take(&mut *got.lock().unwrap());
        all.extend(acks);

        let store = MessageStore::open(cfg(dir.path())).unwrap();
        verify(&store, &all, false);
        // Queue offsets were handed out once each.
        let mut seen = std::collections::HashSet::new();
        for a in &all {
            assert!(
                seen.insert((a.queue_id, a.queue_offset)),
                "queue offset reused: {a:?}"
            );
        }
        store.shutdown().unwrap();
        drop(store);
        if cycle % 2 == 1 {
            // As if the verifier crashed too: the next child recovers abnormally.
            std::fs::write(dir.path().join("abort"), b"").unwrap();
        }
    }
    assert!(
        all.len() > 100,
        "only {} acknowledgements in {cycles} cycles",
        all.len()
    );
    assert_eq!(killed_early, 5);
    let store = MessageStore::open(cfg(dir.path())).unwrap();
    verify(&store, &all, true);
    // The index was rebuilt past each crash: sampled acknowledged keys are found.
    for a in all.iter().step_by((all.len() / 20).max(1)) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let hits = store.query_by_key(TOPIC, &format!("id{}", a.id), 4, 0, i64::MAX);
            if hits.len() == 1 {
                assert_eq!(decode_record(&hits[0]).unwrap().commit_log_offset, a.phys);
                break;
            }
            if Instant::now() >= deadline {
                let offs: Vec<i64> = hits
                    .iter()
                    .map(|h| decode_record(h).unwrap().commit_log_offset)
                    .collect();
                let files: Vec<String> = std::fs::read_dir(dir.path().join("index"))
                    .map(|rd| {
                        rd.flatten()
                            .map(|e| e.file_name().to_string_lossy().to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                panic!("key of {a:?} not indexed: hits at {offs:?}; index files {files:?}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    eprintln!(
        "{} acknowledged records over {cycles} SIGKILL cycles in {:?}",
        all.len(),
        t0.elapsed()
    );
    assert!(t0.elapsed() < Duration::from_secs(120));
}
