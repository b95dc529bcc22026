//! The client side: [`TlsClient`], what an outgoing connection needs to speak TLS (used by
//! `RemotingClient`, and through it by the client library, mqadmin, mqbench and the broker's
//! own connections; by the HA slave directly).

use std::fmt;
use std::io;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::{load_certs, load_key, load_roots, provider, TlsError};
use crate::config::TlsConfig;

/// How to connect with TLS. Cheap to clone.
#[derive(Clone)]
pub struct TlsClient {
    config: Arc<rustls::ClientConfig>,
    /// The name the server's certificate must carry; `None`: the host of the address dialled.
    server_name: Option<ServerName<'static>>,
}

impl fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsClient")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl TlsClient {
    /// Verify servers against the CA certificates in the PEM file `ca`; present the client
    /// certificate chain and key `client` (PEM paths) to servers that ask for one.
    pub fn from_files(ca: &str, client: Option<(&str, &str)>) -> Result<TlsClient, TlsError> {
        let roots = load_roots("tlsClientTrustCertPath", ca)?;
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .with_root_certificates(roots);
        let config = match client {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => builder
                .with_client_auth_cert(
                    load_certs("tlsClientCertPath", cert)?,
                    load_key("tlsClientKeyPath", key)?,
                )
                .map_err(|e| TlsError::Content {
                    key: "tlsClientKeyPath",
                    path: key.to_string(),
                    reason: format!("does not fit the certificate of tlsClientCertPath: {e}"),
                })?,
        };
        Ok(TlsClient {
            config: Arc::new(config),
            server_name: None,
        })
    }

    /// TLS that accepts ANY server certificate: encryption without knowing who answers. Only
    /// for test setups with throw-away self-signed certificates (RocketMQ's
    /// `tls.test.mode.enable`); never against a server you need to trust.
    pub fn danger_accept_any_server_cert() -> TlsClient {
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider())))
            .with_no_client_auth();
        TlsClient {
            config: Arc::new(config),
            server_name: None,
        }
    }

    /// The client side of the `tls*` keys: `None` unless `tlsEnable`.
    pub fn from_config(cfg: &TlsConfig) -> Result<Option<TlsClient>, TlsError> {
        if !cfg.tls_enable {
            return Ok(None);
        }
        let (cert, key) = (&cfg.tls_client_cert_path, &cfg.tls_client_key_path);
        let client = (!cert.is_empty()).then_some((cert.as_str(), key.as_str()));
        TlsClient::from_files(&cfg.tls_client_trust_cert_path, client).map(Some)
    }

    /// Check the server's certificate for `name` instead of the host dialled.
    pub fn with_server_name(mut self, name: &str) -> Result<TlsClient, TlsError> {
        let name = ServerName::try_from(name.to_string())
            .map_err(|e| TlsError::Setup(format!("server name '{name}': {e}")))?;
        self.server_name = Some(name);
        Ok(self)
    }

    pub fn rustls_config(&self) -> Arc<rustls::ClientConfig> {
        self.config.clone()
    }

    /// Do the handshake on `stream`, connected to `addr` (`host:port`).
    pub async fn handshake(
        &self,
        addr: &str,
        stream: TcpStream,
    ) -> io::Result<TlsStream<TcpStream>> {
        let name = match &self.server_name {
            Some(n) => n.clone(),
            None => server_name_of(addr)?,
        };
        TlsConnector::from(self.config.clone())
            .connect(name, stream)
            .await
    }
}

/// The host part of `host:port` (`[v6]:port` too) as a TLS server name.
fn server_name_of(addr: &str) -> io::Result<ServerName<'static>> {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string()).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("'{host}' is not a TLS server name: {e}"),
        )
    })
}

/// The verifier of [`TlsClient::danger_accept_any_server_cert`]: signatures are still checked
/// (the handshake stays sound), the certificate's issuer and name are not.
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_name_from_address() {
        assert!(matches!(
            server_name_of("127.0.0.1:10911").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(matches!(
            server_name_of("[::1]:10911").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(matches!(
            server_name_of("broker.example:10911").unwrap(),
            ServerName::DnsName(_)
        ));
        assert!(server_name_of("bad name:1").is_err());
    }

    #[test]
    fn missing_ca_is_named() {
        let e = TlsClient::from_files("/nonexistent/ca.pem", None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("tlsClientTrustCertPath") && e.contains("/nonexistent/ca.pem"),
            "{e}"
        );
    }
}
