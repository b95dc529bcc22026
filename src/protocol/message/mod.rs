//! The stored-message layout (docs/protocol.md §5.3), the batch send body (§5.2), the properties string
//! (§5.4), offset msg ids (§5.6) and the tag hash (§5.7).
//!
//! One CommitLog record is exactly what a pull response carries, so the store writes records with
//! [`encode_record`] and consumers (or tests) read them back with [`decode_record`]. Everything here
//! is pure: no I/O, and decoding validates lengths instead of panicking, because the input may be a
//! torn file tail or a hostile peer's bytes.

pub mod msgid;
pub mod properties;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::{Buf, Bytes, BytesMut};

pub use msgid::{decode_offset_msg_id, encode_offset_msg_id, java_string_hash, tags_code};
pub use properties::Properties;

use crate::protocol::ProtocolError;

/// Magic of a 4.x stored message (`MESSAGE_MAGIC_CODE`, -626843481).
pub const MESSAGE_MAGIC: u32 = 0xDAA3_20A7;
/// Magic of the end-of-file blank record (`BLANK_MAGIC_CODE`, -875286124).
pub const BLANK_MAGIC: u32 = 0xCBD4_3194;
/// Size of the end-of-file blank record: `[i32 remaining][i32 BLANK_MAGIC]`.
pub const END_OF_FILE_MIN_BLANK: usize = 8;
/// Longest topic the layout holds (one length byte).
pub const MAX_TOPIC_LEN: usize = 127;

/// `MessageSysFlag` bits (docs/protocol.md §5.5).
pub mod sys_flag {
    pub const COMPRESSED: i32 = 0x1;
    pub const MULTI_TAGS: i32 = 0x2;
    pub const TRANSACTION_NOT_TYPE: i32 = 0;
    pub const TRANSACTION_PREPARED_TYPE: i32 = 0x4;
    pub const TRANSACTION_COMMIT_TYPE: i32 = 0x8;
    pub const TRANSACTION_ROLLBACK_TYPE: i32 = 0xC;
    pub const BORNHOST_V6: i32 = 0x10;
    pub const STOREHOST_V6: i32 = 0x20;

    /// The transaction type bits (2-3).
    pub fn transaction_value(flag: i32) -> i32 {
        flag & TRANSACTION_ROLLBACK_TYPE
    }
}

/// Byte positions of fixed fields (both IPv4 and IPv6 layouts share these).
pub mod pos {
    pub const TOTAL_SIZE: usize = 0;
    pub const MAGIC: usize = 4;
    pub const BODY_CRC: usize = 8;
    pub const QUEUE_ID: usize = 12;
    pub const FLAG: usize = 16;
    pub const QUEUE_OFFSET: usize = 20;
    pub const PHYSICAL_OFFSET: usize = 28;
    pub const SYS_FLAG: usize = 36;
    pub const BORN_TIMESTAMP: usize = 40;
    pub const BORN_HOST: usize = 48;
}

/// The body CRC as stored: CRC32 & 0x7FFFFFFF.
pub fn body_crc(body: &[u8]) -> u32 {
    crc32fast::hash(body) & 0x7FFF_FFFF
}

fn host_len(sys_flag: i32, bit: i32) -> usize {
    if sys_flag & bit != 0 {
        20
    } else {
        8
    }
}

/// Size of a record with these field lengths, hosts chosen by `sys_flag`'s IPv6 bits.
pub fn stored_size(
    sys_flag: i32,
    body_len: usize,
    topic_len: usize,
    properties_len: usize,
) -> usize {
    4 + 4
        + 4
        + 4
        + 4
        + 8
        + 8
        + 4
        + 8
        + host_len(sys_flag, sys_flag::BORNHOST_V6)
        + 8
        + host_len(sys_flag, sys_flag::STOREHOST_V6)
        + 4
        + 8
        + 4
        + body_len
        + 1
        + topic_len
        + 2
        + properties_len
}

/// The sys flag with the IPv6 host bits set from the actual addresses.
pub fn sys_flag_for_hosts(sys_flag: i32, born: &SocketAddr, store: &SocketAddr) -> i32 {
    let mut f = sys_flag & !(sys_flag::BORNHOST_V6 | sys_flag::STOREHOST_V6);
    if born.is_ipv6() {
        f |= sys_flag::BORNHOST_V6;
    }
    if store.is_ipv6() {
        f |= sys_flag::STOREHOST_V6;
    }
    f
}

