//! Run-time config changes (UPDATE_BROKER_CONFIG 25 / UPDATE_NAMESRV_CONFIG 318) and the
//! properties view of a loaded config (GET_BROKER_CONFIG 26 / GET_NAMESRV_CONFIG 319).
//!
//! An update goes through the same rules as a start: each key must be a declared key (unknown
//! keys are refused with a suggestion), its text is converted by the type of the key's value, and
//! the whole result is deserialized and `validate`d, so a value out of range is refused with the
//! key and what is allowed, exactly as `--set` would be. Keys in a black list (as RocketMQ's
//! `configBlackList`) are refused before anything else.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{coerce, deserialize, suggest, ConfigError, ConfigKeys};

/// `cfg` as `key -> text`, one entry per declared key (flattened sub-structs included). Lists are
/// joined with `;`, as RocketMQ's properties files write them.
pub fn to_properties<T: ConfigKeys>(cfg: &T) -> BTreeMap<String, String> {
    let Json::Object(map) = serde_json::to_value(cfg).expect("config serializes") else {
        return BTreeMap::new();
    };
    map.into_iter().map(|(k, v)| (k, text_of(&v))).collect()
}

fn text_of(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        Json::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(";"),
        other => other.to_string(),
    }
}

/// Why an update was refused.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The key may not be changed at run time (RocketMQ's black list).
    #[error("Can not update config in black list.")]
    BlackListed(String),
    #[error("{0}")]
    Invalid(#[from] ConfigError),
}

/// `cfg` with `pairs` applied, checked as a start would check it. Returns the new config and the
/// pairs with each key in its canonical spelling.
pub fn apply<T: ConfigKeys>(
    cfg: &T,
    pairs: &[(String, String)],
    black_list: &[&str],
) -> Result<(T, Vec<(String, String)>), UpdateError> {
    if let Some((k, _)) = pairs
        .iter()
        .find(|(k, _)| black_list.iter().any(|b| b.eq_ignore_ascii_case(k)))
    {
        return Err(UpdateError::BlackListed(k.clone()));
    }
    let Json::Object(current) = serde_json::to_value(cfg).expect("config serializes") else {
        return Err(ConfigError::BadSet("config is not a map".into()).into());
    };
    let canon: BTreeMap<String, String> = current
        .keys()
        .map(|k| (k.to_ascii_lowercase(), k.clone()))
        .collect();
    let mut merged = current.clone();
    let mut canonical = Vec::new();
    for (key, value) in pairs {
        let Some(name) = canon.get(&key.to_ascii_lowercase()) else {
            let suggestion =
                suggest::nearest(key, current.keys().map(String::as_str)).map(str::to_string);
            return Err(ConfigError::UnknownKey {
                key: key.clone(),
                origin: "update request".into(),
                suggestion,
            }
            .into());
        };
        let typed = coerce(name, &current[name], Json::String(value.clone()))?;
        merged.insert(name.clone(), typed);
        canonical.push((name.clone(), value.trim().to_string()));
    }
    let updated: T = deserialize(&current, merged)?;
    updated.validate()?;
    Ok((updated, canonical))
}

/// A server's config as it runs, with the changes made at run time (the overrides, persisted so
/// a restart keeps them) and a version bumped on every change (GET_BROKER_CONFIG's `version`).
#[derive(Debug, Clone)]
pub struct RuntimeConfig<T> {
    effective: T,
    overrides: BTreeMap<String, String>,
    version: crate::protocol::body::DataVersion,
}

/// What an accepted update changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Updated {
    /// The canonical keys changed, with their new text.
    pub changed: Vec<(String, String)>,
    /// Every override so far, as properties text (the file to persist).
    pub overrides_text: String,
}

impl<T: ConfigKeys + Clone> RuntimeConfig<T> {
    /// `effective` already includes `overrides` (see [`load_overrides`]).
    pub fn new(effective: T, overrides: BTreeMap<String, String>, now_ms: i64) -> Self {
        let mut version = crate::protocol::body::DataVersion::default();
        version.next(now_ms);
        RuntimeConfig {
            effective,
            overrides,
            version,
        }
    }

    pub fn effective(&self) -> &T {
        &self.effective
    }

    pub fn version(&self) -> crate::protocol::body::DataVersion {
        self.version
    }

    /// The effective config as properties text.
    pub fn properties_text(&self) -> String {
        crate::protocol::body::admin::properties_text(&to_properties(&self.effective))
    }

