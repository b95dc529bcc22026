//! The store's part of a role switch in controller mode (the broker's role actor calls these
//! after it stopped taking writes): opening an epoch as master, truncating to the master's
//! history as slave, and the epoch cache GET_BROKER_EPOCH_CACHE (1007) answers.
//!
//! How a slave's history stays comparable: the 4.x replication stream carries no epochs, so a
//! slave learns them when it connects. [`MessageStore::prepare_as_slave`] truncates to the point
//! where its history and the master's agree, then takes over the master's entries from that point
//! on: the bytes it will receive are exactly the master's from there, so its history must say
//! which master wrote them. Without that, a slave that later becomes master would claim its last
//! local epoch runs on over another master's data, and a returning old master comparing with it
//! would keep a tail that differs (see `epoch.rs`). Entries adopted for data that never arrived
//! start past the slave's end; comparisons skip them and [`MessageStore::become_master`] drops
//! them. The broker must call `prepare_as_slave` again whenever the master's epoch changes, even
//! for the same master, so the new epoch's entry is adopted before its data arrives.

use std::sync::atomic::Ordering;

use super::epoch::{entry, slave_truncation_point, spans_of, EpochEntry, EpochEntryCache};
use super::error::StoreError;
use super::store::MessageStore;

impl MessageStore {
    /// This broker's epochs with their end offsets (the last ends at the CommitLog end).
    pub fn epoch_entries(&self) -> Vec<EpochEntry> {
        let ep = self.epochs.lock();
        ep.spans(self.cl.max_offset())
    }

    /// The GET_BROKER_EPOCH_CACHE (1007) answer.
    pub fn epoch_cache(&self, cluster: &str, broker_name: &str, broker_id: i64) -> EpochEntryCache {
        let ep = self.epochs.lock();
        let max = self.cl.max_offset();
        EpochEntryCache {
            broker_id,
            broker_name: broker_name.to_string(),
            cluster_name: cluster.to_string(),
            epoch_list: ep.spans(max),
            max_offset: max as i64,
        }
    }

    /// Become master of `epoch`: drop a replicated partial record (only whole records are ever in
    /// the CommitLog, see `replica.rs`), forget adopted epochs whose data never arrived, and open
    /// `<epoch, CommitLog end>`. Returns where the epoch starts. The same epoch again (a restart
    /// as the same master) keeps its entry; an older epoch than the last is refused (this broker
    /// has seen a newer master).
    pub fn become_master(&self, epoch: i32) -> Result<u64, StoreError> {
        let mut st = self.put_lock.lock();
        if self.shut.load(Ordering::Acquire) {
            return Err(StoreError::ShutDown);
        }
        st.replica_tail.clear();
        let max = self.cl.max_offset();
        let mut ep = self.epochs.lock();
        if let Some(last) = ep.last() {
            if epoch < last.epoch {
                return Err(StoreError::Epoch(format!(
                    "cannot become master of epoch {epoch}: this broker already holds epoch {}",
                    last.epoch
                )));
            }
            if epoch == last.epoch && last.start_offset as u64 <= max {
                return Ok(last.start_offset as u64);
            }
        }
        ep.truncate_after(max)?;
        ep.append(entry(epoch, max))?;
        tracing::info!("master of epoch {epoch} from CommitLog offset {max}");
        Ok(max)
    }

    /// Become a slave of the master whose epoch cache is `master`: truncate to the last point
    /// both histories agree on ([`slave_truncation_point`]) and adopt the master's epochs from
    /// there (module doc). With no common epoch the store is cleared and the master's history
    /// adopted whole; the slave then reports offset 0 and the master streams from the start of
    /// its last CommitLog file, as for a new slave (RocketMQ 5 does the same). Returns the new
    /// CommitLog end, where replication resumes.
    ///
    /// The caller must take `master` from the master after it opened the epoch the controller
    /// announced (its last entry's epoch is that master epoch); an older list would make this
    /// slave's history claim the previous epoch runs on over the new master's data.
    pub fn prepare_as_slave(&self, master: &EpochEntryCache) -> Result<u64, StoreError> {
        let mut st = self.put_lock.lock();
        if self.shut.load(Ordering::Acquire) {
            return Err(StoreError::ShutDown);
        }
        let master_max = master.max_offset.max(0);
        let theirs: Vec<EpochEntry> = master
            .epoch_list
            .iter()
            .filter(|m| m.start_offset >= 0 && m.start_offset <= master_max)
            .copied()
            .collect();
        let mut ep = self.epochs.lock();
        let local = ep.spans(self.cl.max_offset());
        let point = slave_truncation_point(&local, &spans_of(&theirs, master_max as u64));
        let end = match point {
            Some(p) if p >= self.cl.min_offset() => {
                self.truncate_locked(&mut st, p)?;
                let adopt: Vec<EpochEntry> = theirs
                    .iter()
                    .filter(|m| m.start_offset >= p as i64)
                    .copied()
                    .collect();
                ep.replace_from(p, &adopt)?;
                p
            }
            _ => {
                tracing::warn!(
                    "no epoch in common with the master (local {:?}, master {:?}): starting empty",
                    ep.entries(),
                    theirs
                );
                self.clear_locked(&mut st)?;
                ep.replace_from(0, &theirs)?;
                0
            }
        };
        drop(ep);
        drop(st);
        self.after_truncation()?;
        Ok(end)
    }
}
