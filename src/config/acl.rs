//! The ACL keys (flattened into the broker's config and the name server's; a standalone broker's
//! embedded name server uses the broker's). One definition, one validation.

use serde::{Deserialize, Serialize};

use super::dashboard::masked;
#[cfg(test)]
use super::dashboard::MASK;
use super::ConfigError;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AclConfig {
    /// Check every request against `plainAclFile` (RocketMQ's plain ACL); on a name server, its
    /// state-changing requests need a signed admin account.
    pub acl_enable: bool,
    /// The accounts file (RocketMQ's `plain_acl.yml` format), reloaded when it changes.
    pub plain_acl_file: String,
    /// More accounts files: every `*.yml`/`*.yaml` under this directory, recursively
    /// (`tools.yml` skipped), as RocketMQ 4.9.3+ reads `$ROCKETMQ_HOME/conf/acl` (a fixed
    /// directory there, no setting). Empty = the `acl` directory next to `plainAclFile` (so the
    /// default `conf/plain_acl.yml` goes with `conf/acl`, RocketMQ's layout). A missing
    /// directory has no files.
    pub acl_dir: String,
    /// This process's own account for the requests it sends (a broker's registrations, a
    /// slave's metadata sync, a hosted controller's role-change pushes). Empty = unsigned.
    pub access_key: String,
    /// The secret of `accessKey`. Shown masked wherever the config is printed.
    #[serde(serialize_with = "masked")]
    pub secret_key: String,
}

impl Default for AclConfig {
    fn default() -> Self {
        AclConfig {
            acl_enable: false,
            plain_acl_file: "conf/plain_acl.yml".into(),
            acl_dir: String::new(),
            access_key: String::new(),
            secret_key: String::new(),
        }
    }
}

impl AclConfig {
    /// Keys go together: an access key needs its secret and the reverse; a file path is needed
    /// when ACL is on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, value: &str, reason: &str| ConfigError::BadValue {
            key: key.into(),
            value: value.into(),
            reason: reason.into(),
        };
        if self.access_key.is_empty() != self.secret_key.is_empty() {
            let (key, value) = if self.access_key.is_empty() {
                ("accessKey", "")
            } else {
                ("secretKey", "")
            };
            return Err(bad(key, value, "accessKey and secretKey are set together"));
        }
        if self.acl_enable && self.plain_acl_file.trim().is_empty() {
            return Err(bad(
                "plainAclFile",
                "",
                "aclEnable=true needs the accounts file",
            ));
        }
        Ok(())
    }

    /// The ACL directory in force (see `aclDir`).
    pub fn acl_dir_path(&self) -> std::path::PathBuf {
        if !self.acl_dir.trim().is_empty() {
            return self.acl_dir.trim().into();
        }
        let plain = std::path::Path::new(&self.plain_acl_file);
        plain
            .parent()
            .unwrap_or(std::path::Path::new(""))
            .join("acl")
    }

    /// This process's credentials for its own requests, if configured.
    pub fn credentials(&self) -> Option<std::sync::Arc<crate::acl::Credentials>> {
        (!self.access_key.is_empty()).then(|| {
            std::sync::Arc::new(crate::acl::Credentials::new(
                self.access_key.clone(),
                self.secret_key.clone(),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validation_and_masking() {
        let d = AclConfig::default();
        assert!(!d.acl_enable && d.validate().is_ok() && d.credentials().is_none());
        let half = AclConfig {
            access_key: "broker-a".into(),
            ..Default::default()
        };
        assert!(half.validate().is_err());
        let full = AclConfig {
            access_key: "broker-a".into(),
            secret_key: "s3cret-key".into(),
            ..Default::default()
        };
        assert!(full.validate().is_ok());
        assert_eq!(full.credentials().unwrap().access_key, "broker-a");
        let shown = serde_json::to_string(&full).unwrap();
        assert!(!shown.contains("s3cret-key") && shown.contains(MASK));
        let no_file = AclConfig {
            acl_enable: true,
            plain_acl_file: " ".into(),
            ..Default::default()
        };
        assert!(no_file.validate().is_err());
        assert_eq!(d.acl_dir_path(), std::path::Path::new("conf/acl"));
        let elsewhere = AclConfig {
            plain_acl_file: "/etc/mq/plain_acl.yml".into(),
            ..Default::default()
        };
        assert_eq!(
            elsewhere.acl_dir_path(),
            std::path::Path::new("/etc/mq/acl")
        );
        let set = AclConfig {
            acl_dir: "/srv/acl.d".into(),
            ..elsewhere
        };
        assert_eq!(set.acl_dir_path(), std::path::Path::new("/srv/acl.d"));
    }
}
