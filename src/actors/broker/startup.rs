//! Starting and stopping a broker inside a running actix system.
//!
//! Start: (standalone: an embedded name server) -> open the store on a blocking thread (recovery)
//! -> load topics, groups and offsets -> bind the listener -> start the I/O arbiters, the
//! heartbeat, queue, schedule and registrar actors -> accept connections.
//!
//! Graceful stop, in this order: stop accepting; wait (bounded) for requests in flight; save
//! consumer and delay offsets and the metadata files; flush the store and write its checkpoint
//! (clean shutdown marker); unregister from the name servers.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_rt::Arbiter;
use parking_lot::{Mutex, RwLock};
use tokio::net::TcpListener;
use tracing::{info, warn};

use super::context::{BrokerCtx, Stats};
use super::dispatch::BrokerDispatch;
use super::heartbeat::HeartbeatActor;
use super::logic::delay::DelayLevels;
use super::logic::groups::{SubscriptionGroupTable, SubscriptionGroupWrapper};
use super::logic::locks::LockTable;
use super::logic::offsets::ConsumerOffsetTable;
use super::logic::topics::{TopicTable, TopicTableConfig};
use super::persist::Persister;
use super::queue::QueueRegistry;
use super::registrar::{BodySource, Identity, Registrar, UnregisterAll};
use super::schedule::{PersistDelayOffsets, ScheduleActor};
use crate::actors::namesrv::{self, now_ms, NamesrvHandle};
use crate::actors::net::{serve, ServerOptions};
use crate::config::{BrokerConfig, NamesrvConfig};
use crate::protocol::body::{RegisterBrokerBody, TopicConfigSerializeWrapper};
use crate::storage::metadata::MetadataFiles;
use crate::storage::MessageStore;

/// A running broker.
pub struct BrokerHandle {
    pub local_addr: SocketAddr,
    /// The embedded name server (standalone mode).
    pub namesrv: Option<NamesrvHandle>,
    pub ctx: Arc<BrokerCtx>,
    accept: tokio::task::JoinHandle<()>,
    inflight: Arc<AtomicUsize>,
    schedule: Addr<ScheduleActor>,
    arbiters: Vec<Arbiter>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("store: {0}")]
    Store(#[from] crate::storage::StoreError),
}

