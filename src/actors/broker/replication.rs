//! `ReplicationActor`: master/slave replication of the CommitLog (RocketMQ 4.x HA,
//! docs/protocol.md §8). A SYNC_MASTER send waits for an ack in `HaShared::acks`, not here.
//!
//! - Owns: on a master, the HA listener and one task per connected slave; on a slave, the one
//!   connection to `haMasterAddress`. The decisions are `logic::ha_session`'s; this is the I/O.
//! - Master, per slave: reads the slave's reports (only the newest counts); the first one fixes
//!   where streaming starts (0 = an empty slave: the start of the master's last CommitLog file);
//!   streams `read_commit_log` as transfers of at most `haTransferBatchSize` bytes; sends an empty
//!   transfer after `haSendHeartbeatInterval` idle; closes on a report beyond its CommitLog end
//!   (WARN) and after `haHousekeepingInterval` without a report. INFO on connect and disconnect.
//! - Master: every report is an ack for `HaShared::acks` (which releases waiting SYNC_MASTER
//!   sends); connects and disconnects are counted there too. Every 60 s (the first 10 s after
//!   start) it logs at INFO its CommitLog end, the slaves' acked offset and the lag between them.
//! - Slave (`replication/slave.rs`): connects to `haMasterAddress`, or without it to the HA
//!   address the name server last answered (`HaShared::master`, so a slave follows a moved
//!   master); reports its expected offset (0 when empty) on connect, after every applied
//!   transfer and every `haSendHeartbeatInterval`; appends transfers with `append_replicated`. On any
//!   error (or a master silent for `haHousekeepingInterval`) it closes and reconnects at once,
//!   then every `haReconnectInterval` (5 s) while the master cannot be reached.
//! - TLS: a master with `tlsMode` permissive or enforcing accepts slaves as the remoting ports
//!   do (first byte, then the handshake, on the slave's task); a slave with `tlsEnable`
//!   connects with TLS. The transfer path is the same buffered write either way (no sendfile).
//! - Controller mode: a slave opens with a handshake naming its broker id and the master epoch
//!   it follows; the master refuses one expecting another term (or any, while not master) and
//!   tracks acks per broker id (the SyncStateSet). The role changes at run time: [`Replication`]
//!   keeps the HA listener bound for the broker's life and runs one side at a time, each on a
//!   fresh arbiter; stopping the arbiter closes that side's connections.
//! - Handles: no messages; started by `startup` (or by [`Replication`]) and stopped with its
//!   arbiter.
//! - Runs on: its own arbiter (never the I/O arbiters), so streaming and the slave's blocking
//!   `append_replicated` calls (file writes, file creation) never hold up client connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tracing::{info, warn};

use parking_lot::Mutex;

use super::context::{HaShared, RoleCell};
use super::logic::ha_session::{MasterSession, MasterStep, SessionError};
use super::logic::replica_acks::ReplicaAcks;
use crate::config::{BrokerConfig, BrokerRole};
use crate::protocol::ha;
use crate::storage::MessageStore;
use crate::tls::server::Accepted;
use crate::tls::{ServerTls, TlsSides};

mod slave;
use slave::follow_master;

/// How long a side with nothing to do sleeps before looking again.
const POLL: Duration = Duration::from_millis(20);
/// A master logs how far its slaves are behind this often (RocketMQ's printMasterAndSlaveDiff).
const LAG_LOG: Duration = Duration::from_secs(60);
const LAG_LOG_FIRST: Duration = Duration::from_secs(10);

/// The `ha*` settings.
#[derive(Clone, Copy, Debug)]
pub struct HaSettings {
    pub heartbeat: Duration,
    pub housekeeping: Duration,
    /// Master side: the most CommitLog bytes per transfer (`haTransferBatchSize`).
    pub batch: usize,
    pub reconnect: Duration,
    /// The replication thread's spin before it sleeps (`idlePollMicros`, see `idle_poll`), in
    /// controller mode, where [`Replication`] makes the arbiter. A fixed role's arbiter does not
    /// spin: under SYNC_MASTER P1 with a slave (master at `ioThreads=1`) it did worse spinning
    /// (75.4 k and 65.2 k msg/s against 77.9 k and 72.7 k; docs/performance.md).
    pub idle_poll: Duration,
    /// Master side: how long to gather appends after the first one wakes the stream, when no
    /// send waits for a slave's ack ([`ASYNC_GATHER`]); zero when sends wait.
    pub gather: Duration,
}

