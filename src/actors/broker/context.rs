//! `BrokerCtx`: the broker's shared state, one `Arc` handed to every request handler.
//!
//! The send and pull paths run on the connection's own arbiter and touch only this: the store
//! (its own short lock), and the read-mostly tables behind `parking_lot` locks held for a lookup
//! or an update, never across an `.await`. That keeps a send or a pull within one thread (no
//! actor hop; a pull without its own subscription reads the `HeartbeatActor`'s published
//! snapshot); actors own what needs a single owner over time (client table, held pulls, timers).
//!
//! Metadata changes are handed to the `Persister` thread, so no handler does file I/O.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use actix::Addr;
use parking_lot::{Mutex, RwLock};

use super::heartbeat::HeartbeatActor;
use super::logic::delay::DelayLevels;
use super::logic::groups::SubscriptionGroupTable;
use super::logic::locks::LockTable;
use super::logic::offsets::ConsumerOffsetTable;
use super::logic::replica_acks::ReplicaAcks;
use super::logic::subscription_view::SharedSubscriptions;
use super::logic::topics::TopicTable;
use super::persist::{PersistJob, Persister};
use super::queue::QueueRegistry;
use super::registrar::{RegisterNow, Registrar};
use super::schedule::ScheduleActor;
use super::stats::BrokerStats;
use crate::config::{BrokerConfig, BrokerRole};
use crate::protocol::body::perm;
use crate::storage::MessageStore;

/// Replication state shared by the send path, the `ReplicationActor`, the `Registrar` and the
/// slave's metadata sync.
#[derive(Default)]
pub struct HaShared {
    /// On a master: its slaves' progress and the SYNC_MASTER sends waiting on it.
    pub acks: ReplicaAcks,
    /// On a slave: its master as the name server last answered REGISTER_BROKER.
    pub master: RwLock<MasterAddrs>,
}

/// A slave's master: its remoting address (metadata sync) and its HA address (replication).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MasterAddrs {
    pub broker_addr: Option<String>,
    pub ha_addr: Option<String>,
}

/// The broker's role at run time: its `brokerRole`, `brokerId` and (controller mode) the master
/// epoch it knows. Fixed by the config outside controller mode; in controller mode the
/// `ReplicasActor` changes it when the controller names a new master. Read on the send and pull
/// paths, so plain atomics (no lock): a reader may see a role a switch is replacing, which is
/// why a switch to slave sets the role first and only then stops replication.
pub struct RoleCell {
    role: AtomicU8,
    broker_id: AtomicI64,
    master_epoch: AtomicI32,
}

impl RoleCell {
    pub fn new(role: BrokerRole, broker_id: i64) -> Self {
        RoleCell {
            role: AtomicU8::new(Self::code(role)),
            broker_id: AtomicI64::new(broker_id),
            master_epoch: AtomicI32::new(0),
        }
    }

    fn code(role: BrokerRole) -> u8 {
        match role {
            BrokerRole::AsyncMaster => 0,
            BrokerRole::SyncMaster => 1,
            BrokerRole::Slave => 2,
        }
    }

    pub fn role(&self) -> BrokerRole {
        match self.role.load(Ordering::Acquire) {
            0 => BrokerRole::AsyncMaster,
            1 => BrokerRole::SyncMaster,
            _ => BrokerRole::Slave,
        }
    }

    pub fn is_slave(&self) -> bool {
        self.role() == BrokerRole::Slave
    }

    /// `brokerId` as the name servers are told it: 0 on a master.
    pub fn broker_id(&self) -> i64 {
        self.broker_id.load(Ordering::Acquire)
    }

    /// The master epoch this broker knows (0 outside controller mode).
    pub fn master_epoch(&self) -> i32 {
        self.master_epoch.load(Ordering::Acquire)
    }

    /// Take `role` with `broker_id` (the id before the role, so a reader that sees the new role
    /// sees its id).
    pub fn set(&self, role: BrokerRole, broker_id: i64) {
        self.broker_id.store(broker_id, Ordering::Release);
        self.role.store(Self::code(role), Ordering::Release);
    }

    pub fn set_master_epoch(&self, epoch: i32) {
        self.master_epoch.store(epoch, Ordering::Release);
    }
}

