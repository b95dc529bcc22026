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

use std::fmt::Write;

use super::{msg_type, TraceBean, TraceContext, TraceType};
use crate::clock::now_ms;

pub const CONTENT_SPLITOR: char = '\u{1}';
pub const FIELD_SPLITOR: char = '\u{2}';

fn record(out: &mut String, fields: &[&dyn std::fmt::Display]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(CONTENT_SPLITOR);
        }
        let _ = write!(out, "{f}");
    }
    out.push(FIELD_SPLITOR);
}

/// The `transData` of one context.
pub fn encode_context(c: &TraceContext) -> String {
    let mut out = String::new();
    let ty = c.trace_type.as_str();
    match c.trace_type {
        TraceType::Pub => {
            let b = c.bean();
            record(
                &mut out,
                &[
                    &ty,
                    &c.time_stamp,
                    &c.region_id,
                    &c.group_name,
                    &b.topic,
                    &b.msg_id,
                    &b.tags,
                    &b.keys,
                    &b.store_host,
                    &b.body_length,
                    &c.cost_time,
                    &b.msg_type,
                    &b.offset_msg_id,
                    &c.success,
                ],
            );
        }
        TraceType::SubBefore => {
            for b in &c.beans {
                record(
                    &mut out,
                    &[
                        &ty,
                        &c.time_stamp,
                        &c.region_id,
                        &c.group_name,
                        &c.request_id,
                        &b.msg_id,
                        &b.retry_times,
                        &b.keys,
                    ],
                );
            }
        }
        TraceType::SubAfter => {
            for b in &c.beans {
                record(
                    &mut out,
                    &[
                        &ty,
                        &c.request_id,
                        &b.msg_id,
                        &c.cost_time,
                        &c.success,
                        &b.keys,
                        &c.context_code,
                        &c.time_stamp,
                        &c.group_name,
                    ],
                );
            }
        }
        TraceType::EndTransaction => {
            let b = c.bean();
            record(
                &mut out,
                &[
                    &ty,
                    &c.time_stamp,
                    &c.region_id,
                    &c.group_name,
                    &b.topic,
                    &b.msg_id,
                    &b.tags,
                    &b.keys,
                    &b.store_host,
                    &b.msg_type,
                    &b.transaction_id,
                    &b.transaction_state,
                    &b.from_transaction_check,
                ],
            );
        }
    }
    out
}

/// The keys of the trace message carrying `c`: each bean's msg id and each user key (Pub and
/// EndTransaction: the first bean, as Java).
pub fn transfer_keys(c: &TraceContext) -> Vec<String> {
    let beans: &[TraceBean] = match c.trace_type {
        TraceType::Pub | TraceType::EndTransaction => &c.beans[..c.beans.len().min(1)],
        _ => &c.beans,
    };
    let mut keys = Vec::new();
    for b in beans {
        keys.push(b.msg_id.clone());
        keys.extend(
            b.keys
                .split(' ')
                .filter(|k| !k.is_empty())
                .map(str::to_string),
        );
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
