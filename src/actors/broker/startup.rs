//! Starting and stopping a broker inside a running actix system.
//!
//! Start: bind the listeners (the broker's, a master's HA listener, and in standalone mode the
//! embedded name server's) -> open the store on a blocking thread (recovery) -> load topics,
//! groups and offsets -> start the embedded name server -> start the I/O arbiters, the heartbeat,
//! queue, schedule and registrar actors (a slave: its metadata sync, `SlaveSyncActor`, too), and
//! replication on its own arbiter -> accept connections. Anything that can fail for a reason the
//! user must fix (a port in use, a data dir in use or not a directory) fails before any actor
//! runs.
//!
//! Graceful stop, in this order: stop accepting; wait (bounded) for requests in flight; save
//! consumer and delay offsets and the metadata files; stop replication; flush the store and write
//! its checkpoint (clean shutdown marker); unregister from the name servers.

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

use super::context::{BrokerCtx, HaShared};
use super::controller_mode::ReplicationHandle;
use super::dispatch::BrokerDispatch;
use super::handlers::broker_config::OVERRIDE_FILE;
use super::heartbeat::HeartbeatActor;
use super::logic::delay::DelayLevels;
use super::logic::groups::{SubscriptionGroupTable, SubscriptionGroupWrapper};
use super::logic::locks::LockTable;
use super::logic::offsets::ConsumerOffsetTable;
use super::logic::subscription_view::SharedSubscriptions;
use super::logic::topics::{TopicTable, TopicTableConfig};
use super::persist::Persister;
use super::queue::QueueRegistry;
use super::registrar::{BodySource, Identity, Registrar, UnregisterAll};
use super::replication;
use super::schedule::{PersistDelayOffsets, ScheduleActor};
use super::stats::BrokerStats;
use crate::actors::namesrv::{self, NamesrvHandle};
use crate::actors::net::{serve, ServerOptions};
use crate::clock::now_ms;
use crate::config::update::RuntimeConfig;
use crate::config::{BrokerConfig, BrokerRole, NamesrvConfig};
use crate::protocol::body::{RegisterBrokerBody, TopicConfigSerializeWrapper};
use crate::storage::metadata::MetadataFiles;
use crate::storage::MessageStore;
use crate::tls::{TlsClient, TlsSides};

/// A running broker.
pub struct BrokerHandle {
    pub local_addr: SocketAddr,
    /// The embedded name server (standalone mode).
    pub namesrv: Option<NamesrvHandle>,
    /// The HA listener's address (a master only).
    pub ha_addr: Option<SocketAddr>,
    /// The Prometheus endpoint's address (`metricsExporterType=PROM`).
    pub metrics_addr: Option<SocketAddr>,
    /// The VIP channel (`fastListenPort` = listenPort - 2), serving the same requests.
    pub fast_addr: Option<SocketAddr>,
    fast_accept: Option<tokio::task::JoinHandle<()>>,
    pub ctx: Arc<BrokerCtx>,
    replication: ReplicationHandle,
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
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
}

