//! `MessageStore`: the facade the broker calls. It owns the CommitLog, the consume queues, the
//! index, the checkpoint and the store's threads (allocate, flush, flush-cq/checkpoint, dispatch,
//! retention), and it is plain blocking Rust: callers on async executors only ever take the short
//! put lock (no I/O syscalls inside it, apart from creating a brand-new queue's first CQ file) and
//! await a [`Durability`] for SYNC_FLUSH.
//!
//! Append path, under one lock: assign the store timestamp and the queue offset (the queue's next
//! CQ offset), encode the record straight into the mapped CommitLog, write the 20-byte CQ unit
//! straight into the mapped consume queue, publish. A pull that starts after `put_message`
//! returns (ASYNC) or after its durability resolves (SYNC) therefore always sees the message.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};

use super::checkpoint::{Checkpoint, CheckpointData};
use super::commit_log::CommitLog;
use super::config::{FlushDiskType, StoreConfig};
use super::consume_queue::{ConsumeQueue, CqUnit};
use super::dispatcher::{Arrival, ArrivalListener, Dispatcher, RecordView};
use super::error::{IoContext, StoreError};
use super::flush::{Durability, Flusher};
use super::index_file::IndexService;
use super::mapped_file::Allocator;
use super::recovery;
use super::retention::DiskGuard;
use crate::protocol::message::{
    body_crc, decode_batch, decode_record, encode_offset_msg_id, encode_record, properties,
    sys_flag, tags_code, MessageExt, RecordFields,
};

pub(crate) type CqTable = HashMap<String, HashMap<i32, Arc<ConsumeQueue>>>;

/// One message to append.
#[derive(Debug, Clone)]
pub struct MessageToStore {
    pub topic: String,
    pub queue_id: i32,
    pub flag: i32,
    /// Stored verbatim, except that the IPv6 host bits follow the addresses.
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_host: SocketAddr,
    pub reconsume_times: i32,
    pub prepared_transaction_offset: i64,
    pub body: Bytes,
    /// The properties string as it is to be stored (§5.4).
    pub properties: String,
    /// Consume-queue tags code; `None` = hash of the TAGS property. The broker sets the delivery
    /// time here for SCHEDULE_TOPIC_XXXX.
    pub tags_code: Option<i64>,
    /// The WAIT property: under SYNC_FLUSH, `false` acknowledges without waiting for the flush.
    pub wait_store_msg_ok: bool,
}

impl MessageToStore {
    /// A message with neutral defaults (local hosts, no flags).
    pub fn new(topic: &str, queue_id: i32, body: impl Into<Bytes>, properties: &str) -> Self {
        MessageToStore {
            topic: topic.to_string(),
            queue_id,
            flag: 0,
            sys_flag: 0,
            born_timestamp: now_ms(),
            born_host: SocketAddr::from(([127, 0, 0, 1], 0)),
            store_host: SocketAddr::from(([127, 0, 0, 1], 10911)),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: body.into(),
            properties: properties.to_string(),
            tags_code: None,
            wait_store_msg_ok: true,
        }
    }
}

/// A batch send (code 320): `body` is the batch body (§5.2), `properties` the batch-level
/// properties appended to each message's own.
#[derive(Debug, Clone)]
pub struct MessageBatchToStore {
    pub topic: String,
    pub queue_id: i32,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_host: SocketAddr,
    pub body: Bytes,
    pub properties: String,
    pub wait_store_msg_ok: bool,
}

/// Result of an append (RocketMQ's `AppendMessageResult`).
#[derive(Debug, Clone)]
pub struct PutResult {
    /// Physical offset of the (first) record.
    pub phys_offset: i64,
    /// Bytes appended (all records of a batch).
    pub wrote_bytes: i64,
    /// Queue offset of the (first) record.
    pub queue_offset: i64,
    pub store_timestamp: i64,
    /// Offset msg id; comma-joined ids for a batch.
    pub msg_id: String,
    pub msg_count: usize,
    /// Await (or `wait()`) before acknowledging under SYNC_FLUSH.
    pub durability: Durability,
}

/// `GetMessageStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetStatus {
    Found,
    NoMatchedMessage,
    MessageWasRemoving,
    OffsetFoundNull,
    OffsetOverflowBadly,
    OffsetOverflowOne,
    OffsetTooSmall,
    NoMatchedLogicQueue,
    NoMessageInQueue,
}

