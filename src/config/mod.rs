//! Configuration loading shared by every binary.
//!
//! Layers, lowest first: the struct's `Default`, the config file (`-c FILE`: TOML, or Java
//! properties `key=value` so an existing RocketMQ `namesrv.conf`/`broker.conf` loads), environment
//! variables `ACTORMQ_<KEY>`, then `--set key=value` flags. The `config` crate does the layering and
//! reads the files; it lower-cases keys, so the merged map is folded back onto the struct's
//! camelCase names here, which also lets us reject unknown keys with a message that names them and
//! convert text values (`"9876"`, `"true"`) by the type of each field's default.

pub mod properties;
mod suggest;

pub mod acl;
pub mod broker;
pub mod broker_controller;
pub mod controller;
pub mod dashboard;
pub mod metrics;
pub mod namesrv;
pub mod net;
pub mod tls;
pub mod update;

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as Json;
use thiserror::Error;

pub use acl::AclConfig;
pub use broker::{BrokerConfig, BrokerRole};
pub use controller::{ControllerConfig, ControllerServerConfig};
pub use dashboard::DashboardConfig;
pub use namesrv::NamesrvConfig;
pub use net::NetConfig;
pub use tls::{ClientAuth, TlsConfig, TlsMode};

/// Keys no run-time update (UPDATE_BROKER_CONFIG 25, UPDATE_NAMESRV_CONFIG 318) may change: a
/// remote request must not be able to turn TLS or ACL off, or point them at other files or
/// accounts, even for the next start.
pub const SECURITY_KEYS: &[&str] = &[
    "tlsMode",
    "tlsServerCertPath",
    "tlsServerKeyPath",
    "tlsServerNeedClientAuth",
    "tlsServerTrustCertPath",
    "tlsEnable",
    "tlsClientTrustCertPath",
    "tlsClientCertPath",
    "tlsClientKeyPath",
    "aclEnable",
    "plainAclFile",
    "aclDir",
    "accessKey",
    "secretKey",
    "dashboardAccessKey",
    "dashboardSecretKey",
];

/// A server's update black list with [`SECURITY_KEYS`] added.
pub fn with_security_keys(black_list: &[&'static str]) -> Vec<&'static str> {
    black_list.iter().chain(SECURITY_KEYS).copied().collect()
}

/// Prefix of the environment variables that set config keys.
pub const ENV_PREFIX: &str = "ACTORMQ_";

/// Why a configuration could not be loaded.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("unknown config key '{key}' (from {origin}){}", suggestion.as_ref().map(|s| format!("; did you mean '{s}'?")).unwrap_or_default())]
    UnknownKey {
        key: String,
        origin: String,
        suggestion: Option<String>,
    },
    #[error("config key '{key}' = '{value}': {reason}")]
    Unsupported {
        key: String,
        value: String,
        reason: String,
    },
    #[error("config key '{key}' = '{value}': {reason}")]
    BadValue {
        key: String,
        value: String,
        reason: String,
    },
    #[error("--set expects key=value, got '{0}'")]
    BadSet(String),
    #[error("cannot read config file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("config key '{key}' = {value} is out of range: allowed {allowed}")]
    OutOfRange {
        key: &'static str,
        value: String,
        allowed: String,
    },
}

/// `key`'s `value` must lie in `range` (both ends included).
pub fn check_range<T: PartialOrd + std::fmt::Display>(
    key: &'static str,
    value: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<(), ConfigError> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(ConfigError::OutOfRange {
        key,
        value: value.to_string(),
        allowed: format!("{}..={}", range.start(), range.end()),
    })
}

/// `key`'s `value` must be at least `min`.
pub fn check_min<T: PartialOrd + std::fmt::Display>(
    key: &'static str,
    value: T,
    min: T,
) -> Result<(), ConfigError> {
    if value >= min {
        return Ok(());
    }
    Err(ConfigError::OutOfRange {
        key,
        value: value.to_string(),
        allowed: format!("{min} or more"),
    })
}

/// A config struct: serde with RocketMQ's camelCase key names and a `Default`.
pub trait ConfigKeys: Serialize + DeserializeOwned + Default {
    /// RocketMQ keys that real config files carry but that mean nothing here: accepted with a
    /// warning instead of failing the start.
    const IGNORED: &'static [&'static str] = &[];
    /// RocketMQ switches for features actormq does not have yet: accepted when they say "off"
    /// (the value given here), an error naming the key when they turn the feature on.
    const OFF_ONLY: &'static [(&'static str, &'static str, &'static str)] = &[];

    /// Check the loaded values: the one place a value is judged (ranges, rules between keys,
    /// features not built yet), so a bad value stops the start with the key and what is allowed
    /// instead of being clamped (or obeyed) silently where it is used. `load` calls it last.
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// Where the values come from.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    pub file: Option<std::path::PathBuf>,
    /// `key=value` pairs from `--set`.
    pub sets: Vec<String>,
    /// Environment variables (name, value); normally `std::env::vars()`.
    pub env: Vec<(String, String)>,
}

