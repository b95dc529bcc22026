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

use crate::fast_map::FastMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use super::checkpoint::{Checkpoint, CheckpointData};
use super::commit_log::CommitLog;
use super::config::{FlushDiskType, StoreConfig};
use super::consume_queue::{ConsumeQueue, CqUnit};
use super::dispatcher::{Arrival, ArrivalListener, Dispatcher};
use super::epoch::EpochFile;
use super::error::{IoContext, StoreError};
use super::flush::Flusher;
use super::index_file::IndexService;
use super::mapped_file::{Allocator, PAGE_SIZE};
use super::recovery;
use super::retention::DiskGuard;
use super::tail::TailSignal;
use super::topic_files::TopicFiles;
use super::types::{MessageBatchToStore, MessageToStore, PutResult};
use crate::clock::now_ms;
use crate::protocol::message::{
    body_crc, decode_batch, encode_offset_msg_id, encode_record, properties, sys_flag, tags_code,
    RecordFields,
};

pub(crate) type CqTable = FastMap<String, FastMap<i32, Arc<ConsumeQueue>>>;

pub(crate) struct PutState {
    pub(crate) last_ts: i64,
    /// Replicated bytes past the CommitLog end that do not yet form a whole record (`replica.rs`).
    pub(crate) replica_tail: Vec<u8>,
}

pub struct MessageStore {
    pub(crate) cfg: StoreConfig,
    pub(crate) cl: Arc<CommitLog>,
    pub(crate) cqs: Arc<RwLock<CqTable>>,
    pub(crate) put_lock: Mutex<PutState>,
    pub(crate) last_ts: Arc<AtomicI64>,
    pub(crate) flusher: Arc<Flusher>,
    pub(crate) dispatcher: Arc<Dispatcher>,
    /// Wakes the replication streams following the CommitLog's end.
    pub tail: Arc<TailSignal>,
    pub(crate) index: Option<Arc<IndexService>>,
    checkpoint: Arc<Checkpoint>,
    pub(crate) allocator: Arc<Allocator>,
    pub(crate) topic_files: TopicFiles,
    pub(crate) disk: Arc<DiskGuard>,
    /// The epoch history (`epoch.rs`, `role.rs`); taken after the put lock, never before it.
    pub(crate) epochs: Mutex<EpochFile>,
    /// Held by every consume-queue/index flush and checkpoint write, and by runtime truncation.
    pub(crate) logics_gate: Mutex<()>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    stop: Arc<AtomicBool>,
    pub(crate) shut: AtomicBool,
    /// `lock`: an exclusive flock held while open, so two processes never share a store.
    _lock: std::fs::File,
    pub(crate) memory_bytes: u64,
    /// The settings UPDATE_BROKER_CONFIG may change while running (read these, not `cfg`).
    pub tunables: super::tunables::StoreTunables,
}