/// Start a broker (and, in standalone mode, its name server). Every listener is bound and the
/// store is open before anything is started, so a start that fails leaves nothing running and
/// says what was wrong; the caller prints the ready lines once this returns.
pub async fn start(mut cfg: BrokerConfig) -> Result<BrokerHandle, StartError> {
    let overrides;
    (cfg, overrides) = with_saved_config(cfg)?;
    let delay = DelayLevels::parse(&cfg.store.message_delay_level)
        .map_err(|e| StartError::Config(format!("messageDelayLevel: {}", e.0)))?;
    let tls = tls_sides(&cfg)?;
    let ns_cfg = cfg.standalone.then(|| embedded_namesrv_config(&cfg));
    let ns_listener = match &ns_cfg {
        Some(c) => Some(bind(&c.listen_addr, c.listen_port).await?),
        None => None,
    };
    let listener = bind(&cfg.listen_addr, cfg.listen_port).await?;
    let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: format!("{}:{}", cfg.listen_addr, cfg.listen_port),
        source,
    })?;
    let fast = bind_fast(&cfg, local_addr).await?;
    let (ha, metrics_listener) = (bind_ha(&cfg)?, super::metrics::bind(&cfg)?);
    let ha_addr = ha.as_ref().map(|(_, a)| *a);
    let store_host = store_host(&cfg, local_addr)?;

    // Opening recovers the store: file I/O, so on a blocking thread.
    let store_cfg = cfg.store.clone();
    let store = tokio::task::spawn_blocking(move || MessageStore::open(store_cfg))
        .await
        .map_err(|e| StartError::Config(format!("store open panicked: {e}")))??;
    let saved = load_metadata(&cfg)?;
    let acl = start_acl(&cfg)?;

    let namesrv = match (ns_cfg, ns_listener) {
        (Some(ns_cfg), Some(l)) => {
            let ns = namesrv::start_on(l, &ns_cfg)
                .await
                .map_err(|e| StartError::Config(format!("embedded name server: {e}")))?;
            cfg.namesrv_addr = format!("127.0.0.1:{}", ns.local_addr.port());
            Some(ns)
        }
        _ => None,
    };

    let arbiters: Vec<Arbiter> = (0..io_thread_count(&cfg))
        .map(|_| io_arbiter(cfg.net.idle_poll()))
        .collect();
    let handles: Vec<_> = arbiters.iter().map(|a| a.handle()).collect();
    let persister = Persister::start(MetadataFiles::new(cfg.store.config_dir()));
    let delay_offsets = saved.delay_offsets.clone();
    let ctx = build_context(
        Settings {
            cfg: &cfg,
            overrides,
            tls_client: tls.client.clone(),
            acl,
            ha_server_addr: format!(
                "{}:{}",
                cfg.ha_host(),
                ha_addr.map_or(local_addr.port().wrapping_add(1), |a| a.port())
            ),
        },
        store,
        saved,
        persister.clone(),
        store_host,
        &handles,
        delay.clone(),
    );
    ctx.topics_changed();
    prepare_known_topics(&ctx);
    let (schedule, replication) = super::controller_mode::start_role_actors(
        &ctx,
        delay,
        delay_offsets,
        persister,
        ha.map(|(l, _)| l),
        tls.clone(),
    );
    spawn_offset_flusher(&ctx, &cfg);
    start_registrar(&ctx, &cfg);

    let inflight = Arc::new(AtomicUsize::new(0));
    let dispatch = Arc::new(BrokerDispatch::new(ctx.clone(), inflight.clone()));
    let opts = ServerOptions::from(&cfg.net).with_tls(tls.server);
    let (fast_addr, fast_accept) = serve_fast(fast, &handles, &dispatch, &opts);
    let accept = actix_rt::spawn(serve(listener, handles, dispatch, opts));
    info!(broker = %cfg.broker_name, addr = %local_addr, store_host = %store_host, "broker started");
    Ok(BrokerHandle {
        local_addr,
        fast_addr,
        fast_accept,
        namesrv,
        ha_addr,
        metrics_addr: super::metrics::start(&ctx, metrics_listener)?,
        ctx,
        replication,
        accept,
        inflight,
        schedule,
        arbiters,
    })
}

/// `ioThreads`, or one I/O arbiter per core when 0.
/// An I/O arbiter whose appends wake the replication streams once per round of work (see
/// `storage::tail`): the wake runs as a task after the requests this thread is handling.
fn io_arbiter(idle_poll: std::time::Duration) -> Arbiter {
    let a = crate::idle_poll::arbiter(idle_poll);
    a.spawn_fn(|| {
        crate::storage::tail::defer_wakes_on_this_thread(|wake| {
            actix_rt::spawn(async move { wake() });
        })
    });
    a
}

fn io_thread_count(cfg: &BrokerConfig) -> usize {
    if cfg.io_threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        cfg.io_threads
    }
}

async fn bind(host: &str, port: u16) -> Result<TcpListener, StartError> {
    TcpListener::bind((host, port))
        .await
        .map_err(|source| StartError::Bind {
            addr: format!("{host}:{port}"),
            source,
        })
}

