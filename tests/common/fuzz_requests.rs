//! Structured broker requests from fuzzer bytes, and a driver that sends them over a blocking TCP
//! stream and checks every request that must be answered is answered.
//!
//! Shared (by `#[path]`) between the libFuzzer target `fuzz/fuzz_targets/broker_requests.rs` and
//! the deterministic regression test `tests/broker_fuzz_requests.rs`, so both explore the same
//! inputs. Each request starts from a plausible header for its code (the real keys with valid
//! values, so most requests get past header parsing) and then has a few keys replaced, removed or
//! added with values from interesting sets; bodies are raw bytes or, for the codes that take one,
//! a JSON body (or a batch encoding) with some of its fields replaced.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use actormq::protocol::codes::pull_sys_flag;
use actormq::protocol::frame;
use actormq::protocol::headers::pull::PullMessageRequestHeader;
use actormq::protocol::message::{encode_batch, BatchItem};
use actormq::protocol::{LanguageCode, RemotingCommand, SerializeType};
use arbitrary::{Arbitrary, Unstructured};
use bytes::{Bytes, BytesMut};
use serde_json::{json, Value as Json};

/// At most this many requests per input: longer inputs only make each execution slower.
pub const MAX_REQUESTS: usize = 8;
/// Bodies (raw or structured) are cut to this size.
pub const MAX_BODY: usize = 64 * 1024;
/// A structured body never has more JSON nodes than this.
const MAX_NODES: usize = 5_000;
/// How long one answer may take before the broker counts as hung.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// Every request code the broker handles, with its header keys and a valid value for each.
#[rustfmt::skip]
pub const CODES: &[(i32, &[(&str, &str)])] = &[
    (10, SEND_V1),
    (310, SEND_V2),
    (320, SEND_V2),
    (11, PULL),
    (12, &[("topic", "T1"), ("key", "K1"), ("maxNum", "32"), ("beginTimestamp", "0"), ("endTimestamp", "9223372036854775807"), ("_UNIQUE_KEY_QUERY", "false")]),
    (14, &[("consumerGroup", "G1"), ("topic", "T1"), ("queueId", "0"), ("bname", "broker-a")]),
    (15, &[("consumerGroup", "G1"), ("topic", "T1"), ("queueId", "0"), ("commitOffset", "1"), ("bname", "broker-a")]),
    (29, &[("topic", "T1"), ("queueId", "0"), ("timestamp", "0"), ("bname", "broker-a")]),
    (30, QUEUE),
    (31, QUEUE),
    (32, QUEUE),
    (33, &[("offset", "0")]),
    (34, &[]),
    (35, &[("clientID", "C1"), ("producerGroup", "PG1"), ("consumerGroup", "G1")]),
    (36, &[("offset", "0"), ("group", "G1"), ("delayLevel", "0"), ("originMsgId", "0A00000100002A9F0000000000000000"), ("originTopic", "T1"), ("unitMode", "false"), ("maxReconsumeTimes", "16"), ("bname", "broker-a")]),
    (37, &[("producerGroup", "PG1"), ("tranStateTableOffset", "0"), ("commitLogOffset", "0"), ("commitOrRollback", "8"), ("fromTransactionCheck", "false"), ("msgId", "0A00000100002A9F0000000000000000")]),
    (38, &[("consumerGroup", "G1")]),
    (41, &[]),
    (42, &[]),
    (17, &[("topic", "T1"), ("defaultTopic", "TBW102"), ("readQueueNums", "4"), ("writeQueueNums", "4"), ("perm", "6"), ("topicFilterType", "SINGLE_TAG"), ("topicSysFlag", "0"), ("order", "false")]),
    (200, &[]),
    (21, &[]),
    (28, &[]),
    (202, &[("topic", "T1")]),
    (203, &[("consumerGroup", "G1")]),
    (208, &[("consumerGroup", "G1"), ("topic", "T1")]),
    (215, &[("topic", "T2")]),
    (315, &[("statsName", "TOPIC_PUT_NUMS"), ("statsKey", "T1")]),
    (317, &[("isOrder", "false")]),
    // Admin codes (not 25, which would rewrite the broker's config, nor 307/309, which wait
    // up to 10 s for a client that may be this very connection).
    (26, &[]),
    (204, &[("producerGroup", "PG1")]),
    (328, &[]),
    (207, &[("groupName", "G1"), ("removeOffset", "true")]),
    (222, &[("topic", "T1"), ("group", "G1"), ("timestamp", "0"), ("isForce", "true")]),
    (300, &[("topic", "T1")]),
    (303, &[("topic", "T1"), ("group", "G1")]),
    (305, &[]),
    (314, &[("srcGroup", "G1"), ("destGroup", "PG1"), ("topic", "T1"), ("offline", "false")]),
    (321, &[("topic", "T1"), ("queueId", "0"), ("index", "0"), ("count", "10"), ("consumerGroup", "G1")]),
];