impl MessageStore {
    /// Open (recovering if needed) and start the store's threads.
    pub fn open(cfg: StoreConfig) -> Result<Arc<MessageStore>, StoreError> {
        let root = cfg.store_path_root_dir.clone();
        if root.exists() && !root.is_dir() {
            return Err(StoreError::NotADirectory(root));
        }
        std::fs::create_dir_all(&root).at(&root)?;
        let lock = lock_store(&root)?;
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
        let index = cfg.message_index_enable.then(|| {
            Arc::new(IndexService::new(
                cfg.index_dir(),
                cfg.max_hash_slot_num,
                cfg.max_index_num,
            ))
        });
        let recovered = Checkpoint::open(&cfg.checkpoint_path()).and_then(|ck| {
            let epochs = EpochFile::load(&cfg.epoch_file_path())?;
            let rec = recovery::recover(&cfg, &cl, index.as_deref(), &ck, &allocator)?;
            std::fs::write(cfg.abort_path(), b"").at(&cfg.abort_path())?;
            Ok((Arc::new(ck), rec, epochs))
        });
        let (checkpoint, rec, epochs) = match recovered {
            Ok(r) => r,
            Err(e) => {
                allocator.stop();
                return Err(e);
            }
        };
        cl.prefetch();
        let last_ts = Arc::new(AtomicI64::new(rec.last_timestamp));
        let flusher = Flusher::new(cl.clone(), &cfg, last_ts.clone());
        let dispatch_from = match &index {
            Some(ix) => recovery::index_resume_offset(&cl, ix.indexed_until()),
            None => cl.max_offset(),
        };
        let dispatcher = Dispatcher::new(cl.clone(), index.clone(), dispatch_from);
        let memory_bytes = physical_memory();
        let deleted = cfg.deleted_dir();
        let store = Arc::new_cyclic(|weak| MessageStore {
            topic_files: TopicFiles::start(weak.clone(), deleted),
            disk: Arc::new(DiskGuard::new(&cfg)),
            epochs: Mutex::new(epochs),
            logics_gate: Mutex::new(()),
            tunables: super::tunables::StoreTunables::new(&cfg),
            cfg,
            cl,
            cqs: Arc::new(RwLock::new(rec.queues)),
            put_lock: Mutex::new(PutState {
                last_ts: rec.last_timestamp,
                replica_tail: Vec::new(),
            }),
            last_ts,
            flusher,
            dispatcher,
            tail: Arc::default(),
            index,
            checkpoint,
            allocator,
            threads: Mutex::new(Vec::new()),
            stop: Arc::new(AtomicBool::new(false)),
            shut: AtomicBool::new(false),
            memory_bytes,
            _lock: lock,
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
        let thorough = Duration::from_millis(self.cfg.flush_consume_queue_thorough_interval);
        std::thread::Builder::new()
            .name("store-flush-cq".into())
            .spawn(move || {
                let mut last_thorough = std::time::Instant::now();
                while !stop.load(Ordering::Acquire) {
                    std::thread::park_timeout(interval);
                    let Some(s) = weak.upgrade() else { return };
                    let force = last_thorough.elapsed() >= thorough;
                    if force {
                        last_thorough = std::time::Instant::now();
                    }
                    if let Err(e) = s.flush_logics(force) {
                        tracing::error!("consume queue flush failed: {e}");
                    }
                }
            })
            .expect("spawn cq flusher")
    }

    /// Flush consume queues (those with `flushConsumeQueueLeastPages` dirty pages, or all when
    /// `force`) and the index, then write the checkpoint. As in RocketMQ, the checkpoint's logics
    /// timestamp only advances on a full (forced) flush, because a partial one leaves some queues
    /// behind it.
    pub(crate) fn flush_logics(&self, force: bool) -> Result<(), StoreError> {
        let _one = self.logics_gate.lock();
        let now_ts = self.last_ts.load(Ordering::Acquire);
        // Every record stored at or before `now_ts` ends at or before `max_off`.
        let max_off = self.cl.max_offset();
        let least = if force {
            0
        } else {
            self.cfg.flush_consume_queue_least_pages * PAGE_SIZE
        };
        for cq in self.all_queues() {
            let dirty = cq.files().dirty();
            if dirty > 0 && dirty >= least {
                cq.flush()?;
            }
        }
        let logics_ts = if force {
            now_ts
        } else {
            self.checkpoint.read().logics_msg_timestamp
        };
        let index_ts = match &self.index {
            Some(ix) => {
                // Read how far the dispatcher got *before* flushing the index: only what it had
                // indexed then is on disk afterwards.
                let indexed = self.dispatcher.position();
                ix.flush()?;
                if indexed >= max_off {
                    now_ts
                } else {
                    self.checkpoint.read().index_msg_timestamp
                }
            }
            None => now_ts,
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

    pub(crate) fn find_queue(&self, topic: &str, queue_id: i32) -> Option<Arc<ConsumeQueue>> {
        self.cqs
            .read()
            .get(topic)
            .and_then(|m| m.get(&queue_id))
            .cloned()
    }

    /// The queue, registered on first use. The topic must be a plain file name
    /// ([`StoreConfig::topic_queue_dir`]); the queue's files are created when it is written.
    pub(crate) fn queue_or_create(
        &self,
        topic: &str,
        queue_id: i32,
    ) -> Result<Arc<ConsumeQueue>, StoreError> {
        if let Some(q) = self.find_queue(topic, queue_id) {
            return Ok(q);
        }
        self.cfg.topic_queue_dir(topic)?;
        let mut t = self.cqs.write();
        Ok(t.entry(topic.to_string())
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
            .clone())
    }

    pub(crate) fn check_writable(&self) -> Result<(), StoreError> {
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
            if self.shut.load(Ordering::Acquire) {
                return Err(StoreError::ShutDown);
            }
            let ts = now_ms().max(st.last_ts);
            let r = self.append_one(&fields, crc, tc, size, ts)?;
            st.last_ts = ts;
            self.last_ts.store(ts, Ordering::Release);
            r
        };
        self.dispatcher.wake();
        self.tail.wake();
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
        let max = self.tunables.max_message_size.load(Ordering::Relaxed);
        if f.body.len() > max {
            return Err(StoreError::IllegalMessage(format!(
                "body of {} bytes exceeds maxMessageSize {max}",
                f.body.len()
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
        let cq = match dispatched {
            true => Some(self.queue_or_create(fields.topic, fields.queue_id)?),
            false => None,
        };
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

    /// Append a batch (docs/protocol.md §5.2): each message becomes its own record with consecutive queue offsets,
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
            if self.shut.load(Ordering::Acquire) {
                return Err(StoreError::ShutDown);
            }
            let ts = now_ms().max(st.last_ts);
            for (f, crc, tc, size) in &prepared {
                offsets.push(self.append_one(f, *crc, *tc, *size, ts)?);
            }
            st.last_ts = ts;
            self.last_ts.store(ts, Ordering::Release);
            ts
        };
        self.dispatcher.wake();
        self.tail.wake();
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

    /// Register a listener called (on the dispatcher thread, once per dispatch round) with every
    /// queue that grew. It must not block and must not call `flush`/`shutdown` (the dispatcher
    /// holds its round lock): forward to an actor or a channel.
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
        self.flush_logics(true)
    }

    /// Number of CommitLog syncs so far (group-commit diagnostics).
    pub fn sync_count(&self) -> u64 {
        self.flusher.syncs.load(Ordering::Relaxed)
    }

    /// Total time the flush thread spent syncing the CommitLog (diagnostics).
    pub fn sync_time(&self) -> Duration {
        Duration::from_nanos(self.flusher.sync_nanos.load(Ordering::Relaxed))
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

fn lock_store(root: &std::path::Path) -> Result<std::fs::File, StoreError> {
    use std::io::Write;
    use std::os::unix::io::AsRawFd;
    let path = root.join("lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .at(&path)?;
    // A previous instance in this process may still be finishing its drop on one of its own
    // threads: give it a moment before reporting the store as in use.
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            // Who holds it, for the message a second instance prints.
            let _ = f.set_len(0);
            let _ = (&f).write_all(std::process::id().to_string().as_bytes());
            return Ok(f);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(StoreError::io(&path, e));
        }
        if std::time::Instant::now() >= deadline {
            let pid = std::fs::read_to_string(&path)
                .ok()
                .and_then(|s| s.trim().parse().ok());
            return Err(StoreError::InUse {
                dir: root.to_path_buf(),
                pid,
            });
        }
        std::thread::sleep(Duration::from_millis(10));
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
