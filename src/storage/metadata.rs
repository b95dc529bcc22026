//! The broker's JSON state files under `config/` (docs/protocol.md §6.6): `topics.json`,
//! `subscriptionGroup.json`, `consumerOffset.json`, `delayOffset.json`, in RocketMQ's shapes so
//! a store directory moves between a Java broker and this one.
//!
//! Saving is crash-safe: write `<file>.tmp`, fsync it, move the current file to `<file>.bak`, rename
//! the temp file into place, fsync the directory. Loading falls back to `.bak` (with a warning) when
//! the file is missing or does not parse, so a torn or damaged write costs at most the last change.
//!
//! fastjson writes integer map keys bare (`{0:123}`), which is not standard JSON: we write that
//! form for the two offset files and read both bare and quoted keys.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::error::{IoContext, StoreError};
use crate::protocol::body::topic::{DataVersion, SubscriptionGroupConfig, TopicConfig};

pub const TOPICS_FILE: &str = "topics.json";
pub const SUBSCRIPTION_GROUP_FILE: &str = "subscriptionGroup.json";
pub const CONSUMER_OFFSET_FILE: &str = "consumerOffset.json";
pub const DELAY_OFFSET_FILE: &str = "delayOffset.json";

/// `topics.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicsFile {
    pub data_version: DataVersion,
    pub topic_config_table: BTreeMap<String, TopicConfig>,
}

/// `subscriptionGroup.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionGroupFile {
    pub data_version: DataVersion,
    pub subscription_group_table: BTreeMap<String, SubscriptionGroupConfig>,
}

/// `consumerOffset.json`: `"topic@group"` -> queue id -> next offset to consume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerOffsetFile {
    pub offset_table: BTreeMap<String, BTreeMap<i32, i64>>,
}

/// `delayOffset.json`: delay level -> offset reached in its SCHEDULE_TOPIC_XXXX queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DelayOffsetFile {
    pub offset_table: BTreeMap<i32, i64>,
}

/// Quote fastjson's bare object keys (`{0:1}` -> `{"0":1}`) so serde_json can read the text.
/// Strings are copied untouched; keys are recognised as bare tokens right after `{` or `,` inside
/// an object.
pub fn quote_bare_keys(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let mut stack: Vec<char> = Vec::new();
    let mut expect_key = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push(c);
                while let Some(d) = chars.next() {
                    out.push(d);
                    if d == '\\' {
                        if let Some(e) = chars.next() {
                            out.push(e);
                        }
                    } else if d == '"' {
                        break;
                    }
                }
                expect_key = false;
            }
            '{' | '[' => {
                stack.push(c);
                expect_key = c == '{';
                out.push(c);
            }
            '}' | ']' => {
                stack.pop();
                expect_key = false;
                out.push(c);
            }
            ',' => {
                expect_key = stack.last() == Some(&'{');
                out.push(c);
            }
            ':' => {
                expect_key = false;
                out.push(c);
            }
            c if c.is_whitespace() => out.push(c),
            c if expect_key => {
                let mut tok = String::from(c);
                while let Some(&d) = chars.peek() {
                    if d == ':' || d.is_whitespace() {
                        break;
                    }
                    tok.push(d);
                    chars.next();
                }
                out.push('"');
                out.push_str(&tok);
                out.push('"');
                expect_key = false;
            }
            c => out.push(c),
        }
    }
    out
}

fn pretty<T: Serialize>(v: &T) -> Result<String, serde_json::Error> {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    v.serialize(&mut ser)?;
    Ok(String::from_utf8(buf).unwrap_or_default())
}

fn bare_map(out: &mut String, m: &BTreeMap<i32, i64>) {
    out.push('{');
    let body: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    out.push_str(&body.join(","));
    out.push('}');
}

impl ConsumerOffsetFile {
    /// fastjson's form, bare integer keys.
    pub fn to_fastjson(&self) -> String {
        let mut out = String::from("{\n\t\"offsetTable\":{");
        for (i, (k, m)) in self.offset_table.iter().enumerate() {
            out.push_str(if i == 0 { "\n\t\t" } else { ",\n\t\t" });
            out.push_str(&serde_json::to_string(k).unwrap_or_default());
            out.push(':');
            bare_map(&mut out, m);
        }
        out.push_str(if self.offset_table.is_empty() {
            "}\n}"
        } else {
            "\n\t}\n}"
        });
        out
    }
}

impl DelayOffsetFile {
    pub fn to_fastjson(&self) -> String {
        let mut out = String::from("{\n\t\"offsetTable\":");
        bare_map(&mut out, &self.offset_table);
        out.push_str("\n}");
        out
    }
}

