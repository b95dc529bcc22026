//! TLS for every port and every outgoing connection, with rustls (ring provider, no OpenSSL).
//!
//! Why a module of its own: the same certificate loading and the same two config objects serve
//! the remoting servers (`actors::net`), the HA port (`actors::broker::replication`), the
//! dashboard and every client (`remoting::client`, the client library, mqadmin, mqbench).
//!
//! - [`ServerTls`]: built once from the `tls*` keys ([`crate::config::TlsConfig`]) at start-up;
//!   a missing or unreadable certificate or key is a [`TlsError`] that stops the start.
//! - [`TlsClient`]: what a client needs to connect with TLS (the CA its servers' certificates
//!   must chain to, optionally a client certificate); cheap to clone.
//! - [`detect`]: RocketMQ's permissive mode: a connection whose first byte is 0x16 (a TLS
//!   handshake record) is TLS, anything else plain.

pub mod args;
pub mod client;
pub mod server;

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use client::TlsClient;
pub use server::{detect, ServerTls, StreamKind, HANDSHAKE_TIMEOUT};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{key} = '{path}': cannot read the file: {reason}")]
    Read {
        key: &'static str,
        path: String,
        reason: String,
    },
    #[error("{key} = '{path}': {reason}")]
    Content {
        key: &'static str,
        path: String,
        reason: String,
    },
    #[error("TLS setup: {0}")]
    Setup(String),
}

/// Both sides of one process's `tls*` keys, loaded once at start-up.
#[derive(Clone, Default, Debug)]
pub struct TlsSides {
    /// `tlsMode` permissive or enforcing: what the listening ports accept.
    pub server: Option<Arc<ServerTls>>,
    /// `tlsEnable`: how the process's own outgoing connections connect.
    pub client: Option<TlsClient>,
}

impl TlsSides {
    /// Read every file the keys name; a missing or unusable one is an error naming its key.
    pub fn from_config(cfg: &crate::config::TlsConfig) -> Result<TlsSides, TlsError> {
        Ok(TlsSides {
            server: ServerTls::from_config(cfg)?,
            client: TlsClient::from_config(cfg)?,
        })
    }
}

/// The one crypto provider used everywhere (ring).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(key: &'static str, path: &str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(Path::new(path)).map_err(|e| TlsError::Read {
        key,
        path: path.to_string(),
        reason: e.to_string(),
    })
}

/// Every certificate in the PEM file at `path` (config key `key`, for the error message).
pub fn load_certs(key: &'static str, path: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(key, path)?;
    let content = |reason: String| TlsError::Content {
        key,
        path: path.to_string(),
        reason,
    };
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| content(format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(content(
            "no certificate (-----BEGIN CERTIFICATE-----) in it".into(),
        ));
    }
    Ok(certs)
}

/// The first private key in the PEM file at `path`.
pub fn load_key(key: &'static str, path: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(key, path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| TlsError::Content {
        key,
        path: path.to_string(),
        reason: format!("no PEM private key (PKCS#8, PKCS#1 or SEC1) in it: {e}"),
    })
}

/// A root store of every certificate in the PEM file at `path`.
pub fn load_roots(key: &'static str, path: &str) -> Result<rustls::RootCertStore, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in load_certs(key, path)? {
        roots.add(cert).map_err(|e| TlsError::Content {
            key,
            path: path.to_string(),
            reason: format!("unusable CA certificate: {e}"),
        })?;
    }
    Ok(roots)
}
