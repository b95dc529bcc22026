//! The TLS options of the command-line tools (mqadmin, mqbench, mqclient-consume): one definition,
//! so all of them spell them the same way.

use std::path::PathBuf;

use clap::Args;

use super::{TlsClient, TlsError};

#[derive(Args, Debug, Clone, Default)]
pub struct TlsArgs {
    /// Connect with TLS (with --tls-ca, or --tls-insecure).
    #[arg(long, global = true)]
    pub tls: bool,
    /// Connect with TLS and verify the servers' certificates against the CA certificates in
    /// this PEM file (implies --tls).
    #[arg(long = "tls-ca", value_name = "PEM", global = true)]
    pub tls_ca: Option<PathBuf>,
    /// Connect with TLS and accept ANY server certificate (throw-away self-signed test setups
    /// only; implies --tls).
    #[arg(long = "tls-insecure", global = true)]
    pub tls_insecure: bool,
}

impl TlsArgs {
    /// `None`: plain TCP.
    pub fn client(&self) -> Result<Option<TlsClient>, TlsError> {
        match (&self.tls_ca, self.tls_insecure) {
            (Some(_), true) => Err(TlsError::Setup(
                "--tls-ca and --tls-insecure exclude each other".into(),
            )),
            (Some(ca), false) => TlsClient::from_files(&ca.to_string_lossy(), None).map(Some),
            (None, true) => Ok(Some(TlsClient::danger_accept_any_server_cert())),
            (None, false) if self.tls => Err(TlsError::Setup(
                "--tls needs --tls-ca PEM (or --tls-insecure for a self-signed test setup)".into(),
            )),
            (None, false) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices() {
        assert!(TlsArgs::default().client().unwrap().is_none());
        let tls_only = TlsArgs {
            tls: true,
            ..Default::default()
        };
        assert!(tls_only
            .client()
            .unwrap_err()
            .to_string()
            .contains("--tls-ca"));
        let insecure = TlsArgs {
            tls_insecure: true,
            ..Default::default()
        };
        assert!(insecure.client().unwrap().is_some());
        let both = TlsArgs {
            tls_ca: Some("ca.pem".into()),
            tls_insecure: true,
            ..Default::default()
        };
        assert!(both.client().is_err());
    }
}
