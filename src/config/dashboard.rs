//! The built-in web dashboard's keys (flattened into the name server's config, and into the
//! broker's, which hosts a name server in standalone mode). Kept apart so both configs share one
//! definition and one validation.

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DashboardConfig {
    /// Serve the dashboard (pages and `/api/`) from this process.
    pub dashboard_enable: bool,
    /// Address the dashboard binds. Loopback by default: admin actions need no password there.
    pub dashboard_listen_addr: String,
    /// Port the dashboard binds; 0 picks a free port (the bound one is printed).
    pub dashboard_listen_port: u16,
    /// Password for admin actions (POST/DELETE), sent as HTTP basic auth (any user name) or the
    /// `X-Admin-Password` header. Required when the dashboard binds a non-loopback address.
    /// Shown masked wherever the config is printed (`--print-config`, GET_NAMESRV_CONFIG,
    /// GET_BROKER_CONFIG); the binaries hand the dashboard the value as loaded.
    #[serde(serialize_with = "masked")]
    pub dashboard_admin_password: String,
}

/// What a configured password prints as.
pub const MASK: &str = "******";

fn masked<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if v.is_empty() { "" } else { MASK })
}

impl Default for DashboardConfig {
    fn default() -> Self {
        DashboardConfig {
            dashboard_enable: false,
            dashboard_listen_addr: "127.0.0.1".into(),
            dashboard_listen_port: 8080,
            dashboard_admin_password: String::new(),
        }
    }
}

impl DashboardConfig {
    /// The listen address must parse as an IP address.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self
            .dashboard_listen_addr
            .parse::<std::net::IpAddr>()
            .is_err()
        {
            return Err(ConfigError::BadValue {
                key: "dashboardListenAddr".into(),
                value: self.dashboard_listen_addr.clone(),
                reason: "not an IP address".into(),
            });
        }
        Ok(())
    }

    /// Whether the dashboard binds a loopback address (admin actions then need no password).
    pub fn is_loopback(&self) -> bool {
        self.dashboard_listen_addr
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let d = DashboardConfig::default();
        assert!(!d.dashboard_enable && d.is_loopback() && d.validate().is_ok());
        let bad = DashboardConfig {
            dashboard_listen_addr: "localhost".into(),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let open = DashboardConfig {
            dashboard_listen_addr: "0.0.0.0".into(),
            ..Default::default()
        };
        assert!(!open.is_loopback());
        let secret = DashboardConfig {
            dashboard_admin_password: "s3cret".into(),
            ..Default::default()
        };
        let shown = serde_json::to_string(&secret).unwrap();
        assert!(!shown.contains("s3cret") && shown.contains(MASK));
    }
}