/// Parse fastjson text (bare or quoted keys).
pub fn parse_fastjson<T: DeserializeOwned>(s: &str) -> Result<T, String> {
    serde_json::from_str(&quote_bare_keys(s)).map_err(|e| e.to_string())
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Crash-safe replace of `path` with `content`, keeping the previous version as `.bak`.
pub fn write_atomic(path: &Path, content: &str) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).at(dir)?;
    let tmp = with_suffix(path, ".tmp");
    {
        let mut f = File::create(&tmp).at(&tmp)?;
        f.write_all(content.as_bytes()).at(&tmp)?;
        f.sync_all().at(&tmp)?;
    }
    if path.exists() {
        // The backup is a second name of the current file, made before the replace, so `path`
        // itself exists at every moment (a rename to `.bak` first left a window without it,
        // and a process ending there came back with a warning and the older backup).
        let bak = with_suffix(path, ".bak");
        match std::fs::remove_file(&bak) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e).at(&bak),
            _ => {}
        }
        if std::fs::hard_link(path, &bak).is_err() {
            std::fs::copy(path, &bak).at(&bak)?;
        }
    }
    std::fs::rename(&tmp, path).at(path)?;
    File::open(dir).and_then(|d| d.sync_all()).at(dir)?;
    Ok(())
}