pub async fn start(mut cfg: BrokerConfig) -> Result<BrokerHandle, StartError> {
    // Values are judged in one place (also when a config is built in code, not loaded).
    crate::config::ConfigKeys::validate(&cfg).map_err(|e| StartError::Config(e.to_string()))?;
    let delay = DelayLevels::parse(&cfg.store.message_delay_level)
        .map_err(|e| StartError::Config(format!("messageDelayLevel: {}", e.0)))?;

    // Standalone: a name server in this process, and the broker registers with it.
    let namesrv = if cfg.standalone {
        let ns_cfg = NamesrvConfig {
            listen_addr: cfg.listen_addr.clone(),
            listen_port: cfg.namesrv_listen_port,
            frame_max_length: cfg.frame_max_length,
            kv_config_path: cfg
                .store
                .config_dir()
                .join("kvConfig.json")
                .display()
                .to_string(),
            ..Default::default()
        };
        let ns = namesrv::start(&ns_cfg)
            .await
            .map_err(|source| StartError::Bind {
                addr: format!("{}:{}", ns_cfg.listen_addr, ns_cfg.listen_port),
                source,
            })?;
        cfg.namesrv_addr = format!("127.0.0.1:{}", ns.local_addr.port());
        crate::cli::announce(&format!("namesrv listening on {}", ns.local_addr));
        Some(ns)
    } else {
        None
    };

    let listen = format!("{}:{}", cfg.listen_addr, cfg.listen_port);
    let listener = TcpListener::bind(&listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: listen.clone(),
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: listen,
        source,
    })?;
    let store_host: SocketAddr = format!("{}:{}", cfg.broker_ip1, local_addr.port())
        .parse()
        .map_err(|_| {
            StartError::Config(format!(
                "brokerIP1 '{}' is not an IP address",
                cfg.broker_ip1
            ))
        })?;

    // Opening recovers the store: file I/O, so on a blocking thread.
    let store_cfg = cfg.store.clone();
    let store = tokio::task::spawn_blocking(move || MessageStore::open(store_cfg))
        .await
        .map_err(|e| StartError::Config(format!("store open panicked: {e}")))??;

    let files = MetadataFiles::new(cfg.store.config_dir());
    let now = now_ms();
    let mut topics = TopicTable::new(
        TopicTableConfig {
            broker_cluster_name: cfg.broker_cluster_name.clone(),
            broker_name: cfg.broker_name.clone(),
            auto_create_topic_enable: cfg.auto_create_topic_enable,
            default_topic_queue_nums: cfg.default_topic_queue_nums,
            cluster_topic_enable: cfg.cluster_topic_enable,
            broker_topic_enable: cfg.broker_topic_enable,
            ..Default::default()
        },
        now,
    );
    let saved = files.load_topics()?;
    if !saved.topic_config_table.is_empty() {
        topics.load(TopicConfigSerializeWrapper {
            data_version: saved.data_version,
            topic_config_table: saved.topic_config_table,
        });
    }
    let mut groups = SubscriptionGroupTable::new(cfg.auto_create_subscription_group, now);
    let saved = files.load_subscription_groups()?;
    if !saved.subscription_group_table.is_empty() {
        groups.load(SubscriptionGroupWrapper {
            data_version: saved.data_version,
            subscription_group_table: saved.subscription_group_table,
        });
    }
    let offsets = ConsumerOffsetTable::from_table(files.load_consumer_offsets()?.offset_table);
    let delay_offsets: BTreeMap<i32, i64> = files.load_delay_offsets()?.offset_table;
    let persister = Persister::start(files);

    let io_threads = if cfg.io_threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        cfg.io_threads
    };
    let arbiters: Vec<Arbiter> = (0..io_threads).map(|_| Arbiter::new()).collect();
    let handles: Vec<_> = arbiters.iter().map(|a| a.handle()).collect();

    let groups = Arc::new(RwLock::new(groups));
    let heartbeat = HeartbeatActor::new(
        groups.clone(),
        Duration::from_millis(cfg.client_scan_interval),
        Duration::from_millis(cfg.client_channel_expired_time),
        cfg.heartbeat_limits(),
    )
    .start();
    let queues = QueueRegistry::new(handles.clone(), store.clone());
    {
        let q = queues.clone();
        store.add_arrival_listener(Arc::new(move |a| q.on_arrivals(a)));
    }

    let ctx = Arc::new(BrokerCtx {
        store: store.clone(),
        topics: RwLock::new(topics),
        groups,
        offsets: Mutex::new(offsets),
        locks: Mutex::new(LockTable::new(cfg.rebalance_lock_max_live_time as i64)),
        delay: delay.clone(),
        store_host,
        broker_addr: store_host.to_string(),
        persister: persister.clone(),
        heartbeat,
        queues,
        registrar: OnceLock::new(),
        stats: Stats::default(),
        started_ms: now,
        broker_perm: AtomicI64::new(cfg.broker_permission as i64),
        cfg: cfg.clone(),
    });
    ctx.topics_changed();

    let schedule = ScheduleActor::new(store.clone(), delay, delay_offsets, persister).start();

    // Offsets: saved every flushConsumerOffsetInterval; expired orderly locks purged.
    {
        let ctx = ctx.clone();
        let every = Duration::from_millis(cfg.flush_consumer_offset_interval);
        actix_rt::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                ctx.persist_offsets();
                ctx.locks.lock().purge_expired(now_ms());
            }
        });
    }

    let namesrvs = cfg.namesrv_addrs();
    if !namesrvs.is_empty() {
        let body_ctx = ctx.clone();
        let body: BodySource = Arc::new(move || RegisterBrokerBody {
            filter_server_list: Vec::new(),
            topic_config_serialize_wrapper: body_ctx.topics.read().wrapper(),
        });
        let registrar = Registrar::new(
            namesrvs,
            Identity {
                cluster: cfg.broker_cluster_name.clone(),
                broker_name: cfg.broker_name.clone(),
                broker_addr: ctx.broker_addr.clone(),
                ha_addr: format!("{}:{}", cfg.broker_ip1, local_addr.port().wrapping_add(1)),
                broker_id: cfg.broker_id,
                compressed: cfg.compressed_register,
            },
            body,
            Duration::from_millis(cfg.register_name_server_period),
        )
        .start();
        let _ = ctx.registrar.set(registrar);
    }

    let inflight = Arc::new(AtomicUsize::new(0));
    let dispatch = Arc::new(BrokerDispatch::new(ctx.clone(), inflight.clone()));
    let opts = ServerOptions {
        max_frame: cfg.frame_max_length,
        max_inflight: cfg.max_inflight_per_connection,
        ..Default::default()
    };
    let accept = actix_rt::spawn(serve(listener, handles, dispatch, opts));
    info!(broker = %cfg.broker_name, addr = %local_addr, store_host = %store_host, "broker started");
    Ok(BrokerHandle {
        local_addr,
        namesrv,
        ctx,
        accept,
        inflight,
        schedule,
        arbiters,
    })
}

impl BrokerHandle {
    /// Graceful stop (see the module docs for the order).
    pub async fn shutdown(self) {
        info!("broker shutting down: no new connections");
        self.accept.abort();
        let started = Instant::now();
        while self.inflight.load(Ordering::Acquire) > 0
            && started.elapsed() < Duration::from_secs(5)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let left = self.inflight.load(Ordering::Acquire);
        if left > 0 {
            warn!(left, "requests still in flight after 5 s; stopping anyway");
        }
        let _ = self.schedule.send(PersistDelayOffsets).await;
        self.ctx.persist_offsets();
        self.ctx.topics_changed();
        self.ctx.groups_changed();
        let ctx = self.ctx.clone();
        let _ = tokio::task::spawn_blocking(move || {
            ctx.persister.sync();
            if let Err(e) = ctx.store.shutdown() {
                warn!(error = %e, "store shutdown");
            }
        })
        .await;
        if let Some(r) = self.ctx.registrar.get() {
            let _ = r.send(UnregisterAll).await;
        }
        for a in &self.arbiters {
            a.stop();
        }
        info!("broker stopped");
    }
}
