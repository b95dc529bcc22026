//! The dispatcher: a background thread that follows the CommitLog and, for every new record,
//! builds its index entries and tells subscribers which queues grew.
//!
//! Why ConsumeQueue units are *not* written here: a pull must see a message as soon as its append is
//! acknowledged. Writing the 20-byte unit inline under the put lock (see `store.rs`) costs a memcpy
//! and makes that true by construction, while a hand-off to this thread would add a cross-core
//! wake-up (20-30 us on this VM) before a message becomes visible. The index and the long-poll
//! notifications tolerate that latency, and doing them here keeps hashing and allocation off the
//! append path. Notifications are batched: one call per dispatch round with the newest max offset
//! per queue.

use crate::fast_map::FastMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::RwLock;

use super::commit_log::{CommitLog, Slot};
use super::index_file::IndexService;
use super::mapped_file::MappedFile;
use crate::protocol::message::properties::DispatchProps;
use crate::protocol::message::{pos, properties, sys_flag, tags_code};

/// After a round of fewer than [`COALESCE_BELOW`] records the thread waits this long before the
/// next one. Why: under sync sends each append found the thread asleep and woke it, ~9,000
/// wake-ups a second at 60 k msg/s on a 2-core machine, each a context switch that costs more
/// than the round itself. Waiting 1 ms bounds that at 1,000 while the index and long-poll
/// notices (the only things that wait on this thread) trail by at most 1 ms more, as with
/// RocketMQ's ReputMessageService, which sleeps 1 ms between rounds.
const COALESCE: Duration = Duration::from_millis(1);
/// A round this large means the thread is behind: go straight on.
const COALESCE_BELOW: usize = 256;

/// "Queue (topic, queue_id) now ends at `max_offset`"; `tags_code` is that of its newest unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    pub topic: String,
    pub queue_id: i32,
    pub max_offset: i64,
    pub tags_code: i64,
}

/// Called once per dispatch round with every queue that grew.
pub type ArrivalListener = Arc<dyn Fn(&[Arrival]) + Send + Sync>;

/// The fields of a stored record the dispatcher and recovery need, read without allocating.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    pub size: usize,
    pub queue_id: i32,
    pub queue_offset: i64,
    pub phys_offset: i64,
    pub sys_flag: i32,
    pub store_timestamp: i64,
    pub body: &'a [u8],
    pub body_crc: u32,
    pub topic: &'a str,
    pub properties: &'a str,
}

impl<'a> RecordView<'a> {
    /// Parse a record (already bounded to its size); `None` if the fields do not add up.
    pub fn parse(b: &'a [u8]) -> Option<RecordView<'a>> {
        let rd4 = |at: usize| {
            b.get(at..at + 4)
                .map(|s| i32::from_be_bytes(s.try_into().unwrap()))
        };
        let rd8 = |at: usize| {
            b.get(at..at + 8)
                .map(|s| i64::from_be_bytes(s.try_into().unwrap()))
        };
        let size = rd4(0)? as usize;
        if size != b.len() {
            return None;
        }
        let sys = rd4(pos::SYS_FLAG)?;
        let born_len = if sys & sys_flag::BORNHOST_V6 != 0 {
            20
        } else {
            8
        };
        let store_len = if sys & sys_flag::STOREHOST_V6 != 0 {
            20
        } else {
            8
        };
        let store_ts_at = pos::BORN_HOST + born_len;
        let body_len_at = store_ts_at + 8 + store_len + 4 + 8;
        let body_len = usize::try_from(rd4(body_len_at)?).ok()?;
        let body_at = body_len_at + 4;
        let topic_len_at = body_at.checked_add(body_len)?;
        let topic_len = *b.get(topic_len_at)? as usize;
        let props_len_at = topic_len_at + 1 + topic_len;
        let props_len = usize::try_from(i16::from_be_bytes(
            b.get(props_len_at..props_len_at + 2)?.try_into().unwrap(),
        ))
        .ok()?;
        if props_len_at + 2 + props_len != size {
            return None;
        }
        Some(RecordView {
            size,
            queue_id: rd4(pos::QUEUE_ID)?,
            queue_offset: rd8(pos::QUEUE_OFFSET)?,
            phys_offset: rd8(pos::PHYSICAL_OFFSET)?,
            sys_flag: sys,
            store_timestamp: rd8(store_ts_at)?,
            body: &b[body_at..body_at + body_len],
            body_crc: rd4(pos::BODY_CRC)? as u32,
            topic: std::str::from_utf8(&b[topic_len_at + 1..props_len_at]).ok()?,
            properties: std::str::from_utf8(&b[props_len_at + 2..size]).ok()?,
        })
    }

    /// Whether the record gets a consume-queue unit (not a prepared/rolled-back transaction).
    pub fn is_dispatched(&self) -> bool {
        let t = sys_flag::transaction_value(self.sys_flag);
        t != sys_flag::TRANSACTION_PREPARED_TYPE && t != sys_flag::TRANSACTION_ROLLBACK_TYPE
    }

    /// TAGS, KEYS and UNIQ_KEY, read in one pass over the properties.
    pub fn props(&self) -> DispatchProps<'a> {
        properties::dispatch_props(self.properties)
    }