#[rustfmt::skip]
const SEND_V1: &[(&str, &str)] = &[
    ("producerGroup", "PG1"), ("topic", "T1"), ("defaultTopic", "TBW102"),
    ("defaultTopicQueueNums", "4"), ("queueId", "0"), ("sysFlag", "0"), ("bornTimestamp", "1"),
    ("flag", "0"), ("properties", "TAGS\u{1}a\u{2}KEYS\u{1}k1\u{2}"), ("reconsumeTimes", "0"),
    ("unitMode", "false"), ("batch", "false"), ("maxReconsumeTimes", "16"), ("bname", "broker-a"),
];
#[rustfmt::skip]
const SEND_V2: &[(&str, &str)] = &[
    ("a", "PG1"), ("b", "T1"), ("c", "TBW102"), ("d", "4"), ("e", "0"), ("f", "0"), ("g", "1"),
    ("h", "0"), ("i", "TAGS\u{1}a\u{2}KEYS\u{1}k1\u{2}"), ("j", "0"), ("k", "false"), ("l", "16"),
    ("m", "false"), ("n", "broker-a"),
];
#[rustfmt::skip]
const PULL: &[(&str, &str)] = &[
    ("consumerGroup", "G1"), ("topic", "T1"), ("queueId", "0"), ("queueOffset", "0"),
    ("maxMsgNums", "32"), ("sysFlag", "4"), ("commitOffset", "0"), ("suspendTimeoutMillis", "0"),
    ("subscription", "*"), ("subVersion", "0"), ("expressionType", "TAG"), ("bname", "broker-a"),
];
#[rustfmt::skip]
const QUEUE: &[(&str, &str)] = &[("topic", "T1"), ("queueId", "0"), ("bname", "broker-a")];

/// Names worth trying wherever a topic, group, client id or key goes.
#[rustfmt::skip]
const NAMES: &[&str] = &[
    "T1", "T2", "G1", "PG1", "C1", "TBW102", "%RETRY%G1", "%DLQ%G1", "SCHEDULE_TOPIC_XXXX",
    "RMQ_SYS_TRANS_HALF_TOPIC", "OFFSET_MOVED_EVENT", "DefaultCluster", "broker-a", "../x",
    "a/b", ".", "..", " ", "*", "T1||T2", "TAG", "SQL92", "a\u{0}b", "é", "%RETRY%", "null",
];

/// Properties strings (name \x01 value, joined by \x02) that steer a send somewhere special.
const PROPS: &[&str] = &[
    "",
    "TAGS\u{1}a\u{2}",
    "DELAY\u{1}3\u{2}",
    "DELAY\u{1}99\u{2}",
    "DELAY\u{1}-1\u{2}",
    "TRAN_MSG\u{1}true\u{2}PGROUP\u{1}PG1\u{2}",
    "UNIQ_KEY\u{1}\u{2}KEYS\u{1} \u{2}",
    "RETRY_TOPIC\u{1}T2\u{2}REAL_TOPIC\u{1}../x\u{2}REAL_QID\u{1}-5\u{2}",
    "\u{1}\u{1}\u{2}\u{2}",
    "WAIT\u{1}false\u{2}MAX_OFFSET\u{1}x\u{2}",
];

/// One header (or JSON) value.
#[derive(Arbitrary, Debug, Clone)]
pub enum Value {
    Empty,
    Null,
    Zero,
    MinusOne,
    Small(u8),
    Int(i64),
    I32Max,
    I32Min,
    I64Max,
    I64Min,
    /// One past i64::MAX: parses as no integer type.
    Overflow,
    Spaced(i8),
    Bool(bool),
    Name(u8),
    Props(u8),
    /// `n` bytes of 'x' (up to 70,000: crosses the binary header's 16-bit key limit).
    Long(u16),
    Text(String),
}

