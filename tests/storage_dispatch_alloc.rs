//! The store's dispatcher allocates nothing per message (issue 16): 10,000 records with TAGS,
//! KEYS and UNIQ_KEY go through the real CommitLog, IndexService and `Dispatcher::round`, run on
//! this thread, while a counting global allocator (this test binary only) counts the heap
//! allocations made by this thread. A fixed number per round (the arrival map, a new index file,
//! the listener's slice) is fine; one or more per record is the defect this test guards against.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actormq::protocol::message::{body_crc, encode_record, pos, RecordFields};
use actormq::storage::commit_log::CommitLog;
use actormq::storage::dispatcher::Dispatcher;
use actormq::storage::index_file::IndexService;
use actormq::storage::Arrival;

/// Counts allocations (alloc, alloc_zeroed, realloc) made by the current thread.
struct CountingAlloc;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    // `try_with`: the slot may already be gone while a thread is being torn down.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

fn allocs_on_this_thread() -> u64 {
    ALLOCS.with(|c| c.get())
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

const RECORDS: usize = 10_000;
const TOPICS: [&str; 3] = ["TopicA", "TopicB", "Tópico\u{1F600}"];

fn record(topic: &str, queue_id: i32, i: usize) -> Vec<u8> {
    let props = format!(
        "TAGS\u{1}tag{}\u{2}KEYS\u{1}k{i}  shared \u{2}UNIQ_KEY\u{1}U{i:08}",
        i % 3
    );
    let body = vec![(i % 251) as u8; 100 + i % 50];
    let f = RecordFields {
        born_timestamp: 1,
        born_host: "127.0.0.1:1".parse().unwrap(),
        ..RecordFields::plain(topic, queue_id, &body, &props)
    };
    let mut b = vec![0u8; f.stored_size()];
    let ts = 1_700_000_000_000 + i as i64;
    encode_record(&mut b, &f, body_crc(&body), (i / 12) as i64, 0, ts).unwrap();
    b
}

#[test]
fn dispatching_records_allocates_nothing_per_message() {
    let dir = tempfile::tempdir().unwrap();
    // 1 MiB CommitLog files: the round crosses an end-of-file blank.
    let cl = Arc::new(CommitLog::new(
        dir.path().join("commitlog"),
        1 << 20,
        None,
        false,
    ));
    // 30,000 index entries in files of 20,000: the round also rolls the index over once.
    let ix = Arc::new(IndexService::new(dir.path().join("index"), 4096, 20_000));
    let d = Dispatcher::new(cl.clone(), Some(ix.clone()), 0);
    let (calls, queues) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (c2, q2) = (calls.clone(), queues.clone());
    d.add_listener(Arc::new(move |a: &[Arrival]| {
        c2.fetch_add(1, Ordering::Relaxed);
        q2.fetch_add(a.len(), Ordering::Relaxed);
    }));
    let mut first_phys = Vec::new();
    for i in 0..RECORDS {
        // 3 topics x 4 queues.
        let b = record(TOPICS[i % 3], (i / 3 % 4) as i32, i);
        let phys = cl
            .append_locked(b.len(), |buf, phys| {
                buf.copy_from_slice(&b);
                buf[pos::PHYSICAL_OFFSET..pos::PHYSICAL_OFFSET + 8]
                    .copy_from_slice(&(phys as i64).to_be_bytes());
                Ok(())
            })
            .unwrap();
        if i < 3 {
            first_phys.push(phys);
        }
    }
    assert!(
        cl.files().files().len() >= 2,
        "the records span two CommitLog files"
    );

    let before = allocs_on_this_thread();
    let n = d.round();
    let allocs = allocs_on_this_thread() - before;

    assert_eq!(n, RECORDS);
    assert_eq!(d.position(), cl.max_offset());
    assert_eq!(
        calls.load(Ordering::Relaxed),
        1,
        "one notification per round"
    );
    assert_eq!(
        queues.load(Ordering::Relaxed),
        12,
        "3 topics x 4 queues grew"
    );
    println!("dispatching {RECORDS} records allocated {allocs} times");
    assert!(
        allocs < 100,
        "dispatching {RECORDS} records allocated {allocs} times: that is per message"
    );

    // The index answers by UNIQ_KEY and by each KEYS token, per topic.
    let all = (0, i64::MAX);
    for (i, topic) in TOPICS.iter().enumerate() {
        let want = first_phys[i] as i64;
        assert!(ix
            .query(topic, &format!("k{i}"), 10, all.0, all.1)
            .contains(&want));
        assert!(ix
            .query(topic, &format!("U{i:08}"), 10, all.0, all.1)
            .contains(&want));
        assert!(ix
            .query(topic, "shared", 100_000, all.0, all.1)
            .contains(&want));
    }
    assert!(
        ix.query("TopicA", "k1", 10, all.0, all.1).is_empty(),
        "k1 is TopicB's"
    );
}
