//! `RemotingClient`: one outgoing remoting connection (broker -> name server, the client library
//! and mqbench -> name servers and brokers), over plain TCP or TLS (`connect_with`). Plain
//! tokio, usable from any actor or task: a writer task fed by a bounded channel, a reader task
//! that completes waiting calls by opaque, and calls with a timeout.
//! Requests the peer sends us (server-initiated, e.g. NOTIFY_CONSUMER_IDS_CHANGED) go to an
//! optional handler channel.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use parking_lot::Mutex;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::acl::Credentials;
use crate::protocol::frame::{RemotingCodec, DEFAULT_MAX_FRAME};
use crate::protocol::RemotingCommand;
use crate::tls::TlsClient;

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("connect to {addr} failed: {reason}")]
    Connect { addr: String, reason: String },
    #[error("request to {addr} timed out after {millis} ms")]
    Timeout { addr: String, millis: u128 },
    #[error("connection to {0} closed")]
    Closed(String),
}

type Pending = Arc<Mutex<HashMap<i32, oneshot::Sender<RemotingCommand>>>>;

/// A connected client. Cheap to clone; the connection closes when every clone is dropped (or the
/// peer closes it).
#[derive(Clone)]
pub struct RemotingClient {
    addr: String,
    tx: mpsc::Sender<RemotingCommand>,
    pending: Pending,
    next_opaque: Arc<AtomicI32>,
    /// Set when the reader saw the peer close (or a framing error): the connection is dead even
    /// though the writer has not failed yet.
    read_closed: Arc<AtomicBool>,
    /// Sign every request (ACL) with these keys.
    credentials: Option<Arc<Credentials>>,
}

/// The connected socket, before it is split.
enum Transport {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// Outstanding writes queued per connection before `call` waits.
const WRITE_QUEUE: usize = 1024;

impl RemotingClient {
    /// Connect to `addr` (`host:port`). Server-initiated requests are sent to `inbound` if given.
    pub async fn connect(
        addr: &str,
        timeout: Duration,
        inbound: Option<mpsc::UnboundedSender<RemotingCommand>>,
    ) -> Result<RemotingClient, ClientError> {
        Self::connect_with(addr, timeout, inbound, None).await
    }

    /// [`connect`](Self::connect), with TLS when `tls` is given (the handshake counts towards
    /// `timeout`; a server that is not TLS, or whose certificate does not verify, fails here).
    pub async fn connect_with(
        addr: &str,
        timeout: Duration,
        inbound: Option<mpsc::UnboundedSender<RemotingCommand>>,
        tls: Option<&TlsClient>,
    ) -> Result<RemotingClient, ClientError> {
        let err = |reason: String| ClientError::Connect {
            addr: addr.to_string(),
            reason,
        };
        let connect = async {
            let stream = TcpStream::connect(addr).await?;
            let _ = stream.set_nodelay(true);
            Ok::<_, std::io::Error>(match tls {
                None => Transport::Plain(stream),
                Some(t) => Transport::Tls(Box::new(t.handshake(addr, stream).await?)),
            })
        };
        let transport = tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| err("timed out".into()))?
            .map_err(|e| err(e.to_string()))?;
        Ok(match transport {
            Transport::Plain(s) => {
                let (r, w) = s.into_split();
                Self::start(addr, r, w, inbound)
            }
            Transport::Tls(s) => {
                let (r, w) = tokio::io::split(*s);
                Self::start(addr, r, w, inbound)
            }
        })
    }

    /// The writer and reader tasks over an open connection.
    fn start<R, W>(
        addr: &str,
        r: R,
        w: W,
        inbound: Option<mpsc::UnboundedSender<RemotingCommand>>,
    ) -> RemotingClient
    where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
        let (tx, mut rx) = mpsc::channel::<RemotingCommand>(WRITE_QUEUE);

        let mut writer = FramedWrite::new(w, RemotingCodec::new(DEFAULT_MAX_FRAME));
        tokio::spawn(async move {
            while let Some(cmd) = rx.recv().await {
                if writer.send(cmd).await.is_err() {
                    break;
                }
            }
        });

        let mut reader = FramedRead::new(r, RemotingCodec::new(DEFAULT_MAX_FRAME));
        let pending_r = pending.clone();
        let read_closed = Arc::new(AtomicBool::new(false));
        let closed_r = read_closed.clone();
        tokio::spawn(async move {
            while let Some(Ok(cmd)) = reader.next().await {
                if cmd.is_response() {
                    if let Some(waiter) = pending_r.lock().remove(&cmd.opaque) {
                        let _ = waiter.send(cmd);
                    }
                } else if let Some(inbound) = &inbound {
                    let _ = inbound.send(cmd);
                }
            }
            // Closed: fail every waiter at once instead of letting each time out.
            closed_r.store(true, Ordering::Release);
            pending_r.lock().clear();
        });

        RemotingClient {
            addr: addr.to_string(),
            tx,
            pending,
            next_opaque: Arc::new(AtomicI32::new(1)),
            read_closed,
            credentials: None,
        }
    }

    /// Sign every request sent through this client with `credentials` (RocketMQ's ACL signature);
    /// `None` sends requests unsigned.
    pub fn signed_with(mut self, credentials: Option<Arc<Credentials>>) -> Self {
        self.credentials = credentials;
        self
    }

    fn sign(&self, cmd: &mut RemotingCommand) {
        if let Some(creds) = &self.credentials {
            crate::acl::sign::sign(cmd, creds);
        }
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Whether the connection is still open.
    pub fn is_open(&self) -> bool {
        !self.tx.is_closed() && !self.read_closed.load(Ordering::Acquire)
    }

    /// Send a request and wait for its response.
    pub async fn call(
        &self,
        mut cmd: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, ClientError> {
        if self.read_closed.load(Ordering::Acquire) {
            return Err(ClientError::Closed(self.addr.clone()));
        }
        let opaque = self.next_opaque.fetch_add(1, Ordering::Relaxed);
        cmd.opaque = opaque;
        self.sign(&mut cmd);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().insert(opaque, tx);
        let result = tokio::time::timeout(timeout, async {
            self.tx
                .send(cmd)
                .await
                .map_err(|_| ClientError::Closed(self.addr.clone()))?;
            rx.await.map_err(|_| ClientError::Closed(self.addr.clone()))
        })
        .await;
        match result {
            Ok(r) => r,
            Err(_) => {
                self.pending.lock().remove(&opaque);
                Err(ClientError::Timeout {
                    addr: self.addr.clone(),
                    millis: timeout.as_millis(),
                })
            }
        }
    }

    /// Send a oneway request (no response expected).
    pub async fn oneway(&self, mut cmd: RemotingCommand) -> Result<(), ClientError> {
        cmd.opaque = self.next_opaque.fetch_add(1, Ordering::Relaxed);
        cmd.mark_oneway();
        self.sign(&mut cmd);
        self.tx
            .send(cmd)
            .await
            .map_err(|_| ClientError::Closed(self.addr.clone()))
    }

    /// Write a response to a request the peer sent us.
    pub async fn reply(&self, cmd: RemotingCommand) -> Result<(), ClientError> {
        self.tx
            .send(cmd)
            .await
            .map_err(|_| ClientError::Closed(self.addr.clone()))
    }
}