impl Value {
    pub fn render(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Null => "null".into(),
            Value::Zero => "0".into(),
            Value::MinusOne => "-1".into(),
            Value::Small(n) => n.to_string(),
            Value::Int(n) => n.to_string(),
            Value::I32Max => i32::MAX.to_string(),
            Value::I32Min => i32::MIN.to_string(),
            Value::I64Max => i64::MAX.to_string(),
            Value::I64Min => i64::MIN.to_string(),
            Value::Overflow => "9223372036854775808".into(),
            Value::Spaced(n) => format!(" {n} "),
            Value::Bool(b) => b.to_string(),
            Value::Name(i) => NAMES[*i as usize % NAMES.len()].into(),
            Value::Props(i) => PROPS[*i as usize % PROPS.len()].into(),
            Value::Long(n) => "x".repeat(*n as usize + (*n as usize % 7) * 500),
            Value::Text(s) => s.clone(),
        }
    }

    /// As a JSON value: numbers stay numbers, the rest become strings.
    fn json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Zero => json!(0),
            Value::MinusOne => json!(-1),
            Value::Small(n) => json!(n),
            Value::Int(n) => json!(n),
            Value::I32Max => json!(i32::MAX),
            Value::I32Min => json!(i32::MIN),
            Value::I64Max => json!(i64::MAX),
            Value::I64Min => json!(i64::MIN),
            Value::Bool(b) => json!(b),
            other => Json::String(other.render()),
        }
    }
}

/// A change to the baseline header: key `key % keys` (or a made-up key past the end).
#[derive(Arbitrary, Debug, Clone)]
pub enum Edit {
    Set(u8, Value),
    Remove(u8),
    Add(String, Value),
}

/// A change to a structured body: node `node % nodes` in document order.
#[derive(Arbitrary, Debug, Clone)]
pub enum BodyEdit {
    Set(u8, Value),
    EmptyArray(u8),
    EmptyObject(u8),
    /// Repeat an array's first element `n` times (n up to 255).
    Grow(u8, u8),
}

/// The body of one request.
#[derive(Arbitrary, Debug, Clone)]
pub enum Body {
    None,
    Raw(Vec<u8>),
    /// The code's structured body (JSON, or the batch encoding for 320) with edits applied.
    Structured(Vec<BodyEdit>),
    /// A message batch (any code; meaningful for 320).
    Batch(Vec<(i32, Vec<u8>, Value)>),
}

/// How the request is flagged.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Normal,
    Oneway,
    /// The response bit on a request: the broker must treat it as a stray response.
    ResponseBit,
}

/// Everything about one request except its code.
#[derive(Arbitrary, Debug, Clone)]
pub struct Spec {
    pub binary_header: bool,
    pub flavor: Flavor,
    pub language: u8,
    pub version: i16,
    pub remark: Option<Value>,
    pub edits: Vec<Edit>,
    pub body: Body,
}

/// Which code: one of [`CODES`] or any other number.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Code {
    Known(u8),
    Other(i32),
}

/// One fuzz input: a short sequence of requests.
#[derive(Arbitrary, Debug, Clone)]
pub struct Input {
    pub requests: Vec<(Code, Spec)>,
}

impl Input {
    /// The commands to send, opaques numbered from `first_opaque`.
    pub fn commands(&self, first_opaque: i32) -> Vec<RemotingCommand> {
        self.requests
            .iter()
            .take(MAX_REQUESTS)
            .enumerate()
            .map(|(i, (code, spec))| {
                let code = match *code {
                    Code::Known(i) => CODES[i as usize % CODES.len()].0,
                    Code::Other(c) => c,
                };
                spec.command(code, first_opaque.wrapping_add(i as i32))
            })
            .collect()
    }
}

/// The baseline header keys of `code` (none for codes outside [`CODES`]).
pub fn baseline(code: i32) -> &'static [(&'static str, &'static str)] {
    CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, keys)| *keys)
        .unwrap_or(&[])
}

