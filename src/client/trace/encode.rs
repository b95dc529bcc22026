//! The 4.x trace text format (`TraceDataEncoder`): fields separated by `\u{1}`
//! (`CONTENT_SPLITOR`), each record ended by `\u{2}` (`FIELD_SPLITOR`). Field orders:
//!
//! * `Pub ␁ timeStamp ␁ regionId ␁ groupName ␁ topic ␁ msgId ␁ tags ␁ keys ␁ storeHost ␁
//!   bodyLength ␁ costTime ␁ msgType ␁ offsetMsgId ␁ success ␂` (first bean only)
//! * `SubBefore ␁ timeStamp ␁ regionId ␁ groupName ␁ requestId ␁ msgId ␁ retryTimes ␁ keys ␂`
//!   (one record per bean)
//! * `SubAfter ␁ requestId ␁ msgId ␁ costTime ␁ success ␁ keys ␁ contextCode ␁ timeStamp ␁
//!   groupName ␂` (one record per bean); on the cloud channel `SubAfter ␁ requestId ␁ msgId ␁
//!   costTime ␁ success ␁ keys ␁ contextCode ␁`: no timeStamp, no groupName and no `␂`, so the
//!   next record of the same trace message follows straight on (Java's encoder does exactly
//!   this; the decoder here splits such runs apart again)
//! * `EndTransaction ␁ timeStamp ␁ regionId ␁ groupName ␁ topic ␁ msgId ␁ tags ␁ keys ␁
//!   storeHost ␁ msgType ␁ transactionId ␁ transactionState ␁ fromTransactionCheck ␂`
//!
//! The decoder accepts what Java's `decoderFromTraceDataString` accepts: Pub with 13 fields
//! (no offsetMsgId) or 15+ (clientHost), SubAfter with 6 (no contextCode) or 7 (cloud).

use super::{msg_type, AccessChannel, TraceBean, TraceContext, TraceType};
use crate::clock::now_ms;

pub const CONTENT_SPLITOR: char = '\u{1}';
pub const FIELD_SPLITOR: char = '\u{2}';

/// One field of a record. Written without `fmt` (the encoder runs once per traced message, and
/// `write!` through `dyn Display` cost more than the rest of the record).
enum F<'a> {
    S(&'a str),
    /// Tags or keys: Java's hooks copy `msg.getTags()` / `msg.getKeys()`, which are `null` for a
    /// message without them, and its `StringBuilder` writes that as `null`. Empty here means
    /// absent, so it is written the same way.
    N(&'a str),
    I(i64),
    B(bool),
}

/// A whole record: its fields, then `FIELD_SPLITOR`.
fn record(out: &mut String, fields: &[F<'_>]) {
    write_fields(out, fields);
    out.push(FIELD_SPLITOR);
}

fn write_fields(out: &mut String, fields: &[F<'_>]) {
    let mut ints = itoa::Buffer::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(CONTENT_SPLITOR);
        }
        match f {
            F::S(v) => out.push_str(v),
            F::N(v) => out.push_str(if v.is_empty() { "null" } else { v }),
            F::I(v) => out.push_str(ints.format(*v)),
            F::B(v) => out.push_str(if *v { "true" } else { "false" }),
        }
    }
}

/// The fields of a Pub record, borrowed: from a context's first bean, or straight from a send
/// being traced (the producer's hot path builds no [`TraceContext`]).
#[derive(Debug, Clone, Copy)]
pub struct PubFields<'a> {
    pub time_stamp: i64,
    pub region_id: &'a str,
    pub group_name: &'a str,
    pub topic: &'a str,
    pub msg_id: &'a str,
    pub tags: &'a str,
    pub keys: &'a str,
    pub store_host: &'a str,
    pub body_length: i32,
    pub cost_time: i64,
    pub msg_type: i32,
    pub offset_msg_id: &'a str,
    pub success: bool,
}

impl<'a> PubFields<'a> {
    pub fn of(c: &'a TraceContext) -> Self {
        let b = c.bean();
        PubFields {
            time_stamp: c.time_stamp,
            region_id: &c.region_id,
            group_name: &c.group_name,
            topic: &b.topic,
            msg_id: &b.msg_id,
            tags: &b.tags,
            keys: &b.keys,
            store_host: &b.store_host,
            body_length: b.body_length,
            cost_time: c.cost_time,
            msg_type: b.msg_type,
            offset_msg_id: &b.offset_msg_id,
            success: c.success,
        }
    }

