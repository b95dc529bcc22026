//! What the producer and the push consumer call (one call each): a Pub record after a send
//! (`SendMessageTraceHookImpl`), a SubBefore record before the listener and a SubAfter record
//! after it (`ConsumeMessageTraceHookImpl`).

use std::time::Instant;

use super::encode::PubFields;
use super::{context_code, msg_type, TraceBean, TraceContext, TraceDispatcher, TraceType};
use super::{CLOUD_TRACE_TOPIC_PREFIX, DEFAULT_REGION, TRACE_TOPIC};
use crate::client::message::{new_uniq_key, MessageExt};
use crate::clock::now_ms;
use crate::protocol::message::properties as prop;

/// One finished send attempt, as the producer knows it.
pub struct Sent<'a> {
    pub group: &'a str,
    /// The request's properties string (tags, keys, TRAN_MSG, DELAY).
    pub properties: &'a str,
    pub store_host: &'a str,
    pub body_length: usize,
    /// A SEND_BATCH_MESSAGE: one Pub record for the whole batch, as Java's hook sees the
    /// `MessageBatch` (msgId: the members' ids joined by `,`; no tags or keys of its own;
    /// bodyLength: the encoded batch body).
    pub batch: bool,
    pub started: Instant,
    /// `MSG_REGION` / `TRACE_ON` of the send response.
    pub region: &'a str,
    pub trace_on: bool,
    /// What the send answered: the queue's topic, the message id (UNIQ_KEY), the broker's
    /// offset message id, and whether the status was SEND_OK. Borrowed, so a caller that never
    /// builds a `SendResult` (mqbench) does not build one for the trace.
    pub topic: &'a str,
    pub msg_id: &'a str,
    pub offset_msg_id: &'a str,
    pub send_ok: bool,
}

/// Whether a send to `topic` is a trace message itself, which no hook traces: Java's hook skips
/// topics that start with its dispatcher's trace topic (the configured `customizedTraceTopic`);
/// the default topic and the cloud channel's per-region topics are skipped whatever is set.
pub fn is_trace_topic(topic: &str, configured: &str) -> bool {
    (!configured.is_empty() && topic.starts_with(configured))
        || topic.starts_with(TRACE_TOPIC)
        || topic.starts_with(CLOUD_TRACE_TOPIC_PREFIX)
}

/// The Pub record of a send, or `None` when Java would not trace it: the broker said
/// TRACE_ON=false, or it went to a trace topic itself. A batch is traced as one message
/// (RocketMQ 4.9 `DefaultMQProducerImpl.sendKernelImpl` runs the hook on the `MessageBatch`).
pub fn pub_fields<'a>(s: &'a Sent<'a>) -> Option<PubFields<'a>> {
    let topic = s.topic;
    if !s.trace_on || is_trace_topic(topic, "") {
        return None;
    }
    // A batch request's own properties are never a member's (the members' are in the body).
    let properties = if s.batch { "" } else { s.properties };
    // One pass over the properties for the four this record needs (last occurrence wins, as
    // `prop::find`).
    let (mut tran, mut delay, mut tags, mut keys) = (None, None, None, None);
    for (k, v) in prop::iter(properties) {
        match k {
            prop::TRAN_MSG => tran = Some(v),
            prop::DELAY => delay = Some(v),
            prop::TAGS => tags = Some(v),
            prop::KEYS => keys = Some(v),
            _ => {}
        }
    }
    let msg_type = if tran == Some("true") {
        msg_type::TRANS_HALF
    } else if delay.is_some() {
        msg_type::DELAY
    } else {
        msg_type::NORMAL
    };
    let cost_time = s.started.elapsed().as_millis() as i64;
    Some(PubFields {
        time_stamp: now_ms() - cost_time,
        region_id: if s.region.is_empty() {
            DEFAULT_REGION
        } else {
            s.region
        },
        group_name: s.group,
        topic,
        msg_id: s.msg_id,
        tags: tags.unwrap_or_default(),
        keys: keys.unwrap_or_default(),
        store_host: s.store_host,
        body_length: s.body_length as i32,
        cost_time,
        msg_type,
        offset_msg_id: s.offset_msg_id,
        success: s.send_ok,
    })
}

/// The Pub context of a send (see [`pub_fields`]).
pub fn pub_context(s: &Sent<'_>) -> Option<TraceContext> {
    pub_fields(s).map(PubFields::to_context)
}

/// The SubBefore context of a listener call (messages with TRACE_ON=false are left out; `None`
/// when none is left).
pub fn sub_before_context(group: &str, msgs: &[MessageExt]) -> Option<TraceContext> {
    let traced: Vec<&MessageExt> = msgs
        .iter()
        .filter(|m| m.property(prop::TRACE_ON) != Some("false"))
        .collect();
    let first = traced.first()?;
    let region = first.property(prop::MSG_REGION).unwrap_or(DEFAULT_REGION);
    let beans = traced
        .iter()
        .map(|m| TraceBean {
            topic: m.topic.clone(),
            msg_id: m.msg_id(),
            tags: m.tags().unwrap_or_default().to_string(),
            keys: m.property(prop::KEYS).unwrap_or_default().to_string(),
            store_host: m.store_host.to_string(),
            store_time: m.store_timestamp,
            body_length: m.body.len() as i32,
            retry_times: m.reconsume_times,
            ..Default::default()
        })
        .collect();
    Some(TraceContext {
        trace_type: TraceType::SubBefore,
        time_stamp: now_ms(),
        region_id: region.to_string(),
        group_name: group.to_string(),
        request_id: new_uniq_key(),
        success: true,
        beans,
        ..Default::default()
    })
}

