//! The broker's topic table (protocol.md §7.1): built-in topics, admin create/update/delete,
//! auto-creation on send from a template topic, retry/DLQ topics, and the data version the name
//! server uses to notice changes.
//!
//! Every mutation bumps the [`DataVersion`] (and says whether it changed anything) so the owning
//! actor knows when to persist `topics.json` and re-register with the name servers; the table never
//! does either itself. Name rules live here too, as typed errors whose text matches Java's remarks
//! and which map to the response code Java uses.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::protocol::body::{perm, DataVersion, TopicConfig, TopicConfigSerializeWrapper};
use crate::protocol::codes::response_code;

pub const AUTO_CREATE_TOPIC_KEY_TOPIC: &str = "TBW102";
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";
pub const SCHEDULE_TOPIC_V2: &str = "SCHEDULE_TOPIC_XXXX_V2";
pub const BENCHMARK_TOPIC: &str = "BenchmarkTest";
pub const TRANS_HALF_TOPIC: &str = "RMQ_SYS_TRANS_HALF_TOPIC";
pub const TRANS_OP_HALF_TOPIC: &str = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
pub const TRANS_CHECK_MAX_TIME_TOPIC: &str = "TRANS_CHECK_MAX_TIME_TOPIC";
pub const TRACE_TOPIC: &str = "RMQ_SYS_TRACE_TOPIC";
pub const SELF_TEST_TOPIC: &str = "SELF_TEST_TOPIC";
pub const OFFSET_MOVED_EVENT: &str = "OFFSET_MOVED_EVENT";
pub const REPLY_TOPIC_POSTFIX: &str = "REPLY_TOPIC";
pub const SYSTEM_TOPIC_PREFIX: &str = "rmq_sys_";
pub const RETRY_GROUP_TOPIC_PREFIX: &str = "%RETRY%";
pub const DLQ_GROUP_TOPIC_PREFIX: &str = "%DLQ%";
/// Queues of `SCHEDULE_TOPIC_XXXX` (one per default delay level).
pub const SCHEDULE_TOPIC_QUEUE_NUMS: i32 = 18;
/// Longest legal topic name.
pub const TOPIC_MAX_LENGTH: usize = 127;

/// Topics no client may send to.
const NOT_ALLOWED_SEND: [&str; 7] = [
    SCHEDULE_TOPIC,
    TRANS_HALF_TOPIC,
    TRANS_OP_HALF_TOPIC,
    TRANS_CHECK_MAX_TIME_TOPIC,
    SELF_TEST_TOPIC,
    OFFSET_MOVED_EVENT,
    SCHEDULE_TOPIC_V2,
];

/// `%RETRY%<group>`.
pub fn retry_topic(group: &str) -> String {
    format!("{RETRY_GROUP_TOPIC_PREFIX}{group}")
}

/// `%DLQ%<group>`.
pub fn dlq_topic(group: &str) -> String {
    format!("{DLQ_GROUP_TOPIC_PREFIX}{group}")
}

pub fn is_retry_topic(topic: &str) -> bool {
    topic.starts_with(RETRY_GROUP_TOPIC_PREFIX)
}

/// A topic (or group) name is legal: non-blank, ≤ 127 chars, only `[%|a-zA-Z0-9_-]`.
pub fn validate_name(name: &str) -> Result<(), TopicError> {
    if name.trim().is_empty() {
        return Err(TopicError::Blank);
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '%' | '|' | '_' | '-'))
    {
        return Err(TopicError::IllegalChars(name.to_string()));
    }
    if name.chars().count() > TOPIC_MAX_LENGTH {
        return Err(TopicError::TooLong(name.to_string()));
    }
    Ok(())
}

/// Sending to this topic is forbidden (NO_PERMISSION).
pub fn is_not_allowed_send(topic: &str) -> bool {
    NOT_ALLOWED_SEND.contains(&topic)
}

/// What a topic operation refused, with Java's remark text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicError {
    Blank,
    IllegalChars(String),
    TooLong(String),
    /// UPDATE_AND_CREATE_TOPIC on a system topic.
    SystemTopic(String),
    /// UPDATE_AND_CREATE_TOPIC with the cluster's name.
    ConflictsWithCluster(String),
    /// A send to a forbidden system topic.
    NotAllowedSend(String),
    /// The topic is unknown and could not be auto-created.
    NotExist(String),
}

