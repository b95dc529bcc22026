//! A controller-mode broker's decisions (RocketMQ 5's `ReplicasManager`, RIP-44): which role the
//! controller's answers give this broker, which master epochs are stale, how the master's
//! SyncStateSet shrinks and grows, which controller to ask, and the persisted broker id.
//!
//! * Roles: every answer naming a master (register, elect, get replica info, the controller's
//!   NOTIFY_BROKER_ROLE_CHANGED) carries a master epoch. An epoch newer than the one known
//!   switches the broker: to master when the master is this broker's id, else to slave of the
//!   named master. An epoch not newer is ignored (a late or replayed notification must not undo a
//!   newer switch); at the same epoch only a newer SyncStateSet is taken. No master at all: ask
//!   the controller to elect.
//! * SyncStateSet (master only): a member whose last caught-up time is older than
//!   `haMaxTimeSlaveNotCatchup` leaves; a connected slave whose acknowledged offset reached the
//!   confirm offset (the least acknowledged offset of the set, at most the master's end) joins.
//!   While a change is with the controller, the replicas a send waits for are the union of the
//!   old and the new set, so no message is acknowledged by fewer replicas than the set the
//!   controller knows (RocketMQ's `markSynchronizingSyncStateSet`).
//! * Controller leader: `controllerAddr` lists the controllers; the leader is whatever a
//!   CONTROLLER_GET_METADATA_INFO answer names; a CONTROLLER_NOT_LEADER answer forgets it.
//! * Broker id: kept in `<storePathRootDir>/brokerIdentity` as RocketMQ 5.1 writes it
//!   (`cluster#brokerName#brokerId`), so a restarted broker keeps its id.

use std::collections::BTreeSet;

use crate::protocol::body::controller::SyncStateSet;

/// The file (in the store root) holding this broker's controller-assigned id.
pub const IDENTITY_FILE: &str = "brokerIdentity";

/// What `brokerIdentity` holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerIdentity {
    pub cluster: String,
    pub broker_name: String,
    pub broker_id: i64,
}

impl BrokerIdentity {
    pub fn encode(&self) -> String {
        format!("{}#{}#{}", self.cluster, self.broker_name, self.broker_id)
    }

    pub fn decode(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.trim().split('#').collect();
        let [cluster, broker_name, id] = parts[..] else {
            return Err(format!(
                "'{}' is not clusterName#brokerName#brokerId",
                text.trim()
            ));
        };
        let broker_id = id
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| format!("broker id '{id}' is not a number above 0"))?;
        if cluster.is_empty() || broker_name.is_empty() {
            return Err(format!("'{}' names no cluster or broker", text.trim()));
        }
        Ok(BrokerIdentity {
            cluster: cluster.into(),
            broker_name: broker_name.into(),
            broker_id,
        })
    }

    /// The file must be this broker's: a store moved to another broker set keeps its id only by
    /// mistake, so that stops the start (as RocketMQ's `checkMetadataValid`).
    pub fn check(&self, cluster: &str, broker_name: &str) -> Result<(), String> {
        if self.cluster == cluster && self.broker_name == broker_name {
            return Ok(());
        }
        Err(format!(
            "{IDENTITY_FILE} belongs to {}/{} but this broker is {cluster}/{broker_name}: \
             fix brokerClusterName/brokerName or remove the file to get a new id",
            self.cluster, self.broker_name
        ))
    }
}

/// The set's master as one of the controller's answers states it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MasterInfo {
    pub master_id: Option<i64>,
    pub master_addr: Option<String>,
    pub master_epoch: i32,
    /// The SyncStateSet, when the answer carries one.
    pub sync_state_set: Option<SyncStateSet>,
}

/// What an answer means for this broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing new.
    Keep,
    /// The set has no master: ask the controller to elect one.
    Elect,
    /// This broker is the master from `epoch` on.
    BecomeMaster { epoch: i32 },
    /// `master_id` at `master_addr` is the master from `epoch` on.
    BecomeSlave {
        master_id: i64,
        master_addr: String,
        epoch: i32,
    },
}

/// One slave as the master's replication sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlaveProgress {
    pub broker_id: i64,
    /// The highest offset it acknowledged.
    pub ack: u64,
    /// When it last acknowledged everything the master had (ms).
    pub caught_up_ms: i64,
    pub connected: bool,
}

/// The controller-mode state of one broker.
#[derive(Debug)]
pub struct Replicas {
    self_id: i64,
    master_epoch: i32,
    master_id: Option<i64>,
    master_addr: Option<String>,
    set: BTreeSet<i64>,
    set_epoch: i32,
    /// A SyncStateSet proposed to the controller and not answered yet.
    altering: Option<BTreeSet<i64>>,
    /// When this broker last became master (members not seen since get this as caught-up time).
    master_since_ms: i64,
}

impl Replicas {
    pub fn new(self_id: i64) -> Self {
        Replicas {
            self_id,
            master_epoch: 0,
            master_id: None,
            master_addr: None,
            set: BTreeSet::new(),
            set_epoch: 0,
            altering: None,
            master_since_ms: 0,
        }
    }

    pub fn self_id(&self) -> i64 {
        self.self_id
    }

    pub fn master_epoch(&self) -> i32 {
        self.master_epoch
    }

    pub fn master_addr(&self) -> Option<&str> {
        self.master_addr.as_deref()
    }

    pub fn is_master(&self) -> bool {
        self.master_id == Some(self.self_id)
    }

    pub fn sync_state_set(&self) -> &BTreeSet<i64> {
        &self.set
    }

    pub fn sync_state_set_epoch(&self) -> i32 {
        self.set_epoch
    }