/// The fields a writer supplies for one record; the store adds the rest at append time.
#[derive(Debug, Clone, Copy)]
pub struct RecordFields<'a> {
    pub topic: &'a str,
    pub queue_id: i32,
    pub flag: i32,
    /// Host bits are recomputed from `born_host` / `store_host`.
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_host: SocketAddr,
    pub reconsume_times: i32,
    pub prepared_transaction_offset: i64,
    pub body: &'a [u8],
    pub properties: &'a str,
}

impl<'a> RecordFields<'a> {
    /// A record of `body` and `properties` in `topic`/`queue_id` with every other field zero and
    /// both hosts `127.0.0.1:10911`: what tests and the benchmark's null broker store. Override
    /// fields with struct update syntax (`RecordFields { sys_flag, ..RecordFields::plain(..) }`).
    pub fn plain(topic: &'a str, queue_id: i32, body: &'a [u8], properties: &'a str) -> Self {
        let host = SocketAddr::from(([127, 0, 0, 1], 10911));
        RecordFields {
            topic,
            queue_id,
            flag: 0,
            sys_flag: 0,
            born_timestamp: 0,
            born_host: host,
            store_host: host,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body,
            properties,
        }
    }

    /// Effective sys flag (host bits set from the addresses).
    pub fn effective_sys_flag(&self) -> i32 {
        sys_flag_for_hosts(self.sys_flag, &self.born_host, &self.store_host)
    }

    /// Size of the encoded record.
    pub fn stored_size(&self) -> usize {
        stored_size(
            self.effective_sys_flag(),
            self.body.len(),
            self.topic.len(),
            self.properties.len(),
        )
    }

    /// Check the layout's limits (topic <= 127 bytes, properties <= 32767 bytes).
    pub fn validate(&self) -> Result<(), ProtocolError> {
        if self.topic.is_empty() || self.topic.len() > MAX_TOPIC_LEN {
            return Err(ProtocolError::IllegalMessage(format!(
                "topic length {} not in 1..=127",
                self.topic.len()
            )));
        }
        if self.properties.len() > properties::MAX_PROPERTIES_LEN {
            return Err(ProtocolError::IllegalMessage(format!(
                "properties length {} exceeds 32767",
                self.properties.len()
            )));
        }
        if self.body.len() > i32::MAX as usize {
            return Err(ProtocolError::IllegalMessage("body too large".into()));
        }
        Ok(())
    }
}

fn put_host(buf: &mut [u8], at: usize, host: &SocketAddr) -> usize {
    let n = match host.ip() {
        IpAddr::V4(ip) => {
            buf[at..at + 4].copy_from_slice(&ip.octets());
            4
        }
        IpAddr::V6(ip) => {
            buf[at..at + 16].copy_from_slice(&ip.octets());
            16
        }
    };
    buf[at + n..at + n + 4].copy_from_slice(&(host.port() as i32).to_be_bytes());
    n + 4
}

/// Encode one record into `buf` (which must be at least `fields.stored_size()` long); returns the
/// number of bytes written. `body_crc` is passed in so a caller can compute it outside a lock.
pub fn encode_record(
    buf: &mut [u8],
    fields: &RecordFields<'_>,
    body_crc: u32,
    queue_offset: i64,
    physical_offset: i64,
    store_timestamp: i64,
) -> Result<usize, ProtocolError> {
    fields.validate()?;
    let sys = fields.effective_sys_flag();
    let size = stored_size(
        sys,
        fields.body.len(),
        fields.topic.len(),
        fields.properties.len(),
    );
    if buf.len() < size {
        return Err(ProtocolError::IllegalMessage(format!(
            "buffer of {} bytes < record of {size}",
            buf.len()
        )));
    }
    let b = &mut buf[..size];
    b[0..4].copy_from_slice(&(size as i32).to_be_bytes());
    b[4..8].copy_from_slice(&MESSAGE_MAGIC.to_be_bytes());
    b[8..12].copy_from_slice(&body_crc.to_be_bytes());
    b[12..16].copy_from_slice(&fields.queue_id.to_be_bytes());
    b[16..20].copy_from_slice(&fields.flag.to_be_bytes());
    b[20..28].copy_from_slice(&queue_offset.to_be_bytes());
    b[28..36].copy_from_slice(&physical_offset.to_be_bytes());
    b[36..40].copy_from_slice(&sys.to_be_bytes());
    b[40..48].copy_from_slice(&fields.born_timestamp.to_be_bytes());
    let mut at = 48;
    at += put_host(b, at, &fields.born_host);
    b[at..at + 8].copy_from_slice(&store_timestamp.to_be_bytes());
    at += 8;
    at += put_host(b, at, &fields.store_host);
    b[at..at + 4].copy_from_slice(&fields.reconsume_times.to_be_bytes());
    at += 4;
    b[at..at + 8].copy_from_slice(&fields.prepared_transaction_offset.to_be_bytes());
    at += 8;
    b[at..at + 4].copy_from_slice(&(fields.body.len() as i32).to_be_bytes());
    at += 4;
    b[at..at + fields.body.len()].copy_from_slice(fields.body);
    at += fields.body.len();
    b[at] = fields.topic.len() as u8;
    at += 1;
    b[at..at + fields.topic.len()].copy_from_slice(fields.topic.as_bytes());
    at += fields.topic.len();
    b[at..at + 2].copy_from_slice(&(fields.properties.len() as i16).to_be_bytes());
    at += 2;
    b[at..at + fields.properties.len()].copy_from_slice(fields.properties.as_bytes());
    at += fields.properties.len();
    debug_assert_eq!(at, size);
    Ok(size)
}

