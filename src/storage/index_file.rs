//! IndexFile: lookup of messages by key (`topic#KEY` for each KEYS token and `topic#UNIQ_KEY`)
//! within a time range, in RocketMQ's hash-slot layout (docs/protocol.md §6.4):
//! a 40-byte header, `maxHashSlotNum` i32 slots each holding the newest entry number for the slot,
//! then `maxIndexNum` 20-byte entries `keyHash i32 | phyOffset i64 | timeDiff i32 (s) | prevIndex i32`
//! chained newest-first. Entry numbers start at 1.
//!
//! Written only by the dispatcher thread; a mutex per file makes concurrent queries safe (queries
//! are rare and short). Files are named by creation time `yyyyMMddHHmmssSSS` (UTC here).

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::Arc;

use memmap2::MmapMut;
use parking_lot::{Mutex, RwLock};

use super::error::{IoContext, StoreError};
use crate::protocol::message::java_string_hash;

const HEADER: usize = 40;
const ENTRY: usize = 20;

/// The header fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexHeader {
    pub begin_timestamp: i64,
    pub end_timestamp: i64,
    pub begin_phy_offset: i64,
    pub end_phy_offset: i64,
    pub hash_slot_count: i32,
    pub index_count: i32,
}

/// `|String.hashCode(key)|`, 0 when the absolute value overflows.
pub fn key_hash(key: &str) -> i32 {
    java_string_hash(key).checked_abs().unwrap_or(0)
}

/// [`key_hash`] of `topic#key`, the string RocketMQ indexes, without building it: Java's hash
/// `h = 31*h + unit` runs over the UTF-16 units of the parts in turn, as over the concatenation.
pub fn topic_key_hash(topic: &str, key: &str) -> i32 {
    let h = [topic, "#", key].iter().fold(0i32, |h, part| {
        part.encode_utf16()
            .fold(h, |h, u| h.wrapping_mul(31).wrapping_add(u as i32))
    });
    h.checked_abs().unwrap_or(0)
}

/// yyyyMMddHHmmssSSS of a unix-millisecond time, UTC.
pub fn time_file_name(ms: i64) -> String {
    let t = crate::clock::Utc::from_ms(ms);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}{:03}",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.milli
    )
}

pub struct IndexFile {
    path: PathBuf,
    slots: u32,
    max_index: u32,
    map: Mutex<MmapMut>,
    /// The header's entry count, for `is_full` without the lock (written under it).
    count: AtomicU32,
}

impl IndexFile {
    pub fn file_size(slots: u32, max_index: u32) -> u64 {
        HEADER as u64 + slots as u64 * 4 + max_index as u64 * ENTRY as u64
    }