/// `brokerIP1:port`, written into stored messages and message ids.
fn store_host(cfg: &BrokerConfig, local: SocketAddr) -> Result<SocketAddr, StartError> {
    format!("{}:{}", cfg.broker_ip1, local.port())
        .parse()
        .map_err(|_| {
            StartError::Config(format!(
                "brokerIP1 '{}' is not an IP address",
                cfg.broker_ip1
            ))
        })
}

/// `cfg` checked, with the changes UPDATE_BROKER_CONFIG saved (`config/broker.properties`)
/// applied over it, and those changes.
fn with_saved_config(
    cfg: BrokerConfig,
) -> Result<(BrokerConfig, BTreeMap<String, String>), StartError> {
    // Values are judged in one place (also when a config is built in code, not loaded).
    crate::config::ConfigKeys::validate(&cfg).map_err(|e| StartError::Config(e.to_string()))?;
    let file = cfg.store.config_dir().join(OVERRIDE_FILE);
    crate::config::update::load_overrides(cfg, &file).map_err(StartError::Config)
}

/// The server side (`tlsMode`: every port) and the client side (`tlsEnable`: connections to
/// name servers and the master) of the TLS keys, files read now so a bad one stops the start.
/// A standalone broker in enforcing mode registers with its own name server over TLS, so it
/// needs `tlsEnable` too.
fn tls_sides(cfg: &BrokerConfig) -> Result<TlsSides, StartError> {
    let sides = TlsSides::from_config(&cfg.tls)?;
    let enforcing = cfg.tls.tls_mode == crate::config::TlsMode::Enforcing;
    if cfg.standalone && enforcing && sides.client.is_none() {
        return Err(StartError::Config(
            "standalone with tlsMode = enforcing: the broker registers with its own name server \
             over TLS, so set tlsEnable = true and tlsClientTrustCertPath (the CA of \
             tlsServerCertPath)"
                .into(),
        ));
    }
    Ok(sides)
}

/// Accept on the VIP channel with the main listener's dispatch.
fn serve_fast(
    fast: Option<TcpListener>,
    handles: &[actix_rt::ArbiterHandle],
    dispatch: &Arc<BrokerDispatch>,
    opts: &ServerOptions,
) -> (Option<SocketAddr>, Option<tokio::task::JoinHandle<()>>) {
    let Some(l) = fast else {
        return (None, None);
    };
    let addr = l.local_addr().ok();
    let d: Arc<dyn crate::actors::net::Dispatch> = dispatch.clone();
    let accept = actix_rt::spawn(serve(l, handles.to_vec(), d, opts.clone()));
    (addr, Some(accept))
}

/// The VIP channel RocketMQ opens for admin tools and old clients: `listenPort - 2` (with
/// `listenPort = 0`, another free port). A listen port below 3 has no VIP channel.
async fn bind_fast(
    cfg: &BrokerConfig,
    main: SocketAddr,
) -> Result<Option<TcpListener>, StartError> {
    let port = match cfg.listen_port {
        0 => 0,
        p if p > 2 => p - 2,
        _ => return Ok(None),
    };
    let l = bind(&cfg.listen_addr, port).await?;
    debug_assert!(port == 0 || l.local_addr().ok() != Some(main));
    Ok(Some(l))
}

/// A master binds its HA listener (`haListenPort`); a slave has none. A controller-mode broker
/// may become master at any time, so it binds one whatever its start role.
fn bind_ha(cfg: &BrokerConfig) -> Result<Option<(std::net::TcpListener, SocketAddr)>, StartError> {
    if cfg.broker_role == BrokerRole::Slave && !cfg.controller.enable_controller_mode {
        return Ok(None);
    }
    let port = cfg.ha_bind_port();
    replication::bind_master(&cfg.listen_addr, port)
        .map(Some)
        .map_err(|source| StartError::Bind {
            addr: format!("{}:{port} (haListenPort)", cfg.listen_addr),
            source,
        })
}

/// The ACL rules (`aclEnable=true`), loaded and watched; a standalone broker's own keys must be
/// an admin account, since it registers with its own name server.
fn start_acl(cfg: &BrokerConfig) -> Result<Option<Arc<crate::acl::AclState>>, StartError> {
    let acl = crate::acl::AclState::from_config(&cfg.acl).map_err(StartError::Config)?;
    if let Some(a) = acl.as_ref().filter(|_| cfg.standalone) {
        a.check_own_account(&cfg.acl).map_err(StartError::Config)?;
    }
    Ok(acl)
}