    /// Keys to index: UNIQ_KEY and each KEYS token (rolled-back transactions are not indexed).
    pub fn index_keys(&self) -> impl Iterator<Item = &'a str> {
        self.index_keys_of(self.props())
    }

    /// [`Self::index_keys`] from properties already read with [`Self::props`].
    pub fn index_keys_of(&self, p: DispatchProps<'a>) -> impl Iterator<Item = &'a str> {
        let rolled_back =
            sys_flag::transaction_value(self.sys_flag) == sys_flag::TRANSACTION_ROLLBACK_TYPE;
        if rolled_back {
            DispatchProps::default()
        } else {
            p
        }
        .index_keys()
    }
}

/// The queues that grew in one round, newest offset each. Looked up by the record's borrowed
/// topic, so only a topic or queue seen for the first time in the round allocates.
#[derive(Default)]
struct Arrivals {
    list: Vec<Arrival>,
    /// topic -> queue id -> index in `list`.
    by_queue: FastMap<String, FastMap<i32, usize>>,
}

impl Arrivals {
    fn note(&mut self, r: &RecordView<'_>, tags: Option<&str>) {
        let tags_code = tags_code(tags);
        let max_offset = r.queue_offset + 1;
        if let Some(&i) = self.by_queue.get(r.topic).and_then(|q| q.get(&r.queue_id)) {
            let a = &mut self.list[i];
            (a.max_offset, a.tags_code) = (max_offset, tags_code);
            return;
        }
        let queues = match self.by_queue.get_mut(r.topic) {
            Some(q) => q,
            None => self.by_queue.entry(r.topic.to_string()).or_default(),
        };
        queues.insert(r.queue_id, self.list.len());
        self.list.push(Arrival {
            topic: r.topic.to_string(),
            queue_id: r.queue_id,
            max_offset,
            tags_code,
        });
    }
}

pub struct Dispatcher {
    cl: Arc<CommitLog>,
    index: Option<Arc<IndexService>>,
    listeners: RwLock<Vec<ArrivalListener>>,
    position: AtomicU64,
    wake_tx: Sender<()>,
    wake_rx: Receiver<()>,
    stop: AtomicBool,
    /// One round at a time (the thread, and `MessageStore::flush`/shutdown).
    round_lock: parking_lot::Mutex<()>,
    sleeping: AtomicBool,
}