/// A stored message as read back (Java's `MessageExt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExt {
    pub store_size: i32,
    pub body_crc: u32,
    pub queue_id: i32,
    pub flag: i32,
    pub queue_offset: i64,
    pub commit_log_offset: i64,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_timestamp: i64,
    pub store_host: SocketAddr,
    pub reconsume_times: i32,
    pub prepared_transaction_offset: i64,
    /// A slice of the input buffer (no copy).
    pub body: Bytes,
    pub topic: String,
    /// The raw properties string; see [`MessageExt::properties`].
    pub properties: String,
}

impl MessageExt {
    pub fn properties(&self) -> Properties {
        Properties::decode(&self.properties)
    }

    pub fn property(&self, name: &str) -> Option<&str> {
        properties::find(&self.properties, name)
    }

    pub fn tags(&self) -> Option<&str> {
        self.property(properties::TAGS)
    }

    /// The offset msg id (store host + physical offset).
    pub fn offset_msg_id(&self) -> String {
        encode_offset_msg_id(self.store_host, self.commit_log_offset)
    }

    /// The client-visible id: `UNIQ_KEY` if present, else the offset msg id.
    pub fn msg_id(&self) -> String {
        match self.property(properties::UNIQ_KEY) {
            Some(k) => k.to_string(),
            None => self.offset_msg_id(),
        }
    }

    /// Whether the stored body CRC matches the body.
    pub fn crc_ok(&self) -> bool {
        body_crc(&self.body) == self.body_crc
    }

    /// Re-encode exactly as stored (CHECK_TRANSACTION_STATE / CONSUME_MESSAGE_DIRECTLY bodies).
    pub fn encode(&self) -> BytesMut {
        let f = RecordFields {
            topic: &self.topic,
            queue_id: self.queue_id,
            flag: self.flag,
            sys_flag: self.sys_flag,
            born_timestamp: self.born_timestamp,
            born_host: self.born_host,
            store_host: self.store_host,
            reconsume_times: self.reconsume_times,
            prepared_transaction_offset: self.prepared_transaction_offset,
            body: &self.body,
            properties: &self.properties,
        };
        let mut out = BytesMut::zeroed(f.stored_size());
        // Cannot fail: the fields came from a valid record.
        let n = encode_record(
            &mut out,
            &f,
            self.body_crc,
            self.queue_offset,
            self.commit_log_offset,
            self.store_timestamp,
        )
        .unwrap_or(0);
        out.truncate(n);
        out
    }
}

