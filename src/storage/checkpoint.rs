//! The checkpoint file (docs/protocol.md §6.5): store timestamps of the last flushed CommitLog,
//! ConsumeQueue and index data. After a crash, recovery starts from the newest CommitLog file whose
//! first record is older than all three, which bounds the re-scan to data that might be missing
//! from a consume queue or index.
//!
//! Written in place (4 KiB file, 24 meaningful bytes) with one msync, as RocketMQ does: a torn
//! write can only make recovery start earlier, never later, because recovery also verifies every
//! record it scans.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use memmap2::MmapMut;
use parking_lot::Mutex;

use super::error::{IoContext, StoreError};

const FILE_SIZE: u64 = 4096;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckpointData {
    pub physic_msg_timestamp: i64,
    pub logics_msg_timestamp: i64,
    pub index_msg_timestamp: i64,
}

impl CheckpointData {
    /// The timestamp recovery may trust: the smallest of the three (index only when enabled).
    pub fn min_timestamp(&self, index_enabled: bool) -> i64 {
        let m = self.physic_msg_timestamp.min(self.logics_msg_timestamp);
        if index_enabled {
            m.min(self.index_msg_timestamp)
        } else {
            m
        }
    }
}

pub struct Checkpoint {
    path: PathBuf,
    map: Mutex<MmapMut>,
}

impl Checkpoint {
    pub fn open(path: &Path) -> Result<Checkpoint, StoreError> {
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
        if f.metadata().at(path)?.len() != FILE_SIZE {
            f.set_len(FILE_SIZE).at(path)?;
        }
        // SAFETY: the store owns this file.
        let map = unsafe { MmapMut::map_mut(&f) }.at(path)?;
        Ok(Checkpoint {
            path: path.to_path_buf(),
            map: Mutex::new(map),
        })
    }

    pub fn read(&self) -> CheckpointData {
        let m = self.map.lock();
        let r = |at: usize| i64::from_be_bytes(m[at..at + 8].try_into().unwrap());
        CheckpointData {
            physic_msg_timestamp: r(0),
            logics_msg_timestamp: r(8),
            index_msg_timestamp: r(16),
        }
    }

    /// Write and msync the three timestamps.
    pub fn write(&self, d: CheckpointData) -> Result<(), StoreError> {
        let mut m = self.map.lock();
        m[0..8].copy_from_slice(&d.physic_msg_timestamp.to_be_bytes());
        m[8..16].copy_from_slice(&d.logics_msg_timestamp.to_be_bytes());
        m[16..24].copy_from_slice(&d.index_msg_timestamp.to_be_bytes());
        m.flush_range(0, 24).at(&self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("checkpoint");
        let c = Checkpoint::open(&p).unwrap();
        assert_eq!(c.read(), CheckpointData::default());
        let d = CheckpointData {
            physic_msg_timestamp: 30,
            logics_msg_timestamp: 20,
            index_msg_timestamp: 10,
        };
        c.write(d).unwrap();
        drop(c);
        let c = Checkpoint::open(&p).unwrap();
        assert_eq!(c.read(), d);
        assert_eq!(d.min_timestamp(true), 10);
        assert_eq!(d.min_timestamp(false), 20);
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 4096);
    }
}
