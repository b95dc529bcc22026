//! Model-based property test: random appends over three queues (crossing 4 KiB CommitLog files and
//! 5-unit consume-queue files), clean reopens, reopens after a simulated crash (abort marker left),
//! and a corrupted last record. After every reopen the store must serve exactly the model.

use std::path::Path;

use actormq::protocol::message::decode_record;
use actormq::storage::{FlushDiskType, MessageStore, MessageToStore, StoreConfig};
use bytes::Bytes;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Append { queue: i32, len: usize, fill: u8 },
    Reopen { crash: bool },
    CorruptLast,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3i32, 0..1500usize, any::<u8>()).prop_map(|(queue, len, fill)| Op::Append { queue, len, fill }),
        1 => any::<bool>().prop_map(|crash| Op::Reopen { crash }),
        1 => Just(Op::CorruptLast),
    ]
}

fn cfg(dir: &Path) -> StoreConfig {
    let mut c = StoreConfig::with_root(dir);
    c.flush_disk_type = FlushDiskType::AsyncFlush;
    c.mapped_file_size_commit_log = 4096;
    c.mapped_file_size_consume_queue = 5 * 20;
    c.max_hash_slot_num = 16;
    c.max_index_num = 64;
    c
}

fn check(store: &MessageStore, model: &[Vec<Vec<u8>>]) -> Result<(), TestCaseError> {
    for (q, bodies) in model.iter().enumerate() {
        let q = q as i32;
        prop_assert_eq!(store.max_offset("M", q), bodies.len() as i64);
        let mut off = 0i64;
        while off < bodies.len() as i64 {
            let g = store.get_message("M", q, off, 32, None);
            prop_assert!(
                !g.messages.is_empty(),
                "queue {} offset {}: {:?}",
                q,
                off,
                g.status
            );
            for b in &g.messages {
                let m = decode_record(b).unwrap();
                prop_assert!(m.crc_ok());
                prop_assert_eq!(m.queue_offset, off);
                prop_assert_eq!(m.body.as_ref(), &bodies[off as usize][..]);
                off += 1;
            }
        }
    }
    prop_assert!(store.lookup(store.commit_log_max_offset()).is_none());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_model(ops in proptest::collection::vec(op(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let mut model: Vec<Vec<Vec<u8>>> = vec![Vec::new(); 3];
        // (queue, phys offset, size) of every stored record, in append order.
        let mut order: Vec<(i32, i64, i64)> = Vec::new();
        let mut store = MessageStore::open(cfg(dir.path())).unwrap();
        for op in ops {
            match op {
                Op::Append { queue, len, fill } => {
                    let body = vec![fill; len];
                    let r = store.put_message(MessageToStore::new("M", queue, Bytes::from(body.clone()), "")).unwrap();
                    prop_assert_eq!(r.queue_offset, model[queue as usize].len() as i64);
                    model[queue as usize].push(body);
                    order.push((queue, r.phys_offset, r.wrote_bytes));
                }
                Op::Reopen { crash } => {
                    store.shutdown().unwrap();
                    drop(store);
                    if crash {
                        std::fs::write(dir.path().join("abort"), b"").unwrap();
                    }
                    store = MessageStore::open(cfg(dir.path())).unwrap();
                    check(&store, &model)?;
                }
                Op::CorruptLast => {
                    let Some(&(queue, phys, _)) = order.last() else { continue };
                    store.shutdown().unwrap();
                    drop(store);
                    let start = phys as u64 / 4096 * 4096;
                    let path = dir.path().join("commitlog").join(format!("{start:020}"));
                    let mut bytes = std::fs::read(&path).unwrap();
                    // Break the magic: the record is torn whatever its body length.
                    bytes[(phys as u64 - start) as usize + 5] ^= 0xFF;
                    std::fs::write(&path, bytes).unwrap();
                    store = MessageStore::open(cfg(dir.path())).unwrap();
                    model[queue as usize].pop();
                    order.pop();
                    check(&store, &model)?;
                }
            }
        }
        check(&store, &model)?;
    }
}
