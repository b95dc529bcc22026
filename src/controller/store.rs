//! openraft storage of one controller, under `controllerStorePath`: the log ([`LogFile`],
//! `raft.log`), the vote (`vote.json`), the committed log id (`committed.json`) and the last
//! snapshot (`snapshot.json`: meta + the serialized [`ControllerState`]); small files replaced by
//! temp + fsync + rename. The applied state lives in [`Machine`], shared with the request
//! handlers, which read it on the leader. A restart reloads the snapshot into the machine and
//! openraft re-applies the log after it.
//!
//! Runs on the controller's own tokio runtime (openraft's core task), so the synchronous file I/O
//! here never blocks an actix arbiter.

use std::io::Cursor;
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::storage::{LogState, RaftLogReader, RaftSnapshotBuilder, RaftStorage, Snapshot};
use openraft::{
    EntryPayload, ErrorSubject, ErrorVerb, SnapshotMeta, StorageIOError, StoredMembership,
};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use super::logfile::LogFile;
use super::state::{Applied, ControllerState};
use super::types::{Entry, LogId, NodeId, StorageError, TypeConfig, Vote};
use crate::storage::metadata::{read_with_fallback, write_atomic};

type Membership = StoredMembership<NodeId, openraft::BasicNode>;
type Meta = SnapshotMeta<NodeId, openraft::BasicNode>;

/// The applied state machine.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub last_applied: Option<LogId>,
    pub membership: Membership,
    pub state: ControllerState,
}

#[derive(Serialize, Deserialize)]
struct StoredSnapshot {
    meta: Meta,
    state: ControllerState,
}

fn io(subject: ErrorSubject<NodeId>, verb: ErrorVerb, e: impl std::fmt::Display) -> StorageError {
    StorageError::IO {
        source: StorageIOError::new(subject, verb, openraft::AnyError::error(e.to_string())),
    }
}

// openraft's storage traits fix the error type; this helper just returns it.
#[allow(clippy::result_large_err)]
fn save_json<T: Serialize>(
    path: &Path,
    v: &T,
    subject: ErrorSubject<NodeId>,
) -> Result<(), StorageError> {
    let text = serde_json::to_string(v).map_err(|e| io(subject.clone(), ErrorVerb::Write, e))?;
    write_atomic(path, &text).map_err(|e| io(subject, ErrorVerb::Write, e))
}

fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> std::io::Result<Option<T>> {
    read_with_fallback(path, |s| serde_json::from_str(s).map_err(|e| e.to_string()))
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// The controller's Raft storage (log + vote + state machine + snapshot).
pub struct FileStore {
    dir: PathBuf,
    log: Arc<Mutex<LogFile>>,
    vote: Option<Vote>,
    machine: Arc<RwLock<Machine>>,
    snapshot: Option<StoredSnapshot>,
}

/// Reads log entries for replication (shares the log with the store).
#[derive(Clone)]
pub struct LogReader {
    log: Arc<Mutex<LogFile>>,
}

impl FileStore {
    /// Open the store in `dir`, loading everything a previous run left there.
    pub fn open(dir: &Path) -> std::io::Result<(FileStore, Arc<RwLock<Machine>>)> {
        let log = LogFile::open(dir)?;
        let vote = load_json(&dir.join("vote.json"))?;
        let snapshot: Option<StoredSnapshot> = load_json(&dir.join("snapshot.json"))?;
        let mut machine = Machine::default();
        if let Some(s) = &snapshot {
            machine = Machine {
                last_applied: s.meta.last_log_id,
                membership: s.meta.last_membership.clone(),
                state: s.state.clone(),
            };
        }
        let machine = Arc::new(RwLock::new(machine));
        let store = FileStore {
            dir: dir.to_path_buf(),
            log: Arc::new(Mutex::new(log)),
            vote,
            machine: machine.clone(),
            snapshot,
        };
        Ok((store, machine))
    }

    fn io_log(e: std::io::Error) -> StorageError {
        io(ErrorSubject::Logs, ErrorVerb::Write, e)
    }
}

fn read_range<RB: RangeBounds<u64>>(log: &Mutex<LogFile>, range: RB) -> Vec<Entry> {
    log.lock()
        .entries
        .range(range)
        .map(|(_, e)| e.clone())
        .collect()
}

impl RaftLogReader<TypeConfig> for LogReader {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + std::fmt::Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(read_range(&self.log, range))
    }
}

impl RaftLogReader<TypeConfig> for FileStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + std::fmt::Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(read_range(&self.log, range))
    }
}

