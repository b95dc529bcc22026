//! The ACL account admin tools sign with: `accessKey` and `secretKey` from RocketMQ's
//! `conf/tools.yml` (`$ROCKETMQ_HOME/conf/tools.yml`, as `mqadmin` of RocketMQ 4.x reads it).
//!
//! Why a file and not options: that is where RocketMQ users already keep the keys, and a secret
//! on the command line shows in `ps`. As in RocketMQ, no file or a blank key means unsigned
//! requests; unlike RocketMQ, a file that is there but cannot be read is an error instead of a
//! silent fallback to unsigned requests. The file is flat `key: value` YAML; only the two
//! top-level scalar keys are read, everything else is ignored.

use std::path::{Path, PathBuf};

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
/// is missing or blank.
pub fn parse(text: &str, path: &Path) -> Result<Option<Credentials>> {
    let (mut access, mut secret) = (None, None);
    for (n, raw) in text.lines().enumerate() {
        let line = strip_comment(raw);
        if line.trim().is_empty() || line.trim() == "---" || line.starts_with([' ', '\t', '-']) {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(AdminError::Invalid(format!(
                "tools config {} line {}: expected 'key: value'",
                path.display(),
                n + 1
            )));
        };
        let value = unquote(value.trim()).ok_or_else(|| {
            AdminError::Invalid(format!(
                "tools config {} line {}: unbalanced quotes",
                path.display(),
                n + 1
            ))
        })?;
        match key.trim() {
            "accessKey" => access = Some(value),
            "secretKey" => secret = Some(value),
            _ => {}
        }
    }
    Ok(match (access, secret) {
        (Some(a), Some(s)) if !a.trim().is_empty() && !s.trim().is_empty() => {
            Some(Credentials::new(a, s))
        }
        _ => None,
    })
}

/// `line` without a `#` comment (one at the start or after a blank, outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut prev_blank = true;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev_blank => return &line[..i],
            _ => {}
        }
        prev_blank = c == ' ' || c == '\t';
    }
    line
}

/// A YAML scalar without its quotes; `None` for an unterminated quote.
fn unquote(v: &str) -> Option<String> {
    for q in ['\'', '"'] {
        if let Some(rest) = v.strip_prefix(q) {
            return rest.strip_suffix(q).map(str::to_string);
        }
    }
    Some(v.to_string())
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
    fn broken_lines_are_errors() {
        assert!(parse("accessKey ak\n", Path::new("t")).is_err());
        assert!(parse("accessKey: 'ak\n", Path::new("t")).is_err());
    }
}