    /// Judge an answer naming the master; a switch is recorded here (epoch, master) before the
    /// caller carries it out, so a second answer with the same epoch is `Keep`.
    pub fn on_master_info(&mut self, info: &MasterInfo, now_ms: i64) -> Decision {
        let master = match (info.master_id, info.master_addr.as_deref()) {
            (Some(id), Some(addr)) if !addr.is_empty() && id >= 0 => Some((id, addr)),
            _ => None,
        };
        let Some((id, addr)) = master else {
            // No master (or the controller lost it): electing is the controller's call.
            return Decision::Elect;
        };
        if info.master_epoch <= self.master_epoch {
            if info.master_epoch == self.master_epoch && self.is_master() {
                if let Some(s) = &info.sync_state_set {
                    self.on_sync_state_set(s);
                }
            }
            return Decision::Keep;
        }
        self.master_epoch = info.master_epoch;
        self.master_id = Some(id);
        self.master_addr = Some(addr.to_string());
        self.altering = None;
        if id == self.self_id {
            self.master_since_ms = now_ms;
            if let Some(s) = &info.sync_state_set {
                self.on_sync_state_set(s);
            }
            Decision::BecomeMaster {
                epoch: info.master_epoch,
            }
        } else {
            Decision::BecomeSlave {
                master_id: id,
                master_addr: addr.to_string(),
                epoch: info.master_epoch,
            }
        }
    }

    /// A SyncStateSet from the controller: taken when its epoch is newer.
    pub fn on_sync_state_set(&mut self, s: &SyncStateSet) -> bool {
        if s.sync_state_set_epoch <= self.set_epoch && !self.set.is_empty() {
            return false;
        }
        self.set = s.sync_state_set.clone();
        self.set_epoch = s.sync_state_set_epoch;
        true
    }

    /// The least offset the set has acknowledged, at most `master_max` (members not connected
    /// are left out, as RocketMQ's `computeConfirmOffset`).
    pub fn confirm_offset(&self, master_max: u64, slaves: &[SlaveProgress]) -> u64 {
        slaves
            .iter()
            .filter(|s| s.connected && self.set.contains(&s.broker_id))
            .map(|s| s.ack)
            .fold(master_max, u64::min)
    }

    /// The SyncStateSet the master should propose now, if it differs from the current one (and
    /// no proposal is with the controller).
    pub fn check_set(
        &self,
        now_ms: i64,
        max_not_caught_up_ms: i64,
        master_max: u64,
        slaves: &[SlaveProgress],
    ) -> Option<BTreeSet<i64>> {
        if !self.is_master() || self.altering.is_some() {
            return None;
        }
        let seen = |id: i64| slaves.iter().find(|s| s.broker_id == id);
        let mut next = BTreeSet::from([self.self_id]);
        for &m in self.set.iter().filter(|m| **m != self.self_id) {
            let caught_up = seen(m).map_or(self.master_since_ms, |s| {
                s.caught_up_ms.max(self.master_since_ms)
            });
            if now_ms - caught_up <= max_not_caught_up_ms {
                next.insert(m);
            }
        }
        let confirm = self.confirm_offset(master_max, slaves);
        for s in slaves
            .iter()
            .filter(|s| s.connected && s.broker_id != self.self_id)
        {
            if !self.set.contains(&s.broker_id) && s.ack >= confirm {
                next.insert(s.broker_id);
            }
        }
        (next != self.set).then_some(next)
    }

    /// `next` is being proposed to the controller.
    pub fn begin_alter(&mut self, next: BTreeSet<i64>) {
        self.altering = Some(next);
    }

    /// The controller took the proposal: it is the set from `epoch` on.
    pub fn altered(&mut self, epoch: i32) {
        if let Some(next) = self.altering.take() {
            if epoch > self.set_epoch {
                self.set = next;
                self.set_epoch = epoch;
            }
        }
    }

    /// The proposal failed; the old set stands.
    pub fn alter_failed(&mut self) {
        self.altering = None;
    }

    /// The replicas (other than this broker) a send must be acknowledged by: the set, and while
    /// a change is under way the proposed set too.
    pub fn required_acks(&self) -> BTreeSet<i64> {
        self.set
            .iter()
            .chain(self.altering.iter().flatten())
            .copied()
            .filter(|id| *id != self.self_id)
            .collect()
    }
}

/// Which controller to ask: the known leader first, then the others.
#[derive(Debug, Clone)]
pub struct ControllerAddrs {
    addrs: Vec<String>,
    leader: Option<String>,
}

impl ControllerAddrs {
    /// `controllerAddr`: `;`-separated.
    pub fn parse(list: &str) -> Self {
        ControllerAddrs {
            addrs: list
                .split(';')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect(),
            leader: None,
        }
    }

    pub fn all(&self) -> &[String] {
        &self.addrs
    }

    pub fn leader(&self) -> Option<&str> {
        self.leader.as_deref()
    }

    /// A CONTROLLER_GET_METADATA_INFO answer from `asked`: the leader it names (itself when
    /// `is_leader`). `None` when it knows no leader.
    pub fn on_metadata(
        &mut self,
        asked: &str,
        is_leader: bool,
        leader_addr: Option<&str>,
    ) -> Option<&str> {
        self.leader = if is_leader {
            Some(asked.to_string())
        } else {
            leader_addr.filter(|a| !a.is_empty()).map(str::to_string)
        };
        self.leader.as_deref()
    }

    /// The leader did not answer, or answered CONTROLLER_NOT_LEADER.
    pub fn forget_leader(&mut self) {
        self.leader = None;
    }
}

#[cfg(test)]
#[path = "replicas_tests.rs"]
mod tests;
