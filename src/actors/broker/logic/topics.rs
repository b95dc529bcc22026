//! The broker's topic table (docs/protocol.md §7.1): built-in topics, admin create/update/delete,
//! auto-creation on send from a template topic, retry/DLQ topics, and the data version the name
//! server uses to notice changes.
//!
//! Every mutation bumps the [`DataVersion`] (and says whether it changed anything) so the owning
//! actor knows when to persist `topics.json` and re-register with the name servers; the table never
//! does either itself. Refusals are typed errors (`crate::error` maps them to Java's codes); the input
//! rules themselves (names, the per-topic queue limit, perms) are `protocol::validate`'s, applied
//! here on every path that creates a topic: admin create, auto-creation, retry/DLQ topics, load.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::protocol::body::{perm, DataVersion, TopicConfig, TopicConfigSerializeWrapper};
use crate::protocol::validate::{
    check_perm, check_queue_nums, check_topic, InvalidInput, MAX_QUEUE_NUMS,
};

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
pub use crate::protocol::validate::TOPIC_MAX_LENGTH;

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

/// A topic name is legal (the one rule, `protocol::validate::check_topic`).
pub fn validate_name(name: &str) -> Result<(), TopicError> {
    check_topic(name).map_err(TopicError::Invalid)
}

/// Sending to this topic is forbidden (NO_PERMISSION).
pub fn is_not_allowed_send(topic: &str) -> bool {
    NOT_ALLOWED_SEND.contains(&topic)
}

/// What a topic operation refused, with Java's remark text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicError {
    /// A name, queue count or perm breaks an input rule.
    Invalid(InvalidInput),
    /// UPDATE_AND_CREATE_TOPIC on a system topic.
    SystemTopic(String),
    /// UPDATE_AND_CREATE_TOPIC with the cluster's name.
    ConflictsWithCluster(String),
    /// A send to a forbidden system topic.
    NotAllowedSend(String),
    /// The topic is unknown and could not be auto-created.
    NotExist(String),
    /// A queue id outside the topic's queues.
    QueueIdIllegal {
        topic: String,
        queue_id: i32,
        queues: i32,
    },
    /// A pull from a topic without READ permission.
    NotReadable(String),
    /// A send to a topic without WRITE permission.
    NotWriteable(String),
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopicError::Invalid(e) => write!(f, "{e}"),
            TopicError::SystemTopic(t) => {
                write!(f, "The topic[{t}] is conflict with system topic.")
            }
            TopicError::ConflictsWithCluster(t) => {
                write!(
                    f,
                    "The specified topic[{t}] is conflicted with cluster name."
                )
            }
            TopicError::NotAllowedSend(t) => {
                write!(f, "Sending message to topic[{t}] is forbidden.")
            }
            TopicError::NotExist(t) => write!(f, "topic[{t}] not exist, apply first please!"),
            TopicError::QueueIdIllegal {
                topic,
                queue_id,
                queues,
            } => write!(
                f,
                "queueId[{queue_id}] is illegal, topic:[{topic}] has {queues} queues"
            ),
            TopicError::NotReadable(t) => {
                write!(f, "the topic[{t}] pulling message is forbidden")
            }
            TopicError::NotWriteable(t) => {
                write!(f, "the topic[{t}] sending message is forbidden")
            }
        }
    }
}

impl std::error::Error for TopicError {}

impl From<InvalidInput> for TopicError {
    fn from(e: InvalidInput) -> Self {
        TopicError::Invalid(e)
    }
}

/// The queue counts and perm of a topic config an admin asked for.
pub fn check_topic_config(config: &TopicConfig) -> Result<(), InvalidInput> {
    check_queue_nums("readQueueNums", config.read_queue_nums)?;
    check_queue_nums("writeQueueNums", config.write_queue_nums)?;
    check_perm(config.perm)
}

/// A stored topic config (`topics.json`, a master's table) that may be loaded: a legal name,
/// queue counts within `0..=MAX_QUEUE_NUMS` (0 is how an operator drains a topic) and a valid perm.
fn check_stored(config: &TopicConfig) -> Result<(), InvalidInput> {
    check_topic(&config.topic_name)?;
    for (field, n) in [
        ("readQueueNums", config.read_queue_nums),
        ("writeQueueNums", config.write_queue_nums),
    ] {
        if n != 0 {
            check_queue_nums(field, n)?;
        }
    }
    check_perm(config.perm)
}

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

/// The queue a send writes to: a requested id must be below max(read, write) queues; a negative
/// one means "broker picks": `random % writeQueueNums` (the caller supplies the random number).
pub fn send_queue_id(config: &TopicConfig, requested: i32, random: u32) -> Result<i32, TopicError> {
    let valid = config.read_queue_nums.max(config.write_queue_nums);
    if requested >= valid {
        return Err(TopicError::QueueIdIllegal {
            topic: config.topic_name.clone(),
            queue_id: requested,
            queues: valid,
        });
    }
    if requested >= 0 {
        return Ok(requested);
    }
    if config.write_queue_nums <= 0 {
        return Err(TopicError::QueueIdIllegal {
            topic: config.topic_name.clone(),
            queue_id: requested,
            queues: config.write_queue_nums,
        });
    }
    Ok((random % config.write_queue_nums as u32) as i32)
}