    pub fn open(path: &Path, slots: u32, max_index: u32) -> Result<IndexFile, StoreError> {
        let size = Self::file_size(slots, max_index);
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).at(d)?;
        }
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .at(path)?;
        let len = f.metadata().at(path)?.len();
        if len != size {
            if len != 0 {
                return Err(StoreError::Corrupt(format!(
                    "{} is {len} bytes, expected {size}",
                    path.display()
                )));
            }
            f.set_len(size).at(path)?;
        }
        // SAFETY: the store owns this file.
        let map = unsafe { MmapMut::map_mut(&f) }.at(path)?;
        let count = Self::rd_i32(&map, 36).max(1) as u32;
        Ok(IndexFile {
            path: path.to_path_buf(),
            slots,
            max_index,
            map: Mutex::new(map),
            count: AtomicU32::new(count),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn rd_i32(m: &[u8], at: usize) -> i32 {
        i32::from_be_bytes(m[at..at + 4].try_into().unwrap())
    }
    fn rd_i64(m: &[u8], at: usize) -> i64 {
        i64::from_be_bytes(m[at..at + 8].try_into().unwrap())
    }

    pub fn header(&self) -> IndexHeader {
        let m = self.map.lock();
        IndexHeader {
            begin_timestamp: Self::rd_i64(&m, 0),
            end_timestamp: Self::rd_i64(&m, 8),
            begin_phy_offset: Self::rd_i64(&m, 16),
            end_phy_offset: Self::rd_i64(&m, 24),
            hash_slot_count: Self::rd_i32(&m, 32),
            index_count: Self::rd_i32(&m, 36).max(1),
        }
    }

    pub fn is_full(&self) -> bool {
        self.count.load(Ordering::Acquire) >= self.max_index
    }

    /// Add `key` for the record at `phy` stored at `ts`. Returns false when the file is full.
    pub fn put(&self, key: &str, phy: i64, ts: i64) -> bool {
        self.put_hash(key_hash(key), phy, ts)
    }

    /// [`Self::put`] of a key whose [`key_hash`] is `hash`.
    pub fn put_hash(&self, hash: i32, phy: i64, ts: i64) -> bool {
        let mut m = self.map.lock();
        let mut count = Self::rd_i32(&m, 36).max(1);
        if count as u32 >= self.max_index {
            return false;
        }
        let slot_at = HEADER + (hash as u32 % self.slots) as usize * 4;
        let mut prev = Self::rd_i32(&m, slot_at);
        if prev <= 0 || prev >= count {
            prev = 0;
        }
        let mut begin = Self::rd_i64(&m, 0);
        if count <= 1 || begin == 0 {
            begin = ts;
            m[0..8].copy_from_slice(&ts.to_be_bytes());
            m[16..24].copy_from_slice(&phy.to_be_bytes());
        }
        let diff = ((ts - begin) / 1000).clamp(0, i32::MAX as i64) as i32;
        let at = HEADER + self.slots as usize * 4 + count as usize * ENTRY;
        m[at..at + 4].copy_from_slice(&hash.to_be_bytes());
        m[at + 4..at + 12].copy_from_slice(&phy.to_be_bytes());
        m[at + 12..at + 16].copy_from_slice(&diff.to_be_bytes());
        m[at + 16..at + 20].copy_from_slice(&prev.to_be_bytes());
        m[slot_at..slot_at + 4].copy_from_slice(&count.to_be_bytes());
        if prev == 0 {
            let slots = Self::rd_i32(&m, 32) + 1;
            m[32..36].copy_from_slice(&slots.to_be_bytes());
        }
        count += 1;
        m[36..40].copy_from_slice(&count.to_be_bytes());
        self.count.store(count as u32, Ordering::Release);
        // The end offset/time move only in `touch`, once every key of the record is in: a crash
        // between two keys then re-indexes the record instead of losing its later keys.
        true
    }

    /// Record that everything up to the record at `phy` is indexed, for a record without keys.
    pub fn touch(&self, phy: i64, ts: i64) {
        let mut m = self.map.lock();
        if Self::rd_i64(&m, 0) == 0 {
            m[0..8].copy_from_slice(&ts.to_be_bytes());
            m[16..24].copy_from_slice(&phy.to_be_bytes());
        }
        m[8..16].copy_from_slice(&ts.to_be_bytes());
        m[24..32].copy_from_slice(&phy.to_be_bytes());
    }

    /// Physical offsets of entries for `key` stored within `[begin, end]` ms, newest first.
    pub fn query(&self, key: &str, max: usize, begin: i64, end: i64, out: &mut Vec<i64>) {
        self.query_hash(key_hash(key), max, begin, end, out)
    }

    /// [`Self::query`] of a key whose [`key_hash`] is `hash`.
    pub fn query_hash(&self, hash: i32, max: usize, begin: i64, end: i64, out: &mut Vec<i64>) {
        let m = self.map.lock();
        let count = Self::rd_i32(&m, 36).max(1);
        let base_ts = Self::rd_i64(&m, 0);
        let slot_at = HEADER + (hash as u32 % self.slots) as usize * 4;
        let mut idx = Self::rd_i32(&m, slot_at);
        let mut steps = 0;
        while idx > 0 && idx < count && out.len() < max && steps < count {
            let at = HEADER + self.slots as usize * 4 + idx as usize * ENTRY;
            let h = Self::rd_i32(&m, at);
            let phy = Self::rd_i64(&m, at + 4);
            let diff = Self::rd_i32(&m, at + 12);
            let prev = Self::rd_i32(&m, at + 16);
            if diff < 0 {
                break;
            }
            let t = base_ts + diff as i64 * 1000;
            // Entry times are truncated to seconds: widen the window by one second.
            if h == hash && t >= begin - 999 && t <= end && !out.contains(&phy) {
                out.push(phy);
            }
            if prev <= 0 || prev >= idx {
                break;
            }
            idx = prev;
            steps += 1;
        }
    }

    pub fn flush(&self) -> Result<(), StoreError> {
        let m = self.map.lock();
        m.flush().at(&self.path)
    }
}

/// The list of index files; the dispatcher adds keys, queries walk newest to oldest.
pub struct IndexService {
    dir: PathBuf,
    slots: u32,
    max_index: u32,
    files: RwLock<Vec<Arc<IndexFile>>>,
    /// [`Self::indexed_until`], kept here so the dispatcher's check per record takes no lock:
    /// set from the files' headers when they change (`load`, `clamp_to`), moved on by `put`.
    until: AtomicI64,
}

impl IndexService {
    pub fn new(dir: PathBuf, slots: u32, max_index: u32) -> IndexService {
        IndexService {
            dir,
            slots: slots.max(1),
            max_index: max_index.max(2),
            files: RwLock::new(Vec::new()),
            until: AtomicI64::new(-1),
        }
    }

    /// The last file's end offset (-1 without files): what `indexed_until` answers.
    fn end_of(files: &[Arc<IndexFile>]) -> i64 {
        files
            .last()
            .map(|f| f.header().end_phy_offset)
            .unwrap_or(-1)
    }

    /// Map existing files (sorted by name = creation time). With `keep_until_ts` (after a crash),
    /// files holding entries newer than the checkpoint are removed: they may be torn, and the
    /// dispatcher re-indexes from there.
    pub fn load(&self, keep_until_ts: Option<i64>) -> Result<(), StoreError> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        let mut files = Vec::new();
        for p in names {
            match IndexFile::open(&p, self.slots, self.max_index) {
                Ok(f) => {
                    if let Some(ts) = keep_until_ts {
                        if f.header().end_timestamp > ts {
                            drop(f);
                            let _ = std::fs::remove_file(&p);
                            continue;
                        }
                    }
                    files.push(Arc::new(f))
                }
                Err(e) => {
                    tracing::warn!("dropping unreadable index file {}: {e}", p.display());
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
        // A file created just before a crash may hold nothing yet: it would claim that nothing is
        // indexed (end offset 0) and force a full re-index. Drop such trailing files.
        while files.last().is_some_and(|f| {
            let h = f.header();
            h.begin_timestamp == 0 && h.end_phy_offset == 0 && h.index_count <= 1
        }) {
            let f = files.pop().unwrap();
            let _ = std::fs::remove_file(f.path());
        }
        self.until.store(Self::end_of(&files), Ordering::Release);
        *self.files.write() = files;
        Ok(())
    }

    /// Physical offset below which everything is indexed.
    pub fn indexed_until(&self) -> i64 {
        self.until.load(Ordering::Acquire)
    }

    /// Index one record's keys as `topic#key` (dispatcher thread). Allocates nothing unless a
    /// new file is started.
    pub fn put<K: AsRef<str>>(
        &self,
        topic: &str,
        keys: impl IntoIterator<Item = K>,
        phy: i64,
        ts: i64,
    ) -> Result<(), StoreError> {
        if phy <= self.indexed_until() {
            return Ok(());
        }
        // Only the last file is written and files are only added after it, so the files this
        // record's keys went to are the last ones from the first of them on.
        let mut first: Option<Arc<IndexFile>> = None;
        for k in keys {
            let hash = topic_key_hash(topic, k.as_ref());
            loop {
                let f = self.writable(ts)?;
                if f.put_hash(hash, phy, ts) {
                    first.get_or_insert(f);
                    break;
                }
            }
        }
        let Some(first) = first else {
            self.writable(ts)?.touch(phy, ts);
            self.until.store(phy, Ordering::Release);
            return Ok(());
        };
        // Oldest first, so the newest file (which decides where re-indexing resumes) is last.
        let files = self.files.read();
        let from = files
            .iter()
            .rposition(|f| Arc::ptr_eq(f, &first))
            .unwrap_or(0);
        for f in &files[from..] {
            f.touch(phy, ts);
        }
        self.until.store(phy, Ordering::Release);
        Ok(())
    }

    fn writable(&self, ts: i64) -> Result<Arc<IndexFile>, StoreError> {
        if let Some(f) = self.files.read().last() {
            if !f.is_full() {
                return Ok(f.clone());
            }
        }
        let mut name = time_file_name(ts.max(1));
        let mut files = self.files.write();
        while files.iter().any(|f| {
            f.path()
                .file_name()
                .map(|n| n.to_string_lossy() == name)
                .unwrap_or(false)
        }) {
            name.push('0');
        }
        if let Some(prev) = files.last() {
            prev.flush()?;
        }
        let f = Arc::new(IndexFile::open(
            &self.dir.join(name),
            self.slots,
            self.max_index,
        )?);
        files.push(f.clone());
        Ok(f)
    }

    /// Candidates for `topic#key` stored in `[begin, end]`, newest file first, up to `max`.
    pub fn query(&self, topic: &str, key: &str, max: usize, begin: i64, end: i64) -> Vec<i64> {
        let hash = topic_key_hash(topic, key);
        let mut out = Vec::new();
        for f in self.files.read().iter().rev() {
            let h = f.header();
            if h.index_count <= 1 || h.end_timestamp < begin - 999 || h.begin_timestamp > end {
                continue;
            }
            f.query_hash(hash, max, begin, end, &mut out);
            if out.len() >= max {
                break;
            }
        }
        // After a runtime truncation a stale entry can name the offset a re-indexed record
        // has again: answer each offset once.
        let mut seen = std::collections::HashSet::new();
        out.retain(|p| seen.insert(*p));
        out
    }

    pub fn flush(&self) -> Result<(), StoreError> {
        if let Some(f) = self.files.read().last() {
            f.flush()?;
        }
        Ok(())
    }

    /// After the CommitLog was truncated to `end`: drop files that start at or past it and make the
    /// last one claim no more than `end - 1`, so records appended from `end` on are indexed again.
    /// (Stale entries past `end` stay in the chains; queries verify every hit against the record.)
    pub fn clamp_to(&self, end: i64) {
        let mut files = self.files.write();
        while files
            .last()
            .is_some_and(|f| f.header().begin_phy_offset >= end)
        {
            let f = files.pop().unwrap();
            let _ = std::fs::remove_file(f.path());
        }
        if let Some(f) = files.last() {
            let mut m = f.map.lock();
            if IndexFile::rd_i64(&m, 24) >= end {
                m[24..32].copy_from_slice(&(end - 1).to_be_bytes());
            }
        }
        self.until.store(Self::end_of(&files), Ordering::Release);
    }

    /// Delete files whose entries all point below `min_phy` (retention); never the last one.
    pub fn delete_expired(&self, min_phy: i64) -> usize {
        let mut files = self.files.write();
        let mut n = 0;
        while files.len() > 1 && files[0].header().end_phy_offset < min_phy {
            let f = files.remove(0);
            let _ = std::fs::remove_file(f.path());
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_hashes() {
        assert_eq!(time_file_name(0), "19700101000000000");
        assert_eq!(time_file_name(1_700_000_000_123), "20231114221320123");
        assert_eq!(key_hash("polygenelubricants"), 0);
        assert_eq!(key_hash("hello"), 99162322);
    }

    #[test]
    fn topic_key_hash_is_key_hash_of_the_joined_string() {
        let cases = [
            ("TopicTest", "OrderID188"),
            ("", ""),
            ("T", ""),
            ("", "k"),
            ("Tópico", "clé-ü"),
            ("主题", "键"),
            ("astral\u{1F600}", "\u{1F680}key\u{10FFFF}"),
        ];
        for (topic, key) in cases {
            assert_eq!(
                topic_key_hash(topic, key),
                key_hash(&format!("{topic}#{key}")),
                "{topic}#{key}"
            );
        }
    }

    #[test]
    fn chain_walk_time_range_and_rollover() {
        let dir = tempfile::tempdir().unwrap();
        let svc = IndexService::new(dir.path().to_path_buf(), 4, 6); // 5 entries per file
        let t0 = 1_700_000_000_000;
        for i in 0..12i64 {
            let key = if i % 2 == 0 { "even" } else { "odd" };
            svc.put("T", [key, "all"], i * 100, t0 + i * 1000).unwrap();
        }
        assert!(svc.files.read().len() >= 4);
        let mut all = svc.query("T", "all", 100, 0, i64::MAX);
        all.sort();
        assert_eq!(all, (0..12).map(|i| i * 100).collect::<Vec<_>>());
        let mut even = svc.query("T", "even", 100, t0, t0 + 5000);
        even.sort();
        assert_eq!(even, vec![0, 200, 400]);
        assert_eq!(svc.query("T", "all", 3, 0, i64::MAX).len(), 3);
        assert!(svc.query("U", "all", 10, 0, i64::MAX).is_empty());
        // Re-putting an already indexed offset is a no-op (idempotent re-dispatch).
        svc.put("T", ["all"], 500, t0).unwrap();
        assert_eq!(svc.query("T", "all", 100, 0, i64::MAX).len(), 12);
        svc.flush().unwrap();
        let again = IndexService::new(dir.path().to_path_buf(), 4, 6);
        again.load(None).unwrap();
        assert_eq!(again.query("T", "odd", 100, 0, i64::MAX).len(), 6);
        assert_eq!(again.indexed_until(), 1100);
        assert!(again.delete_expired(700) >= 1);
        // An empty file left by a crash during a roll-over does not reset the indexed position.
        drop(again);
        IndexFile::open(&dir.path().join("99999999999999999"), 4, 6).unwrap();
        let reloaded = IndexService::new(dir.path().to_path_buf(), 4, 6);
        reloaded.load(None).unwrap();
        assert_eq!(reloaded.indexed_until(), 1100);
        assert!(!dir.path().join("99999999999999999").exists());
        // After a crash, files newer than the checkpoint are dropped.
        let third = IndexService::new(dir.path().to_path_buf(), 4, 6);
        third.load(Some(t0 + 3000)).unwrap();
        assert!(third.indexed_until() < 1100);
    }
}
