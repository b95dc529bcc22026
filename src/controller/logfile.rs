//! The Raft log on disk: one append-only file of records `[len u32][crc32 u32][msgpack]`, each an
//! entry, a truncation (drop from an index on) or a purge (drop up to a log id). Every append is
//! fsynced before openraft is told it is durable. Loading replays the records; a torn or corrupt
//! tail (a crash mid-write) is cut off, because a record is only acknowledged after its fsync.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::types::{Entry, LogId};

#[derive(Serialize, Deserialize)]
enum Record {
    Entry(Entry),
    /// Delete every entry with index >= this.
    Truncate(u64),
    /// Delete every entry up to and including this log id.
    Purge(LogId),
}

/// The log in memory plus the file that makes it durable.
pub struct LogFile {
    path: PathBuf,
    file: File,
    pub entries: BTreeMap<u64, Entry>,
    pub last_purged: Option<LogId>,
}

fn encode(r: &Record) -> std::io::Result<Vec<u8>> {
    let body = rmp_serde::to_vec_named(r).map_err(std::io::Error::other)?;
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

impl LogFile {
    /// Open (or create) `dir/raft.log` and replay it.
    pub fn open(dir: &Path) -> std::io::Result<LogFile> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("raft.log");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        let mut log = LogFile {
            path,
            file,
            entries: BTreeMap::new(),
            last_purged: None,
        };
        let good = log.replay(&data);
        if good < data.len() {
            tracing::warn!(
                file = %log.path.display(),
                kept = good,
                dropped = data.len() - good,
                "raft log: cut a torn or corrupt tail"
            );
            log.file.set_len(good as u64)?;
            log.file.sync_all()?;
        }
        log.file.seek(SeekFrom::End(0))?;
        Ok(log)
    }

    /// Apply the records of `data`; returns the length of the valid prefix.
    fn replay(&mut self, data: &[u8]) -> usize {
        let mut pos = 0;
        while data.len() - pos >= 8 {
            let len = u32::from_be_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
            let crc = u32::from_be_bytes(data[pos + 4..pos + 8].try_into().unwrap());
            let Some(body) = data.get(pos + 8..pos + 8 + len) else {
                break;
            };
            if crc32fast::hash(body) != crc {
                break;
            }
            let Ok(rec) = rmp_serde::from_slice::<Record>(body) else {
                break;
            };
            self.apply(rec);
            pos += 8 + len;
        }
        pos
    }

    fn apply(&mut self, rec: Record) {
        match rec {
            Record::Entry(e) => {
                self.entries.insert(e.log_id.index, e);
            }
            Record::Truncate(from) => {
                self.entries.split_off(&from);
            }
            Record::Purge(upto) => {
                self.entries = self.entries.split_off(&(upto.index + 1));
                self.last_purged = Some(upto);
            }
        }
    }

    fn write(&mut self, recs: Vec<Record>) -> std::io::Result<()> {
        let mut buf = Vec::new();
        for r in &recs {
            buf.extend(encode(r)?);
        }
        self.file.write_all(&buf)?;
        self.file.sync_data()?;
        for r in recs {
            self.apply(r);
        }
        Ok(())
    }

    /// Append entries durably.
    pub fn append(&mut self, entries: Vec<Entry>) -> std::io::Result<()> {
        self.write(entries.into_iter().map(Record::Entry).collect())
    }

    /// Drop entries from index `from` on, durably.
    pub fn truncate(&mut self, from: u64) -> std::io::Result<()> {
        self.write(vec![Record::Truncate(from)])
    }

    /// Drop entries up to `upto`, durably, then rewrite the file without them (temp + fsync +
    /// rename), so the file does not grow forever (openraft purges after each snapshot).
    pub fn purge(&mut self, upto: LogId) -> std::io::Result<()> {
        self.write(vec![Record::Purge(upto)])?;
        self.compact()
    }

    fn compact(&mut self) -> std::io::Result<()> {
        let mut buf = Vec::new();
        if let Some(p) = self.last_purged {
            buf.extend(encode(&Record::Purge(p))?);
        }
        for e in self.entries.values() {
            buf.extend(encode(&Record::Entry(e.clone()))?);
        }
        let tmp = self.path.with_extension("log.tmp");
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&buf)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        self.file = OpenOptions::new().read(true).write(true).open(&self.path)?;
        self.file.seek(SeekFrom::End(0))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::state::Command;
    use openraft::{CommittedLeaderId, EntryPayload};

    fn entry(index: u64, name: &str) -> Entry {
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, 0), index),
            payload: EntryPayload::Normal(Command::CleanBrokerData {
                broker_name: name.into(),
                ids: None,
            }),
        }
    }

    #[test]
    fn replays_truncates_purges_and_cuts_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut log = LogFile::open(dir.path()).unwrap();
            log.append((1..=5).map(|i| entry(i, "b")).collect())
                .unwrap();
            log.truncate(4).unwrap();
            log.purge(LogId::new(CommittedLeaderId::new(1, 0), 1))
                .unwrap();
        }
        // A torn record after the good ones.
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join("raft.log"))
            .unwrap();
        f.write_all(&[0, 0, 0, 50, 1, 2]).unwrap();
        drop(f);
        let log = LogFile::open(dir.path()).unwrap();
        assert_eq!(log.entries.keys().copied().collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(log.last_purged.map(|l| l.index), Some(1));
        let mut log = LogFile::open(dir.path()).unwrap();
        log.append(vec![entry(4, "c")]).unwrap();
        drop(log);
        assert_eq!(LogFile::open(dir.path()).unwrap().entries.len(), 3);
        // A purge compacts the file; appends after it still land.
        let size = |d: &Path| std::fs::metadata(d.join("raft.log")).unwrap().len();
        let before = size(dir.path());
        let mut log = LogFile::open(dir.path()).unwrap();
        log.purge(LogId::new(CommittedLeaderId::new(1, 0), 3))
            .unwrap();
        log.append(vec![entry(5, "d")]).unwrap();
        drop(log);
        assert!(size(dir.path()) < before);
        let log = LogFile::open(dir.path()).unwrap();
        assert_eq!(log.entries.keys().copied().collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!(log.last_purged.map(|l| l.index), Some(3));
    }
}
