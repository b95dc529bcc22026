//! The TLS keys, shared by the broker's and the name server's configs (flattened, so the keys
//! stay top-level). RocketMQ 4.x sets these as system properties (`tls.server.mode`,
//! `tls.server.certPath`, `tls.enable`, ...); here they are ordinary config keys with the same
//! meaning, validated in one place.
//!
//! Server side (every listening port of the process: the broker's main and VIP ports, its HA
//! port, the name server's port, the dashboard): `tlsMode` with `tlsServerCertPath`,
//! `tlsServerKeyPath`, `tlsServerNeedClientAuth` and `tlsServerTrustCertPath`.
//! Client side (the broker's own connections to name servers and, on a slave, to its master; a
//! name server's hosted controller's role-change pushes to brokers):
//! `tlsEnable` with `tlsClientTrustCertPath` (and a client certificate for servers that require
//! one: `tlsClientCertPath`, `tlsClientKeyPath`).

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// `tlsMode` (RocketMQ's `tls.server.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain TCP only (the default here; RocketMQ's default is permissive).
    #[default]
    Disabled,
    /// TLS and plain TCP on the same port, told apart by the connection's first byte.
    Permissive,
    /// TLS only: a plain connection fails its handshake and is closed.
    Enforcing,
}

/// `tlsServerNeedClientAuth` (RocketMQ's `tls.server.need.client.auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// No client certificate is asked for.
    #[default]
    None,
    /// A client certificate is asked for and checked when sent, but not required.
    Optional,
    /// A client without a certificate signed by `tlsServerTrustCertPath` is refused.
    Require,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    pub tls_mode: TlsMode,
    /// The server's certificate chain (PEM), leaf first.
    pub tls_server_cert_path: String,
    /// The server's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub tls_server_key_path: String,
    pub tls_server_need_client_auth: ClientAuth,
    /// CA certificates (PEM) that client certificates must chain to.
    pub tls_server_trust_cert_path: String,
    /// Outgoing connections of this process (to name servers; a slave's to its master, HA
    /// included) use TLS (RocketMQ's `tls.enable`).
    pub tls_enable: bool,
    /// CA certificates (PEM) the servers' certificates must chain to (`tlsEnable`).
    pub tls_client_trust_cert_path: String,
    /// A client certificate chain and key (PEM) to present to servers that ask for one.
    pub tls_client_cert_path: String,
    pub tls_client_key_path: String,
}

impl TlsConfig {
    /// Whether the server side is on.
    pub fn server_enabled(&self) -> bool {
        self.tls_mode != TlsMode::Disabled
    }

    /// Paths that a setting needs are given (whether the files can be read is checked when the
    /// server starts: see `crate::tls`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.server_enabled() {
            let mode = format!("{:?}", self.tls_mode).to_ascii_lowercase();
            need(
                "tlsServerCertPath",
                &self.tls_server_cert_path,
                "tlsMode",
                &mode,
            )?;
            need(
                "tlsServerKeyPath",
                &self.tls_server_key_path,
                "tlsMode",
                &mode,
            )?;
        }
        if self.tls_server_need_client_auth != ClientAuth::None {
            let auth = format!("{:?}", self.tls_server_need_client_auth).to_ascii_lowercase();
            need(
                "tlsServerTrustCertPath",
                &self.tls_server_trust_cert_path,
                "tlsServerNeedClientAuth",
                &auth,
            )?;
        }
        if self.tls_enable {
            need(
                "tlsClientTrustCertPath",
                &self.tls_client_trust_cert_path,
                "tlsEnable",
                "true",
            )?;
        }
        let (cert, key) = (&self.tls_client_cert_path, &self.tls_client_key_path);
        if cert.is_empty() != key.is_empty() {
            return Err(ConfigError::BadValue {
                key: "tlsClientCertPath".into(),
                value: cert.clone(),
                reason: "tlsClientCertPath and tlsClientKeyPath go together: set both or neither"
                    .into(),
            });
        }
        Ok(())
    }
}

/// `key` must not be empty when `because` is `value`.
fn need(key: &str, path: &str, because: &str, value: &str) -> Result<(), ConfigError> {
    if !path.is_empty() {
        return Ok(());
    }
    Err(ConfigError::BadValue {
        key: key.into(),
        value: String::new(),
        reason: format!("required when {because} = {value} (a PEM file)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_needs_nothing() {
        TlsConfig::default().validate().unwrap();
    }

    #[test]
    fn enforcing_needs_cert_and_key() {
        let mut c = TlsConfig {
            tls_mode: TlsMode::Enforcing,
            ..Default::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("tlsServerCertPath") && e.contains("enforcing"),
            "{e}"
        );
        c.tls_server_cert_path = "c.pem".into();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("tlsServerKeyPath"), "{e}");
        c.tls_server_key_path = "k.pem".into();
        c.validate().unwrap();
    }

    #[test]
    fn client_auth_needs_trust_and_client_side_needs_ca() {
        let c = TlsConfig {
            tls_server_need_client_auth: ClientAuth::Require,
            ..Default::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("tlsServerTrustCertPath"));
        let c = TlsConfig {
            tls_enable: true,
            ..Default::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("tlsClientTrustCertPath"));
        let c = TlsConfig {
            tls_client_cert_path: "c.pem".into(),
            ..Default::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("go together"));
    }

    #[test]
    fn modes_read_as_rocketmq_writes_them() {
        let m: TlsMode = serde_json::from_str("\"permissive\"").unwrap();
        assert_eq!(m, TlsMode::Permissive);
        let a: ClientAuth = serde_json::from_str("\"require\"").unwrap();
        assert_eq!(a, ClientAuth::Require);
    }
}
