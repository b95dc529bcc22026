//! The ACL account admin tools sign with: `accessKey` and `secretKey` from RocketMQ's
//! `conf/tools.yml` (`$ROCKETMQ_HOME/conf/tools.yml`, as `mqadmin` of RocketMQ 4.x reads it).
//!
//! Why a file and not options: that is where RocketMQ users already keep the keys, and a secret
//! on the command line shows in `ps`. As in RocketMQ, no file or a blank key means unsigned
//! requests; unlike RocketMQ, a file that is there but cannot be read is an error instead of a
//! silent fallback to unsigned requests. Only the two top-level keys are read, everything else
//! in the YAML file is ignored.

use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

use super::error::{AdminError, Result};
use crate::acl::sign::Credentials;

/// Environment variable naming the tools file instead of `$ROCKETMQ_HOME/conf/tools.yml`.
pub const TOOLS_CONFIG_ENV: &str = "MQADMIN_TOOLS_CONFIG";
/// The file under `$ROCKETMQ_HOME`.
pub const TOOLS_FILE: &str = "conf/tools.yml";

/// Where the account comes from: an explicit path (option, then [`TOOLS_CONFIG_ENV`]) must
/// exist; the default `$ROCKETMQ_HOME/conf/tools.yml` may be missing.
pub fn tools_credentials(explicit: Option<&Path>) -> Result<Option<Credentials>> {
    let env = std::env::var_os(TOOLS_CONFIG_ENV).filter(|v| !v.is_empty());
    if let Some(path) = explicit.map(Path::to_path_buf).or(env.map(PathBuf::from)) {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| AdminError::Invalid(format!("tools config {}: {e}", path.display())))?;
        return parse(&text, &path);
    }
    let Some(home) = std::env::var_os("ROCKETMQ_HOME").filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let path = PathBuf::from(home).join(TOOLS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text, &path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AdminError::Invalid(format!(
            "tools config {}: {e}",
            path.display()
        ))),
    }
}

/// The account in `text` (the tools file at `path`, named in errors); `None` when either key
/// is missing or blank. Scalars of any YAML kind are their text (`secretKey: 12345678` is a
/// number in RocketMQ's sample file).
pub fn parse(text: &str, path: &Path) -> Result<Option<Credentials>> {
    let bad = |why: String| AdminError::Invalid(format!("tools config {}: {why}", path.display()));
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| bad(e.to_string()))?;
    let field = |key: &str| -> Result<Option<String>> {
        match doc.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(bad(format!("{key} must be a text value"))),
        }
    };
    if !matches!(doc, Value::Mapping(_) | Value::Null) {
        return Err(bad("expected 'accessKey: ...' and 'secretKey: ...'".into()));
    }
    Ok(match (field("accessKey")?, field("secretKey")?) {
        (Some(a), Some(s)) if !a.trim().is_empty() && !s.trim().is_empty() => {
            Some(Credentials::new(a.trim(), s.trim()))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Option<Credentials> {
        parse(text, Path::new("tools.yml")).unwrap()
    }

    #[test]
    fn reads_rocketmq_s_sample_file() {
        let c = p("# comment\naccessKey: rocketmq2\nsecretKey: 12345678\n    \n").unwrap();
        assert_eq!(c.access_key, "rocketmq2");
        assert_eq!(c.secret_key, "12345678");
    }

    #[test]
    fn quotes_and_trailing_comments() {
        let c = p("accessKey: 'ak#1' # mine\nsecretKey: \"s: x\"\nother: 1\n").unwrap();
        assert_eq!(c.access_key, "ak#1");
        assert_eq!(c.secret_key, "s: x");
    }

    #[test]
    fn missing_or_blank_keys_mean_unsigned() {
        assert!(p("").is_none());
        assert!(p("accessKey: ak\n").is_none());
        assert!(p("accessKey: ak\nsecretKey:   \n").is_none());
    }

    #[test]
    fn broken_files_are_errors() {
        assert!(parse("accessKey ak\n", Path::new("t")).is_err());
        assert!(parse("accessKey: 'ak\n", Path::new("t")).is_err());
        assert!(parse("accessKey: [a, b]\nsecretKey: s\n", Path::new("t")).is_err());
    }
}