impl Spec {
    /// Build the request for `code`.
    pub fn command(&self, code: i32, opaque: i32) -> RemotingCommand {
        let keys = baseline(code);
        let mut cmd = RemotingCommand::request(code).with_opaque(opaque);
        for (k, v) in keys {
            cmd.set_ext(k, v);
        }
        for edit in self.edits.iter().take(16) {
            match edit {
                Edit::Set(i, v) => {
                    let key = key_at(keys, *i);
                    cmd.set_ext(&key, v.render());
                }
                Edit::Remove(i) => {
                    cmd.ext_fields.remove(&key_at(keys, *i));
                }
                Edit::Add(k, v) => cmd.set_ext(k, v.render()),
            }
        }
        cmd.serialize_type = if self.binary_header {
            SerializeType::RocketMq
        } else {
            SerializeType::Json
        };
        match self.flavor {
            Flavor::Normal => {}
            Flavor::Oneway => cmd.mark_oneway(),
            Flavor::ResponseBit => cmd.flag |= 1,
        }
        cmd.language = LanguageCode::from_code(self.language);
        cmd.version = self.version as i32;
        cmd.remark = self.remark.as_ref().map(Value::render);
        let mut body = self.body.bytes(code);
        body.truncate(MAX_BODY);
        cmd.with_body(body)
    }
}

fn key_at(keys: &[(&str, &str)], i: u8) -> String {
    match keys.get(i as usize) {
        Some((k, _)) => k.to_string(),
        None if keys.is_empty() => "topic".to_string(),
        None => keys[i as usize % keys.len()].0.to_string(),
    }
}

impl Body {
    fn bytes(&self, code: i32) -> Vec<u8> {
        match self {
            Body::None => Vec::new(),
            Body::Raw(b) => b.clone(),
            Body::Structured(edits) => structured(code, edits),
            Body::Batch(items) => batch(items),
        }
    }
}

fn batch(items: &[(i32, Vec<u8>, Value)]) -> Vec<u8> {
    let items: Vec<BatchItem> = items
        .iter()
        .take(64)
        .map(|(flag, body, props)| BatchItem {
            flag: *flag,
            body: Bytes::copy_from_slice(body),
            properties: props.render().chars().take(i16::MAX as usize / 4).collect(),
        })
        .collect();
    encode_batch(&items).to_vec()
}