impl Sources {
    /// A file and `--set` flags, with the process environment.
    pub fn from_args(file: Option<std::path::PathBuf>, sets: Vec<String>) -> Sources {
        Sources {
            file,
            sets,
            env: std::env::vars().collect(),
        }
    }
}

/// Tests: `T` loaded from `--set key=value` strings alone (defaults underneath).
#[cfg(test)]
pub(crate) fn load_sets<T: ConfigKeys>(sets: &[&str]) -> Result<(T, Vec<String>), ConfigError> {
    load::<T>(&Sources {
        sets: sets.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    })
}

/// Load `T` from the layered sources. Returns the config and the ignored keys that were seen.
pub fn load<T: ConfigKeys>(src: &Sources) -> Result<(T, Vec<String>), ConfigError> {
    let defaults = serde_json::to_value(T::default()).expect("config serializes");
    let Json::Object(defaults) = defaults else {
        panic!("config struct must serialize to an object")
    };
    // lower-case name without underscores -> canonical camelCase name.
    let canon: BTreeMap<String, String> = defaults
        .keys()
        .map(|k| (k.to_ascii_lowercase().replace('_', ""), k.clone()))
        .collect();
    let ignored: BTreeMap<String, &str> = T::IGNORED
        .iter()
        .map(|k| (k.to_ascii_lowercase(), *k))
        .collect();

    let mut merged = defaults.clone();
    let mut seen_ignored = Vec::new();
    for (origin, key, value) in layers(src)? {
        let lower = key.to_ascii_lowercase();
        if let Some(name) = canon.get(&lower.replace('_', "")) {
            let typed = coerce(name, &defaults[name], value)?;
            merged.insert(name.clone(), typed);
        } else if let Some(name) = ignored.get(&lower) {
            seen_ignored.push(name.to_string());
        } else if let Some(entry) = T::OFF_ONLY
            .iter()
            .find(|(k, ..)| k.eq_ignore_ascii_case(&key))
        {
            check_off(entry, &value)?;
        } else {
            let known = canon
                .values()
                .map(String::as_str)
                .chain(T::IGNORED.iter().copied())
                .chain(T::OFF_ONLY.iter().map(|(k, ..)| *k));
            let suggestion = suggest::nearest(&key, known).map(str::to_string);
            return Err(ConfigError::UnknownKey {
                key,
                origin,
                suggestion,
            });
        }
    }
    let cfg = deserialize::<T>(&defaults, merged)?;
    cfg.validate()?;
    Ok((cfg, seen_ignored))
}

/// Each layer read into (origin, key, value) triples, lowest first; later ones win.
fn layers(src: &Sources) -> Result<Vec<(String, String, Json)>, ConfigError> {
    let mut layers: Vec<(String, String, Json)> = Vec::new();
    if let Some(path) = &src.file {
        for (k, v) in read_file(path)? {
            layers.push((format!("file {}", path.display()), k, v));
        }
    }
    for (name, value) in &src.env {
        if let Some(key) = name.strip_prefix(ENV_PREFIX) {
            layers.push((
                format!("environment {name}"),
                key.to_string(),
                Json::String(value.clone()),
            ));
        }
    }
    for s in &src.sets {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| ConfigError::BadSet(s.clone()))?;
        layers.push((
            "--set".into(),
            k.trim().to_string(),
            Json::String(v.trim().to_string()),
        ));
    }
    Ok(layers)
}