    /// Apply `pairs` (all or nothing) and bump the version.
    pub fn update(
        &mut self,
        pairs: &[(String, String)],
        black_list: &[&str],
        now_ms: i64,
    ) -> Result<Updated, UpdateError> {
        let (updated, changed) = apply(&self.effective, pairs, black_list)?;
        self.effective = updated;
        for (k, v) in &changed {
            self.overrides.insert(k.clone(), v.clone());
        }
        self.version.next(now_ms);
        Ok(Updated {
            changed,
            overrides_text: crate::protocol::body::admin::properties_text(&self.overrides),
        })
    }
}

/// Apply the overrides saved in `file` (properties text; absent = none) to a freshly loaded
/// config. Blocking file I/O: call it at start, before any actor runs.
pub fn load_overrides<T: ConfigKeys>(
    cfg: T,
    file: &std::path::Path,
) -> Result<(T, BTreeMap<String, String>), String> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        // No file, or no directory for it (a data dir that is not a directory is reported by
        // the store, which says so in its own words).
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok((cfg, BTreeMap::new()))
        }
        Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
    };
    let pairs = super::properties::parse(&text);
    let (cfg, canonical) =
        apply(&cfg, &pairs, &[]).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok((cfg, canonical.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NamesrvConfig;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn properties_view_lists_every_key_as_text() {
        let props = to_properties(&NamesrvConfig::default());
        assert_eq!(props["listenPort"], "9876");
        assert_eq!(props["scanNotActiveBrokerInterval"], "10000");
        assert!(props.contains_key("kvConfigPath"));
    }

    #[test]
    fn apply_checks_keys_types_ranges_and_black_list() {
        let cfg = NamesrvConfig::default();
        let (new, canon) = apply(
            &cfg,
            &pairs(&[("scannotactivebrokerinterval", "5000")]),
            &[],
        )
        .unwrap();
        assert_eq!(new.scan_not_active_broker_interval, 5000);
        assert_eq!(canon, pairs(&[("scanNotActiveBrokerInterval", "5000")]));
        let e = apply(&cfg, &pairs(&[("listenPortt", "1")]), &[]).unwrap_err();
        assert!(e.to_string().contains("listenPortt"), "{e}");
        assert!(e.to_string().contains("listenPort'"), "{e}");
        let e = apply(&cfg, &pairs(&[("listenPort", "x")]), &[]).unwrap_err();
        assert!(e.to_string().contains("listenPort"), "{e}");
        let e = apply(&cfg, &pairs(&[("scanNotActiveBrokerInterval", "0")]), &[]).unwrap_err();
        assert!(e.to_string().contains("scanNotActiveBrokerInterval"), "{e}");
        let e = apply(&cfg, &pairs(&[("kvConfigPath", "/x")]), &["kvConfigPath"]).unwrap_err();
        assert!(matches!(e, UpdateError::BlackListed(k) if k == "kvConfigPath"));
    }

    #[test]
    fn runtime_config_keeps_overrides_and_reloads_them() {
        let mut rc = RuntimeConfig::new(NamesrvConfig::default(), BTreeMap::new(), 1);
        let v0 = rc.version();
        let up = rc
            .update(&pairs(&[("scanNotActiveBrokerInterval", "7000")]), &[], 2)
            .unwrap();
        assert_eq!(up.overrides_text, "scanNotActiveBrokerInterval=7000\n");
        assert!(rc.version().counter > v0.counter);
        assert!(rc
            .properties_text()
            .contains("scanNotActiveBrokerInterval=7000\n"));
        // A refused update changes nothing.
        assert!(rc.update(&pairs(&[("listenPort", "x")]), &[], 3).is_err());
        assert_eq!(rc.effective().scan_not_active_broker_interval, 7000);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("namesrv.properties");
        let (cfg, o) = load_overrides(NamesrvConfig::default(), &file).unwrap();
        assert!(o.is_empty() && cfg == NamesrvConfig::default());
        let not_a_dir = dir.path().join("f");
        std::fs::write(&not_a_dir, "x").unwrap();
        let (_, o) =
            load_overrides(NamesrvConfig::default(), &not_a_dir.join("x.properties")).unwrap();
        assert!(o.is_empty());
        std::fs::write(&file, up.overrides_text).unwrap();
        let (cfg, o) = load_overrides(NamesrvConfig::default(), &file).unwrap();
        assert_eq!(cfg.scan_not_active_broker_interval, 7000);
        assert_eq!(o.len(), 1);
        std::fs::write(&file, "nope=1\n").unwrap();
        assert!(load_overrides(NamesrvConfig::default(), &file).is_err());
    }
}