fn malformed(what: &str) -> ProtocolError {
    ProtocolError::MalformedBody(format!("stored message: {what}"))
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ProtocolError> {
        if self.b.len() - self.at < n {
            return Err(malformed("truncated"));
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn i32(&mut self) -> Result<i32, ProtocolError> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn i64(&mut self) -> Result<i64, ProtocolError> {
        Ok(i64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn host(&mut self, v6: bool) -> Result<SocketAddr, ProtocolError> {
        let ip: IpAddr = if v6 {
            let a: [u8; 16] = self.take(16)?.try_into().unwrap();
            Ipv6Addr::from(a).into()
        } else {
            let a: [u8; 4] = self.take(4)?.try_into().unwrap();
            Ipv4Addr::from(a).into()
        };
        let port = self.i32()?;
        Ok(SocketAddr::new(ip, port as u16))
    }
}

/// Read the record-size word at the start of `buf`, if there are 4 bytes.
pub fn peek_total_size(buf: &[u8]) -> Option<i32> {
    buf.get(..4)
        .map(|b| i32::from_be_bytes(b.try_into().unwrap()))
}

/// Decode one record at the start of `buf` (which may hold more after it). The body is a
/// zero-copy slice of `buf`. CRC is not checked here; see [`MessageExt::crc_ok`].
pub fn decode_record(buf: &Bytes) -> Result<MessageExt, ProtocolError> {
    let size = peek_total_size(buf).ok_or_else(|| malformed("truncated"))?;
    if size < 0 || size as usize > buf.len() {
        return Err(malformed("total size out of range"));
    }
    let size = size as usize;
    let mut r = Reader {
        b: &buf[..size],
        at: 4,
    };
    let magic = r.i32()? as u32;
    if magic != MESSAGE_MAGIC {
        return Err(malformed(&format!("bad magic {magic:#010x}")));
    }
    let body_crc = r.i32()? as u32;
    let queue_id = r.i32()?;
    let flag = r.i32()?;
    let queue_offset = r.i64()?;
    let commit_log_offset = r.i64()?;
    let sys_flag = r.i32()?;
    let born_timestamp = r.i64()?;
    let born_host = r.host(sys_flag & sys_flag::BORNHOST_V6 != 0)?;
    let store_timestamp = r.i64()?;
    let store_host = r.host(sys_flag & sys_flag::STOREHOST_V6 != 0)?;
    let reconsume_times = r.i32()?;
    let prepared_transaction_offset = r.i64()?;
    let body_len = r.i32()?;
    if body_len < 0 {
        return Err(malformed("negative body length"));
    }
    let body_start = r.at;
    r.take(body_len as usize)?;
    let body = buf.slice(body_start..body_start + body_len as usize);
    let topic_len = r.take(1)?[0] as usize;
    let topic = std::str::from_utf8(r.take(topic_len)?)
        .map_err(|_| malformed("topic is not UTF-8"))?
        .to_string();
    let props_len = i16::from_be_bytes(r.take(2)?.try_into().unwrap());
    if props_len < 0 {
        return Err(malformed("negative properties length"));
    }
    let properties = String::from_utf8_lossy(r.take(props_len as usize)?).into_owned();
    if r.at != size {
        return Err(malformed("total size does not match the fields"));
    }
    Ok(MessageExt {
        store_size: size as i32,
        body_crc,
        queue_id,
        flag,
        queue_offset,
        commit_log_offset,
        sys_flag,
        born_timestamp,
        born_host,
        store_timestamp,
        store_host,
        reconsume_times,
        prepared_transaction_offset,
        body,
        topic,
        properties,
    })
}

/// Decode a concatenation of records (a pull response body). Stops at the first record that does
/// not decode, as the Java client does, and returns what was read before it.
pub fn decode_records(buf: &Bytes) -> Vec<MessageExt> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let rest = buf.slice(at..);
        match decode_record(&rest) {
            Ok(m) => {
                at += m.store_size as usize;
                out.push(m);
            }
            Err(_) => break,
        }
    }
    out
}

/// One message of a batch send body (docs/protocol.md §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    pub flag: i32,
    pub body: Bytes,
    pub properties: String,
}

/// Decode a batch send body into its messages; any malformed record fails the whole batch.
pub fn decode_batch(body: &Bytes) -> Result<Vec<BatchItem>, ProtocolError> {
    let bad = |w: &str| ProtocolError::MalformedBody(format!("batch body: {w}"));
    let mut out = Vec::new();
    let mut b = body.clone();
    while b.has_remaining() {
        if b.remaining() < 20 {
            return Err(bad("truncated record header"));
        }
        let total = b.get_i32();
        let _magic = b.get_i32();
        let _crc = b.get_i32();
        let flag = b.get_i32();
        let body_len = b.get_i32();
        if body_len < 0 || b.remaining() < body_len as usize + 2 {
            return Err(bad("body length out of range"));
        }
        let msg_body = b.split_to(body_len as usize);
        let props_len = b.get_i16();
        if props_len < 0 || b.remaining() < props_len as usize {
            return Err(bad("properties length out of range"));
        }
        let props = b.split_to(props_len as usize);
        if total as i64 != 20 + body_len as i64 + 2 + props_len as i64 {
            return Err(bad("total size does not match the fields"));
        }
        let properties =
            String::from_utf8(props.to_vec()).map_err(|_| bad("properties are not UTF-8"))?;
        out.push(BatchItem {
            flag,
            body: msg_body,
            properties,
        });
    }
    Ok(out)
}

/// Encode messages as a batch send body (client side, and tests).
pub fn encode_batch(items: &[BatchItem]) -> BytesMut {
    use bytes::BufMut;
    let mut out = BytesMut::new();
    for it in items {
        let total = 20 + it.body.len() + 2 + it.properties.len();
        out.put_i32(total as i32);
        out.put_i32(0);
        out.put_i32(0);
        out.put_i32(it.flag);
        out.put_i32(it.body.len() as i32);
        out.put_slice(&it.body);
        out.put_i16(it.properties.len() as i16);
        out.put_slice(it.properties.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests;
