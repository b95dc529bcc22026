//! Consumer offsets: the in-memory table (queue -> next offset to consume) every consumer keeps,
//! and its persistence. Clustering groups commit the table to the broker (periodically, when a
//! queue is given away and at shutdown; see `broker_api`); broadcasting consumers keep it in a
//! local JSON file, written to a temp file and renamed so a crash never leaves half a file.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{ClientError, Result};
use crate::protocol::body::MessageQueue;

#[derive(Debug, Default)]
pub struct OffsetTable {
    offsets: HashMap<MessageQueue, i64>,
    /// Changed since the last persist.
    dirty: HashSet<MessageQueue>,
}

impl OffsetTable {
    /// Set the offset; with `increase_only` a smaller value is ignored (late concurrent acks).
    pub fn update(&mut self, mq: &MessageQueue, offset: i64, increase_only: bool) {
        let cur = self.offsets.get(mq).copied();
        if increase_only && cur.is_some_and(|c| c >= offset) {
            return;
        }
        if cur != Some(offset) {
            self.offsets.insert(mq.clone(), offset);
            self.dirty.insert(mq.clone());
        }
    }

    pub fn get(&self, mq: &MessageQueue) -> Option<i64> {
        self.offsets.get(mq).copied()
    }

    pub fn remove(&mut self, mq: &MessageQueue) -> Option<i64> {
        self.dirty.remove(mq);
        self.offsets.remove(mq)
    }

    /// The changed entries (cleared), for a periodic commit.
    pub fn take_dirty(&mut self) -> Vec<(MessageQueue, i64)> {
        let d: Vec<_> = self
            .dirty
            .drain()
            .filter_map(|mq| self.offsets.get(&mq).map(|o| (mq, *o)))
            .collect();
        d
    }

    /// Mark entries dirty again after a failed commit.
    pub fn mark_dirty(&mut self, mqs: impl IntoIterator<Item = MessageQueue>) {
        for mq in mqs {
            if self.offsets.contains_key(&mq) {
                self.dirty.insert(mq);
            }
        }
    }

    pub fn all(&self) -> BTreeMap<MessageQueue, i64> {
        self.offsets.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    topic: String,
    broker_name: String,
    queue_id: i32,
    offset: i64,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct FileBody {
    offset_table: Vec<Entry>,
}

/// The local file of a broadcasting consumer.
#[derive(Debug, Clone)]
pub struct LocalOffsetFile {
    pub path: PathBuf,
}

impl LocalOffsetFile {
    pub fn new(dir: &Path, instance: &str, group: &str) -> Self {
        LocalOffsetFile {
            path: dir.join(instance).join(group).join("offsets.json"),
        }
    }

    /// The stored offsets; a missing file is an empty table.
    pub fn load(&self) -> Result<BTreeMap<MessageQueue, i64>> {
        let text = match std::fs::read(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(ClientError::Io(format!("{}: {e}", self.path.display()))),
        };
        let body: FileBody = serde_json::from_slice(&text)
            .map_err(|e| ClientError::Io(format!("{}: {e}", self.path.display())))?;
        Ok(body
            .offset_table
            .into_iter()
            .map(|e| {
                (
                    MessageQueue::new(&e.topic, &e.broker_name, e.queue_id),
                    e.offset,
                )
            })
            .collect())
    }

    pub fn save(&self, offsets: &BTreeMap<MessageQueue, i64>) -> Result<()> {
        let io = |e: std::io::Error| ClientError::Io(format!("{}: {e}", self.path.display()));
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let body = FileBody {
            offset_table: offsets
                .iter()
                .map(|(mq, o)| Entry {
                    topic: mq.topic.clone(),
                    broker_name: mq.broker_name.clone(),
                    queue_id: mq.queue_id,
                    offset: *o,
                })
                .collect(),
        };
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(&body).expect("serializable"),
        )
        .map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increase_only_and_dirty_tracking() {
        let mq = MessageQueue::new("T", "a", 0);
        let mut t = OffsetTable::default();
        t.update(&mq, 5, true);
        t.update(&mq, 3, true);
        assert_eq!(t.get(&mq), Some(5));
        assert_eq!(t.take_dirty(), vec![(mq.clone(), 5)]);
        assert!(t.take_dirty().is_empty());
        t.update(&mq, 3, false);
        assert_eq!(t.get(&mq), Some(3));
        t.take_dirty();
        t.mark_dirty([mq.clone()]);
        assert_eq!(t.take_dirty().len(), 1);
        assert_eq!(t.remove(&mq), Some(3));
    }

    #[test]
    fn local_file_round_trip_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = LocalOffsetFile::new(dir.path(), "inst", "g");
        assert!(f.load().unwrap().is_empty());
        let mut m = BTreeMap::new();
        m.insert(MessageQueue::new("T", "a", 1), 42);
        m.insert(MessageQueue::new("T", "b", 0), 7);
        f.save(&m).unwrap();
        assert_eq!(f.load().unwrap(), m);
        std::fs::write(&f.path, b"{not json").unwrap();
        assert!(matches!(f.load(), Err(ClientError::Io(_))));
    }
}