/// The standalone broker's name server: its connection limits are the broker's, its KV config
/// lives in the store's config directory.
fn embedded_namesrv_config(cfg: &BrokerConfig) -> NamesrvConfig {
    NamesrvConfig {
        listen_addr: cfg.listen_addr.clone(),
        listen_port: cfg.namesrv_listen_port,
        net: cfg.net.clone(),
        tls: cfg.tls.clone(),
        kv_config_path: cfg
            .store
            .config_dir()
            .join("kvConfig.json")
            .display()
            .to_string(),
        acl: cfg.acl.clone(),
        ..Default::default()
    }
}

/// What the broker keeps in its config directory, loaded at start.
struct SavedState {
    topics: TopicTable,
    groups: SubscriptionGroupTable,
    offsets: ConsumerOffsetTable,
    delay_offsets: BTreeMap<i32, i64>,
}

fn load_metadata(cfg: &BrokerConfig) -> Result<SavedState, StartError> {
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
            trace_topic_enable: cfg.trace_topic_enable,
            msg_trace_topic_name: cfg.msg_trace_topic_name.clone(),
        },
        now,
    );
    let saved = files.load_topics()?;
    if !saved.topic_config_table.is_empty() {
        let refused = topics.load(TopicConfigSerializeWrapper {
            data_version: saved.data_version,
            topic_config_table: saved.topic_config_table,
        });
        for (topic, why) in refused {
            tracing::error!(topic = %topic, "topics.json entry not loaded: {why}");
        }
    }
    let mut groups = SubscriptionGroupTable::new(cfg.auto_create_subscription_group, now);
    let saved = files.load_subscription_groups()?;
    if !saved.subscription_group_table.is_empty() {
        let refused = groups.load(SubscriptionGroupWrapper {
            data_version: saved.data_version,
            subscription_group_table: saved.subscription_group_table,
        });
        for (group, why) in refused {
            tracing::error!(group = %group, "subscriptionGroup.json entry not loaded: {why}");
        }
    }
    Ok(SavedState {
        topics,
        groups,
        offsets: ConsumerOffsetTable::from_table(files.load_consumer_offsets()?.offset_table),
        delay_offsets: files.load_delay_offsets()?.offset_table,
    })
}

/// The parts of the context that come from the config rather than from the store.
struct Settings<'a> {
    cfg: &'a BrokerConfig,
    /// Saved UPDATE_BROKER_CONFIG changes.
    overrides: BTreeMap<String, String>,
    tls_client: Option<TlsClient>,
    acl: Option<Arc<crate::acl::AclState>>,
    /// This broker's HA address as registered.
    ha_server_addr: String,
}

fn build_context(
    Settings {
        cfg,
        overrides,
        tls_client,
        acl,
        ha_server_addr,
    }: Settings<'_>,
    store: Arc<MessageStore>,
    saved: SavedState,
    persister: Persister,
    store_host: SocketAddr,
    arbiters: &[actix_rt::ArbiterHandle],
    delay: DelayLevels,
) -> Arc<BrokerCtx> {
    let groups = Arc::new(RwLock::new(saved.groups));
    let subscriptions = Arc::new(SharedSubscriptions::new());
    let heartbeat = HeartbeatActor::new(
        groups.clone(),
        subscriptions.clone(),
        Duration::from_millis(cfg.client_scan_interval),
        Duration::from_millis(cfg.client_channel_expired_time),
        cfg.heartbeat_limits(),
    )
    .start();
    let queues = QueueRegistry::new(arbiters.to_vec(), store.clone());
    {
        let q = queues.clone();
        store.add_arrival_listener(Arc::new(move |a| q.on_arrivals(a)));
    }
    let ctx = Arc::new(BrokerCtx {
        role: Arc::new(super::controller_mode::initial_role(cfg)),
        store,
        topics: RwLock::new(saved.topics),
        groups,
        offsets: Mutex::new(saved.offsets),
        locks: Mutex::new(LockTable::new(cfg.rebalance_lock_max_live_time as i64)),
        delay,
        store_host,
        broker_addr: store_host.to_string(),
        persister,
        heartbeat,
        subscriptions,
        queues,
        registrar: OnceLock::new(),
        replicas: OnceLock::new(),
        ha_server_addr: ha_server_addr.to_string(),
        schedule: OnceLock::new(),
        stats: BrokerStats::default(),
        started_ms: now_ms(),
        broker_perm: AtomicI64::new(cfg.broker_permission as i64),
        hot: super::tunables::BrokerTunables::new(cfg),
        runtime_config: Mutex::new(RuntimeConfig::new(cfg.clone(), overrides, now_ms())),
        ha: Arc::new(HaShared::default()),
        tls_client,
        cfg: cfg.clone(),
        acl,
    });
    super::stats::spawn_sampler(&ctx);
    ctx
}