impl RaftSnapshotBuilder<TypeConfig> for FileStore {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let m = self.machine.read().clone();
        let meta = Meta {
            last_log_id: m.last_applied,
            last_membership: m.membership.clone(),
            snapshot_id: format!(
                "{}-{}",
                m.last_applied.map_or(0, |l| l.leader_id.term),
                m.last_applied.map_or(0, |l| l.index)
            ),
        };
        let stored = StoredSnapshot {
            meta: meta.clone(),
            state: m.state,
        };
        save_json(
            &self.dir.join("snapshot.json"),
            &stored,
            ErrorSubject::Snapshot(None),
        )?;
        let data = serde_json::to_vec(&stored.state)
            .map_err(|e| io(ErrorSubject::Snapshot(None), ErrorVerb::Write, e))?;
        self.snapshot = Some(stored);
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}

impl RaftStorage<TypeConfig> for FileStore {
    type LogReader = LogReader;
    type SnapshotBuilder = FileStore;

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        save_json(&self.dir.join("vote.json"), vote, ErrorSubject::Vote)?;
        self.vote = Some(*vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        Ok(self.vote)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        save_json(
            &self.dir.join("committed.json"),
            &committed,
            ErrorSubject::Store,
        )
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        load_json::<Option<LogId>>(&self.dir.join("committed.json"))
            .map(Option::flatten)
            .map_err(|e| io(ErrorSubject::Store, ErrorVerb::Read, e))
    }

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let log = self.log.lock();
        let last = log.entries.values().next_back().map(|e| e.log_id);
        Ok(LogState {
            last_purged_log_id: log.last_purged,
            last_log_id: last.or(log.last_purged),
        })
    }

    async fn get_log_reader(&mut self) -> LogReader {
        LogReader {
            log: self.log.clone(),
        }
    }

    async fn append_to_log<I>(&mut self, entries: I) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + Send,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        self.log.lock().append(entries).map_err(Self::io_log)
    }

    async fn delete_conflict_logs_since(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.log.lock().truncate(log_id.index).map_err(Self::io_log)
    }

    async fn purge_logs_upto(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.log.lock().purge(log_id).map_err(Self::io_log)
    }

    async fn last_applied_state(&mut self) -> Result<(Option<LogId>, Membership), StorageError> {
        let m = self.machine.read();
        Ok((m.last_applied, m.membership.clone()))
    }

    async fn apply_to_state_machine(
        &mut self,
        entries: &[Entry],
    ) -> Result<Vec<Applied>, StorageError> {
        let mut m = self.machine.write();
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            m.last_applied = Some(e.log_id);
            match &e.payload {
                EntryPayload::Blank => out.push(Ok(None)),
                EntryPayload::Normal(cmd) => {
                    let r = m.state.apply(cmd);
                    tracing::debug!(index = e.log_id.index, ?cmd, ok = r.is_ok(), "applied");
                    out.push(r);
                }
                EntryPayload::Membership(mem) => {
                    m.membership = StoredMembership::new(Some(e.log_id), mem.clone());
                    out.push(Ok(None));
                }
            }
        }
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> FileStore {
        FileStore {
            dir: self.dir.clone(),
            log: self.log.clone(),
            vote: self.vote,
            machine: self.machine.clone(),
            snapshot: None,
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &Meta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let subject = ErrorSubject::Snapshot(Some(meta.signature()));
        let state: ControllerState = serde_json::from_slice(snapshot.get_ref())
            .map_err(|e| io(subject.clone(), ErrorVerb::Read, e))?;
        let stored = StoredSnapshot {
            meta: meta.clone(),
            state: state.clone(),
        };
        save_json(&self.dir.join("snapshot.json"), &stored, subject)?;
        *self.machine.write() = Machine {
            last_applied: meta.last_log_id,
            membership: meta.last_membership.clone(),
            state,
        };
        self.snapshot = Some(stored);
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        if self.snapshot.is_none() {
            self.snapshot = load_json(&self.dir.join("snapshot.json"))
                .map_err(|e| io(ErrorSubject::Snapshot(None), ErrorVerb::Read, e))?;
        }
        let Some(s) = &self.snapshot else {
            return Ok(None);
        };
        let data = serde_json::to_vec(&s.state)
            .map_err(|e| io(ErrorSubject::Snapshot(None), ErrorVerb::Read, e))?;
        Ok(Some(Snapshot {
            meta: s.meta.clone(),
            snapshot: Box::new(Cursor::new(data)),
        }))
    }
}