/// A switch of a missing feature may only say "off".
fn check_off(
    (name, off, why): &(&'static str, &'static str, &'static str),
    value: &Json,
) -> Result<(), ConfigError> {
    let text = match value {
        Json::String(s) => s.trim().to_string(),
        v => v.to_string(),
    };
    if text.eq_ignore_ascii_case(off) {
        return Ok(());
    }
    Err(ConfigError::Unsupported {
        key: name.to_string(),
        value: text,
        reason: why.to_string(),
    })
}

/// The merged map as `T`; a value serde refuses is reported with its key.
fn deserialize<T: ConfigKeys>(
    defaults: &serde_json::Map<String, Json>,
    merged: serde_json::Map<String, Json>,
) -> Result<T, ConfigError> {
    let e = match serde_json::from_value::<T>(Json::Object(merged.clone())) {
        Ok(cfg) => return Ok(cfg),
        Err(e) => e,
    };
    // Name the key: find the first changed key that fails on its own.
    for (k, v) in merged.iter().filter(|(k, v)| defaults.get(*k) != Some(*v)) {
        let mut one = defaults.clone();
        one.insert(k.clone(), v.clone());
        if let Err(e1) = serde_json::from_value::<T>(Json::Object(one)) {
            return Err(ConfigError::BadValue {
                key: k.clone(),
                value: v.to_string(),
                reason: e1.to_string(),
            });
        }
    }
    Err(ConfigError::BadValue {
        key: "(several)".into(),
        value: String::new(),
        reason: e.to_string(),
    })
}

/// Read a config file into key -> value. `.toml` is TOML; anything else is Java properties.
fn read_file(path: &Path) -> Result<Vec<(String, Json)>, ConfigError> {
    let err = |reason: String| ConfigError::File {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let is_toml = path.extension().map(|e| e == "toml").unwrap_or(false);
    if !is_toml {
        return Ok(properties::parse(&text)
            .into_iter()
            .map(|(k, v)| (k, Json::String(v)))
            .collect());
    }
    // The `config` crate parses TOML for us; its key case is not reliable, so take the raw text's
    // keys from the file and the values from the crate.
    let built = config::Config::builder()
        .add_source(config::File::from_str(&text, config::FileFormat::Toml))
        .build()
        .map_err(|e| err(e.to_string()))?;
    let map = built
        .try_deserialize::<BTreeMap<String, config::Value>>()
        .map_err(|e| err(e.to_string()))?;
    // The crate lower-cases keys: recover each key as the file spells it, so messages quote it.
    let spelled: BTreeMap<String, String> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k.trim().trim_matches(['"', '\'']).to_string())
        .map(|k| (k.to_ascii_lowercase(), k))
        .collect();
    let mut out = Vec::new();
    for (k, v) in map {
        let k = spelled.get(&k).cloned().unwrap_or(k);
        let j = config_value_to_json(v).map_err(|e| err(format!("key '{k}': {e}")))?;
        out.push((k, j));
    }
    Ok(out)
}

fn config_value_to_json(v: config::Value) -> Result<Json, String> {
    use config::ValueKind as K;
    Ok(match v.kind {
        K::Nil => Json::Null,
        K::Boolean(b) => Json::Bool(b),
        K::I64(i) => Json::from(i),
        K::I128(i) => Json::from(i as i64),
        K::U64(u) => Json::from(u),
        K::U128(u) => Json::from(u as u64),
        K::Float(f) => serde_json::Number::from_f64(f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        K::String(s) => Json::String(s),
        K::Table(_) => return Err("nested tables are not config keys".into()),
        K::Array(a) => Json::Array(
            a.into_iter()
                .map(config_value_to_json)
                .collect::<Result<Vec<_>, _>>()?,
        ),
    })
}

/// Convert `value` to the JSON type of the key's default, so text from properties files,
/// environment variables and `--set` works for numbers and booleans.
fn coerce(key: &str, default: &Json, value: Json) -> Result<Json, ConfigError> {
    let bad = |v: &str, why: &str| ConfigError::BadValue {
        key: key.to_string(),
        value: v.to_string(),
        reason: why.to_string(),
    };
    let Json::String(text) = &value else {
        // TOML gave a typed value: accept it when its type matches.
        let ok = matches!(
            (default, &value),
            (Json::Number(_), Json::Number(_))
                | (Json::Bool(_), Json::Bool(_))
                | (Json::Array(_), Json::Array(_))
        );
        return if ok {
            Ok(value)
        } else if let (Json::String(_), Json::Number(n)) = (default, &value) {
            Ok(Json::String(n.to_string()))
        } else {
            Err(bad(
                &value.to_string(),
                &format!("expected a value like {default}"),
            ))
        };
    };
    let t = text.trim();
    match default {
        Json::Bool(_) => crate::protocol::header::parse_bool(t)
            .map(Json::Bool)
            .ok_or_else(|| bad(t, "expected true or false")),
        Json::Number(n) if n.is_f64() => t
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Json::Number)
            .ok_or_else(|| bad(t, "expected a number")),
        Json::Number(_) => t
            .parse::<i64>()
            .map(Json::from)
            .map_err(|_| bad(t, "expected an integer")),
        Json::Array(_) => Ok(Json::Array(
            t.split([';', ','])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Json::String(s.to_string()))
                .collect(),
        )),
        _ => Ok(Json::String(t.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct T {
        listen_port: u16,
        broker_name: String,
        auto_create: bool,
        ratio: f64,
    }
    impl Default for T {
        fn default() -> Self {
            T {
                listen_port: 9876,
                broker_name: "b".into(),
                auto_create: true,
                ratio: 0.5,
            }
        }
    }
    impl ConfigKeys for T {
        const IGNORED: &'static [&'static str] = &["rocketmqHome"];
    }

    fn src(
        file: Option<(&str, &str)>,
        env: &[(&str, &str)],
        sets: &[&str],
    ) -> (Sources, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let file = file.map(|(name, text)| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        });
        let s = Sources {
            file,
            sets: sets.iter().map(|s| s.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        (s, dir)
    }

    #[test]
    fn layers_in_order_default_file_env_set() {
        let (s, _d) = src(
            Some((
                "a.toml",
                "listenPort = 1\nbrokerName = \"f\"\nratio = 0.7\n",
            )),
            &[],
            &[],
        );
        let (t, _) = load::<T>(&s).unwrap();
        assert_eq!(
            (
                t.listen_port,
                t.broker_name.as_str(),
                t.auto_create,
                t.ratio
            ),
            (1, "f", true, 0.7)
        );

        let (s, _d) = src(
            Some(("a.toml", "listenPort = 1\nbrokerName = \"f\"\n")),
            &[
                ("ACTORMQ_LISTENPORT", "2"),
                ("ACTORMQ_brokerName", "e"),
                ("OTHER", "x"),
            ],
            &["listenPort=3", "autoCreate=false"],
        );
        let (t, _) = load::<T>(&s).unwrap();
        assert_eq!(
            (t.listen_port, t.broker_name.as_str(), t.auto_create),
            (3, "e", false)
        );
    }

    #[test]
    fn properties_files_load() {
        let text = "# a RocketMQ conf\nbrokerName = broker-a\nlistenPort=10911\n! bang comment\nrocketmqHome=/opt/rmq\n";
        let (s, _d) = src(Some(("broker.conf", text)), &[], &[]);
        let (t, ignored) = load::<T>(&s).unwrap();
        assert_eq!((t.listen_port, t.broker_name.as_str()), (10911, "broker-a"));
        assert_eq!(ignored, vec!["rocketmqHome".to_string()]);
    }

    #[test]
    fn unknown_keys_are_named() {
        let (s, _d) = src(Some(("a.conf", "listenPort=1\nbogusKey=2\n")), &[], &[]);
        let e = load::<T>(&s).unwrap_err().to_string();
        assert!(e.contains("bogusKey") && e.contains("a.conf"), "{e}");
        let (s, _d) = src(None, &[("ACTORMQ_NOPE", "1")], &[]);
        assert!(load::<T>(&s).unwrap_err().to_string().contains("NOPE"));
        let (s, _d) = src(None, &[], &["whatever=1"]);
        assert!(load::<T>(&s).unwrap_err().to_string().contains("whatever"));
        // As written (TOML keys come back lower-cased from the parser), with a suggestion.
        let (s, _d) = src(Some(("a.toml", "brokerNmae = \"x\"\n")), &[], &[]);
        let e = load::<T>(&s).unwrap_err().to_string();
        assert!(
            e.contains("'brokerNmae'") && e.contains("did you mean 'brokerName'"),
            "{e}"
        );
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        let (s, _d) = src(None, &[], &["listenPort=abc"]);
        let e = load::<T>(&s).unwrap_err().to_string();
        assert!(e.contains("listenPort") && e.contains("abc"), "{e}");
        let (s, _d) = src(None, &[], &["listenPort"]);
        assert!(matches!(load::<T>(&s), Err(ConfigError::BadSet(_))));
        let (s, _d) = src(None, &[], &["listenPort=99999999"]);
        assert!(load::<T>(&s).is_err());
    }
}