/// Every topic the broker starts with (the built-in ones, such as `BenchmarkTest` with its 1024
/// queues, and those loaded from `topics.json`) gets its queues' first consume-queue files
/// prepared in the background, as a topic created later does: otherwise the first message of
/// each queue waits for its file on the send path, behind the allocator's other work (a fresh
/// broker answered `BenchmarkTest` at ~200 msg/s with SYSTEM_BUSY until every queue had one).
/// Queues that already have files are left alone.
fn prepare_known_topics(ctx: &Arc<BrokerCtx>) {
    let configs: Vec<_> = ctx.topics.read().iter().cloned().collect();
    for config in &configs {
        ctx.prepare_queues(config);
    }
}

/// Offsets are saved every flushConsumerOffsetInterval; expired orderly locks purged.
fn spawn_offset_flusher(ctx: &Arc<BrokerCtx>, cfg: &BrokerConfig) {
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

fn start_registrar(ctx: &Arc<BrokerCtx>, cfg: &BrokerConfig) {
    let namesrvs = cfg.namesrv_addrs();
    if namesrvs.is_empty() {
        warn!(
            "no name server configured (namesrvAddr, or -n) and not standalone: no client can \
             find this broker through a name server"
        );
        return;
    }
    let body_ctx = ctx.clone();
    let body: BodySource = Arc::new(move || {
        let mut wrapper = body_ctx.topics.read().wrapper();
        // RocketMQ 5: the master epoch, so name servers keep the newest master (0 outside
        // controller mode, and then not written).
        wrapper.data_version.state_version = body_ctx.role.master_epoch() as i64;
        // A broker that is not read-write registers its permission as every topic's (RocketMQ).
        let perm = body_ctx.broker_perm.load(Ordering::Relaxed) as i32;
        if !(crate::protocol::body::perm::readable(perm)
            && crate::protocol::body::perm::writeable(perm))
        {
            for t in wrapper.topic_config_table.values_mut() {
                t.perm = perm;
            }
        }
        RegisterBrokerBody {
            filter_server_list: Vec::new(),
            topic_config_serialize_wrapper: wrapper,
        }
    });
    let registrar = Registrar::new(
        namesrvs,
        Identity {
            cluster: cfg.broker_cluster_name.clone(),
            broker_name: cfg.broker_name.clone(),
            broker_addr: ctx.broker_addr.clone(),
            ha_addr: ctx.ha_server_addr.clone(),
            compressed: cfg.compressed_register,
            credentials: cfg.acl.credentials(),
        },
        body,
        Duration::from_millis(cfg.register_name_server_period),
        ctx.ha.clone(),
        ctx.role.clone(),
    )
    .with_tls(ctx.tls_client.clone())
    // In controller mode the master comes from the controller, not from these answers.
    .learning_master(!cfg.controller.enable_controller_mode)
    .start();
    let _ = ctx.registrar.set(registrar);
}

impl BrokerHandle {
    /// Graceful stop (see the module docs for the order).
    pub async fn shutdown(self) {
        info!("broker shutting down: no new connections");
        self.accept.abort();
        if let Some(f) = &self.fast_accept {
            f.abort();
        }
        self.ctx.queues.release_all();
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
        // Replication stops before the store does: no append after its shutdown.
        self.replication.stop();
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
