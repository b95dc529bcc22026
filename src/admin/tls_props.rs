//! TLS for the admin tools the way RocketMQ's `mqadmin` is told to use it: system properties in
//! `JAVA_OPT` (RocketMQ's `bin/tools.sh` passes that variable to the JVM), read as RocketMQ's
//! `TlsSystemConfig` reads them: `-Dtls.enable=true` turns TLS on, and the properties file
//! `tls.config.file` (default `/etc/rocketmq/tls.properties`) overrides the `tls.test.mode.enable`
//! and `tls.client.*` keys, as `TlsHelper` does when it builds the client context.
//!
//! Why: RocketMQ users already have `JAVA_OPT="-Dtls.enable=true -Dtls.config.file=..."` and a
//! `tls.properties` for their tools; the same setup works here. The rules follow RocketMQ:
//! `tls.test.mode.enable` (default true) or `tls.client.authServer=false` (default) means the
//! server's certificate is not verified (a warning is printed); with test mode off and
//! `tls.client.authServer=true` it is checked against `tls.client.trustCertPath`, and
//! `tls.client.certPath` / `tls.client.keyPath` are presented when the server asks. Unlike
//! RocketMQ, a config file that exists but cannot be read, and an encrypted key
//! (`tls.client.keyPassword`), are errors instead of being ignored.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::{AdminError, Result};
use crate::tls::TlsClient;

/// The environment variable RocketMQ's tool scripts hand to the JVM.
pub const JAVA_OPT_ENV: &str = "JAVA_OPT";
/// RocketMQ's default `tls.config.file`.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/rocketmq/tls.properties";

/// The file keys `TlsHelper` lets override the system properties (client side).
const FILE_KEYS: &[&str] = &[
    "tls.test.mode.enable",
    "tls.client.authServer",
    "tls.client.trustCertPath",
    "tls.client.certPath",
    "tls.client.keyPath",
    "tls.client.keyPassword",
];

/// The `tls.*` system properties in effect (after the file).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TlsProps {
    props: BTreeMap<String, String>,
}

/// What the properties ask for.
#[derive(Debug, PartialEq, Eq)]
pub enum TlsChoice {
    Plain,
    /// TLS without checking the server's certificate (test mode or no `authServer`).
    AnyServer,
    /// TLS checking the server against `ca`, presenting `client` (cert, key) if given.
    Verify {
        ca: String,
        client: Option<(String, String)>,
    },
}

impl TlsProps {
    /// The `-Dtls.*=value` words of a `JAVA_OPT` value (`-Dkey` alone is the empty string, as
    /// in Java). Other words are ignored.
    pub fn from_java_opt(java_opt: &str) -> TlsProps {
        let props = java_opt
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("-D"))
            .filter(|kv| kv.starts_with("tls."))
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (kv.to_string(), String::new()),
            })
            .collect();
        TlsProps { props }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.props.get(key).map(String::as_str)
    }

    /// Java's `Boolean.parseBoolean` with a default for a missing key.
    fn flag(&self, key: &str, default: bool) -> bool {
        self.get(key)
            .map_or(default, |v| v.trim().eq_ignore_ascii_case("true"))
    }

    pub fn enabled(&self) -> bool {
        self.flag("tls.enable", false)
    }

    /// `tls.config.file`, or RocketMQ's default.
    pub fn config_file(&self) -> PathBuf {
        PathBuf::from(self.get("tls.config.file").unwrap_or(DEFAULT_CONFIG_FILE))
    }

    /// Lay the client keys of a `tls.properties` text over the system properties.
    pub fn overlay_file(&mut self, text: &str) {
        for (k, v) in crate::config::properties::parse(text) {
            if FILE_KEYS.contains(&k.as_str()) {
                self.props.insert(k, v);
            }
        }
    }

    /// What to connect with.
    pub fn choice(&self) -> Result<TlsChoice> {
        if !self.enabled() {
            return Ok(TlsChoice::Plain);
        }
        let path = |k: &str| self.get(k).map(str::trim).filter(|v| !v.is_empty());
        if path("tls.client.keyPassword").is_some() {
            return Err(AdminError::Invalid(
                "tls.client.keyPassword: encrypted client keys are not supported (give an \
                 unencrypted PEM key in tls.client.keyPath)"
                    .into(),
            ));
        }
        if self.flag("tls.test.mode.enable", true) || !self.flag("tls.client.authServer", false) {
            return Ok(TlsChoice::AnyServer);
        }
        let ca = path("tls.client.trustCertPath").ok_or_else(|| {
            AdminError::Invalid("tls.client.authServer=true needs tls.client.trustCertPath".into())
        })?;
        let client = match (path("tls.client.certPath"), path("tls.client.keyPath")) {
            (Some(c), Some(k)) => Some((c.to_string(), k.to_string())),
            (None, None) => None,
            _ => {
                return Err(AdminError::Invalid(
                    "tls.client.certPath and tls.client.keyPath go together".into(),
                ))
            }
        };
        Ok(TlsChoice::Verify {
            ca: ca.to_string(),
            client,
        })
    }
}

/// The TLS client `JAVA_OPT` (and the file it names) asks for; `None`: plain TCP.
pub fn tls_from_java_opt() -> Result<Option<TlsClient>> {
    let mut props = TlsProps::from_java_opt(&std::env::var(JAVA_OPT_ENV).unwrap_or_default());
    if !props.enabled() {
        return Ok(None);
    }
    let file = props.config_file();
    if file.exists() {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| AdminError::Invalid(format!("tls.config.file {}: {e}", file.display())))?;
        props.overlay_file(&text);
    }
    let tls = |e: crate::tls::TlsError| AdminError::Invalid(e.to_string());
    match props.choice()? {
        TlsChoice::Plain => Ok(None),
        TlsChoice::AnyServer => {
            eprintln!(
                "mqadmin: warning: TLS without verifying the server's certificate \
                 (tls.test.mode.enable is true or tls.client.authServer is false)"
            );
            Ok(Some(TlsClient::danger_accept_any_server_cert()))
        }
        TlsChoice::Verify { ca, client } => {
            let pair = client.as_ref().map(|(c, k)| (c.as_str(), k.as_str()));
            TlsClient::from_files(&ca, pair).map(Some).map_err(tls)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_opt_and_file_as_rocketmq_reads_them() {
        let mut p = TlsProps::from_java_opt(
            "-server -Xms1g -Dtls.enable=true -Dtls.config.file=/x/tls.properties -Dother=1",
        );
        assert!(p.enabled());
        assert_eq!(p.config_file(), PathBuf::from("/x/tls.properties"));
        assert_eq!(p.choice().unwrap(), TlsChoice::AnyServer);
        p.overlay_file(
            "tls.test.mode.enable=false\ntls.client.authServer=true\n\
             tls.client.trustCertPath=/ca.pem\ntls.enable=false\n",
        );
        assert!(p.enabled(), "tls.enable is a system property only");
        assert_eq!(
            p.choice().unwrap(),
            TlsChoice::Verify {
                ca: "/ca.pem".into(),
                client: None
            }
        );
        p.overlay_file("tls.client.certPath=/c.pem\n");
        assert!(p.choice().is_err());
        assert_eq!(
            TlsProps::from_java_opt("-Xmx1g").choice().unwrap(),
            TlsChoice::Plain
        );
        assert_eq!(
            TlsProps::default().config_file(),
            PathBuf::from(DEFAULT_CONFIG_FILE)
        );
        let mut p = TlsProps::from_java_opt("-Dtls.enable=true");
        p.overlay_file("tls.client.keyPassword=secret\n");
        assert!(p.choice().is_err());
    }
}
