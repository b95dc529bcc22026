//! Recovery at open.
//!
//! The `abort` marker exists while the store runs. At open:
//! * **Clean stop** (no marker): everything was flushed and checkpointed; only the last three
//!   CommitLog files are scanned to find the exact end.
//! * **Crash** (marker present): scanning starts at the newest CommitLog file whose first record is
//!   older than the checkpoint's minimum timestamp (minus 3 s), i.e. before anything a consume
//!   queue or the index might miss.
//! * **Missing or damaged consume queue** (no `consumequeue/`, a file of the wrong size, or a last
//!   unit that does not point at a matching record, or a queue that lacks units from before the
//!   scanned range, e.g. its directory was deleted): the queue is dropped or completed and the whole
//!   CommitLog is re-scanned to rebuild it.
//!
//! The scan verifies each record's magic, size, physical offset and body CRC and stops at the
//! first record that fails; the CommitLog is truncated there (tail zeroed, later files removed), so
//! nothing past the recovered end can ever be served. Each valid record's CQ unit is re-written at
//! its QUEUEOFFSET when missing or different (idempotent), units pointing past the end are dropped,
//! and the index resumes after the last record it holds (see `dispatcher.rs`).

use std::sync::Arc;

use super::checkpoint::Checkpoint;
use super::commit_log::{CommitLog, Slot};
use super::config::StoreConfig;
use super::consume_queue::{ConsumeQueue, CqUnit};
use super::dispatcher::RecordView;
use super::error::StoreError;
use super::index_file::IndexService;
use super::mapped_file::{Allocator, MappedFile};
use super::store::CqTable;
use crate::protocol::message::{body_crc, properties, tags_code, BLANK_MAGIC, MESSAGE_MAGIC};

/// The delay topic whose CQ tags code is the delivery time.
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";

pub struct Recovered {
    pub queues: CqTable,
    pub last_timestamp: i64,
    /// Whether the last run ended without a clean shutdown.
    pub abnormal: bool,
    /// Whether consume queues were rebuilt from the start of the CommitLog.
    pub rebuilt: bool,
}

fn load_queues(cfg: &StoreConfig, alloc: &Arc<Allocator>) -> (CqTable, bool) {
    let root = cfg.consume_queue_dir();
    let mut table = CqTable::default();
    let mut damaged = false;
    let Ok(topics) = std::fs::read_dir(&root) else {
        return (table, false);
    };
    for t in topics.flatten() {
        let topic = t.file_name().to_string_lossy().to_string();
        let Ok(qs) = std::fs::read_dir(t.path()) else {
            continue;
        };
        for q in qs.flatten() {
            let Ok(qid) = q.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let cq = ConsumeQueue::new(&root, &topic, qid, cfg.cq_file_size(), Some(alloc.clone()));
            if let Err(e) = cq.load() {
                tracing::warn!("consume queue {topic}/{qid} is damaged ({e}); rebuilding it");
                cq.destroy();
                damaged = true;
            }
            table
                .entry(topic.clone())
                .or_default()
                .insert(qid, Arc::new(cq));
        }
    }
    (table, damaged)
}

/// Whether the newest unit of `cq` names a record of this queue at that offset.
fn last_unit_matches(cl: &CommitLog, cq: &ConsumeQueue) -> bool {
    let max = cq.max_offset();
    if max == 0 {
        return true;
    }
    let Some(u) = cq.get(max - 1) else {
        return false;
    };
    if !u.is_message() {
        return u.is_filler();
    }
    let Some(b) = cl.read(u.phys_offset as u64, u.size as usize) else {
        return false;
    };
    match RecordView::parse(&b) {
        Some(r) => {
            r.topic == cq.topic()
                && r.queue_id == cq.queue_id()
                && r.queue_offset == (max - 1) as i64
        }
        None => false,
    }
}

fn first_record_time(f: &MappedFile) -> Option<i64> {
    let b = f.bytes();
    let size = i32::from_be_bytes(b[0..4].try_into().unwrap());
    if size <= 0 || size as u64 > f.size() {
        return None;
    }
    RecordView::parse(&b[..size as usize]).map(|r| r.store_timestamp)
}

/// The CQ tags code of a recovered record.
pub fn unit_tags_code(cfg: &StoreConfig, r: &RecordView<'_>) -> i64 {
    if r.topic == SCHEDULE_TOPIC {
        if let Some(level) =
            properties::find(r.properties, properties::DELAY).and_then(|d| d.parse::<i64>().ok())
        {
            return r.store_timestamp + cfg.delay_level_millis(level);
        }
    }
    tags_code(properties::find(r.properties, properties::TAGS))
}