    pub fn to_context(self) -> TraceContext {
        TraceContext {
            trace_type: TraceType::Pub,
            time_stamp: self.time_stamp,
            region_id: self.region_id.to_string(),
            group_name: self.group_name.to_string(),
            cost_time: self.cost_time,
            success: self.success,
            beans: vec![TraceBean {
                topic: self.topic.to_string(),
                msg_id: self.msg_id.to_string(),
                offset_msg_id: self.offset_msg_id.to_string(),
                tags: self.tags.to_string(),
                keys: self.keys.to_string(),
                store_host: self.store_host.to_string(),
                body_length: self.body_length,
                msg_type: self.msg_type,
                ..Default::default()
            }],
            ..Default::default()
        }
    }
}

fn encode_pub(p: &PubFields<'_>, out: &mut String) {
    record(
        out,
        &[
            F::S(TraceType::Pub.as_str()),
            F::I(p.time_stamp),
            F::S(p.region_id),
            F::S(p.group_name),
            F::S(p.topic),
            F::S(p.msg_id),
            F::N(p.tags),
            F::N(p.keys),
            F::S(p.store_host),
            F::I(i64::from(p.body_length)),
            F::I(p.cost_time),
            F::I(i64::from(p.msg_type)),
            F::S(p.offset_msg_id),
            F::B(p.success),
        ],
    );
}

/// Records encoded as they are submitted, back to back in one text buffer, with the keys of
/// their trace messages in a second one. Why: the hooks write a record straight into the
/// dispatcher's buffer (no allocation per traced message, nothing allocated on one thread and
/// freed on another), the dispatcher's task copies whole runs of records into a trace message,
/// and the emptied buffers go back to the queue to be filled again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordBuf {
    text: String,
    /// Keys separated by spaces (a record's keys start with a space unless they come first).
    keys: String,
    /// Per record: where its text and its keys end.
    ends: Vec<(usize, usize)>,
    /// The region of the records, run-length coded: `(first record, region)` at each change
    /// (the cloud channel sends each region's records to its own topic).
    regions: Vec<(usize, String)>,
}

impl RecordBuf {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Append the records of a context ([`encode_context_into`], keys [`transfer_keys`]).
    pub fn push_context(&mut self, c: &TraceContext) {
        encode_context_into(c, &mut self.text);
        self.end_record(&c.region_id, transfer_keys(c).into_iter());
    }

    /// Append a Pub record (the producer's hot path: no [`TraceContext`] built).
    pub fn push_pub(&mut self, p: &PubFields<'_>) {
        encode_pub(p, &mut self.text);
        let user = p.keys.split(' ').filter(|k| !k.is_empty());
        self.end_record(p.region_id, std::iter::once(p.msg_id).chain(user));
    }

    fn end_record<'k>(&mut self, region: &str, keys: impl Iterator<Item = &'k str>) {
        if self.regions.last().is_none_or(|(_, r)| r != region) {
            self.regions.push((self.ends.len(), region.to_string()));
        }
        for k in keys {
            if !self.keys.is_empty() {
                self.keys.push(' ');
            }
            self.keys.push_str(k);
        }
        self.ends.push((self.text.len(), self.keys.len()));
    }

    fn starts(&self, i: usize) -> (usize, usize) {
        if i == 0 {
            (0, 0)
        } else {
            self.ends[i - 1]
        }
    }

    /// The text of records `from..to` (`transData` of a trace message holding them).
    pub fn text(&self, from: usize, to: usize) -> &str {
        &self.text[self.starts(from).0..self.starts(to).0]
    }

    /// The length of the keys of records `from..to` joined by spaces, duplicates kept (at
    /// least that of the distinct keys a trace message of them carries).
    pub fn keys_len(&self, from: usize, to: usize) -> usize {
        self.starts(to).1 - self.starts(from).1
    }

    /// The keys of records `from..to`, in order, duplicates kept.
    pub fn keys(&self, from: usize, to: usize) -> impl Iterator<Item = &str> {
        self.keys[self.starts(from).1..self.starts(to).1]
            .split(' ')
            .filter(|k| !k.is_empty())
    }

    /// Records `from..to` as runs of one region each: `(from, to, region)`, in order.
    pub fn region_runs(&self, from: usize, to: usize) -> Vec<(usize, usize, &str)> {
        let mut out = Vec::new();
        for (i, (start, region)) in self.regions.iter().enumerate() {
            let end = self.regions.get(i + 1).map_or(self.len(), |r| r.0);
            let (a, b) = ((*start).max(from), end.min(to));
            if a < b {
                out.push((a, b, region.as_str()));
            }
        }
        out
    }

    /// Empty, keeping the capacity.
    pub fn clear(&mut self) {
        self.text.clear();
        self.keys.clear();
        self.ends.clear();
        self.regions.clear();
    }
}