impl Dispatcher {
    pub fn new(cl: Arc<CommitLog>, index: Option<Arc<IndexService>>, from: u64) -> Arc<Dispatcher> {
        let (wake_tx, wake_rx) = crossbeam_channel::bounded(1);
        Arc::new(Dispatcher {
            cl,
            index,
            listeners: RwLock::new(Vec::new()),
            position: AtomicU64::new(from),
            wake_tx,
            wake_rx,
            stop: AtomicBool::new(false),
            round_lock: parking_lot::Mutex::new(()),
            sleeping: AtomicBool::new(false),
        })
    }

    pub fn start(self: &Arc<Self>) -> std::thread::JoinHandle<()> {
        let me = self.clone();
        std::thread::Builder::new()
            .name("store-dispatch".into())
            .spawn(move || me.run())
            .expect("spawn dispatcher")
    }

    pub fn add_listener(&self, l: ArrivalListener) {
        self.listeners.write().push(l);
    }

    /// Nudge the thread (cheap when it is already awake: a full channel drops the nudge).
    /// Only a sleeping thread is signalled, so a busy dispatcher costs appenders one load.
    pub fn wake(&self) {
        if self.sleeping.load(Ordering::SeqCst) {
            let _ = self.wake_tx.try_send(());
        }
    }

    pub fn position(&self) -> u64 {
        self.position.load(Ordering::Acquire)
    }

    /// Hold off dispatch rounds (runtime truncation, `truncate.rs`); see [`Self::rewind`].
    pub(crate) fn pause(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.round_lock.lock()
    }

    /// Under [`Self::pause`]: the CommitLog now ends at `end`; resume there if past it.
    pub(crate) fn rewind(&self, end: u64) {
        self.position.fetch_min(end, Ordering::AcqRel);
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.wake_tx.try_send(());
    }

    fn run(&self) {
        while !self.stop.load(Ordering::Acquire) {
            let n = self.round();
            if n > 0 && n < COALESCE_BELOW {
                // A small round: let more records gather before the next one, instead of waking
                // for each append (see `COALESCE`).
                std::thread::sleep(COALESCE);
            } else if n == 0 {
                // Announce the sleep, then re-check: an append that published before reading
                // `sleeping == false` is seen by this check (both sides SeqCst).
                self.sleeping.store(true, Ordering::SeqCst);
                if self.cl.max_offset() <= self.position() && !self.stop.load(Ordering::SeqCst) {
                    let _ = self.wake_rx.recv_timeout(Duration::from_millis(100));
                }
                self.sleeping.store(false, Ordering::SeqCst);
            }
        }
        self.round();
    }