/// Validate the record at `p` of `f`: `Ok(Some(view))` for a good record, `Ok(None)` for the
/// end-of-file blank, `Err(())` for the end of valid data.
fn check_at(f: &MappedFile, p: u64) -> Result<Option<RecordView<'_>>, ()> {
    let b = f.bytes();
    if p + 8 > f.size() {
        return Err(());
    }
    let at = p as usize;
    let size = i32::from_be_bytes(b[at..at + 4].try_into().unwrap());
    let magic = u32::from_be_bytes(b[at + 4..at + 8].try_into().unwrap());
    if magic == BLANK_MAGIC && size as u64 == f.size() - p {
        return Ok(None);
    }
    if magic != MESSAGE_MAGIC || size < 8 || p + size as u64 > f.size() {
        return Err(());
    }
    let r = RecordView::parse(&b[at..at + size as usize]).ok_or(())?;
    if r.phys_offset as u64 != f.start() + p || body_crc(r.body) != r.body_crc {
        return Err(());
    }
    Ok(Some(r))
}

pub fn recover(
    cfg: &StoreConfig,
    cl: &CommitLog,
    index: Option<&IndexService>,
    ckpt: &Checkpoint,
    alloc: &Arc<Allocator>,
) -> Result<Recovered, StoreError> {
    let abnormal = cfg.abort_path().exists();
    let ck = ckpt.read();
    cl.files().load()?;
    let (mut queues, mut rebuild) = load_queues(cfg, alloc);
    let files = cl.files().files();
    if queues.is_empty() && !files.is_empty() {
        rebuild = true;
    }
    for cq in queues.values().flat_map(|m| m.values()) {
        if !last_unit_matches(cl, cq) {
            tracing::warn!(
                "consume queue {}/{} does not match the CommitLog; rebuilding",
                cq.topic(),
                cq.queue_id()
            );
            cq.destroy();
            rebuild = true;
        }
    }
    if abnormal {
        tracing::warn!("abort marker found: recovering after an abnormal stop");
    }
    let start_idx = if rebuild || files.is_empty() {
        0
    } else if abnormal {
        let min_ts = ck.min_timestamp(cfg.message_index_enable) - 3000;
        (0..files.len())
            .rev()
            .find(|&i| first_record_time(&files[i]).is_some_and(|t| t <= min_ts))
            .unwrap_or(0)
    } else {
        files.len().saturating_sub(3)
    };

    let mut start_idx = start_idx;
    let (end, last_ts) = loop {
        let mut last_ts = ck.physic_msg_timestamp;
        match scan(cfg, &files, start_idx, &mut queues, alloc, &mut last_ts)? {
            Scan::End(end) => break (end, last_ts),
            Scan::Gap(what) => {
                // A queue misses units from before the scanned range (its directory was deleted
                // or damaged): rebuild from the first file.
                tracing::warn!("{what}; re-scanning the whole CommitLog");
                start_idx = 0;
                rebuild = true;
            }
        }
    };
    if end < cl.files().max_offset() {
        match tail_records(&cl.files().files(), end) {
            0 => tracing::debug!("CommitLog recovered to offset {end}; the rest is unused"),
            n => tracing::warn!(
                "CommitLog recovered to offset {end}; dropping {n} record(s) after it that \
                 failed their checks (torn or corrupt), {} bytes in all",
                cl.max_offset() - end
            ),
        }
    }
    cl.files().truncate(end)?;
    for f in cl.files().files() {
        f.set_flushed(f.wrote_pos());
    }
    let min_phys = cl.min_offset();
    for cq in queues.values().flat_map(|m| m.values()) {
        cq.truncate_dirty(end)?;
        cq.recompute_min(min_phys);
    }
    if let Some(ix) = index {
        ix.load(abnormal.then_some(ck.index_msg_timestamp))?;
        ix.clamp_to(end as i64);
    }
    Ok(Recovered {
        queues,
        last_timestamp: last_ts,
        abnormal,
        rebuilt: rebuild,
    })
}

