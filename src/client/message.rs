//! User-facing message types: the outgoing [`Message`] (topic, tags, keys, properties, delay
//! level, body), the [`SendResult`] of a send, client-side message ids (UNIQ_KEY, docs/protocol.md §5.6),
//! and the received-message helpers (retry-topic reset, zlib bodies). Received messages are the
//! protocol's [`MessageExt`], re-exported.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::OnceLock;

use bytes::Bytes;

use crate::clock::now_ms;
pub use crate::protocol::body::MessageQueue;
pub use crate::protocol::message::MessageExt;
use crate::protocol::message::{properties as prop, sys_flag, Properties};

/// A message to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub body: Bytes,
    pub flag: i32,
    pub tags: Option<String>,
    pub keys: Vec<String>,
    /// 0 = deliver now; 1..=18 = the broker's delay levels.
    pub delay_level: i32,
    pub properties: BTreeMap<String, String>,
}

impl Message {
    pub fn new(topic: &str, body: impl Into<Bytes>) -> Self {
        Message {
            topic: topic.to_string(),
            body: body.into(),
            ..Default::default()
        }
    }
    pub fn with_tags(mut self, tags: &str) -> Self {
        self.tags = Some(tags.to_string());
        self
    }
    pub fn with_keys(mut self, key: &str) -> Self {
        self.keys.push(key.to_string());
        self
    }
    pub fn with_delay_level(mut self, level: i32) -> Self {
        self.delay_level = level;
        self
    }
    pub fn with_property(mut self, name: &str, value: &str) -> Self {
        self.properties.insert(name.to_string(), value.to_string());
        self
    }

    /// The wire properties string (docs/protocol.md §5.4), with `uniq_key` as UNIQ_KEY.
    pub fn encode_properties(&self, uniq_key: &str) -> String {
        let mut p = Properties::new();
        for (k, v) in &self.properties {
            p.insert(k, v);
        }
        if let Some(t) = &self.tags {
            p.insert(prop::TAGS, t);
        }
        if !self.keys.is_empty() {
            p.insert(prop::KEYS, &self.keys.join(" "));
        }
        if self.delay_level > 0 {
            p.insert(prop::DELAY, &self.delay_level.to_string());
        }
        p.insert(prop::WAIT, "true");
        p.insert(prop::UNIQ_KEY, uniq_key);
        p.encode()
    }
}

/// How a successful send was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStatus {
    SendOk,
    FlushDiskTimeout,
    FlushSlaveTimeout,
    SlaveNotAvailable,
}

/// Java's names: `SEND_OK`, `FLUSH_DISK_TIMEOUT`, `FLUSH_SLAVE_TIMEOUT`, `SLAVE_NOT_AVAILABLE`.
impl std::fmt::Display for SendStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SendStatus::SendOk => "SEND_OK",
            SendStatus::FlushDiskTimeout => "FLUSH_DISK_TIMEOUT",
            SendStatus::FlushSlaveTimeout => "FLUSH_SLAVE_TIMEOUT",
            SendStatus::SlaveNotAvailable => "SLAVE_NOT_AVAILABLE",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResult {
    pub status: SendStatus,
    /// The client-side id (UNIQ_KEY); comma-joined for a batch.
    pub msg_id: String,
    /// The broker's offset msg id(s).
    pub offset_msg_id: String,
    pub queue: MessageQueue,
    /// Queue offset of the (first) message.
    pub queue_offset: i64,
}

/// What a listener tells the consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeResult {
    Success,
    /// Concurrent: send back for redelivery later. Orderly: suspend the queue a moment and retry.
    Later,
}

fn ip_bytes() -> [u8; 4] {
    let ip = super::instance::local_ip();
    ip.parse::<std::net::Ipv4Addr>()
        .map(|a| a.octets())
        .unwrap_or([127, 0, 0, 1])
}

/// A new UNIQ_KEY: client IP, PID, a per-process random word, milliseconds since the process's
/// reference time and a counter, as 32 uppercase hex characters (the Java layout; the broker treats
/// it as opaque).
pub fn new_uniq_key() -> String {
    static PREFIX: OnceLock<(String, u64)> = OnceLock::new();
    static COUNTER: AtomicU16 = AtomicU16::new(0);
    let (prefix, start) = PREFIX.get_or_init(|| {
        let mut b = Vec::with_capacity(10);
        b.extend_from_slice(&ip_bytes());
        b.extend_from_slice(&(std::process::id() as u16).to_be_bytes());
        b.extend_from_slice(&rand::random::<u32>().to_be_bytes());
        (hex::encode_upper(b), now_ms() as u64)
    });
    let elapsed = (now_ms() as u64).wrapping_sub(*start) as u32;
    let c = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{elapsed:08X}{c:04X}")
}

/// Prepare a pulled message for the listener: inflate a zlib body and, for a message redelivered
/// through `%RETRY%<group>`, restore its original topic (Java `resetRetryAndNamespace`).
pub fn prepare_received(mut m: MessageExt, group: &str) -> MessageExt {
    if m.sys_flag & sys_flag::COMPRESSED != 0 {
        let mut out = Vec::new();
        if flate2::read::ZlibDecoder::new(&m.body[..])
            .read_to_end(&mut out)
            .is_ok()
        {
            m.body = Bytes::from(out);
            m.sys_flag &= !sys_flag::COMPRESSED;
        }
    }
    if m.topic == retry_topic(group) {
        if let Some(real) = m.property(prop::RETRY_TOPIC).map(str::to_string) {
            m.topic = real;
        }
    }
    m
}

pub fn retry_topic(group: &str) -> String {
    format!("%RETRY%{group}")
}

pub fn dlq_topic(group: &str) -> String {
    format!("%DLQ%{group}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniq_keys_are_32_hex_and_distinct() {
        let a = new_uniq_key();
        let b = new_uniq_key();
        assert_eq!(a.len(), 32);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn properties_carry_tags_keys_delay_and_uniq_key() {
        let m = Message::new("T", "b")
            .with_tags("TagA")
            .with_keys("k1")
            .with_keys("k2")
            .with_delay_level(3)
            .with_property("color", "red");
        let s = m.encode_properties("ID");
        assert_eq!(prop::find(&s, prop::TAGS), Some("TagA"));
        assert_eq!(prop::find(&s, prop::KEYS), Some("k1 k2"));
        assert_eq!(prop::find(&s, prop::DELAY), Some("3"));
        assert_eq!(prop::find(&s, prop::UNIQ_KEY), Some("ID"));
        assert_eq!(prop::find(&s, "color"), Some("red"));
    }
}