/// An ASYNC_MASTER streams what a millisecond of appends gathered, not each append as it
/// comes: one transfer, one report and two thread wakes per batch instead of per message
/// (under P1 with one slave the replication thread slept 80-90 times per 1,000 messages, and
/// ~20 with this). RocketMQ 4.x goes further: an ASYNC put never wakes the transfer thread, which looks again
/// every 100 ms when it has nothing to send. A SYNC_MASTER's sends wait on every transfer, so it
/// streams at once.
const ASYNC_GATHER: Duration = Duration::from_millis(1);

impl HaSettings {
    pub fn from_config(cfg: &BrokerConfig) -> Self {
        HaSettings {
            heartbeat: Duration::from_millis(cfg.ha_send_heartbeat_interval),
            housekeeping: Duration::from_millis(cfg.ha_housekeeping_interval),
            batch: cfg.ha_transfer_batch_size,
            reconnect: Duration::from_millis(cfg.ha_reconnect_interval),
            idle_poll: cfg.net.idle_poll(),
            gather: if Self::sends_wait(cfg) {
                Duration::ZERO
            } else {
                ASYNC_GATHER
            },
        }
    }

    /// Whether this broker's sends, as master, wait for slaves' acks: a SYNC_MASTER, or in
    /// controller mode a master with `allAckInSyncStateSet` (`ReplicasActor` makes it one).
    fn sends_wait(cfg: &BrokerConfig) -> bool {
        if cfg.controller.enable_controller_mode {
            cfg.controller.all_ack_in_sync_state_set
        } else {
            cfg.broker_role == BrokerRole::SyncMaster
        }
    }
}

/// Which end of replication this broker is.
pub enum HaRole {
    /// A master with its bound (non-blocking) HA listener.
    Master(std::net::TcpListener),
    /// A slave and its fixed master HA address (`haMasterAddress`); `None`: the address the
    /// name server last answered (`HaShared::master`), looked up at every connect.
    Slave(Option<String>),
}

pub struct ReplicationActor {
    store: Arc<MessageStore>,
    ha: Arc<HaShared>,
    settings: HaSettings,
    role: Option<HaRole>,
    /// The master's server side (`tlsMode`), the slave's client side (`tlsEnable`).
    tls: TlsSides,
    /// Controller mode: the role cell (broker id and master epoch for the handshake).
    ident: Option<Arc<RoleCell>>,
}

impl ReplicationActor {
    pub fn new(
        store: Arc<MessageStore>,
        ha: Arc<HaShared>,
        settings: HaSettings,
        role: HaRole,
    ) -> Self {
        ReplicationActor {
            store,
            ha,
            settings,
            role: Some(role),
            tls: TlsSides::default(),
            ident: None,
        }
    }

    /// Controller mode: handshake with broker ids and master epochs from `role`.
    pub fn identified_by(mut self, role: Option<Arc<RoleCell>>) -> Self {
        self.ident = role;
        self
    }

    /// Replicate over TLS as `tls` says.
    pub fn with_tls(mut self, tls: TlsSides) -> Self {
        self.tls = tls;
        self
    }
}

impl Actor for ReplicationActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let (store, ha, s) = (self.store.clone(), self.ha.clone(), self.settings);
        let ident = self.ident.clone();
        match self.role.take() {
            Some(HaRole::Master(l)) => {
                let tls = self.tls.server.clone();
                ctx.spawn(accept_slaves(l, store, ha, s, tls, ident).into_actor(self));
                // As RocketMQ: the first line 10 s after start, then every 60 s.
                ctx.run_later(LAG_LOG_FIRST, |act, ctx| {
                    log_lag(&act.store, &act.ha.acks);
                    ctx.run_interval(LAG_LOG, |act, _| log_lag(&act.store, &act.ha.acks));
                });
            }
            Some(HaRole::Slave(fixed)) => {
                let tls = self.tls.client.clone();
                ctx.spawn(follow_master(fixed, store, ha, s, tls, ident).into_actor(self));
            }
            None => {}
        }
    }
}

