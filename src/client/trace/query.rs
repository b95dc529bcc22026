//! Trace lookup (Java `mqadmin queryMsgTraceById`, the dashboard's trace view): QUERY_MESSAGE
//! (12) by key = message id on every broker of the trace topic, bodies decoded, records of
//! other messages sharing the trace message left out. No new RPC: trace records are ordinary
//! messages found through the key index.

use std::collections::HashMap;
use std::time::Duration;

use super::encode::decode;
use super::{TraceRecord, TraceType, TRACE_TOPIC};
use crate::client::error::{ClientError, Result};
use crate::client::instance::ClientInstance;
use crate::clock::now_ms;
use crate::protocol::codes::{request_code as rq, response_code as rc};
use crate::protocol::headers::query::QueryMessageRequestHeader;
use crate::protocol::message::decode_records;
use crate::protocol::RemotingCommand;

/// Most trace messages asked of one broker (Java's `maxNum` 64).
const MAX_NUM: i32 = 64;

/// The trace records of `msg_id` in the default trace topic, oldest first.
pub async fn query_trace(instance: &ClientInstance, msg_id: &str) -> Result<Vec<TraceRecord>> {
    query_trace_in(instance, TRACE_TOPIC, msg_id).await
}

/// The trace records of `msg_id` in `trace_topic`, oldest first (empty when the topic does not
/// exist or nothing is indexed yet). On the cloud channel `trace_topic` is
/// [`cloud_trace_topic`](super::cloud_trace_topic) of the region. A batch send's Pub record is
/// found by the batch's `msg_id` (the members' ids joined by `,`), as Java keys it, not by a
/// member's id.
pub async fn query_trace_in(
    instance: &ClientInstance,
    trace_topic: &str,
    msg_id: &str,
) -> Result<Vec<TraceRecord>> {
    let inst = instance.clone();
    let topic = trace_topic.to_string();
    let key = msg_id.to_string();
    instance
        .run(async move { query_on_runtime(&inst, &topic, &key).await })
        .await?
}

async fn query_on_runtime(
    inst: &ClientInstance,
    topic: &str,
    key: &str,
) -> Result<Vec<TraceRecord>> {
    if !inst.update_route(topic).await? {
        return Ok(Vec::new());
    }
    let addrs: Vec<String> = match inst.inner.routes.read().get(topic) {
        Some(r) => r
            .broker_datas
            .iter()
            .filter_map(|b| {
                b.broker_addrs
                    .get(&0)
                    .or_else(|| b.broker_addrs.values().next())
                    .cloned()
            })
            .collect(),
        None => Vec::new(),
    };
    let timeout = inst.config().request_timeout.max(Duration::from_secs(1));
    let mut out = Vec::new();
    for addr in addrs {
        let h = QueryMessageRequestHeader {
            topic: topic.to_string(),
            key: key.to_string(),
            max_num: MAX_NUM,
            begin_timestamp: 0,
            end_timestamp: now_ms(),
            unique_key_query: false,
        };
        let req = RemotingCommand::request_with(rq::QUERY_MESSAGE, &h);
        let resp = inst.inner.net.call(&addr, req, timeout).await?;
        match resp.code {
            rc::SUCCESS => {
                for m in decode_records(&resp.body) {
                    let text = String::from_utf8_lossy(&m.body);
                    out.extend(decode(&text).into_iter().filter(|c| c.bean().msg_id == key));
                }
            }
            rc::QUERY_NOT_FOUND => {}
            c => return Err(ClientError::broker(c, resp.remark.as_deref())),
        }
    }
    sort_oldest_first(&mut out);
    out.dedup();
    Ok(out)
}

/// Oldest first. A cloud SubAfter record has no timestamp of its own: it goes right after the
/// SubBefore of its request (or first, when that is missing).
pub fn sort_oldest_first(records: &mut [TraceRecord]) {
    let started: HashMap<String, i64> = records
        .iter()
        .filter(|c| c.trace_type == TraceType::SubBefore)
        .map(|c| (c.request_id.clone(), c.time_stamp))
        .collect();
    records.sort_by_key(|c| {
        let after = c.trace_type == TraceType::SubAfter;
        let at = match started.get(&c.request_id) {
            Some(t) if after && c.time_stamp == 0 => *t,
            _ => c.time_stamp,
        };
        (at, after)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(t: TraceType, ts: i64, req: &str) -> TraceRecord {
        TraceRecord {
            trace_type: t,
            time_stamp: ts,
            request_id: req.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_cloud_sub_after_sorts_after_its_sub_before() {
        let mut v = vec![
            rec(TraceType::SubAfter, 0, "R1"),
            rec(TraceType::SubBefore, 20, "R1"),
            rec(TraceType::Pub, 10, ""),
            rec(TraceType::SubAfter, 30, "R2"),
            rec(TraceType::SubBefore, 25, "R2"),
        ];
        sort_oldest_first(&mut v);
        let got: Vec<_> = v.iter().map(|c| (c.trace_type, c.time_stamp)).collect();
        assert_eq!(
            got,
            vec![
                (TraceType::Pub, 10),
                (TraceType::SubBefore, 20),
                (TraceType::SubAfter, 0),
                (TraceType::SubBefore, 25),
                (TraceType::SubAfter, 30),
            ]
        );
    }
}