impl TopicError {
    /// The response code Java answers with.
    pub fn response_code(&self) -> i32 {
        match self {
            TopicError::NotAllowedSend(_) => response_code::NO_PERMISSION,
            TopicError::NotExist(_) => response_code::TOPIC_NOT_EXIST,
            _ => response_code::SYSTEM_ERROR,
        }
    }
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopicError::Blank => write!(f, "The specified topic is blank."),
            TopicError::IllegalChars(t) => write!(
                f,
                "The specified topic[{t}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"
            ),
            TopicError::TooLong(t) => write!(
                f,
                "The specified topic[{t}] is longer than topic max length {TOPIC_MAX_LENGTH}."
            ),
            TopicError::SystemTopic(t) => {
                write!(f, "The topic[{t}] is conflict with system topic.")
            }
            TopicError::ConflictsWithCluster(t) => {
                write!(f, "The specified topic[{t}] is conflicted with cluster name.")
            }
            TopicError::NotAllowedSend(t) => {
                write!(f, "Sending message to topic[{t}] is forbidden.")
            }
            TopicError::NotExist(t) => write!(f, "topic[{t}] not exist, apply first please!"),
        }
    }
}

impl std::error::Error for TopicError {}

/// Broker settings the table needs (BrokerConfig names).
#[derive(Debug, Clone)]
pub struct TopicTableConfig {
    pub broker_cluster_name: String,
    pub broker_name: String,
    pub auto_create_topic_enable: bool,
    /// Queues of TBW102 (`defaultTopicQueueNums`, 8).
    pub default_topic_queue_nums: i32,
    pub cluster_topic_enable: bool,
    pub broker_topic_enable: bool,
    pub trace_topic_enable: bool,
    pub msg_trace_topic_name: String,
}

impl Default for TopicTableConfig {
    fn default() -> Self {
        TopicTableConfig {
            broker_cluster_name: "DefaultCluster".into(),
            broker_name: "broker-a".into(),
            auto_create_topic_enable: true,
            default_topic_queue_nums: 8,
            cluster_topic_enable: true,
            broker_topic_enable: true,
            trace_topic_enable: false,
            msg_trace_topic_name: TRACE_TOPIC.into(),
        }
    }
}

/// The topic table.
#[derive(Debug, Clone)]
pub struct TopicTable {
    cfg: TopicTableConfig,
    topics: BTreeMap<String, TopicConfig>,
    system: BTreeSet<String>,
    data_version: DataVersion,
}

fn topic_with(name: &str, queues: i32, perm: i32) -> TopicConfig {
    TopicConfig {
        perm,
        ..TopicConfig::new(name, queues)
    }
}

