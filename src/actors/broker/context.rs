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
use std::sync::atomic::{AtomicI64, Ordering};
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
use crate::config::BrokerConfig;
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

pub struct BrokerCtx {
    pub cfg: BrokerConfig,
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
    /// The delay-offset owner (GET_ALL_DELAY_OFFSET asks it); set once it is started.
    pub schedule: OnceLock<Addr<ScheduleActor>>,
    /// Counters for GET_BROKER_RUNTIME_INFO, VIEW_BROKER_STATS_DATA and `/metrics`.
    pub stats: BrokerStats,
    pub started_ms: i64,
    /// Broker permission (`brokerPermission`), changeable at run time.
    pub broker_perm: AtomicI64,
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