/// How many records (judged by their size and magic words) start at `end`, where recovery
/// stopped. 0 means the tail is the unused, zeroed part of a file: nothing is lost.
fn tail_records(files: &[Arc<MappedFile>], end: u64) -> usize {
    let Some(f) = files
        .iter()
        .find(|f| f.start() <= end && end < f.start() + f.size())
    else {
        return 0;
    };
    let b = f.bytes();
    let mut p = (end - f.start()) as usize;
    let mut n = 0;
    while p + 8 <= b.len() {
        let size = i32::from_be_bytes(b[p..p + 4].try_into().unwrap());
        let magic = u32::from_be_bytes(b[p + 4..p + 8].try_into().unwrap());
        if size == 0 && magic == 0 {
            break;
        }
        n += 1;
        if magic != MESSAGE_MAGIC || size < 8 {
            break;
        }
        p += size as usize;
    }
    n
}

enum Scan {
    End(u64),
    Gap(String),
}

/// Verify records from `files[start_idx]` on, re-writing missing or different CQ units. Stops at
/// the first invalid record. With `start_idx > 0`, a record whose queue lacks earlier units is
/// reported as a gap.
fn scan(
    cfg: &StoreConfig,
    files: &[Arc<MappedFile>],
    start_idx: usize,
    queues: &mut CqTable,
    alloc: &Arc<Allocator>,
    last_ts: &mut i64,
) -> Result<Scan, StoreError> {
    let mut end = files.get(start_idx).map(|f| f.start()).unwrap_or(0);
    'files: for f in &files[start_idx.min(files.len())..] {
        if f.start() != end {
            break; // a gap between files: everything after it is unreachable
        }
        let mut p = 0;
        loop {
            match check_at(f, p) {
                Ok(Some(r)) => {
                    if r.is_dispatched() && r.queue_offset >= 0 {
                        let cq = queues
                            .entry(r.topic.to_string())
                            .or_default()
                            .entry(r.queue_id)
                            .or_insert_with(|| {
                                Arc::new(ConsumeQueue::new(
                                    &cfg.consume_queue_dir(),
                                    r.topic,
                                    r.queue_id,
                                    cfg.cq_file_size(),
                                    Some(alloc.clone()),
                                ))
                            });
                        let qoff = r.queue_offset as u64;
                        if start_idx > 0 && qoff > cq.max_offset() {
                            return Ok(Scan::Gap(format!(
                                "consume queue {}/{} ends at {} but the CommitLog has offset {qoff}",
                                r.topic,
                                r.queue_id,
                                cq.max_offset()
                            )));
                        }
                        let unit = CqUnit {
                            phys_offset: r.phys_offset,
                            size: r.size as i32,
                            tags_code: unit_tags_code(cfg, &r),
                        };
                        if cq.get(qoff) != Some(unit) {
                            cq.put(qoff, unit)?;
                        }
                    }
                    *last_ts = r.store_timestamp;
                    p += r.size as u64;
                    end = f.start() + p;
                }
                Ok(None) => {
                    end = f.end();
                    continue 'files;
                }
                Err(()) => break 'files,
            }
        }
    }
    Ok(Scan::End(end))
}

/// Where the dispatcher resumes indexing: after the last indexed record.
pub fn index_resume_offset(cl: &CommitLog, indexed_until: i64) -> u64 {
    let (min, max) = (cl.min_offset(), cl.max_offset());
    if indexed_until < min as i64 {
        return min;
    }
    let at = indexed_until as u64;
    if at + 1 >= max {
        return max;
    }
    match cl.slot(at) {
        Slot::Record(b) => at + b.len() as u64,
        _ => min,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::{encode_record, RecordFields};

    #[test]
    fn schedule_topic_units_carry_the_delivery_time() {
        let cfg = StoreConfig::with_root("/x");
        for (topic, props, want) in [
            (SCHEDULE_TOPIC, "DELAY\u{1}3\u{2}TAGS\u{1}a", 1000 + 10_000),
            ("Normal", "DELAY\u{1}3\u{2}TAGS\u{1}a", tags_code(Some("a"))),
            (SCHEDULE_TOPIC, "TAGS\u{1}a", tags_code(Some("a"))),
        ] {
            let f = RecordFields {
                born_host: "127.0.0.1:1".parse().unwrap(),
                store_host: "127.0.0.1:2".parse().unwrap(),
                ..RecordFields::plain(topic, 2, b"", props)
            };
            let mut b = vec![0u8; f.stored_size()];
            encode_record(&mut b, &f, 0, 0, 0, 1000).unwrap();
            assert_eq!(
                unit_tags_code(&cfg, &RecordView::parse(&b).unwrap()),
                want,
                "{topic} {props:?}"
            );
        }
    }
}