/// The send-path checks: the topic is writable, then the queue (`send_queue_id`).
pub fn check_send_queue(
    config: &TopicConfig,
    requested: i32,
    random: u32,
) -> Result<i32, TopicError> {
    if !perm::writeable(config.perm) {
        return Err(TopicError::NotWriteable(config.topic_name.clone()));
    }
    send_queue_id(config, requested, random)
}

/// The pull-path checks: the topic is readable and `0 <= queue_id < readQueueNums`.
pub fn check_pull_queue(config: &TopicConfig, queue_id: i32) -> Result<(), TopicError> {
    if !perm::readable(config.perm) {
        return Err(TopicError::NotReadable(config.topic_name.clone()));
    }
    if queue_id < 0 || queue_id >= config.read_queue_nums {
        return Err(TopicError::QueueIdIllegal {
            topic: config.topic_name.clone(),
            queue_id,
            queues: config.read_queue_nums,
        });
    }
    Ok(())
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
    /// Change `autoCreateTopicEnable` at run time. As in RocketMQ it is read at each send that
    /// would create a topic from TBW102: turning it off stops auto-creation at once; turning it
    /// on works when TBW102 exists (the broker started with it on, or it was kept in topics.json).
    pub fn set_auto_create_topic_enable(&mut self, on: bool) {
        self.cfg.auto_create_topic_enable = on;
    }

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
                state_version: 0,
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

    /// A new data version without a topic change (the broker's permission changed, so its
    /// registration must be taken as new).
    pub fn bump_version(&mut self, now_ms: i64) {
        self.data_version.next(now_ms);
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
        check_topic_config(&config)?;
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
        // RocketMQ's rule is min(client's count, template's write queues); a count below 1 is
        // refused rather than creating a topic that cannot be written.
        check_queue_nums(
            "defaultTopicQueueNums",
            default_queue_nums.min(MAX_QUEUE_NUMS),
        )?;
        let queues = default_queue_nums.min(template.write_queue_nums);
        if queues < 1 {
            return Err(not_exist());
        }
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
    /// `topic_sys_flag` (Java's `createTopicInSendMessageBackMethod`), after checking the name and
    /// the count (`field` names it in the error). The flag says whether it was created.
    pub fn ensure(
        &mut self,
        topic: &str,
        (field, queue_nums): (&'static str, i32),
        perm: i32,
        topic_sys_flag: i32,
        now_ms: i64,
    ) -> Result<(TopicConfig, bool), TopicError> {
        if let Some(t) = self.topics.get(topic) {
            return Ok((t.clone(), false));
        }
        check_topic(topic)?;
        check_queue_nums(field, queue_nums)?;
        let config = TopicConfig {
            perm,
            topic_sys_flag,
            ..TopicConfig::new(topic, queue_nums)
        };
        self.put(config.clone(), now_ms);
        Ok((config, true))
    }

    /// `%RETRY%<group>` with the group's `retryQueueNums` queues, perm RW.
    pub fn ensure_retry_topic(
        &mut self,
        group: &str,
        retry_queue_nums: i32,
        topic_sys_flag: i32,
        now_ms: i64,
    ) -> Result<(TopicConfig, bool), TopicError> {
        self.ensure(
            &retry_topic(group),
            ("retryQueueNums", retry_queue_nums),
            perm::READ | perm::WRITE,
            topic_sys_flag,
            now_ms,
        )
    }

    /// `%DLQ%<group>`: one queue, perm RW.
    pub fn ensure_dlq_topic(
        &mut self,
        group: &str,
        now_ms: i64,
    ) -> Result<(TopicConfig, bool), TopicError> {
        self.ensure(
            &dlq_topic(group),
            ("queueNums", 1),
            perm::READ | perm::WRITE,
            0,
            now_ms,
        )
    }

    /// The registration / `topics.json` / GET_ALL_TOPIC_CONFIG shape.
    pub fn wrapper(&self) -> TopicConfigSerializeWrapper {
        TopicConfigSerializeWrapper {
            data_version: self.data_version,
            topic_config_table: self.topics.clone(),
        }
    }

    /// Load `topics.json` (or a master's table) over the built-ins: stored entries win, built-ins
    /// the file lacks stay, and the version becomes the stored one. An entry that breaks the input
    /// rules (a name that is not a plain file name, more than `MAX_QUEUE_NUMS` queues, a bad perm)
    /// is left out; the refused entries are returned so the caller can report them.
    pub fn load(&mut self, wrapper: TopicConfigSerializeWrapper) -> Vec<(String, InvalidInput)> {
        let mut refused = Vec::new();
        for (name, config) in wrapper.topic_config_table {
            let named = check_topic(&name).and_then(|_| check_stored(&config));
            match named {
                Ok(()) => {
                    self.topics.insert(name, config);
                }
                Err(e) => refused.push((name, e)),
            }
        }
        self.data_version = wrapper.data_version;
        refused
    }
}

#[cfg(test)]
#[path = "topics_tests.rs"]
mod tests;