/// The code's structured body with `edits` applied; raw message bytes for single sends.
fn structured(code: i32, edits: &[BodyEdit]) -> Vec<u8> {
    let mut doc = match code {
        34 => json!({
            "clientID": "C1",
            "consumerDataSet": [{
                "groupName": "G1", "consumeType": "CONSUME_PASSIVELY",
                "messageModel": "CLUSTERING", "consumeFromWhere": "CONSUME_FROM_FIRST_OFFSET",
                "unitMode": false,
                "subscriptionDataSet": [{
                    "topic": "T1", "subString": "a || b", "tagsSet": ["a", "b"],
                    "codeSet": [97, 98], "subVersion": 1, "expressionType": "TAG",
                    "classFilterMode": false
                }]
            }],
            "producerDataSet": [{"groupName": "PG1"}]
        }),
        41 | 42 => json!({
            "clientId": "C1", "consumerGroup": "G1",
            "mqSet": [{"topic": "T1", "brokerName": "broker-a", "queueId": 0}]
        }),
        200 => json!({
            "groupName": "G1", "consumeEnable": true, "consumeFromMinEnable": true,
            "consumeBroadcastEnable": true, "retryQueueNums": 1, "retryMaxTimes": 16,
            "brokerId": 0, "whichBrokerWhenConsumeSlowly": 1,
            "notifyConsumerIdsChangedEnable": true
        }),
        320 => {
            let items: Vec<_> = edits
                .iter()
                .map(|e| match e {
                    BodyEdit::Set(f, v) => (*f as i32, vec![*f; 8], v.clone()),
                    _ => (0, b"m".to_vec(), Value::Props(1)),
                })
                .collect();
            return batch(&items);
        }
        _ => return b"hello".to_vec(),
    };
    for edit in edits.iter().take(16) {
        apply(&mut doc, edit);
    }
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// Every node's JSON pointer, in document order (the root first).
fn pointers(doc: &Json, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match doc {
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        Json::Object(map) => {
            for (k, v) in map {
                pointers(v, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

fn apply(doc: &mut Json, edit: &BodyEdit) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let (i, new) = match edit {
        BodyEdit::Set(i, v) => (*i, Some(v.json())),
        BodyEdit::EmptyArray(i) => (*i, Some(json!([]))),
        BodyEdit::EmptyObject(i) => (*i, Some(json!({}))),
        BodyEdit::Grow(i, _) => (*i, None),
    };
    let ptr = &all[i as usize % all.len()];
    let Some(node) = doc.pointer_mut(ptr) else {
        return;
    };
    match (new, edit) {
        (Some(v), _) => *node = v,
        (None, BodyEdit::Grow(_, n)) => {
            // Bound the document (nested grows multiply): at most MAX_NODES nodes in all.
            let first = format!("{ptr}/0");
            let each = all
                .iter()
                .filter(|p| *p == &first || p.starts_with(&format!("{first}/")))
                .count();
            if all.len() + each * *n as usize > MAX_NODES {
                return;
            }
            if let Json::Array(items) = node {
                if let Some(first) = items.first().cloned() {
                    items.extend(std::iter::repeat_n(first, *n as usize));
                }
            }
        }
        _ => {}
    }
}

/// Whether the broker must answer `cmd` at once. Oneway requests and stray responses get no
/// answer; a pull the broker may suspend (long polling) is answered only later.
pub fn answered_now(cmd: &RemotingCommand) -> bool {
    if cmd.is_oneway() || cmd.is_response() {
        return false;
    }
    if cmd.code == 11 {
        if let Ok(h) = cmd.header::<PullMessageRequestHeader>() {
            return h.sys_flag & pull_sys_flag::FLAG_SUSPEND == 0;
        }
    }
    true
}

/// Send `cmds` in order on `s`, waiting for each answer that must come at once; then check the
/// connection still serves GET_BROKER_RUNTIME_INFO. `Err` says what the broker failed to do.
pub fn drive(s: &mut TcpStream, cmds: &[RemotingCommand], check_opaque: i32) -> Result<(), String> {
    for cmd in cmds {
        let mut buf = BytesMut::new();
        if frame::try_encode(cmd, &mut buf).is_err() {
            continue; // not representable on the wire (e.g. a 70 KB key in the binary header)
        }
        s.write_all(&buf)
            .map_err(|e| format!("write of code {} failed: {e}", cmd.code))?;
        if answered_now(cmd) {
            await_answer(s, cmd.opaque).map_err(|e| format!("code {}: {e}", cmd.code))?;
        }
    }
    let probe = RemotingCommand::request(28).with_opaque(check_opaque);
    let mut buf = BytesMut::new();
    frame::encode(&probe, &mut buf);
    s.write_all(&buf)
        .map_err(|e| format!("write of the liveness probe failed: {e}"))?;
    let resp = await_answer(s, check_opaque).map_err(|e| format!("liveness probe: {e}"))?;
    if resp.code != 0 {
        return Err(format!(
            "liveness probe answered {}: {:?}",
            resp.code, resp.remark
        ));
    }
    Ok(())
}

/// Read frames until the response with `opaque` (others — late pull answers, broker-initiated
/// requests — are skipped), within [`ANSWER_WITHIN`].
fn await_answer(s: &mut TcpStream, opaque: i32) -> Result<RemotingCommand, String> {
    let deadline = Instant::now() + ANSWER_WITHIN;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("no answer within {ANSWER_WITHIN:?}"));
        }
        s.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
        let mut len = [0u8; 4];
        s.read_exact(&mut len)
            .map_err(|e| format!("reading: {e}"))?;
        let n = u32::from_be_bytes(len) as usize;
        if n > frame::DEFAULT_MAX_FRAME {
            return Err(format!("answer frame of {n} bytes"));
        }
        let mut bytes = vec![0u8; 4 + n];
        bytes[..4].copy_from_slice(&len);
        s.read_exact(&mut bytes[4..])
            .map_err(|e| format!("reading: {e}"))?;
        let resp = frame::parse(Bytes::from(bytes)).map_err(|e| format!("bad frame: {e}"))?;
        if resp.is_response() && resp.opaque == opaque {
            return Ok(resp);
        }
    }
}

/// Build an input from raw bytes (what the regression test does with random bytes).
pub fn input_from(bytes: &[u8]) -> Input {
    Input::arbitrary_take_rest(Unstructured::new(bytes)).unwrap_or(Input {
        requests: Vec::new(),
    })
}
