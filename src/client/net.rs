//! `Net`: the client instance's connections: one [`RemotingClient`] per broker address (each
//! with its own opaque -> reply table and per-request timeouts), created on first use and replaced
//! when closed, and the name-server list with failover (the last one that answered is tried first).
//! Requests the brokers send us arrive on one channel, paired with the connection to answer on.
//! With credentials every connection signs what it sends (RocketMQ's ACL signature).
//! All futures here run on the client runtime thread (see `instance.rs`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::error::{ClientError, Result};
use crate::acl::sign::Credentials;
use crate::protocol::RemotingCommand;
use crate::remoting::client::RemotingClient;
use crate::tls::TlsClient;

/// A request a broker sent us, with the connection it came on.
pub type Inbound = (RemotingClient, RemotingCommand);

#[derive(Clone)]
pub struct Net {
    inner: Arc<NetInner>,
}

struct NetInner {
    namesrv: Vec<String>,
    ns_index: AtomicUsize,
    conns: tokio::sync::Mutex<HashMap<String, RemotingClient>>,
    connect_timeout: Duration,
    inbound: mpsc::Sender<Inbound>,
    /// Connect with TLS (`ClientConfig::tls`).
    tls: Option<TlsClient>,
    credentials: Option<Arc<Credentials>>,
}

/// Server-initiated requests buffered before new ones are dropped (they are notifications).
pub const INBOUND_QUEUE: usize = 256;

impl Net {
    /// Connections to `namesrv_addr` (`;`-separated) and brokers; every request is signed with
    /// `credentials` when given.
    pub fn new(
        namesrv_addr: &str,
        connect_timeout: Duration,
        inbound: mpsc::Sender<Inbound>,
        credentials: Option<Credentials>,
    ) -> Self {
        let namesrv = namesrv_addr
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        Net {
            inner: Arc::new(NetInner {
                namesrv,
                ns_index: AtomicUsize::new(0),
                conns: tokio::sync::Mutex::new(HashMap::new()),
                connect_timeout,
                inbound,
                tls: None,
                credentials: credentials.map(Arc::new),
            }),
        }
    }

    /// The TLS settings connections are made with, if any.
    pub fn tls(&self) -> Option<&TlsClient> {
        self.inner.tls.as_ref()
    }

    /// This `Net` connecting with `tls` (call before the first request: connections already
    /// open are not carried over).
    pub fn with_tls(self, tls: Option<TlsClient>) -> Self {
        let i = &self.inner;
        Net {
            inner: Arc::new(NetInner {
                namesrv: i.namesrv.clone(),
                ns_index: AtomicUsize::new(i.ns_index.load(Ordering::Relaxed)),
                conns: Default::default(),
                connect_timeout: i.connect_timeout,
                inbound: i.inbound.clone(),
                tls,
                credentials: i.credentials.clone(),
            }),
        }
    }

    /// The account requests are signed with, if any.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.inner.credentials.as_deref()
    }

    /// The open connection to `addr`, connecting if needed.
    pub async fn conn(&self, addr: &str) -> Result<RemotingClient> {
        let mut conns = self.inner.conns.lock().await;
        if let Some(c) = conns.get(addr) {
            if c.is_open() {
                return Ok(c.clone());
            }
        }
        let (tx, mut rx) = mpsc::unbounded_channel::<RemotingCommand>();
        let tls = self.inner.tls.as_ref();
        let c = RemotingClient::connect_with(addr, self.inner.connect_timeout, Some(tx), tls)
            .await?
            .signed_with(self.inner.credentials.clone());
        let fwd = self.inner.inbound.clone();
        let conn = c.clone();
        tokio::spawn(async move {
            while let Some(cmd) = rx.recv().await {
                if fwd.try_send((conn.clone(), cmd)).is_err() {
                    tracing::warn!(addr = conn.addr(), "inbound request queue full; dropped");
                }
            }
        });
        conns.insert(addr.to_string(), c.clone());
        Ok(c)
    }

    pub async fn call(
        &self,
        addr: &str,
        cmd: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand> {
        let c = self.conn(addr).await?;
        match c.call(cmd, timeout).await {
            Ok(r) => Ok(r),
            Err(e) => {
                if !c.is_open() {
                    self.inner.conns.lock().await.remove(addr);
                }
                Err(e.into())
            }
        }
    }

    pub async fn oneway(&self, addr: &str, cmd: RemotingCommand) -> Result<()> {
        let c = self.conn(addr).await?;
        c.oneway(cmd).await.map_err(Into::into)
    }

    /// Ask the name servers, starting with the last one that answered; on a network failure try the
    /// next. Returns the first response (whatever its code).
    pub async fn call_namesrv(
        &self,
        cmd: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand> {
        let n = self.inner.namesrv.len();
        if n == 0 {
            return Err(ClientError::NameServer("no name server configured".into()));
        }
        let start = self.inner.ns_index.load(Ordering::Relaxed);
        let mut last = None;
        for i in 0..n {
            let idx = (start + i) % n;
            let addr = &self.inner.namesrv[idx];
            match self.call(addr, cmd.clone(), timeout).await {
                Ok(r) => {
                    self.inner.ns_index.store(idx, Ordering::Relaxed);
                    return Ok(r);
                }
                Err(e) => {
                    tracing::warn!(namesrv = %addr, error = %e, "name server failed; trying the next");
                    last = Some(e);
                }
            }
        }
        match last {
            Some(e @ ClientError::Timeout { .. }) => Err(e),
            Some(e) => Err(ClientError::NameServer(e.to_string())),
            None => Err(ClientError::NameServer("unreachable".into())),
        }
    }
}