impl TopicTable {
    /// A table holding the built-in topics, data version `{0, now_ms}`.
    pub fn new(cfg: TopicTableConfig, now_ms: i64) -> Self {
        let rw = perm::READ | perm::WRITE;
        let mut builtin = vec![topic_with(SELF_TEST_TOPIC, 1, rw)];
        if cfg.auto_create_topic_enable {
            builtin.push(topic_with(
                AUTO_CREATE_TOPIC_KEY_TOPIC,
                cfg.default_topic_queue_nums,
                rw | perm::INHERIT,
            ));
        }
        builtin.push(topic_with(BENCHMARK_TOPIC, 1024, rw));
        let opt_rw = |on: bool| perm::INHERIT | if on { rw } else { 0 };
        builtin.push(topic_with(
            &cfg.broker_cluster_name,
            16,
            opt_rw(cfg.cluster_topic_enable),
        ));
        builtin.push(topic_with(
            &cfg.broker_name,
            1,
            opt_rw(cfg.broker_topic_enable),
        ));
        builtin.push(topic_with(OFFSET_MOVED_EVENT, 1, rw));
        builtin.push(topic_with(SCHEDULE_TOPIC, SCHEDULE_TOPIC_QUEUE_NUMS, rw));
        if cfg.trace_topic_enable {
            builtin.push(topic_with(&cfg.msg_trace_topic_name, 1, rw));
        }
        builtin.push(topic_with(
            &format!("{}_{REPLY_TOPIC_POSTFIX}", cfg.broker_cluster_name),
            1,
            rw,
        ));
        let mut system: BTreeSet<String> = [
            AUTO_CREATE_TOPIC_KEY_TOPIC,
            SCHEDULE_TOPIC,
            SCHEDULE_TOPIC_V2,
            BENCHMARK_TOPIC,
            TRANS_HALF_TOPIC,
            TRACE_TOPIC,
            TRANS_OP_HALF_TOPIC,
            TRANS_CHECK_MAX_TIME_TOPIC,
            SELF_TEST_TOPIC,
            OFFSET_MOVED_EVENT,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        system.extend(builtin.iter().map(|t| t.topic_name.clone()));
        TopicTable {
            topics: builtin
                .into_iter()
                .map(|t| (t.topic_name.clone(), t))
                .collect(),
            cfg,
            system,
            data_version: DataVersion {
                counter: 0,
                timestamp: now_ms,
            },
        }
    }

    pub fn config(&self) -> &TopicTableConfig {
        &self.cfg
    }

    pub fn get(&self, topic: &str) -> Option<&TopicConfig> {
        self.topics.get(topic)
    }

    pub fn contains(&self, topic: &str) -> bool {
        self.topics.contains_key(topic)
    }

    pub fn len(&self) -> usize {
        self.topics.len()
    }

    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    /// All topics, by name.
    pub fn iter(&self) -> impl Iterator<Item = &TopicConfig> {
        self.topics.values()
    }

    pub fn data_version(&self) -> DataVersion {
        self.data_version
    }

    /// A system topic: a built-in, a `rmq_sys_` name, the cluster/broker-name topics.
    pub fn is_system_topic(&self, topic: &str) -> bool {
        self.system.contains(topic) || topic.starts_with(SYSTEM_TOPIC_PREFIX)
    }

    /// The system topic names (GET_SYSTEM_TOPIC_LIST_FROM_BROKER).
    pub fn system_topics(&self) -> Vec<String> {
        self.system.iter().cloned().collect()
    }

    /// The send-path topic checks: a legal name that is not a forbidden system topic.
    pub fn check_send(&self, topic: &str) -> Result<(), TopicError> {
        validate_name(topic)?;
        if is_not_allowed_send(topic) {
            return Err(TopicError::NotAllowedSend(topic.to_string()));
        }
        Ok(())
    }

    /// The UPDATE_AND_CREATE_TOPIC checks: not the cluster name, a legal name, not a system topic.
    pub fn check_creatable(&self, topic: &str) -> Result<(), TopicError> {
        if topic == self.cfg.broker_cluster_name {
            return Err(TopicError::ConflictsWithCluster(topic.to_string()));
        }
        validate_name(topic)?;
        if self.is_system_topic(topic) {
            return Err(TopicError::SystemTopic(topic.to_string()));
        }
        Ok(())
    }

    /// UPDATE_AND_CREATE_TOPIC: check, then create or replace. Returns the previous config.
    pub fn update(
        &mut self,
        config: TopicConfig,
        now_ms: i64,
    ) -> Result<Option<TopicConfig>, TopicError> {
        self.check_creatable(&config.topic_name)?;
        Ok(self.put(config, now_ms))
    }

    /// Create or replace without the admin checks (internal topics, slaves syncing from a
    /// master). Bumps the version; returns the previous config.
    pub fn put(&mut self, config: TopicConfig, now_ms: i64) -> Option<TopicConfig> {
        self.data_version.next(now_ms);
        self.topics.insert(config.topic_name.clone(), config)
    }

    /// DELETE_TOPIC_IN_BROKER. Bumps the version only when something was removed.
    pub fn delete(&mut self, topic: &str, now_ms: i64) -> Option<TopicConfig> {
        let removed = self.topics.remove(topic);
        if removed.is_some() {
            self.data_version.next(now_ms);
        }
        removed
    }

    /// The send path for a topic the broker may not know: returns it if present, otherwise creates
    /// it from the template `default_topic` (which must have INHERIT) with
    /// min(`default_queue_nums`, template write queues) queues and the template's perm minus
    /// INHERIT. The flag says whether it was created (→ persist and re-register).
    pub fn create_on_send(
        &mut self,
        topic: &str,
        default_topic: &str,
        default_queue_nums: i32,
        topic_sys_flag: i32,
        now_ms: i64,
    ) -> Result<(TopicConfig, bool), TopicError> {
        if let Some(t) = self.topics.get(topic) {
            return Ok((t.clone(), false));
        }
        validate_name(topic)?;
        let not_exist = || TopicError::NotExist(topic.to_string());
        let template = self.topics.get(default_topic).ok_or_else(not_exist)?;
        let mut template_perm = template.perm;
        if default_topic == AUTO_CREATE_TOPIC_KEY_TOPIC && !self.cfg.auto_create_topic_enable {
            template_perm = perm::READ | perm::WRITE;
        }
        if !perm::inherited(template_perm) {
            return Err(not_exist());
        }
        let queues = default_queue_nums.min(template.write_queue_nums).max(0);
        let config = TopicConfig {
            perm: template_perm & !perm::INHERIT,
            topic_filter_type: template.topic_filter_type.clone(),
            topic_sys_flag,
            ..TopicConfig::new(topic, queues)
        };
        self.put(config.clone(), now_ms);
        Ok((config, true))
    }

    /// Return `topic` if present, else create it with `queue_nums` r/w queues, `perm` and
    /// `topic_sys_flag` (Java's `createTopicInSendMessageBackMethod`). The flag says whether it was
    /// created.
    pub fn ensure(
        &mut self,
        topic: &str,
        queue_nums: i32,
        perm: i32,
        topic_sys_flag: i32,
        now_ms: i64,
    ) -> (TopicConfig, bool) {
        if let Some(t) = self.topics.get(topic) {
            return (t.clone(), false);
        }
        let config = TopicConfig {
            perm,
            topic_sys_flag,
            ..TopicConfig::new(topic, queue_nums)
        };
        self.put(config.clone(), now_ms);
        (config, true)
    }

    /// `%RETRY%<group>` with the group's `retryQueueNums` queues, perm RW.
    pub fn ensure_retry_topic(
        &mut self,
        group: &str,
        retry_queue_nums: i32,
        topic_sys_flag: i32,
        now_ms: i64,
    ) -> (TopicConfig, bool) {
        self.ensure(
            &retry_topic(group),
            retry_queue_nums,
            perm::READ | perm::WRITE,
            topic_sys_flag,
            now_ms,
        )
    }

    /// `%DLQ%<group>`: one queue, perm RW.
    pub fn ensure_dlq_topic(&mut self, group: &str, now_ms: i64) -> (TopicConfig, bool) {
        self.ensure(&dlq_topic(group), 1, perm::READ | perm::WRITE, 0, now_ms)
    }

    /// The registration / `topics.json` / GET_ALL_TOPIC_CONFIG shape.
    pub fn wrapper(&self) -> TopicConfigSerializeWrapper {
        TopicConfigSerializeWrapper {
            data_version: self.data_version,
            topic_config_table: self.topics.clone(),
        }
    }

    /// Load `topics.json` (or a master's table) over the built-ins: stored entries win, built-ins
    /// the file lacks stay, and the version becomes the stored one.
    pub fn load(&mut self, wrapper: TopicConfigSerializeWrapper) {
        self.topics.extend(wrapper.topic_config_table);
        self.data_version = wrapper.data_version;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TopicTable {
        TopicTable::new(TopicTableConfig::default(), 1000)
    }

    #[test]
    fn builtins_match_java() {
        let t = table();
        let q = |n: &str| {
            let c = t.get(n).unwrap_or_else(|| panic!("{n} missing"));
            (c.read_queue_nums, c.write_queue_nums, c.perm)
        };
        assert_eq!(q("SELF_TEST_TOPIC"), (1, 1, 6));
        assert_eq!(q("TBW102"), (8, 8, 7));
        assert_eq!(q("BenchmarkTest"), (1024, 1024, 6));
        assert_eq!(q("DefaultCluster"), (16, 16, 7));
        assert_eq!(q("broker-a"), (1, 1, 7));
        assert_eq!(q("OFFSET_MOVED_EVENT"), (1, 1, 6));
        assert_eq!(q("SCHEDULE_TOPIC_XXXX"), (18, 18, 6));
        assert_eq!(q("DefaultCluster_REPLY_TOPIC"), (1, 1, 6));
        assert!(t.get("RMQ_SYS_TRACE_TOPIC").is_none());
        assert_eq!(t.len(), 8);
        assert_eq!(
            t.data_version(),
            DataVersion {
                counter: 0,
                timestamp: 1000
            }
        );

        let t2 = TopicTable::new(
            TopicTableConfig {
                auto_create_topic_enable: false,
                cluster_topic_enable: false,
                broker_topic_enable: false,
                trace_topic_enable: true,
                ..Default::default()
            },
            0,
        );
        assert!(t2.get("TBW102").is_none());
        assert_eq!(t2.get("DefaultCluster").unwrap().perm, perm::INHERIT);
        assert_eq!(t2.get("broker-a").unwrap().perm, perm::INHERIT);
        assert!(t2.get("RMQ_SYS_TRACE_TOPIC").is_some());
    }

    #[test]
    fn name_validation() {
        assert_eq!(validate_name("Topic_1-%|x"), Ok(()));
        assert_eq!(validate_name(""), Err(TopicError::Blank));
        assert_eq!(validate_name("   "), Err(TopicError::Blank));
        assert!(matches!(
            validate_name("a b"),
            Err(TopicError::IllegalChars(_))
        ));
        assert!(matches!(
            validate_name("a.b"),
            Err(TopicError::IllegalChars(_))
        ));
        assert!(matches!(
            validate_name("tö"),
            Err(TopicError::IllegalChars(_))
        ));
        assert_eq!(validate_name(&"a".repeat(127)), Ok(()));
        let e = validate_name(&"a".repeat(128)).unwrap_err();
        assert!(matches!(e, TopicError::TooLong(_)));
        assert_eq!(e.response_code(), response_code::SYSTEM_ERROR);
        assert!(TopicError::IllegalChars("a b".into())
            .to_string()
            .contains("^[%|a-zA-Z0-9_-]+$"));
    }

    #[test]
    fn send_and_create_checks() {
        let t = table();
        for forbidden in NOT_ALLOWED_SEND {
            let e = t.check_send(forbidden).unwrap_err();
            assert_eq!(
                e.response_code(),
                response_code::NO_PERMISSION,
                "{forbidden}"
            );
        }
        // TBW102 and the benchmark topic are system topics but may be sent to.
        assert_eq!(t.check_send("TBW102"), Ok(()));
        assert_eq!(t.check_send("BenchmarkTest"), Ok(()));
        assert_eq!(t.check_send("%RETRY%g"), Ok(()));
        assert!(t.check_send("bad topic").is_err());

        for sys in [
            "TBW102",
            "SCHEDULE_TOPIC_XXXX",
            "broker-a",
            "rmq_sys_foo",
            "RMQ_SYS_TRANS_HALF_TOPIC",
            "DefaultCluster_REPLY_TOPIC",
        ] {
            assert_eq!(
                t.check_creatable(sys),
                Err(TopicError::SystemTopic(sys.into())),
                "{sys}"
            );
        }
        assert_eq!(
            t.check_creatable("DefaultCluster"),
            Err(TopicError::ConflictsWithCluster("DefaultCluster".into()))
        );
        assert_eq!(t.check_creatable("TopicTest"), Ok(()));
        assert!(t.is_system_topic("rmq_sys_x") && !t.is_system_topic("TopicTest"));
    }

    #[test]
    fn update_delete_bump_the_version() {
        let mut t = table();
        assert_eq!(t.update(TopicConfig::new("T", 4), 2000), Ok(None));
        assert_eq!(
            t.data_version(),
            DataVersion {
                counter: 1,
                timestamp: 2000
            }
        );
        let old = t.update(TopicConfig::new("T", 8), 3000).unwrap().unwrap();
        assert_eq!(old.read_queue_nums, 4);
        assert_eq!(t.get("T").unwrap().read_queue_nums, 8);
        assert_eq!(t.data_version().counter, 2);
        assert!(t.update(TopicConfig::new("TBW102", 1), 3000).is_err());
        assert_eq!(
            t.data_version().counter,
            2,
            "a refused update does not bump"
        );
        assert!(t.delete("T", 4000).is_some());
        assert_eq!(
            t.data_version(),
            DataVersion {
                counter: 3,
                timestamp: 4000
            }
        );
        assert!(t.delete("T", 5000).is_none());
        assert_eq!(
            t.data_version().counter,
            3,
            "deleting nothing does not bump"
        );
    }

    #[test]
    fn auto_create_from_template() {
        let mut t = table();
        let (c, created) = t.create_on_send("New", "TBW102", 4, 0, 2000).unwrap();
        assert!(created);
        assert_eq!((c.read_queue_nums, c.write_queue_nums, c.perm), (4, 4, 6));
        assert_eq!(t.data_version().counter, 1);
        let (again, created) = t.create_on_send("New", "TBW102", 4, 0, 3000).unwrap();
        assert!(!created);
        assert_eq!(again, c);
        assert_eq!(t.data_version().counter, 1);
        // Clamped to the template's write queues; negative request clamps to 0.
        let (c, _) = t.create_on_send("Big", "TBW102", 64, 1, 3000).unwrap();
        assert_eq!((c.read_queue_nums, c.topic_sys_flag), (8, 1));
        let (c, _) = t.create_on_send("Neg", "TBW102", -5, 0, 3000).unwrap();
        assert_eq!(c.write_queue_nums, 0);
        // A template without INHERIT, a missing template, or an illegal name: not created.
        let e = t
            .create_on_send("X", "SELF_TEST_TOPIC", 4, 0, 3000)
            .unwrap_err();
        assert_eq!(e.response_code(), response_code::TOPIC_NOT_EXIST);
        assert_eq!(e.to_string(), "topic[X] not exist, apply first please!");
        assert!(t.create_on_send("X", "Nope", 4, 0, 3000).is_err());
        assert!(t.create_on_send("a b", "TBW102", 4, 0, 3000).is_err());
        assert!(!t.contains("X"));
        // A cluster topic (perm 7) is a valid template too, like in Java.
        assert!(
            t.create_on_send("ViaCluster", "DefaultCluster", 4, 0, 3000)
                .unwrap()
                .1
        );
    }

    #[test]
    fn tbw102_loaded_but_auto_create_disabled_is_no_template() {
        let mut t = TopicTable::new(
            TopicTableConfig {
                auto_create_topic_enable: false,
                ..Default::default()
            },
            0,
        );
        t.put(topic_with("TBW102", 8, 7), 1);
        assert!(t.create_on_send("New", "TBW102", 4, 0, 2).is_err());
    }

    #[test]
    fn retry_and_dlq_topics() {
        let mut t = table();
        let (r, created) = t.ensure_retry_topic("g", 1, 0, 10);
        assert!(created);
        assert_eq!(r.topic_name, "%RETRY%g");
        assert_eq!((r.read_queue_nums, r.write_queue_nums, r.perm), (1, 1, 6));
        assert!(!t.ensure_retry_topic("g", 3, 0, 11).1);
        let (d, created) = t.ensure_dlq_topic("g", 12);
        assert!(created);
        assert_eq!(
            (d.topic_name.as_str(), d.read_queue_nums, d.perm),
            ("%DLQ%g", 1, 6)
        );
        assert_eq!(t.data_version().counter, 2);
        assert!(is_retry_topic("%RETRY%g") && !is_retry_topic("%DLQ%g"));
    }

    #[test]
    fn wrapper_and_load() {
        let mut t = table();
        t.update(TopicConfig::new("T", 4), 2000).unwrap();
        let w = t.wrapper();
        assert_eq!(w.topic_config_table.len(), 9);
        let json = serde_json::to_string(&w).unwrap();

        let mut fresh = table();
        let mut loaded: TopicConfigSerializeWrapper = serde_json::from_str(&json).unwrap();
        // The file changed a built-in: the stored entry wins.
        loaded
            .topic_config_table
            .insert("TBW102".into(), topic_with("TBW102", 4, 7));
        loaded.topic_config_table.remove("BenchmarkTest");
        fresh.load(loaded);
        assert_eq!(fresh.get("T").unwrap().read_queue_nums, 4);
        assert_eq!(fresh.get("TBW102").unwrap().read_queue_nums, 4);
        assert!(
            fresh.contains("BenchmarkTest"),
            "built-ins the file lacks stay"
        );
        assert_eq!(
            fresh.data_version(),
            DataVersion {
                counter: 1,
                timestamp: 2000
            }
        );
    }
}
