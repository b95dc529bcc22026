//! The 4.x trace text format (`TraceDataEncoder`): fields separated by `\u{1}`
//! (`CONTENT_SPLITOR`), each record ended by `\u{2}` (`FIELD_SPLITOR`). Field orders:
//!
//! * `Pub ␁ timeStamp ␁ regionId ␁ groupName ␁ topic ␁ msgId ␁ tags ␁ keys ␁ storeHost ␁
//!   bodyLength ␁ costTime ␁ msgType ␁ offsetMsgId ␁ success ␂` (first bean only)
//! * `SubBefore ␁ timeStamp ␁ regionId ␁ groupName ␁ requestId ␁ msgId ␁ retryTimes ␁ keys ␂`
//!   (one record per bean)
//! * `SubAfter ␁ requestId ␁ msgId ␁ costTime ␁ success ␁ keys ␁ contextCode ␁ timeStamp ␁
//!   groupName ␂` (one record per bean)
//! * `EndTransaction ␁ timeStamp ␁ regionId ␁ groupName ␁ topic ␁ msgId ␁ tags ␁ keys ␁
//!   storeHost ␁ msgType ␁ transactionId ␁ transactionState ␁ fromTransactionCheck ␂`
//!
//! The decoder accepts what Java's `decoderFromTraceDataString` accepts: Pub with 13 fields
//! (no offsetMsgId) or 15+ (clientHost), SubAfter with 6 (no contextCode) or 7-8 (cloud).

use super::{msg_type, TraceBean, TraceContext, TraceType};
use crate::clock::now_ms;

pub const CONTENT_SPLITOR: char = '\u{1}';
pub const FIELD_SPLITOR: char = '\u{2}';

/// One field of a record. Written without `fmt` (the encoder runs once per traced message, and
/// `write!` through `dyn Display` cost more than the rest of the record).
enum F<'a> {
    S(&'a str),
    I(i64),
    B(bool),
}

fn record(out: &mut String, fields: &[F<'_>]) {
    let mut ints = itoa::Buffer::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(CONTENT_SPLITOR);
        }
        match f {
            F::S(v) => out.push_str(v),
            F::I(v) => out.push_str(ints.format(*v)),
            F::B(v) => out.push_str(if *v { "true" } else { "false" }),
        }
    }
    out.push(FIELD_SPLITOR);
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
            F::S(p.tags),
            F::S(p.keys),
            F::S(p.store_host),
            F::I(i64::from(p.body_length)),
            F::I(p.cost_time),
            F::I(i64::from(p.msg_type)),
            F::S(p.offset_msg_id),
            F::B(p.success),
        ],
    );
}

/// A record encoded when it is submitted, in one allocation: the record text, then the keys of
/// its trace message separated by spaces. Why: the dispatcher's thread then only concatenates,
/// and nothing allocated per traced message crosses threads but this one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedRecord {
    text: String,
    split: usize,
}

impl EncodedRecord {
    pub fn of(c: &TraceContext) -> Self {
        let mut text = String::with_capacity(256);
        encode_context_into(c, &mut text);
        Self::with_keys(text, transfer_keys(c).into_iter())
    }

    pub fn of_pub(p: &PubFields<'_>) -> Self {
        let mut text = String::with_capacity(
            160 + p.group_name.len() + p.topic.len() + 2 * (p.tags.len() + p.keys.len()),
        );
        encode_pub(p, &mut text);
        let user = p.keys.split(' ').filter(|k| !k.is_empty());
        Self::with_keys(text, std::iter::once(p.msg_id).chain(user))
    }

    fn with_keys<'k>(mut text: String, keys: impl Iterator<Item = &'k str>) -> Self {
        let split = text.len();
        for (i, k) in keys.enumerate() {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(k);
        }
        EncodedRecord { text, split }
    }

    /// The record text (`transData`).
    pub fn body(&self) -> &str {
        &self.text[..self.split]
    }

    /// The keys of the trace message carrying it ([`transfer_keys`]).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.text[self.split..].split(' ').filter(|k| !k.is_empty())
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
                        F::S(&b.keys),
                    ],
                );
            }
        }
        TraceType::SubAfter => {
            for b in &c.beans {
                record(
                    out,
                    &[
                        F::S(c.trace_type.as_str()),
                        F::S(&c.request_id),
                        F::S(&b.msg_id),
                        F::I(c.cost_time),
                        F::B(c.success),
                        F::S(&b.keys),
                        F::I(i64::from(c.context_code)),
                        F::I(c.time_stamp),
                        F::S(&c.group_name),
                    ],
                );
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
                    F::S(&b.tags),
                    F::S(&b.keys),
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
            b.tags = text(f.get(6));
            b.keys = text(f.get(7));
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
            b.keys = text(f.get(7));
            // No success field: Java's TraceContext default (true).
            c.success = true;
        }
        TraceType::SubAfter if f.len() >= 6 => {
            c.request_id = text(f.get(1));
            b.msg_id = text(f.get(2));
            c.cost_time = num(f.get(3));
            c.success = flag(f.get(4));
            b.keys = text(f.get(5));
            c.context_code = num(f.get(6));
            c.time_stamp = num(f.get(7));
            c.group_name = text(f.get(8));
        }
        TraceType::EndTransaction if f.len() >= 13 => {
            c.time_stamp = num(f.get(1));
            c.region_id = text(f.get(2));
            c.group_name = text(f.get(3));
            b.topic = text(f.get(4));
            b.msg_id = text(f.get(5));
            b.tags = text(f.get(6));
            b.keys = text(f.get(7));
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

/// Decode a trace message body (`decoderFromTraceDataString`): one context per record, records
/// of unknown type or too short are skipped.
pub fn decode(data: &str) -> Vec<TraceContext> {
    data.split(FIELD_SPLITOR)
        .filter(|r| !r.is_empty())
        .filter_map(|r| {
            let fields: Vec<&str> = r.split(CONTENT_SPLITOR).collect();
            decode_record(&fields)
        })
        .collect()
}

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