/// Result of `get_message` (protocol.md §7.3).
#[derive(Debug, Clone)]
pub struct GetResult {
    pub status: GetStatus,
    pub next_begin_offset: i64,
    pub min_offset: i64,
    pub max_offset: i64,
    /// Whole records, zero-copy slices of the CommitLog mapping.
    pub messages: Vec<Bytes>,
    /// Queue offset of each message.
    pub queue_offsets: Vec<i64>,
}

impl GetResult {
    pub fn total_bytes(&self) -> usize {
        self.messages.iter().map(|b| b.len()).sum()
    }
}

/// Tag filter on the consume-queue tags code.
pub type TagsFilter<'a> = &'a dyn Fn(i64) -> bool;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

struct PutState {
    last_ts: i64,
}

pub struct MessageStore {
    cfg: StoreConfig,
    cl: Arc<CommitLog>,
    cqs: Arc<RwLock<CqTable>>,
    put_lock: Mutex<PutState>,
    last_ts: Arc<AtomicI64>,
    flusher: Arc<Flusher>,
    dispatcher: Arc<Dispatcher>,
    index: Option<Arc<IndexService>>,
    checkpoint: Arc<Checkpoint>,
    allocator: Arc<Allocator>,
    pub(crate) disk: Arc<DiskGuard>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    stop: Arc<AtomicBool>,
    shut: AtomicBool,
    memory_bytes: u64,
}

impl MessageStore {
    /// Open (recovering if needed) and start the store's threads.
    pub fn open(cfg: StoreConfig) -> Result<Arc<MessageStore>, StoreError> {
        let root = cfg.store_path_root_dir.clone();
        std::fs::create_dir_all(&root).at(&root)?;
        let allocator = Allocator::start(
            cfg.warm_mapped_file_enable,
            cfg.flush_disk_type == FlushDiskType::SyncFlush,
        );
        let cl = Arc::new(CommitLog::new(
            cfg.commit_log_dir(),
            cfg.mapped_file_size_commit_log,
            Some(allocator.clone()),
            cfg.warm_mapped_file_enable,
        ));
        let checkpoint = Arc::new(Checkpoint::open(&cfg.checkpoint_path())?);
        let index = cfg.message_index_enable.then(|| {
            Arc::new(IndexService::new(
                cfg.index_dir(),
                cfg.max_hash_slot_num,
                cfg.max_index_num,
            ))
        });
        let rec = recovery::recover(&cfg, &cl, index.as_deref(), &checkpoint, &allocator)?;
        std::fs::write(cfg.abort_path(), b"").at(&cfg.abort_path())?;
        cl.prefetch();
        let last_ts = Arc::new(AtomicI64::new(rec.last_timestamp));
        let flusher = Flusher::new(cl.clone(), &cfg, last_ts.clone());
        let dispatch_from = match &index {
            Some(ix) => recovery::index_resume_offset(&cl, ix.indexed_until()),
            None => cl.max_offset(),
        };
        let dispatcher = Dispatcher::new(cl.clone(), index.clone(), dispatch_from);
        let memory_bytes = physical_memory();
        let store = Arc::new(MessageStore {
            disk: Arc::new(DiskGuard::new(&cfg)),
            cfg,
            cl,
            cqs: Arc::new(RwLock::new(rec.queues)),
            put_lock: Mutex::new(PutState {
                last_ts: rec.last_timestamp,
            }),
            last_ts,
            flusher,
            dispatcher,
            index,
            checkpoint,
            allocator,
            threads: Mutex::new(Vec::new()),
            stop: Arc::new(AtomicBool::new(false)),
            shut: AtomicBool::new(false),
            memory_bytes,
        });
        store.disk.check(&store.cfg);
        let mut t = store.threads.lock();
        t.push(store.flusher.start());
        t.push(store.dispatcher.start());
        t.push(store.start_cq_flusher());
        t.push(super::retention::start(
            Arc::downgrade(&store),
            store.stop.clone(),
        ));
        drop(t);
        Ok(store)
    }

    pub fn config(&self) -> &StoreConfig {
        &self.cfg
    }

