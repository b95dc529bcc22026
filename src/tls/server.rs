//! The server side: [`ServerTls`] (the rustls server config of the `tls*` keys and the mode) and
//! the accept step every TLS-capable port shares: in permissive mode look at the first byte
//! ([`detect`]), then the handshake, bounded by [`HANDSHAKE_TIMEOUT`]. Callers run it on the
//! connection's own task, never in an accept loop.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::server::WebPkiClientVerifier;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::{load_certs, load_key, load_roots, provider, TlsError};
use crate::config::{ClientAuth, TlsConfig, TlsMode};

/// A peer that has not finished its handshake (or, in permissive mode, sent its first byte)
/// within this long is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The first byte of a TLS connection: a handshake record (ClientHello).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// The server half of the TLS keys, loaded once at start-up.
pub struct ServerTls {
    mode: TlsMode,
    config: Arc<rustls::ServerConfig>,
}

/// What a connection turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Plain,
    Tls,
}

/// An accepted connection after [`ServerTls::accept`].
pub enum Accepted {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// `None` when `tlsMode = disabled`. Reads the certificate, key and (for client
    /// authentication) trust files; any of them missing or unusable is an error naming its key.
    pub fn from_config(cfg: &TlsConfig) -> Result<Option<Arc<ServerTls>>, TlsError> {
        if !cfg.server_enabled() {
            return Ok(None);
        }
        let certs = load_certs("tlsServerCertPath", &cfg.tls_server_cert_path)?;
        let key = load_key("tlsServerKeyPath", &cfg.tls_server_key_path)?;
        let builder = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?;
        let builder = match cfg.tls_server_need_client_auth {
            ClientAuth::None => builder.with_no_client_auth(),
            auth => {
                let roots = load_roots("tlsServerTrustCertPath", &cfg.tls_server_trust_cert_path)?;
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
                let verifier = if auth == ClientAuth::Optional {
                    verifier.allow_unauthenticated()
                } else {
                    verifier
                };
                let verifier = verifier
                    .build()
                    .map_err(|e| TlsError::Setup(format!("tlsServerTrustCertPath: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let config = builder
            .with_single_cert(certs, key)
            .map_err(|e| TlsError::Content {
                key: "tlsServerKeyPath",
                path: cfg.tls_server_key_path.clone(),
                reason: format!("does not fit the certificate of tlsServerCertPath: {e}"),
            })?;
        Ok(Some(Arc::new(ServerTls {
            mode: cfg.tls_mode,
            config: Arc::new(config),
        })))
    }

    pub fn mode(&self) -> TlsMode {
        self.mode
    }

    /// The rustls config (the dashboard hands it to actix-web).
    pub fn rustls_config(&self) -> Arc<rustls::ServerConfig> {
        self.config.clone()
    }

    /// Decide what `stream` is (permissive mode) and do the TLS handshake, all within
    /// [`HANDSHAKE_TIMEOUT`]. In enforcing mode a plain client fails the handshake here.
    pub async fn accept(&self, stream: TcpStream) -> io::Result<Accepted> {
        let work = async {
            let kind = match self.mode {
                TlsMode::Permissive => detect(&stream).await?,
                _ => StreamKind::Tls,
            };
            match kind {
                StreamKind::Plain => Ok(Accepted::Plain(stream)),
                StreamKind::Tls => {
                    let tls = TlsAcceptor::from(self.config.clone())
                        .accept(stream)
                        .await?;
                    Ok(Accepted::Tls(Box::new(tls)))
                }
            }
        };
        tokio::time::timeout(HANDSHAKE_TIMEOUT, work)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))?
    }
}

/// Wait for the first byte without taking it: 0x16 starts a TLS handshake, anything else is a
/// plain remoting frame (its length's high byte, 0 for any frame under 16 MiB).
pub async fn detect(stream: &TcpStream) -> io::Result<StreamKind> {
    let mut first = [0u8; 1];
    if stream.peek(&mut first).await? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(kind_of(first[0]))
}

fn kind_of(first: u8) -> StreamKind {
    if first == TLS_HANDSHAKE_RECORD {
        StreamKind::Tls
    } else {
        StreamKind::Plain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_byte_decides() {
        assert_eq!(kind_of(0x16), StreamKind::Tls);
        assert_eq!(kind_of(0x00), StreamKind::Plain);
        // An HTTP request or anything else is left to the plain path (which will reject it).
        assert_eq!(kind_of(b'G'), StreamKind::Plain);
    }

    #[test]
    fn disabled_builds_nothing_and_missing_files_are_named() {
        assert!(ServerTls::from_config(&TlsConfig::default())
            .unwrap()
            .is_none());
        let cfg = TlsConfig {
            tls_mode: TlsMode::Enforcing,
            tls_server_cert_path: "/nonexistent/server.pem".into(),
            tls_server_key_path: "/nonexistent/server.key".into(),
            ..Default::default()
        };
        let e = ServerTls::from_config(&cfg).err().unwrap().to_string();
        assert!(
            e.contains("tlsServerCertPath") && e.contains("/nonexistent/server.pem"),
            "{e}"
        );
    }
}
