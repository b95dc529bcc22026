//! Epochs (controller mode): which master wrote which stretch of the CommitLog, so that after a
//! master change no two brokers ever disagree on an offset.
//!
//! Every time the controller elects a master it hands out a larger epoch; the new master records
//! `<epoch, startOffset>` (its CommitLog end at that moment) in its [`EpochFile`]. An epoch ends
//! where the next one starts, the last one at the store's end. A slave that connects to a master
//! compares the two lists ([`slave_truncation_point`]): the newest epoch both hold with the same
//! start offset was written by one master, so both hold the same bytes for it up to the smaller
//! of their two ends; everything after that point on the slave is a tail the master never had
//! (an old master's unreplicated writes) and is truncated. This is RocketMQ 5's
//! `EpochFileCache.findConsistentPoint`.
//!
//! The file has RocketMQ 5's `CheckpointFile` layout (`epochFileCheckpoint`): the entry count, the
//! CRC32 of the entry lines, then one `epoch-startOffset` line per entry. It is replaced with
//! temp + fsync + rename ([`write_atomic`]); a file that does not parse or whose count or CRC is
//! wrong is a start error (guessing an older history could hide a divergent tail).

use std::path::{Path, PathBuf};

use super::error::StoreError;
use super::metadata::write_atomic;

/// One epoch: the master of `epoch` wrote from `start_offset` on. The wire type of
/// GET_BROKER_EPOCH_CACHE is also the stored one: the file keeps `epoch` and `start_offset`, and
/// `end_offset` is derived ([`spans_of`]); entries held in an [`EpochFile`] carry `i64::MAX`.
pub use crate::protocol::body::controller::{EpochEntry, EpochEntryCache};

/// An entry for `epoch` starting at `start` (end open).
pub fn entry(epoch: i32, start: u64) -> EpochEntry {
    EpochEntry {
        epoch,
        start_offset: start as i64,
        end_offset: i64::MAX,
    }
}

/// `entries` with their end offsets for a store ending at `max`: each ends where the next starts,
/// the last at `max`, and a reported `end_offset` (a peer's list) can only shorten it. An end at
/// or below the start means the store holds nothing of that epoch (below: it ends before the
/// epoch begins).
pub fn spans_of(entries: &[EpochEntry], max: u64) -> Vec<EpochEntry> {
    let max = max as i64;
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let next = entries.get(i + 1).map_or(max, |n| n.start_offset);
            EpochEntry {
                end_offset: next.min(max).min(e.end_offset),
                ..*e
            }
        })
        .collect()
}

/// Where a slave must truncate its CommitLog before it copies from a master: the newest epoch
/// found in both histories with the same start offset decides, and the point is the smaller of
/// the two ends of that epoch. A local epoch starting beyond the slave's own end (adopted from a
/// master whose data never arrived) is skipped: the slave holds nothing of it.
///
/// `None` when the histories share no epoch (also for a slave without any epoch): the slave cannot
/// prove any of its data matches the master's and must start empty.
///
/// Both lists must carry their end offsets ([`spans_of`]); the result is never above either
/// list's last end.
pub fn slave_truncation_point(local: &[EpochEntry], master: &[EpochEntry]) -> Option<u64> {
    let local_max = local.last().map_or(0, |l| l.end_offset);
    local
        .iter()
        .rev()
        .filter(|l| l.start_offset <= local_max)
        .find_map(|l| {
            master
                .iter()
                .find(|m| m.epoch == l.epoch && m.start_offset == l.start_offset)
                .map(|m| l.end_offset.min(m.end_offset).max(0) as u64)
        })
}

/// Why an epoch file operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpochError {
    #[error("epoch {epoch} is not after the last epoch {last}")]
    NotNewer { epoch: i32, last: i32 },
    #[error("epoch {epoch} would start at {start}, before the last epoch's start {last_start}")]
    StartsEarlier {
        epoch: i32,
        start: i64,
        last_start: i64,
    },
}

/// The epoch history of this broker's CommitLog, persisted at `storePathEpochFile`.
#[derive(Debug)]
pub struct EpochFile {
    path: PathBuf,
    entries: Vec<EpochEntry>,
}