    /// Dispatch everything published so far; returns the number of records handled.
    pub fn round(&self) -> usize {
        let _one_at_a_time = self.round_lock.lock();
        // Retention may have deleted files the dispatcher had not reached yet.
        let mut pos = self.position().max(self.cl.min_offset());
        let end = self.cl.max_offset();
        let mut n = 0;
        let notify = !self.listeners.read().is_empty();
        let mut arrivals = Arrivals::default();
        let mut file: Option<Arc<MappedFile>> = None;
        while pos < end {
            if !file
                .as_ref()
                .is_some_and(|f| f.start() <= pos && pos < f.end())
            {
                file = self.cl.files().find(pos);
            }
            let Some(f) = &file else { break };
            match CommitLog::slot_in(f, pos) {
                Slot::Record(b) => {
                    let Some(r) = RecordView::parse(b) else {
                        tracing::error!("dispatcher: undecodable record at {pos}");
                        break;
                    };
                    let p = r.props();
                    if let Some(ix) = &self.index {
                        let keys = r.index_keys_of(p);
                        if let Err(e) = ix.put(r.topic, keys, r.phys_offset, r.store_timestamp) {
                            tracing::error!("index put failed at {pos}: {e}");
                        }
                    }
                    if notify && r.is_dispatched() {
                        arrivals.note(&r, p.tags);
                    }
                    pos += r.size as u64;
                    n += 1;
                }
                Slot::Blank { next } => pos = next,
                Slot::End => break,
                Slot::Bad(e) => {
                    tracing::error!("dispatcher stopped at corrupt data: {e}");
                    break;
                }
            }
        }
        self.position.store(pos, Ordering::Release);
        if !arrivals.list.is_empty() {
            for l in self.listeners.read().iter() {
                l(&arrivals.list);
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::{body_crc, encode_record, RecordFields};
    use std::sync::atomic::AtomicUsize;

    fn record(props: &str, sys: i32, v6: bool) -> Vec<u8> {
        let plain = RecordFields::plain("TopicA", 5, b"body!", props);
        let f = RecordFields {
            sys_flag: sys,
            born_timestamp: 1,
            born_host: "127.0.0.1:1".parse().unwrap(),
            store_host: if v6 {
                "[::1]:10911".parse().unwrap()
            } else {
                plain.store_host
            },
            ..plain
        };
        let mut b = vec![0u8; f.stored_size()];
        encode_record(&mut b, &f, body_crc(b"body!"), 9, 0, 777).unwrap();
        b
    }

    #[test]
    fn record_view_reads_fields_without_allocating() {
        for v6 in [false, true] {
            let b = record("KEYS\u{1}a  b\u{2}UNIQ_KEY\u{1}U1", 0, v6);
            let r = RecordView::parse(&b).unwrap();
            assert_eq!((r.queue_id, r.queue_offset, r.store_timestamp), (5, 9, 777));
            assert_eq!((r.topic, r.body), ("TopicA", &b"body!"[..]));
            assert_eq!(r.body_crc, body_crc(b"body!"));
            assert_eq!(r.index_keys().collect::<Vec<_>>(), vec!["U1", "a", "b"]);
            assert!(r.is_dispatched());
            assert!(RecordView::parse(&b[..b.len() - 1]).is_none());
        }
        let rollback = record("KEYS\u{1}k", sys_flag::TRANSACTION_ROLLBACK_TYPE, false);
        let r = RecordView::parse(&rollback).unwrap();
        assert!(!r.is_dispatched());
        assert!(
            r.index_keys().next().is_none(),
            "rolled-back messages are not indexed"
        );
        let prepared = record("", sys_flag::TRANSACTION_PREPARED_TYPE, false);
        assert!(!RecordView::parse(&prepared).unwrap().is_dispatched());
    }

    #[test]
    fn rounds_follow_the_log_and_batch_notifications() {
        let dir = tempfile::tempdir().unwrap();
        let cl = Arc::new(CommitLog::new(dir.path().to_path_buf(), 4096, None, false));
        let ix = Arc::new(IndexService::new(dir.path().join("index"), 16, 100));
        let d = Dispatcher::new(cl.clone(), Some(ix.clone()), 0);
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let (c2, s2) = (calls.clone(), seen.clone());
        d.add_listener(Arc::new(move |a: &[Arrival]| {
            c2.fetch_add(1, Ordering::Relaxed);
            s2.lock().extend_from_slice(a);
        }));
        for _ in 0..40 {
            let b = record("TAGS\u{1}t\u{2}KEYS\u{1}key", 0, false);
            cl.append_locked(b.len(), |buf, phys| {
                buf.copy_from_slice(&b);
                buf[28..36].copy_from_slice(&(phys as i64).to_be_bytes());
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(
            d.round(),
            40,
            "crosses the blank at the end of the first 4 KiB file"
        );
        assert_eq!(d.position(), cl.max_offset());
        assert_eq!(d.round(), 0);
        assert_eq!(
            calls.load(Ordering::Relaxed),
            1,
            "one notification per round"
        );
        let a = seen.lock()[0].clone();
        assert_eq!(
            (a.topic.as_str(), a.queue_id, a.max_offset),
            ("TopicA", 5, 10)
        );
        assert_eq!(a.tags_code, tags_code(Some("t")));
        assert_eq!(ix.query("TopicA", "key", 100, 0, i64::MAX).len(), 40);
    }
}