    fn start_cq_flusher(self: &Arc<Self>) -> JoinHandle<()> {
        let weak: Weak<MessageStore> = Arc::downgrade(self);
        let stop = self.stop.clone();
        let interval = Duration::from_millis(self.cfg.flush_interval_consume_queue.max(1));
        std::thread::Builder::new()
            .name("store-flush-cq".into())
            .spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    std::thread::park_timeout(interval);
                    let Some(s) = weak.upgrade() else { return };
                    if let Err(e) = s.flush_logics() {
                        tracing::error!("consume queue flush failed: {e}");
                    }
                }
            })
            .expect("spawn cq flusher")
    }

    /// Flush consume queues and the index, then write the checkpoint.
    fn flush_logics(&self) -> Result<(), StoreError> {
        let logics_ts = self.last_ts.load(Ordering::Acquire);
        for cq in self.all_queues() {
            cq.flush()?;
        }
        let index_ts = match &self.index {
            Some(ix) => {
                ix.flush()?;
                // The index lags the CommitLog by the dispatcher; only what it reached is safe.
                let at = self.dispatcher.position();
                if at >= self.cl.max_offset() {
                    logics_ts
                } else {
                    self.checkpoint.read().index_msg_timestamp
                }
            }
            None => logics_ts,
        };
        self.checkpoint.write(CheckpointData {
            physic_msg_timestamp: self.flusher.flushed_timestamp(),
            logics_msg_timestamp: logics_ts,
            index_msg_timestamp: index_ts,
        })
    }

    pub(crate) fn all_queues(&self) -> Vec<Arc<ConsumeQueue>> {
        self.cqs
            .read()
            .values()
            .flat_map(|m| m.values().cloned())
            .collect()
    }

    fn find_queue(&self, topic: &str, queue_id: i32) -> Option<Arc<ConsumeQueue>> {
        self.cqs
            .read()
            .get(topic)
            .and_then(|m| m.get(&queue_id))
            .cloned()
    }

    fn queue_or_create(&self, topic: &str, queue_id: i32) -> Arc<ConsumeQueue> {
        if let Some(q) = self.find_queue(topic, queue_id) {
            return q;
        }
        let mut t = self.cqs.write();
        t.entry(topic.to_string())
            .or_default()
            .entry(queue_id)
            .or_insert_with(|| {
                Arc::new(ConsumeQueue::new(
                    &self.cfg.consume_queue_dir(),
                    topic,
                    queue_id,
                    self.cfg.cq_file_size(),
                    Some(self.allocator.clone()),
                ))
            })
            .clone()
    }

    fn check_writable(&self) -> Result<(), StoreError> {
        if self.shut.load(Ordering::Acquire) {
            return Err(StoreError::ShutDown);
        }
        if let Some(reason) = self.disk.refusal() {
            return Err(StoreError::DiskFull(reason));
        }
        Ok(())
    }

    /// Append one message. Returns as soon as the record is in the page cache and its CQ unit is
    /// visible; under SYNC_FLUSH await `result.durability` before acknowledging.
    pub fn put_message(&self, msg: MessageToStore) -> Result<PutResult, StoreError> {
        self.check_writable()?;
        let fields = fields_of(&msg);
        self.validate(&fields)?;
        let crc = body_crc(&msg.body);
        let tc = msg
            .tags_code
            .unwrap_or_else(|| tags_code(properties::find(&msg.properties, properties::TAGS)));
        let size = fields.stored_size();
        let (phys, qoff, ts) = {
            let mut st = self.put_lock.lock();
            let ts = now_ms().max(st.last_ts);
            let r = self.append_one(&fields, crc, tc, size, ts)?;
            st.last_ts = ts;
            self.last_ts.store(ts, Ordering::Release);
            r
        };
        self.dispatcher.wake();
        let durability = self
            .flusher
            .request(phys + size as u64, msg.wait_store_msg_ok);
        Ok(PutResult {
            phys_offset: phys as i64,
            wrote_bytes: size as i64,
            queue_offset: qoff,
            store_timestamp: ts,
            msg_id: encode_offset_msg_id(msg.store_host, phys as i64),
            msg_count: 1,
            durability,
        })
    }

    fn validate(&self, f: &RecordFields<'_>) -> Result<(), StoreError> {
        if f.body.len() > self.cfg.max_message_size {
            return Err(StoreError::IllegalMessage(format!(
                "body of {} bytes exceeds maxMessageSize {}",
                f.body.len(),
                self.cfg.max_message_size
            )));
        }
        f.validate()?;
        Ok(())
    }

    /// Under the put lock: encode into the CommitLog, write the CQ unit. Returns (phys, qoff, ts).
    fn append_one(
        &self,
        fields: &RecordFields<'_>,
        crc: u32,
        tc: i64,
        size: usize,
        ts: i64,
    ) -> Result<(u64, i64, i64), StoreError> {
        let tx = sys_flag::transaction_value(fields.sys_flag);
        let dispatched =
            tx != sys_flag::TRANSACTION_PREPARED_TYPE && tx != sys_flag::TRANSACTION_ROLLBACK_TYPE;
        let cq = dispatched.then(|| self.queue_or_create(fields.topic, fields.queue_id));
        let qoff = cq.as_ref().map(|q| q.max_offset() as i64).unwrap_or(0);
        let phys = self.cl.append_locked(size, |buf, phys| {
            encode_record(buf, fields, crc, qoff, phys as i64, ts)?;
            Ok(())
        })?;
        if let Some(q) = cq {
            q.put(
                qoff as u64,
                CqUnit {
                    phys_offset: phys as i64,
                    size: size as i32,
                    tags_code: tc,
                },
            )?;
        }
        Ok((phys, qoff, ts))
    }

    /// Append a batch (§5.2): each message becomes its own record with consecutive queue offsets,
    /// all under one acquisition of the put lock.
    pub fn put_batch(&self, batch: MessageBatchToStore) -> Result<PutResult, StoreError> {
        self.check_writable()?;
        let items = decode_batch(&batch.body)?;
        if items.is_empty() {
            return Err(StoreError::IllegalMessage("empty batch".into()));
        }
        let props: Vec<String> = items
            .iter()
            .map(|i| properties::join(&i.properties, &batch.properties))
            .collect();
        let mut prepared = Vec::with_capacity(items.len());
        for (it, p) in items.iter().zip(&props) {
            let f = RecordFields {
                topic: &batch.topic,
                queue_id: batch.queue_id,
                flag: it.flag,
                sys_flag: batch.sys_flag,
                born_timestamp: batch.born_timestamp,
                born_host: batch.born_host,
                store_host: batch.store_host,
                reconsume_times: 0,
                prepared_transaction_offset: 0,
                body: &it.body,
                properties: p,
            };
            self.validate(&f)?;
            let tc = tags_code(properties::find(p, properties::TAGS));
            prepared.push((f, body_crc(&it.body), tc, f.stored_size()));
        }
        let mut offsets = Vec::with_capacity(prepared.len());
        let ts = {
            let mut st = self.put_lock.lock();
            let ts = now_ms().max(st.last_ts);
            for (f, crc, tc, size) in &prepared {
                offsets.push(self.append_one(f, *crc, *tc, *size, ts)?);
            }
            st.last_ts = ts;
            self.last_ts.store(ts, Ordering::Release);
            ts
        };
        self.dispatcher.wake();
        let (last_phys, _, _) = *offsets.last().unwrap();
        let end = last_phys + prepared.last().unwrap().3 as u64;
        let durability = self.flusher.request(end, batch.wait_store_msg_ok);
        let msg_id = offsets
            .iter()
            .map(|(p, _, _)| encode_offset_msg_id(batch.store_host, *p as i64))
            .collect::<Vec<_>>()
            .join(",");
        Ok(PutResult {
            phys_offset: offsets[0].0 as i64,
            wrote_bytes: prepared.iter().map(|p| p.3 as i64).sum(),
            queue_offset: offsets[0].1,
            store_timestamp: ts,
            msg_id,
            msg_count: offsets.len(),
            durability,
        })
    }

    fn in_memory(&self, phys: u64) -> bool {
        let behind = self.cl.max_offset().saturating_sub(phys);
        behind < self.memory_bytes / 100 * self.cfg.access_message_in_memory_max_ratio
    }

    /// Read up to `max_msgs` messages of a queue from `offset` (protocol.md §7.3 and §6.3 caps).
    pub fn get_message(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_msgs: usize,
        filter: Option<TagsFilter<'_>>,
    ) -> GetResult {
        let mut r = GetResult {
            status: GetStatus::NoMatchedLogicQueue,
            next_begin_offset: 0,
            min_offset: 0,
            max_offset: 0,
            messages: Vec::new(),
            queue_offsets: Vec::new(),
        };
        let Some(cq) = self.find_queue(topic, queue_id) else {
            return r;
        };
        let (min, max) = (cq.min_offset() as i64, cq.max_offset() as i64);
        r.min_offset = min;
        r.max_offset = max;
        if max == 0 {
            r.status = GetStatus::NoMessageInQueue;
            return r;
        }
        if offset < min {
            r.status = GetStatus::OffsetTooSmall;
            r.next_begin_offset = min;
            return r;
        }
        if offset == max {
            r.status = GetStatus::OffsetOverflowOne;
            r.next_begin_offset = offset;
            return r;
        }
        if offset > max {
            r.status = GetStatus::OffsetOverflowBadly;
            r.next_begin_offset = max;
            return r;
        }
        let max_msgs = max_msgs.max(1);
        let scan_units = (16000usize.max(max_msgs * 20) / 20) as i64;
        let cl_min = self.cl.min_offset() as i64;
        let mut removing = false;
        let mut bytes = 0usize;
        let mut i = 0i64;
        while i < scan_units && offset + i < max {
            let Some(u) = cq.get((offset + i) as u64) else {
                if i == 0 {
                    r.status = GetStatus::OffsetFoundNull;
                    r.next_begin_offset = cq.roll_next_file(offset as u64) as i64;
                    return r;
                }
                break;
            };
            if !u.is_message() {
                i += 1;
                continue;
            }
            if u.phys_offset < cl_min {
                removing = true;
                i += 1;
                continue;
            }
            let (cap_bytes, cap_count) = if self.in_memory(u.phys_offset as u64) {
                (
                    self.cfg.max_transfer_bytes_on_message_in_memory,
                    self.cfg.max_transfer_count_on_message_in_memory,
                )
            } else {
                (
                    self.cfg.max_transfer_bytes_on_message_in_disk,
                    self.cfg.max_transfer_count_on_message_in_disk,
                )
            };
            let n = r.messages.len();
            if n >= max_msgs || (n > 0 && (bytes + u.size as usize > cap_bytes || n >= cap_count)) {
                break;
            }
            if let Some(f) = filter {
                if !f(u.tags_code) {
                    i += 1;
                    continue;
                }
            }
            match self.cl.read(u.phys_offset as u64, u.size as usize) {
                Some(b) => {
                    bytes += b.len();
                    r.messages.push(b);
                    r.queue_offsets.push(offset + i);
                }
                None => removing = true,
            }
            i += 1;
        }
        r.next_begin_offset = offset + i;
        r.status = if !r.messages.is_empty() {
            GetStatus::Found
        } else if removing {
            GetStatus::MessageWasRemoving
        } else {
            GetStatus::NoMatchedMessage
        };
        r
    }

    /// First valid logical offset of a queue (0 if unknown).
    pub fn min_offset(&self, topic: &str, queue_id: i32) -> i64 {
        self.find_queue(topic, queue_id)
            .map(|q| q.min_offset() as i64)
            .unwrap_or(0)
    }

    /// Next logical offset of a queue, i.e. its message count (0 if unknown).
    pub fn max_offset(&self, topic: &str, queue_id: i32) -> i64 {
        self.find_queue(topic, queue_id)
            .map(|q| q.max_offset() as i64)
            .unwrap_or(0)
    }

    /// Queue ids the store knows for `topic`.
    pub fn queue_ids(&self, topic: &str) -> Vec<i32> {
        let mut v: Vec<i32> = self
            .cqs
            .read()
            .get(topic)
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    /// Store timestamp of the message at a logical offset.
    pub fn store_time(&self, topic: &str, queue_id: i32, offset: i64) -> Option<i64> {
        let u = self.find_queue(topic, queue_id)?.get(offset as u64)?;
        self.unit_time(&u)
    }

    fn unit_time(&self, u: &CqUnit) -> Option<i64> {
        if !u.is_message() {
            return None;
        }
        let b = self.cl.read(u.phys_offset as u64, u.size as usize)?;
        RecordView::parse(&b).map(|r| r.store_timestamp)
    }

    /// SEARCH_OFFSET_BY_TIMESTAMP (§7.4): binary search by store time; 0 when the queue is empty.
    pub fn offset_by_time(&self, topic: &str, queue_id: i32, timestamp: i64) -> i64 {
        match self.find_queue(topic, queue_id) {
            Some(q) => q.offset_by_time(timestamp, |u| self.unit_time(u)) as i64,
            None => 0,
        }
    }

    /// Store time of the oldest message of a queue.
    pub fn earliest_store_time(&self, topic: &str, queue_id: i32) -> Option<i64> {
        self.store_time(topic, queue_id, self.min_offset(topic, queue_id))
    }

    /// Oldest and newest CommitLog offsets.
    pub fn commit_log_min_offset(&self) -> i64 {
        self.cl.min_offset() as i64
    }
    pub fn commit_log_max_offset(&self) -> i64 {
        self.cl.max_offset() as i64
    }

    /// The record at a physical offset (VIEW_MESSAGE_BY_ID, send-back, end-transaction), zero-copy.
    pub fn lookup(&self, phys_offset: i64) -> Option<Bytes> {
        if phys_offset < 0 {
            return None;
        }
        self.cl.read_record(phys_offset as u64)
    }

    /// The decoded record at a physical offset.
    pub fn lookup_message(&self, phys_offset: i64) -> Option<MessageExt> {
        decode_record(&self.lookup(phys_offset)?).ok()
    }

    /// QUERY_MESSAGE: records of `topic` whose KEYS or UNIQ_KEY contain `key`, stored within
    /// `[begin, end]` (ms), newest first, at most `max`.
    pub fn query_by_key(
        &self,
        topic: &str,
        key: &str,
        max: usize,
        begin: i64,
        end: i64,
    ) -> Vec<Bytes> {
        let Some(ix) = &self.index else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for phys in ix.query(topic, key, max.saturating_mul(2).max(max), begin, end) {
            let Some(b) = self.lookup(phys) else { continue };
            let Some(r) = RecordView::parse(&b) else {
                continue;
            };
            if r.topic == topic && r.index_keys().contains(&key) {
                out.push(b);
                if out.len() >= max {
                    break;
                }
            }
        }
        out
    }

    /// Register a listener called (on the dispatcher thread, once per dispatch round) with every
    /// queue that grew. It must not block: forward to an actor or channel.
    pub fn add_arrival_listener(&self, l: ArrivalListener) {
        self.dispatcher.add_listener(l);
    }

    /// A channel of arrival batches (one `Vec` per dispatch round), for async consumers.
    pub fn subscribe_arrivals(&self) -> tokio::sync::mpsc::UnboundedReceiver<Vec<Arrival>> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.add_arrival_listener(Arc::new(move |a: &[Arrival]| {
            let _ = tx.send(a.to_vec());
        }));
        rx
    }

    /// Flush the CommitLog, consume queues, index and checkpoint now.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.flusher.flush_all()?;
        self.dispatcher.round();
        self.flush_logics()
    }

    /// Number of CommitLog syncs so far (group-commit diagnostics).
    pub fn sync_count(&self) -> u64 {
        self.flusher.syncs.load(Ordering::Relaxed)
    }

    /// Clean stop: refuse new appends, stop threads, flush everything, write the checkpoint and
    /// remove the abort marker. Idempotent.
    pub fn shutdown(&self) -> Result<(), StoreError> {
        if self.shut.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        // Let in-flight appends finish.
        drop(self.put_lock.lock());
        self.stop.store(true, Ordering::Release);
        self.flusher.stop();
        self.dispatcher.stop();
        self.allocator.stop();
        let handles: Vec<JoinHandle<()>> = self.threads.lock().drain(..).collect();
        for h in handles {
            if h.thread().id() == std::thread::current().id() {
                continue; // the last Arc was dropped by one of our own threads
            }
            h.thread().unpark();
            let _ = h.join();
        }
        self.flush()?;
        let abort = self.cfg.abort_path();
        std::fs::remove_file(&abort).at(&abort)?;
        Ok(())
    }

    pub(crate) fn commit_log(&self) -> &Arc<CommitLog> {
        &self.cl
    }
    pub(crate) fn index(&self) -> Option<&Arc<IndexService>> {
        self.index.as_ref()
    }
}

impl Drop for MessageStore {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::error!("store shutdown failed: {e}");
        }
    }
}

fn fields_of(m: &MessageToStore) -> RecordFields<'_> {
    RecordFields {
        topic: &m.topic,
        queue_id: m.queue_id,
        flag: m.flag,
        sys_flag: m.sys_flag,
        born_timestamp: m.born_timestamp,
        born_host: m.born_host,
        store_host: m.store_host,
        reconsume_times: m.reconsume_times,
        prepared_transaction_offset: m.prepared_transaction_offset,
        body: &m.body,
        properties: &m.properties,
    }
}

fn physical_memory() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages > 0 && size > 0 {
        pages as u64 * size as u64
    } else {
        8 << 30
    }
}