impl EpochFile {
    /// Load `path` (a missing file is an empty history). A damaged file is an error naming it.
    pub fn load(path: &Path) -> Result<EpochFile, StoreError> {
        let entries = match std::fs::read_to_string(path) {
            Ok(text) => parse(&text).map_err(|reason| StoreError::Metadata {
                path: path.to_path_buf(),
                reason: format!("epoch file: {reason}"),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(StoreError::io(path, e)),
        };
        Ok(EpochFile {
            path: path.to_path_buf(),
            entries,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn entries(&self) -> &[EpochEntry] {
        &self.entries
    }
    pub fn last(&self) -> Option<EpochEntry> {
        self.entries.last().copied()
    }

    /// Check that `e` may follow the current last entry: a larger epoch, and a start offset not
    /// before the last one's (equal is an epoch in which nothing was written).
    pub fn check_append(&self, e: EpochEntry) -> Result<(), EpochError> {
        match self.last() {
            Some(l) if e.epoch <= l.epoch => Err(EpochError::NotNewer {
                epoch: e.epoch,
                last: l.epoch,
            }),
            Some(l) if e.start_offset < l.start_offset => Err(EpochError::StartsEarlier {
                epoch: e.epoch,
                start: e.start_offset,
                last_start: l.start_offset,
            }),
            _ => Ok(()),
        }
    }

    /// Append and persist.
    pub fn append(&mut self, e: EpochEntry) -> Result<(), StoreError> {
        let e = entry(e.epoch, e.start_offset.max(0) as u64);
        self.check_append(e)
            .map_err(|err| StoreError::Epoch(err.to_string()))?;
        self.entries.push(e);
        self.persist()
    }

    /// Drop the entries starting at or after `offset` (their data is gone), then append `tail`
    /// (each checked as by [`Self::append`]), and persist once. Nothing changes on a refusal.
    pub fn replace_from(&mut self, offset: u64, tail: &[EpochEntry]) -> Result<(), StoreError> {
        let offset = offset as i64;
        let keep = self
            .entries
            .iter()
            .take_while(|e| e.start_offset < offset)
            .count();
        let mut next = EpochFile {
            path: self.path.clone(),
            entries: self.entries[..keep].to_vec(),
        };
        for e in tail {
            let e = entry(e.epoch, e.start_offset.max(0) as u64);
            next.check_append(e)
                .map_err(|err| StoreError::Epoch(err.to_string()))?;
            next.entries.push(e);
        }
        if next.entries != self.entries {
            next.persist()?;
            self.entries = next.entries;
        }
        Ok(())
    }

    /// Drop the entries starting after `offset` (entries adopted from a master whose data never
    /// arrived) and persist if anything changed.
    pub fn truncate_after(&mut self, offset: u64) -> Result<(), StoreError> {
        let offset = offset as i64;
        let keep = self
            .entries
            .iter()
            .take_while(|e| e.start_offset <= offset)
            .count();
        if keep == self.entries.len() {
            return Ok(());
        }
        let old = std::mem::take(&mut self.entries);
        self.entries = old[..keep].to_vec();
        if let Err(e) = self.persist() {
            self.entries = old;
            return Err(e);
        }
        Ok(())
    }

    /// The spans of this history for a CommitLog ending at `max`.
    pub fn spans(&self, max: u64) -> Vec<EpochEntry> {
        spans_of(&self.entries, max)
    }

    fn persist(&self) -> Result<(), StoreError> {
        write_atomic(&self.path, &render(&self.entries))
    }
}

/// RocketMQ 5's CheckpointFile text for `entries`.
fn render(entries: &[EpochEntry]) -> String {
    let lines: String = entries
        .iter()
        .map(|e| format!("{}-{}\n", e.epoch, e.start_offset))
        .collect();
    format!("{}\n{}\n{lines}", entries.len(), lines_crc(&lines))
}

/// `UtilAll.crc32`: CRC32 with the sign bit cleared.
fn lines_crc(lines: &str) -> u32 {
    crc32fast::hash(lines.as_bytes()) & 0x7FFF_FFFF
}

fn parse(text: &str) -> Result<Vec<EpochEntry>, String> {
    let mut it = text.lines();
    let count: usize = it
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or("the first line is not an entry count")?;
    let crc: i64 = it
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or("the second line is not a CRC")?;
    let mut lines = String::new();
    let mut entries: Vec<EpochEntry> = Vec::new();
    for l in it {
        lines.push_str(l);
        lines.push('\n');
        let (e, s) = l
            .split_once('-')
            .ok_or_else(|| format!("line '{l}' is not epoch-startOffset"))?;
        let e = entry(
            e.trim()
                .parse()
                .map_err(|_| format!("bad epoch in '{l}'"))?,
            s.trim()
                .parse()
                .map_err(|_| format!("bad offset in '{l}'"))?,
        );
        if let Some(p) = entries.last() {
            if e.epoch <= p.epoch || e.start_offset < p.start_offset {
                return Err(format!(
                    "entry '{l}' does not follow {}-{}",
                    p.epoch, p.start_offset
                ));
            }
        }
        entries.push(e);
    }
    if entries.len() != count {
        return Err(format!(
            "{} entries, the header says {count}",
            entries.len()
        ));
    }
    // RocketMQ writes 0 to mean "not checked".
    if crc != 0 && crc != i64::from(lines_crc(&lines)) {
        return Err("the entries do not match their CRC".into());
    }
    Ok(entries)
}

#[cfg(test)]
#[path = "epoch_tests.rs"]
mod tests;