/// The `transData` of one context.
pub fn encode_context(c: &TraceContext) -> String {
    let mut out = String::new();
    encode_context_into(c, &mut out);
    out
}

/// Append the `transData` of one context to `out` (a trace message's body).
pub fn encode_context_into(c: &TraceContext, out: &mut String) {
    match c.trace_type {
        TraceType::Pub => encode_pub(&PubFields::of(c), out),
        TraceType::SubBefore => {
            for b in &c.beans {
                record(
                    out,
                    &[
                        F::S(c.trace_type.as_str()),
                        F::I(c.time_stamp),
                        F::S(&c.region_id),
                        F::S(&c.group_name),
                        F::S(&c.request_id),
                        F::S(&b.msg_id),
                        F::I(i64::from(b.retry_times)),
                        F::N(&b.keys),
                    ],
                );
            }
        }
        TraceType::SubAfter => {
            for b in &c.beans {
                let head = [
                    F::S(c.trace_type.as_str()),
                    F::S(&c.request_id),
                    F::S(&b.msg_id),
                    F::I(c.cost_time),
                    F::B(c.success),
                    F::N(&b.keys),
                    F::I(i64::from(c.context_code)),
                ];
                write_fields(out, &head);
                out.push(CONTENT_SPLITOR);
                if c.access_channel == AccessChannel::Local {
                    write_fields(out, &[F::I(c.time_stamp), F::S(&c.group_name)]);
                    out.push(FIELD_SPLITOR);
                }
            }
        }
        TraceType::EndTransaction => {
            let b = c.bean();
            record(
                out,
                &[
                    F::S(c.trace_type.as_str()),
                    F::I(c.time_stamp),
                    F::S(&c.region_id),
                    F::S(&c.group_name),
                    F::S(&b.topic),
                    F::S(&b.msg_id),
                    F::N(&b.tags),
                    F::N(&b.keys),
                    F::S(&b.store_host),
                    F::I(i64::from(b.msg_type)),
                    F::S(&b.transaction_id),
                    F::S(&b.transaction_state),
                    F::B(b.from_transaction_check),
                ],
            );
        }
    }
}

/// The keys of the trace message carrying `c`: each bean's msg id and each user key (Pub and
/// EndTransaction: the first bean, as Java).
pub fn transfer_keys(c: &TraceContext) -> Vec<&str> {
    let beans: &[TraceBean] = match c.trace_type {
        TraceType::Pub | TraceType::EndTransaction => &c.beans[..c.beans.len().min(1)],
        _ => &c.beans,
    };
    let mut keys = Vec::new();
    for b in beans {
        keys.push(b.msg_id.as_str());
        keys.extend(b.keys.split(' ').filter(|k| !k.is_empty()));
    }
    keys
}