pub struct BrokerCtx {
    pub cfg: BrokerConfig,
    /// Role, broker id and master epoch at run time: read these here, never from `cfg`.
    pub role: Arc<RoleCell>,
    pub store: Arc<MessageStore>,
    pub topics: RwLock<TopicTable>,
    pub groups: Arc<RwLock<SubscriptionGroupTable>>,
    pub offsets: Mutex<ConsumerOffsetTable>,
    pub locks: Mutex<LockTable>,
    pub delay: DelayLevels,
    /// `brokerIP1:listenPort`: written into stored messages and message ids.
    pub store_host: SocketAddr,
    /// The same, as text (name-server registration).
    pub broker_addr: String,
    pub persister: Persister,
    pub heartbeat: Addr<HeartbeatActor>,
    /// The consumer groups' registered subscriptions, published by the `HeartbeatActor`.
    pub subscriptions: Arc<SharedSubscriptions>,
    pub queues: QueueRegistry,
    pub registrar: OnceLock<Addr<Registrar>>,
    /// Controller mode: the controller link (NOTIFY_BROKER_ROLE_CHANGED goes there).
    pub replicas: OnceLock<Addr<super::replicas::ReplicasActor>>,
    /// This broker's HA address (`brokerIP2` or `brokerIP1`, and the HA port), as registered.
    pub ha_server_addr: String,
    /// The delay-offset owner (GET_ALL_DELAY_OFFSET asks it); set once it is started.
    pub schedule: OnceLock<Addr<ScheduleActor>>,
    /// Counters for GET_BROKER_RUNTIME_INFO, VIEW_BROKER_STATS_DATA and `/metrics`.
    pub stats: BrokerStats,
    pub started_ms: i64,
    /// Broker permission (`brokerPermission`), changeable at run time.
    pub broker_perm: AtomicI64,
    /// The settings UPDATE_BROKER_CONFIG changes at run time: read these, not `cfg`.
    pub hot: super::tunables::BrokerTunables,
    /// The config as GET_BROKER_CONFIG shows it, with the changes UPDATE_BROKER_CONFIG made.
    pub runtime_config: Mutex<crate::config::update::RuntimeConfig<BrokerConfig>>,
    pub ha: Arc<HaShared>,
    /// TLS for the broker's own connections (`tlsEnable`): to name servers, a slave's to its
    /// master.
    pub tls_client: Option<crate::tls::TlsClient>,
    /// The ACL rules in force (`aclEnable=true`); `None` = every request is let through.
    pub acl: Option<Arc<crate::acl::AclState>>,
}

impl BrokerCtx {
    /// Whether the broker accepts writes.
    pub fn writeable(&self) -> bool {
        perm::writeable(self.broker_perm.load(Ordering::Relaxed) as i32)
    }

    pub fn readable(&self) -> bool {
        perm::readable(self.broker_perm.load(Ordering::Relaxed) as i32)
    }

    /// Have the store register a new topic's queues and create their first consume-queue files
    /// in the background (its `store-topics` thread), so the first message of each queue does not
    /// wait for its file and this thread does no file I/O.
    pub fn prepare_queues(&self, topic: &crate::protocol::body::TopicConfig) {
        let queues = topic.write_queue_nums.max(topic.read_queue_nums);
        if let Err(e) = self.store.prepare_topic(&topic.topic_name, queues) {
            tracing::warn!(topic = %topic.topic_name, "cannot prepare queues: {e}");
        }
    }

    /// Topics changed: persist them and re-register with the name servers.
    pub fn topics_changed(&self) {
        let file = crate::storage::metadata::TopicsFile {
            data_version: self.topics.read().data_version(),
            topic_config_table: self.topics.read().wrapper().topic_config_table,
        };
        self.persister.submit(PersistJob::Topics(file));
        if let Some(r) = self.registrar.get() {
            r.do_send(RegisterNow);
        }
    }

    /// Subscription groups changed: persist them.
    pub fn groups_changed(&self) {
        let w = self.groups.read().wrapper();
        self.persister.submit(PersistJob::Groups(
            crate::storage::metadata::SubscriptionGroupFile {
                data_version: w.data_version,
                subscription_group_table: w.subscription_group_table,
            },
        ));
    }

    /// Snapshot consumer offsets to disk (periodic, and at shutdown).
    pub fn persist_offsets(&self) {
        let file = crate::storage::metadata::ConsumerOffsetFile {
            offset_table: self.offsets.lock().snapshot(),
        };
        self.persister.submit(PersistJob::Offsets(file));
    }
}
