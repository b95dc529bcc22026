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
    /// The ACL account the dashboard signs its own requests with (the pages' reads, the chart
    /// collector), as rocketmq-dashboard's `rocketmq.config.accessKey`: for a cluster whose
    /// brokers have `aclEnable=true` (give it an admin account: runtime info and stats are admin
    /// requests). Empty = the process's `accessKey`. Separate from the user logins that admin
    /// actions need with ACL on.
    pub dashboard_access_key: String,
    /// The secret of `dashboardAccessKey`. Shown masked wherever the config is printed.
    #[serde(serialize_with = "masked")]
    pub dashboard_secret_key: String,
}

/// What a configured password prints as.
pub const MASK: &str = "******";

pub(crate) fn masked<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if v.is_empty() { "" } else { MASK })
}

impl Default for DashboardConfig {
    fn default() -> Self {
        DashboardConfig {
            dashboard_enable: false,
            dashboard_listen_addr: "127.0.0.1".into(),
            dashboard_listen_port: 8080,
            dashboard_admin_password: String::new(),
            dashboard_access_key: String::new(),
            dashboard_secret_key: String::new(),
        }
    }
}

impl DashboardConfig {
    /// The listen address must parse as an IP address; the account's keys go together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.dashboard_access_key.is_empty() != self.dashboard_secret_key.is_empty() {
            let key = if self.dashboard_access_key.is_empty() {
                "dashboardAccessKey"
            } else {
                "dashboardSecretKey"
            };
            return Err(ConfigError::BadValue {
                key: key.into(),
                value: String::new(),
                reason: "dashboardAccessKey and dashboardSecretKey are set together".into(),
            });
        }
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

    /// The dashboard's own account (`dashboardAccessKey`), if configured.
    pub fn credentials(&self) -> Option<crate::acl::Credentials> {
        (!self.dashboard_access_key.is_empty()).then(|| {
            crate::acl::Credentials::new(
                self.dashboard_access_key.clone(),
                self.dashboard_secret_key.clone(),
            )
        })
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
        assert!(d.credentials().is_none());
        let half = DashboardConfig {
            dashboard_access_key: "dashKey1".into(),
            ..Default::default()
        };
        assert!(half
            .validate()
            .unwrap_err()
            .to_string()
            .contains("dashboardSecretKey"));
        let account = DashboardConfig {
            dashboard_secret_key: "dashSecret1".into(),
            ..half
        };
        assert!(account.validate().is_ok());
        assert_eq!(account.credentials().unwrap().access_key, "dashKey1");
        let shown = serde_json::to_string(&account).unwrap();
        assert!(!shown.contains("dashSecret1") && shown.contains("dashKey1"));
    }
}