/// INFO: the master's CommitLog end, the newest offset a slave acknowledged, and the bytes
/// between them (the whole CommitLog end while no slave has reported).
fn log_lag(store: &MessageStore, acks: &ReplicaAcks) {
    let max = store.commit_log_max_offset().max(0) as u64;
    let acked = acks.acked();
    info!(
        master_max_offset = max,
        slave_ack_offset = acked,
        lag_bytes = max.saturating_sub(acked),
        slaves = acks.slaves(),
        "slave fall behind master"
    );
}

async fn accept_slaves(
    l: std::net::TcpListener,
    store: Arc<MessageStore>,
    ha: Arc<HaShared>,
    s: HaSettings,
    tls: Option<Arc<ServerTls>>,
    ident: Option<Arc<RoleCell>>,
) {
    let listener = match TcpListener::from_std(l) {
        Ok(l) => l,
        Err(e) => {
            warn!(error = %e, "HA listener unusable: no slave can replicate");
            return;
        }
    };
    loop {
        match listener.accept().await {
            Ok((sock, peer)) => {
                let (store, ha, tls) = (store.clone(), ha.clone(), tls.clone());
                let ident = ident.clone();
                let _ = sock.set_nodelay(true);
                actix_rt::spawn(async move {
                    let (store, ha, ident) = (&store, &ha, ident.as_deref());
                    let Some(tls) = tls else {
                        return slave_session(sock, peer, store, ha, s, ident).await;
                    };
                    match tls.accept(sock).await {
                        Ok(Accepted::Plain(sock)) => {
                            slave_session(sock, peer, store, ha, s, ident).await
                        }
                        Ok(Accepted::Tls(sock)) => {
                            slave_session(*sock, peer, store, ha, s, ident).await
                        }
                        Err(e) => info!(slave = %peer, error = %e, "HA TLS handshake failed"),
                    }
                });
            }
            Err(e) => {
                warn!(error = %e, "HA accept failed");
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// One connected slave, from its connect to its disconnect (logged and counted).
async fn slave_session<S: AsyncRead + AsyncWrite + Unpin>(
    mut sock: S,
    peer: SocketAddr,
    store: &MessageStore,
    ha: &HaShared,
    s: HaSettings,
    ident: Option<&RoleCell>,
) {
    let id = match ident {
        None => None,
        Some(role) => match read_handshake(&mut sock, role, s).await {
            Ok(id) => Some(id),
            Err(why) => return info!(slave = %peer, reason = %why, "HA slave refused"),
        },
    };
    info!(slave = %peer, broker_id = ?id, "HA slave connected");
    // Counted out on every exit, also when the arbiter stops under it (role switch).
    let _counted = Connected::new(&ha.acks, id);
    let why = serve_slave(sock, store, &ha.acks, s, id).await;
    match why {
        SessionError::ReportBeyondEnd { .. } => {
            warn!(slave = %peer, reason = %why, "HA slave disconnected")
        }
        _ => info!(slave = %peer, reason = %why, "HA slave disconnected"),
    }
}

/// A slave counted as connected while this lives.
struct Connected<'a> {
    acks: &'a ReplicaAcks,
    id: Option<i64>,
}

impl<'a> Connected<'a> {
    fn new(acks: &'a ReplicaAcks, id: Option<i64>) -> Self {
        match id {
            Some(id) => acks.identified_connected(id),
            None => acks.slave_connected(),
        }
        Connected { acks, id }
    }
}

impl Drop for Connected<'_> {
    fn drop(&mut self) {
        match self.id {
            Some(id) => self.acks.identified_disconnected(id),
            None => self.acks.slave_disconnected(),
        }
    }
}

/// Controller mode: the slave's handshake; refused unless this broker is master of the epoch
/// the slave follows. Returns the slave's broker id.
async fn read_handshake<S: AsyncRead + Unpin>(
    sock: &mut S,
    role: &RoleCell,
    s: HaSettings,
) -> Result<i64, String> {
    let mut b = [0u8; ha::HANDSHAKE_LEN];
    match tokio::time::timeout(s.housekeeping, sock.read_exact(&mut b)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err("no handshake".into()),
    }
    let h = ha::Handshake::parse(&b).map_err(|e| e.to_string())?;
    if role.is_slave() || h.master_epoch != role.master_epoch() {
        return Err(format!(
            "slave {} follows master epoch {}; this broker is {} at epoch {}",
            h.broker_id,
            h.master_epoch,
            role.role(),
            role.master_epoch()
        ));
    }
    Ok(h.broker_id)
}

fn io_err(e: std::io::Error) -> SessionError {
    SessionError::Io(e.to_string())
}

/// Stream to one slave until something ends the connection; returns why.
async fn serve_slave<S: AsyncRead + AsyncWrite + Unpin>(
    mut sock: S,
    store: &MessageStore,
    acks: &ReplicaAcks,
    s: HaSettings,
    id: Option<i64>,
) -> SessionError {
    let mut sess = MasterSession::new(Instant::now(), s.heartbeat, s.housekeeping);
    let mut buf = BytesMut::with_capacity(64);
    loop {
        // Register for the next append before looking for data, and announce the sleep before
        // looking again, so an append between the two is not missed (see `storage::tail`).
        let appended = store.tail.notified();
        tokio::pin!(appended);
        appended.as_mut().enable();
        let mut busy = match stream_once(&mut sock, &mut sess, store, s).await {
            Ok(b) => b,
            Err(e) => return e,
        };
        if !busy {
            store.tail.announce_sleep();
            busy = match stream_once(&mut sock, &mut sess, store, s).await {
                Ok(b) => b,
                Err(e) => return e,
            };
        }
        // Busy: read the reports that are already in, then stream on at once. A zero-length
        // `sleep` is no substitute: its deadline rounds up to the timer's next millisecond, so
        // each transfer would wait for a report or a tick (a stop-and-wait stream).
        tokio::select! {
            biased;
            r = sock.read_buf(&mut buf) => match r {
                Ok(0) => return SessionError::Io("closed by the slave".into()),
                Err(e) => return io_err(e),
                Ok(_) => {
                    let end = store.commit_log_max_offset().max(0) as u64;
                    let start = store.replication_start_for_empty_slave();
                    match sess.on_reports(&mut buf, Instant::now(), end, start) {
                        Ok(Some(acked)) => {
                            acks.on_ack_from(id, acked, crate::clock::now_ms(), acked >= end)
                        }
                        Ok(None) => {}
                        Err(e) => return e,
                    }
                }
            },
            _ = tokio::task::yield_now(), if busy => {}
            _ = &mut appended, if !busy => {
                if !s.gather.is_zero() {
                    tokio::time::sleep(s.gather).await;
                }
            }
            _ = tokio::time::sleep(POLL), if !busy => {}
        }
    }
}

/// Send one transfer (data, or a heartbeat when due). `Ok(true)` when data was sent.
async fn stream_once<S: AsyncWrite + Unpin>(
    sock: &mut S,
    sess: &mut MasterSession,
    store: &MessageStore,
    s: HaSettings,
) -> Result<bool, SessionError> {
    let now = Instant::now();
    let MasterStep::Stream(next) = sess.step(now)? else {
        return Ok(false);
    };
    let body = i64::try_from(next)
        .ok()
        .and_then(|p| store.read_commit_log(p, s.batch));
    if body.is_none() && (next as i64) < store.commit_log_min_offset() && !sess.gone_reported {
        // As RocketMQ, the slave gets heartbeats only; say why it will never catch up.
        warn!(
            slave_offset = next,
            oldest = store.commit_log_min_offset(),
            "the slave needs CommitLog data this master has already deleted: it cannot catch up \
             (empty its store to restart it from the master's last file)"
        );
        sess.gone_reported = true;
    }
    if body.is_none() && !sess.heartbeat_due(now) {
        return Ok(false);
    }
    let len = body.as_ref().map_or(0, |b| b.len());
    let mut head = BytesMut::with_capacity(ha::TRANSFER_HEADER_LEN);
    ha::encode_transfer_header(next, len, &mut head)?;
    // Header and body in one vectored write (one syscall per transfer).
    let mut out = head.freeze().chain(body.unwrap_or_default());
    // The flush matters for TLS only (records buffered in the session); free for TCP.
    let write = async {
        sock.write_all_buf(&mut out).await?;
        sock.flush().await
    };
    match tokio::time::timeout(s.housekeeping, write).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(io_err(e)),
        Err(_) => return Err(SessionError::Io("write to the slave timed out".into())),
    }
    sess.sent(len, Instant::now());
    Ok(len > 0)
}

/// Bind the master's HA listener (before anything starts, so a port in use fails the start).
pub fn bind_master(host: &str, port: u16) -> std::io::Result<(std::net::TcpListener, SocketAddr)> {
    let l = std::net::TcpListener::bind((host, port))?;
    l.set_nonblocking(true)?;
    let addr = l.local_addr()?;
    Ok((l, addr))
}

/// Controller mode's replication: the HA listener bound once for the broker's life, and the
/// side (master or slave) running now, each on its own arbiter. Shared by `startup` (start,
/// stop at shutdown) and the `ReplicasActor` (role switches).
pub struct Replication {
    listener: std::net::TcpListener,
    store: Arc<MessageStore>,
    ha: Arc<HaShared>,
    role: Arc<RoleCell>,
    settings: HaSettings,
    tls: TlsSides,
    running: Mutex<Option<Arbiter>>,
}

impl Replication {
    pub fn new(
        listener: std::net::TcpListener,
        store: Arc<MessageStore>,
        ha: Arc<HaShared>,
        role: Arc<RoleCell>,
        settings: HaSettings,
        tls: TlsSides,
    ) -> Self {
        Replication {
            listener,
            store,
            ha,
            role,
            settings,
            tls,
            running: Mutex::new(None),
        }
    }

    /// Stop the side running now: its arbiter stops, which drops its connections (a master's
    /// slaves see the close; a slave's master too). A master's ack bookkeeping is reset.
    pub fn stop(&self) {
        if let Some(a) = self.running.lock().take() {
            a.stop();
        }
        self.ha.acks.reset();
    }

    /// Run the master side on the kept listener (a clone of its socket).
    pub fn start_master(&self) -> std::io::Result<()> {
        let l = self.listener.try_clone()?;
        self.start(HaRole::Master(l));
        Ok(())
    }

    /// Run the slave side, following the master HA address in `HaShared::master`.
    pub fn start_slave(&self) {
        self.start(HaRole::Slave(None));
    }

    fn start(&self, role: HaRole) {
        self.stop();
        let arbiter = crate::idle_poll::arbiter(self.settings.idle_poll);
        let (store, ha, s) = (self.store.clone(), self.ha.clone(), self.settings);
        let (tls, ident) = (self.tls.clone(), Some(self.role.clone()));
        ReplicationActor::start_in_arbiter(&arbiter.handle(), move |_| {
            ReplicationActor::new(store, ha, s, role)
                .with_tls(tls)
                .identified_by(ident)
        });
        *self.running.lock() = Some(arbiter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_master_whose_sends_wait_streams_without_gathering() {
        let gather = |role, controller: Option<bool>| {
            let mut cfg = BrokerConfig {
                broker_role: role,
                ..Default::default()
            };
            if let Some(all_ack) = controller {
                cfg.controller.enable_controller_mode = true;
                cfg.controller.all_ack_in_sync_state_set = all_ack;
            }
            HaSettings::from_config(&cfg).gather
        };
        assert_eq!(gather(BrokerRole::AsyncMaster, None), ASYNC_GATHER);
        assert_eq!(gather(BrokerRole::SyncMaster, None), Duration::ZERO);
        // Controller mode: the configured role is not what the broker becomes.
        assert_eq!(gather(BrokerRole::Slave, Some(true)), Duration::ZERO);
        assert_eq!(gather(BrokerRole::Slave, Some(false)), ASYNC_GATHER);
    }
}