/// An EndTransaction context (for the transaction producer). `state` is Java's
/// `LocalTransactionState` name: `COMMIT_MESSAGE`, `ROLLBACK_MESSAGE` or `UNKNOW`.
#[allow(clippy::too_many_arguments)]
pub fn end_transaction_context(
    group: &str,
    region_id: &str,
    topic: &str,
    msg_id: &str,
    tags: &str,
    keys: &str,
    store_host: &str,
    transaction_id: &str,
    state: &str,
    from_check: bool,
) -> TraceContext {
    TraceContext {
        trace_type: TraceType::EndTransaction,
        time_stamp: now_ms(),
        region_id: region_id.to_string(),
        group_name: group.to_string(),
        success: true,
        beans: vec![TraceBean {
            topic: topic.to_string(),
            msg_id: msg_id.to_string(),
            tags: tags.to_string(),
            keys: keys.to_string(),
            store_host: store_host.to_string(),
            msg_type: msg_type::TRANS_COMMIT, // as Java's EndTransactionTraceHookImpl
            transaction_id: transaction_id.to_string(),
            transaction_state: state.to_string(),
            from_transaction_check: from_check,
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn num<T: std::str::FromStr + Default>(s: Option<&&str>) -> T {
    s.and_then(|v| v.parse().ok()).unwrap_or_default()
}

fn text(s: Option<&&str>) -> String {
    s.map(|v| v.to_string()).unwrap_or_default()
}

/// A tags or keys field ([`F::N`]): Java's `null` for "none" reads back as empty.
fn nullable(s: Option<&&str>) -> String {
    match s {
        Some(&"null") | None => String::new(),
        Some(v) => v.to_string(),
    }
}

fn flag(s: Option<&&str>) -> bool {
    s.is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Decode one record's fields; `None` for an unknown type or too few fields.
fn decode_record(f: &[&str]) -> Option<TraceContext> {
    let mut c = TraceContext {
        trace_type: TraceType::parse(f[0])?,
        ..Default::default()
    };
    let mut b = TraceBean::default();
    match c.trace_type {
        TraceType::Pub if f.len() >= 13 => {
            c.time_stamp = num(f.get(1));
            c.region_id = text(f.get(2));
            c.group_name = text(f.get(3));
            b.topic = text(f.get(4));
            b.msg_id = text(f.get(5));
            b.tags = nullable(f.get(6));
            b.keys = nullable(f.get(7));
            b.store_host = text(f.get(8));
            b.body_length = num(f.get(9));
            c.cost_time = num(f.get(10));
            b.msg_type = num(f.get(11));
            if f.len() == 13 {
                c.success = flag(f.get(12));
            } else {
                b.offset_msg_id = text(f.get(12));
                c.success = flag(f.get(13));
                b.client_host = text(f.get(14));
            }
        }
        TraceType::SubBefore if f.len() >= 7 => {
            c.time_stamp = num(f.get(1));
            c.region_id = text(f.get(2));
            c.group_name = text(f.get(3));
            c.request_id = text(f.get(4));
            b.msg_id = text(f.get(5));
            b.retry_times = num(f.get(6));
            b.keys = nullable(f.get(7));
            // No success field: Java's TraceContext default (true).
            c.success = true;
        }
        TraceType::SubAfter if f.len() >= 6 => {
            c.request_id = text(f.get(1));
            b.msg_id = text(f.get(2));
            c.cost_time = num(f.get(3));
            c.success = flag(f.get(4));
            b.keys = nullable(f.get(5));
            c.context_code = num(f.get(6));
            c.time_stamp = num(f.get(7));
            c.group_name = text(f.get(8));
            if f.len() == 7 || (f.len() == 8 && f[7].is_empty()) {
                c.access_channel = AccessChannel::Cloud;
            }
        }
        TraceType::EndTransaction if f.len() >= 13 => {
            c.time_stamp = num(f.get(1));
            c.region_id = text(f.get(2));
            c.group_name = text(f.get(3));
            b.topic = text(f.get(4));
            b.msg_id = text(f.get(5));
            b.tags = nullable(f.get(6));
            b.keys = nullable(f.get(7));
            b.store_host = text(f.get(8));
            b.msg_type = num(f.get(9));
            b.transaction_id = text(f.get(10));
            b.transaction_state = text(f.get(11));
            b.from_transaction_check = flag(f.get(12));
            c.success = true;
        }
        _ => return None,
    }
    c.beans.push(b);
    Some(c)
}

/// How many of `f` (the fields from a record's start to the next `FIELD_SPLITOR`) belong to
/// that record: all of them, except after a cloud SubAfter record, which has no terminator.
/// Its contextCode is followed by the empty field its trailing separator leaves (then it is the
/// last record of the piece) or by the type of the next record.
fn record_len(f: &[&str]) -> usize {
    match f.get(7) {
        Some(next) if f[0] == TraceType::SubAfter.as_str() && next.is_empty() => 8,
        Some(next) if f[0] == TraceType::SubAfter.as_str() && TraceType::parse(next).is_some() => 7,
        _ => f.len(),
    }
}

/// Decode a trace message body (`decoderFromTraceDataString`): one context per record, records
/// of unknown type or too short are skipped. Cloud SubAfter records run into the record after
/// them and are split off first (Java's own decoder would misread such a run).
pub fn decode(data: &str) -> Vec<TraceContext> {
    let mut out = Vec::new();
    for piece in data.split(FIELD_SPLITOR).filter(|r| !r.is_empty()) {
        let fields: Vec<&str> = piece.split(CONTENT_SPLITOR).collect();
        let mut rest = &fields[..];
        while !rest.is_empty() {
            let n = record_len(rest);
            out.extend(decode_record(&rest[..n]));
            rest = &rest[n..];
        }
    }
    out
}

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