/// Read and parse `path`, falling back to `path.bak`. `Ok(None)` when neither exists.
pub fn read_with_fallback<T>(
    path: &Path,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, StoreError> {
    let bak = with_suffix(path, ".bak");
    let mut reasons = Vec::new();
    for (i, p) in [path, bak.as_path()].into_iter().enumerate() {
        match std::fs::read_to_string(p) {
            Ok(s) => match parse(&s) {
                Ok(v) => {
                    if i == 1 {
                        tracing::warn!(
                            "{} is damaged or missing ({}); loaded the backup {}",
                            path.display(),
                            reasons.join("; "),
                            p.display()
                        );
                    }
                    return Ok(Some(v));
                }
                Err(e) => reasons.push(format!("{}: {e}", p.display())),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                reasons.push(format!("{}: missing", p.display()))
            }
            Err(e) => reasons.push(format!("{}: {e}", p.display())),
        }
    }
    if reasons.iter().all(|r| r.ends_with("missing")) {
        return Ok(None);
    }
    Err(StoreError::Metadata {
        path: path.to_path_buf(),
        reason: reasons.join("; "),
    })
}

/// The four files of a `config/` directory.
#[derive(Debug, Clone)]
pub struct MetadataFiles {
    dir: PathBuf,
}

impl MetadataFiles {
    pub fn new(config_dir: impl Into<PathBuf>) -> Self {
        MetadataFiles {
            dir: config_dir.into(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn load<T: DeserializeOwned + Default>(&self, name: &str) -> Result<T, StoreError> {
        Ok(read_with_fallback(&self.path(name), parse_fastjson::<T>)?.unwrap_or_default())
    }

    pub fn load_topics(&self) -> Result<TopicsFile, StoreError> {
        self.load(TOPICS_FILE)
    }
    pub fn save_topics(&self, v: &TopicsFile) -> Result<(), StoreError> {
        let s = pretty(v).map_err(|e| StoreError::Metadata {
            path: self.path(TOPICS_FILE),
            reason: e.to_string(),
        })?;
        write_atomic(&self.path(TOPICS_FILE), &s)
    }
    pub fn load_subscription_groups(&self) -> Result<SubscriptionGroupFile, StoreError> {
        self.load(SUBSCRIPTION_GROUP_FILE)
    }
    pub fn save_subscription_groups(&self, v: &SubscriptionGroupFile) -> Result<(), StoreError> {
        let p = self.path(SUBSCRIPTION_GROUP_FILE);
        let s = pretty(v).map_err(|e| StoreError::Metadata {
            path: p.clone(),
            reason: e.to_string(),
        })?;
        write_atomic(&p, &s)
    }
    pub fn load_consumer_offsets(&self) -> Result<ConsumerOffsetFile, StoreError> {
        self.load(CONSUMER_OFFSET_FILE)
    }
    pub fn save_consumer_offsets(&self, v: &ConsumerOffsetFile) -> Result<(), StoreError> {
        write_atomic(&self.path(CONSUMER_OFFSET_FILE), &v.to_fastjson())
    }
    pub fn load_delay_offsets(&self) -> Result<DelayOffsetFile, StoreError> {
        self.load(DELAY_OFFSET_FILE)
    }
    pub fn save_delay_offsets(&self, v: &DelayOffsetFile) -> Result<(), StoreError> {
        write_atomic(&self.path(DELAY_OFFSET_FILE), &v.to_fastjson())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_keys_are_quoted_only_in_key_position() {
        let s = r#"{"offsetTable":{"t@g":{0:123, 1 :456},"x:{0}":{}},"arr":[1,2,{3:4}]}"#;
        let q = quote_bare_keys(s);
        assert_eq!(
            q,
            r#"{"offsetTable":{"t@g":{"0":123, "1" :456},"x:{0}":{}},"arr":[1,2,{"3":4}]}"#
        );
        let v: serde_json::Value = serde_json::from_str(&q).unwrap();
        assert_eq!(v["offsetTable"]["t@g"]["1"], 456);
    }

    #[test]
    fn offsets_round_trip_in_fastjson_form() {
        let mut c = ConsumerOffsetFile::default();
        c.offset_table.insert(
            "TopicTest@G1".into(),
            [(0, 12), (3, 40)].into_iter().collect(),
        );
        c.offset_table
            .insert("%RETRY%G1@G1".into(), [(0, 1)].into_iter().collect());
        let s = c.to_fastjson();
        assert!(s.contains(r#""TopicTest@G1":{0:12,3:40}"#), "{s}");
        assert_eq!(parse_fastjson::<ConsumerOffsetFile>(&s).unwrap(), c);
        // Java's quoted form is read too.
        let q: ConsumerOffsetFile = parse_fastjson(r#"{"offsetTable":{"a@b":{"0":5}}}"#).unwrap();
        assert_eq!(q.offset_table["a@b"][&0], 5);
        let d = DelayOffsetFile {
            offset_table: [(1, 0), (2, 15)].into_iter().collect(),
        };
        assert_eq!(d.to_fastjson(), "{\n\t\"offsetTable\":{1:0,2:15}\n}");
        assert_eq!(
            parse_fastjson::<DelayOffsetFile>(&d.to_fastjson()).unwrap(),
            d
        );
        assert_eq!(
            parse_fastjson::<ConsumerOffsetFile>(&ConsumerOffsetFile::default().to_fastjson())
                .unwrap(),
            ConsumerOffsetFile::default()
        );
    }

    #[test]
    fn the_file_exists_at_every_moment_of_a_replace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("consumerOffset.json");
        write_atomic(&path, "v0").unwrap();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watch = {
            let (path, done) = (path.clone(), done.clone());
            std::thread::spawn(move || {
                let mut missing = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    missing += usize::from(!path.exists());
                }
                missing
            })
        };
        for i in 1..=300 {
            write_atomic(&path, &format!("v{i}")).unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(watch.join().unwrap(), 0, "moments without the file");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "v300");
        let bak = with_suffix(&path, ".bak");
        assert_eq!(std::fs::read_to_string(bak).unwrap(), "v299");
    }

    #[test]
    fn atomic_save_keeps_bak_and_damaged_file_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        let m = MetadataFiles::new(dir.path().join("config"));
        assert_eq!(m.load_topics().unwrap(), TopicsFile::default());
        let mut t = TopicsFile::default();
        t.topic_config_table
            .insert("A".into(), TopicConfig::new("A", 4));
        t.data_version.next(1);
        m.save_topics(&t).unwrap();
        let first = t.clone();
        t.topic_config_table
            .insert("B".into(), TopicConfig::new("B", 8));
        t.data_version.next(2);
        m.save_topics(&t).unwrap();
        assert_eq!(m.load_topics().unwrap(), t);
        let text = std::fs::read_to_string(m.path(TOPICS_FILE)).unwrap();
        assert!(
            text.contains("\"topicConfigTable\"") && text.contains("\t\"dataVersion\""),
            "{text}"
        );
        assert!(!m.path("topics.json.tmp").exists());
        // A torn write of the main file: the .bak (previous version) is used.
        std::fs::write(m.path(TOPICS_FILE), &text[..text.len() / 2]).unwrap();
        assert_eq!(m.load_topics().unwrap(), first);
        // Both damaged: an error naming the file.
        std::fs::write(m.path("topics.json.bak"), "{").unwrap();
        let e = m.load_topics().unwrap_err();
        assert!(e.to_string().contains("topics.json"));

        let mut g = SubscriptionGroupFile::default();
        g.subscription_group_table
            .insert("G".into(), SubscriptionGroupConfig::new("G"));
        m.save_subscription_groups(&g).unwrap();
        assert_eq!(m.load_subscription_groups().unwrap(), g);
        let mut c = ConsumerOffsetFile::default();
        c.offset_table
            .insert("T@G".into(), [(1, 9)].into_iter().collect());
        m.save_consumer_offsets(&c).unwrap();
        assert_eq!(m.load_consumer_offsets().unwrap(), c);
        let d = DelayOffsetFile {
            offset_table: [(3, 7)].into_iter().collect(),
        };
        m.save_delay_offsets(&d).unwrap();
        assert_eq!(m.load_delay_offsets().unwrap(), d);
    }
}