/// The SubAfter context matching `before`; the cost is shared out over the batch as Java does.
pub fn sub_after_context(before: &TraceContext, success: bool, cost_ms: i64) -> TraceContext {
    let n = before.beans.len().max(1) as i64;
    TraceContext {
        trace_type: TraceType::SubAfter,
        time_stamp: now_ms(),
        cost_time: cost_ms / n,
        success,
        context_code: if success {
            context_code::SUCCESS
        } else {
            context_code::FAILED
        },
        ..before.clone()
    }
}

/// A listener call being traced: SubBefore is queued when it starts, SubAfter by [`finish`].
///
/// [`finish`]: ConsumeSpan::finish
pub struct ConsumeSpan {
    dispatcher: TraceDispatcher,
    before: TraceContext,
    started: Instant,
}

impl ConsumeSpan {
    /// Queue SubBefore for `msgs`; `None` when nothing is traced.
    pub fn start(dispatcher: &TraceDispatcher, group: &str, msgs: &[MessageExt]) -> Option<Self> {
        let mut before = sub_before_context(group, msgs)?;
        before.access_channel = dispatcher.access_channel();
        dispatcher.submit(before.clone());
        Some(ConsumeSpan {
            dispatcher: dispatcher.clone(),
            before,
            started: Instant::now(),
        })
    }

    /// Queue SubAfter.
    pub fn finish(self, success: bool) {
        let cost = self.started.elapsed().as_millis() as i64;
        self.dispatcher
            .submit(sub_after_context(&self.before, success, cost));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::message::{MessageQueue, SendResult, SendStatus};
    use crate::protocol::message::properties::Properties;

    #[test]
    fn pub_context_takes_tags_keys_and_type_from_properties() {
        let res = SendResult {
            status: SendStatus::SendOk,
            msg_id: "ID1".into(),
            offset_msg_id: "OFF1".into(),
            queue: MessageQueue::new("T", "b", 0),
            queue_offset: 3,
        };
        let mut p = Properties::new();
        p.insert(prop::TAGS, "TagA");
        p.insert(prop::KEYS, "k1 k2");
        p.insert(prop::DELAY, "2");
        let props = p.encode();
        let mut s = Sent {
            group: "pg",
            properties: &props,
            store_host: "1.2.3.4:10911",
            body_length: 5,
            batch: false,
            started: Instant::now(),
            region: "",
            trace_on: true,
            topic: &res.queue.topic,
            msg_id: &res.msg_id,
            offset_msg_id: &res.offset_msg_id,
            send_ok: res.status == SendStatus::SendOk,
        };
        let c = pub_context(&s).unwrap();
        assert_eq!(c.region_id, DEFAULT_REGION);
        let b = c.bean();
        assert_eq!((b.tags.as_str(), b.keys.as_str()), ("TagA", "k1 k2"));
        assert_eq!(b.msg_type, msg_type::DELAY);
        assert_eq!(b.store_host, "1.2.3.4:10911");
        assert!(c.success);
        s.trace_on = false;
        assert!(pub_context(&s).is_none());
    }

    #[test]
    fn a_batch_send_is_one_pub_record_for_all_its_ids() {
        let s = Sent {
            group: "pg",
            // Whatever a batch request carries is the batch's, never a member's.
            properties: "TAGS\u{1}TagX\u{2}KEYS\u{1}kx",
            store_host: "1.2.3.4:10911",
            body_length: 321,
            batch: true,
            started: Instant::now(),
            region: "R1",
            trace_on: true,
            topic: "T",
            msg_id: "ID1,ID2,ID3",
            offset_msg_id: "O1,O2,O3",
            send_ok: true,
        };
        let c = pub_context(&s).unwrap();
        let b = c.bean();
        assert_eq!(
            (b.msg_id.as_str(), b.offset_msg_id.as_str()),
            ("ID1,ID2,ID3", "O1,O2,O3")
        );
        assert_eq!((b.tags.as_str(), b.keys.as_str()), ("", ""));
        assert_eq!((b.body_length, b.msg_type), (321, msg_type::NORMAL));
        assert_eq!(c.region_id, "R1");
        // The trace message is keyed by the joined id alone (Java: `msgId` + no user keys).
        assert_eq!(super::super::transfer_keys(&c), vec!["ID1,ID2,ID3"]);
    }

    #[test]
    fn sends_to_a_trace_topic_are_not_traced() {
        assert!(is_trace_topic("RMQ_SYS_TRACE_TOPIC", "RMQ_SYS_TRACE_TOPIC"));
        assert!(is_trace_topic("MyTrace", "MyTrace"), "the customized topic");
        assert!(is_trace_topic(
            "rmq_sys_TRACE_DATA_cn-hz",
            "RMQ_SYS_TRACE_TOPIC"
        ));
        assert!(is_trace_topic("RMQ_SYS_TRACE_TOPIC", "MyTrace"));
        assert!(!is_trace_topic("Orders", "MyTrace"));
        assert!(!is_trace_topic("Orders", ""));
    }
}
