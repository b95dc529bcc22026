//! `mqbench null-broker`: the answers of a broker that does no work.
//!
//! Every benchmark figure depends on the machine it was measured on; the ratio of a figure to
//! the same load against a broker that stores nothing does not (much). This module decides what
//! that broker answers, as plain functions on [`RemotingCommand`]s (no sockets, unit-tested
//! below); [`super::null_server`] runs them over TCP.
//!
//! - Sends (10, 310, 320): SEND_OK with the header a real broker sends (offset msg id, queue id,
//!   queue offset from a per-queue counter advancing by the message count); the body is dropped.
//!   A batch's messages are counted by walking the record lengths of its body.
//! - Pulls (11): FOUND with up to `maxMsgNums` (at most 32) stored-message records of `--size`
//!   body bytes, encoded once at start ([`NullBroker::new`]) in the layout the store returns; the
//!   answer is a slice of them. The records carry a fixed topic ([`NULL_TOPIC`]) and queue offsets
//!   0..31 and born/store times of the start: the header's `nextBeginOffset` is what moves a
//!   consumer on, and the latencies a consumer reports against it mean nothing. A pull never
//!   waits.
//! - What mqbench and the clients send around them (topic creation, heartbeats, offsets,
//!   END_TRANSACTION, ...): SUCCESS with a plausible header. Anything else:
//!   REQUEST_CODE_NOT_SUPPORTED naming the code. Oneway requests get no answer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};

use bytes::{Bytes, BytesMut};
use parking_lot::RwLock;

use crate::error::ServiceError;
use crate::protocol::codes::{request_code as rq, response_code};
use crate::protocol::headers::{
    send_request_header, GetMaxOffsetRequestHeader, OffsetResponseHeader, PullMessageRequestHeader,
    PullMessageResponseHeader, SendMessageResponseHeader,
};
use crate::protocol::message::{body_crc, encode_offset_msg_id, encode_record, RecordFields};
use crate::protocol::{ProtocolError, RemotingCommand};

/// Most messages one pull answer carries (the real broker's cap as well).
pub const MAX_PULL_MSGS: usize = 32;
/// Largest `--size`: 32 records of it must fit one 16 MiB frame.
pub const MAX_BODY_SIZE: usize = 256 * 1024;
/// The topic written into the pre-encoded records.
pub const NULL_TOPIC: &str = "NullBrokerTopic";
/// The `maxOffset` of every pull answer: a queue that never runs dry.
pub const NULL_MAX_OFFSET: i64 = i64::MAX / 2;

/// Next queue offset of each queue a send went to, by topic then queue id.
#[derive(Debug, Default)]
pub struct QueueOffsets {
    topics: RwLock<HashMap<String, HashMap<i32, AtomicI64>>>,
}

impl QueueOffsets {
    /// Advance the queue by `n` messages; returns the offset of the first.
    pub fn advance(&self, topic: &str, queue_id: i32, n: i64) -> i64 {
        if let Some(q) = self.topics.read().get(topic).and_then(|t| t.get(&queue_id)) {
            return q.fetch_add(n, Ordering::Relaxed);
        }
        let mut w = self.topics.write();
        let q = w
            .entry(topic.to_string())
            .or_default()
            .entry(queue_id)
            .or_default();
        q.fetch_add(n, Ordering::Relaxed)
    }

    /// The offset the next message of the queue will get (0 for a queue never sent to).
    pub fn next(&self, topic: &str, queue_id: i32) -> i64 {
        self.topics
            .read()
            .get(topic)
            .and_then(|t| t.get(&queue_id))
            .map_or(0, |q| q.load(Ordering::Relaxed))
    }
}

/// The sizes of the records of a SEND_BATCH_MESSAGE body, walking only their length words
/// (docs/protocol.md §5.2: each record starts with its total size, at least 22 bytes).
pub fn batch_record_sizes(body: &[u8]) -> Result<Vec<usize>, ProtocolError> {
    let mut sizes = Vec::new();
    let mut at = 0usize;
    while at < body.len() {
        let word = body
            .get(at..at + 4)
            .ok_or_else(|| ProtocolError::MalformedBody("batch body: truncated record".into()))?;
        let total = i32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        if total < 22 || total as usize > body.len() - at {
            return Err(ProtocolError::MalformedBody(format!(
                "batch body: record size {total} at byte {at} out of range"
            )));
        }
        sizes.push(total as usize);
        at += total as usize;
    }
    if sizes.is_empty() {
        return Err(ProtocolError::MalformedBody(
            "batch body: no message".into(),
        ));
    }
    Ok(sizes)
}

/// The state of a null broker: its address (for msg ids), the counters and the records.
#[derive(Debug)]
pub struct NullBroker {
    store_host: SocketAddr,
    offsets: QueueOffsets,
    /// A commit-log position for offset msg ids, advanced by what the sends carried.
    phys: AtomicI64,
    /// [`MAX_PULL_MSGS`] records of equal length, back to back.
    records: Bytes,
    record_len: usize,
}

impl NullBroker {
    /// A null broker at `store_host` whose pulls return records of `body_size` bytes of body.
    pub fn new(store_host: SocketAddr, body_size: usize) -> Result<NullBroker, String> {
        if body_size > MAX_BODY_SIZE {
            return Err(format!("--size must be at most {MAX_BODY_SIZE}"));
        }
        let body: Vec<u8> = (0..body_size).map(|i| b'a' + (i % 26) as u8).collect();
        let now = crate::bench::net::now_us() as i64 / 1000;
        let fields = RecordFields {
            born_timestamp: now,
            born_host: store_host,
            store_host,
            ..RecordFields::plain(NULL_TOPIC, 0, &body, "")
        };
        let record_len = fields.stored_size();
        let crc = body_crc(&body);
        let mut records = BytesMut::zeroed(record_len * MAX_PULL_MSGS);
        for i in 0..MAX_PULL_MSGS {
            let at = i * record_len;
            encode_record(
                &mut records[at..at + record_len],
                &fields,
                crc,
                i as i64,
                at as i64,
                now,
            )
            .map_err(|e| e.to_string())?;
        }
        Ok(NullBroker {
            store_host,
            offsets: QueueOffsets::default(),
            phys: AtomicI64::new(0),
            records: records.freeze(),
            record_len,
        })
    }

    /// The answer to `req`; `None` for a oneway request (or a response, which needs none).
    pub fn answer(&self, req: &RemotingCommand) -> Option<RemotingCommand> {
        if req.is_response() {
            return None;
        }
        let resp = match self.answer_request(req) {
            Ok(r) => r,
            Err(e) => e.into_response(req),
        };
        (!req.is_oneway()).then_some(resp)
    }

    fn answer_request(&self, req: &RemotingCommand) -> Result<RemotingCommand, ServiceError> {
        let ok = || req.response_to(response_code::SUCCESS, None);
        match req.code {
            rq::SEND_MESSAGE | rq::SEND_MESSAGE_V2 | rq::SEND_BATCH_MESSAGE => self.send(req),
            rq::PULL_MESSAGE => self.pull(req),
            rq::GET_MAX_OFFSET => {
                let h: GetMaxOffsetRequestHeader = req.header()?;
                let offset = self.offsets.next(&h.topic, h.queue_id);
                Ok(ok().with_header(&OffsetResponseHeader { offset }))
            }
            rq::GET_MIN_OFFSET | rq::QUERY_CONSUMER_OFFSET | rq::SEARCH_OFFSET_BY_TIMESTAMP => {
                Ok(ok().with_header(&OffsetResponseHeader { offset: 0 }))
            }
            rq::UPDATE_AND_CREATE_TOPIC
            | rq::HEART_BEAT
            | rq::UNREGISTER_CLIENT
            | rq::UPDATE_CONSUMER_OFFSET
            | rq::END_TRANSACTION
            | rq::CHECK_CLIENT_CONFIG => Ok(ok()),
            code => Err(ServiceError::NotSupported(code)),
        }
    }

    fn send(&self, req: &RemotingCommand) -> Result<RemotingCommand, ServiceError> {
        let h = send_request_header(req.code, &req.ext_fields)?;
        let sizes = if req.code == rq::SEND_BATCH_MESSAGE {
            batch_record_sizes(&req.body)?
        } else {
            vec![req.body.len()]
        };
        let queue_id = h.queue_id.max(0);
        let queue_offset = self.offsets.advance(&h.topic, queue_id, sizes.len() as i64);
        let total: usize = sizes.iter().sum();
        let mut phys = self.phys.fetch_add(total as i64, Ordering::Relaxed);
        let mut ids = Vec::with_capacity(sizes.len());
        for s in &sizes {
            ids.push(encode_offset_msg_id(self.store_host, phys));
            phys += *s as i64;
        }
        Ok(req
            .response_to(response_code::SUCCESS, None)
            .with_header(&SendMessageResponseHeader {
                msg_id: ids.join(","),
                queue_id,
                queue_offset,
                ..Default::default()
            }))
    }

    fn pull(&self, req: &RemotingCommand) -> Result<RemotingCommand, ServiceError> {
        let h: PullMessageRequestHeader = req.header()?;
        let n = h.max_msg_nums.clamp(0, MAX_PULL_MSGS as i32) as usize;
        let code = if n == 0 {
            response_code::PULL_NOT_FOUND
        } else {
            response_code::SUCCESS
        };
        let header = PullMessageResponseHeader {
            suggest_which_broker_id: 0,
            next_begin_offset: h.queue_offset + n as i64,
            min_offset: 0,
            max_offset: NULL_MAX_OFFSET,
        };
        Ok(req
            .response_to(code, None)
            .with_header(&header)
            .with_body(self.records.slice(..n * self.record_len)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::load::MessageFactory;
    use crate::protocol::codes::pull_sys_flag;
    use crate::protocol::message::{decode_offset_msg_id, decode_records, encode_batch, BatchItem};

    fn nb(size: usize) -> NullBroker {
        NullBroker::new("127.0.0.1:10911".parse().unwrap(), size).unwrap()
    }

    fn factory(batch: bool) -> MessageFactory {
        let mut args = vec!["mqbench", "producer", "-t", "T", "-s", "100", "-q", "2"];
        if batch {
            args.extend(["--mode", "batch", "-b", "8"]);
        }
        use clap::Parser;
        match crate::bench::args::Cli::try_parse_from(args).unwrap().mode {
            crate::bench::args::Mode::Producer(p) => MessageFactory::new(&p, 2),
            _ => unreachable!(),
        }
    }

    fn pull(queue_offset: i64, max: i32) -> RemotingCommand {
        RemotingCommand::request_with(
            rq::PULL_MESSAGE,
            &PullMessageRequestHeader {
                consumer_group: "g".into(),
                topic: "T".into(),
                queue_id: 1,
                queue_offset,
                max_msg_nums: max,
                sys_flag: pull_sys_flag::FLAG_SUSPEND,
                commit_offset: 0,
                suspend_timeout_millis: 1000,
                subscription: Some("*".into()),
                sub_version: 1,
                expression_type: Some("TAG".into()),
                bname: None,
            },
        )
        .with_opaque(9)
    }

    #[test]
    fn sends_advance_their_queue_by_the_message_count() {
        let b = nb(16);
        let f = factory(false);
        // seq 0 and 2 go to queue 0, seq 1 to queue 1 (two queues).
        for (seq, want_q, want_off) in [(0, 0, 0), (1, 1, 0), (2, 0, 1)] {
            let r = b.answer(&f.request(seq, 1, false)).unwrap();
            assert_eq!(r.code, response_code::SUCCESS);
            let h: SendMessageResponseHeader = r.header().unwrap();
            assert_eq!((h.queue_id, h.queue_offset), (want_q, want_off));
            assert!(decode_offset_msg_id(&h.msg_id).is_ok(), "{}", h.msg_id);
        }
        let fb = factory(true);
        let r = b.answer(&fb.request(0, 8, true)).unwrap();
        let h: SendMessageResponseHeader = r.header().unwrap();
        assert_eq!((h.queue_id, h.queue_offset), (0, 2));
        assert_eq!(h.msg_id.split(',').count(), 8);
        let r = b.answer(&fb.request(16, 8, true)).unwrap();
        let h: SendMessageResponseHeader = r.header().unwrap();
        assert_eq!(h.queue_offset, 10);
        // SEND_MESSAGE (10): the same send with the V1 header keys.
        let v2 = f.request(3, 1, false);
        let v1: crate::protocol::headers::SendMessageRequestHeader = v2
            .header::<crate::protocol::headers::SendMessageRequestHeaderV2>()
            .unwrap()
            .into();
        let r = b
            .answer(&RemotingCommand::request_with(rq::SEND_MESSAGE, &v1).with_body(v2.body))
            .unwrap();
        let h: SendMessageResponseHeader = r.header().unwrap();
        assert_eq!((r.code, h.queue_id, h.queue_offset), (0, 1, 1));
        assert_eq!(b.offsets.next("T", 0), 18);
        assert_eq!(b.offsets.next("T", 1), 2);
        assert_eq!(b.offsets.next("other", 0), 0);
    }

    #[test]
    fn batch_sizes_walk_the_length_words_and_refuse_bad_ones() {
        let items: Vec<BatchItem> = (0..3)
            .map(|i| BatchItem {
                flag: 0,
                body: Bytes::from(vec![b'x'; 10 + i]),
                properties: "a\u{1}b".into(),
            })
            .collect();
        let body = encode_batch(&items);
        assert_eq!(batch_record_sizes(&body).unwrap(), vec![35, 36, 37]);
        assert!(batch_record_sizes(&body[..body.len() - 1]).is_err());
        assert!(batch_record_sizes(&[]).is_err());
        assert!(batch_record_sizes(&[0, 0, 0, 1, 0, 0]).is_err());
        assert!(batch_record_sizes(&[0xFF, 0xFF, 0xFF, 0xFF]).is_err());
        // A malformed batch is answered SYSTEM_ERROR with the reason, and nothing is counted.
        let b = nb(16);
        let mut req = factory(true).request(0, 8, true);
        req.body = req.body.slice(..req.body.len() - 3);
        let r = b.answer(&req).unwrap();
        assert_eq!(r.code, response_code::SYSTEM_ERROR);
        assert!(r.remark.unwrap().contains("batch body"));
        assert_eq!(b.offsets.next("T", 0), 0);
    }

    #[test]
    fn pulls_carry_up_to_32_decodable_records_of_the_size() {
        let b = nb(1024);
        let r = b.answer(&pull(100, 32)).unwrap();
        assert_eq!((r.code, r.opaque), (response_code::SUCCESS, 9));
        let h: PullMessageResponseHeader = r.header().unwrap();
        assert_eq!(h.next_begin_offset, 132);
        assert_eq!((h.min_offset, h.max_offset), (0, NULL_MAX_OFFSET));
        assert_eq!(h.suggest_which_broker_id, 0);
        let msgs = decode_records(&r.body);
        assert_eq!(msgs.len(), 32);
        assert!(msgs.iter().all(|m| m.body.len() == 1024 && m.crc_ok()));
        assert_eq!(msgs[5].queue_offset, 5);
        let r = b.answer(&pull(7, 500)).unwrap();
        assert_eq!(decode_records(&r.body).len(), 32);
        let r = b.answer(&pull(7, 3)).unwrap();
        assert_eq!(decode_records(&r.body).len(), 3);
        assert_eq!(
            r.header::<PullMessageResponseHeader>()
                .unwrap()
                .next_begin_offset,
            10
        );
        let r = b.answer(&pull(7, 0)).unwrap();
        assert_eq!(r.code, response_code::PULL_NOT_FOUND);
        assert!(r.body.is_empty());
        assert!(NullBroker::new("127.0.0.1:1".parse().unwrap(), MAX_BODY_SIZE + 1).is_err());
        assert_eq!(
            decode_records(&nb(0).answer(&pull(0, 1)).unwrap().body).len(),
            1
        );
    }

    #[test]
    fn side_requests_succeed_and_unknown_codes_are_named() {
        let b = nb(8);
        b.answer(&factory(false).request(1, 1, false)).unwrap();
        let max = RemotingCommand::request_with(
            rq::GET_MAX_OFFSET,
            &GetMaxOffsetRequestHeader {
                topic: "T".into(),
                queue_id: 1,
                bname: None,
            },
        );
        let r = b.answer(&max).unwrap();
        assert_eq!(r.header::<OffsetResponseHeader>().unwrap().offset, 1);
        for code in [
            rq::UPDATE_AND_CREATE_TOPIC,
            rq::HEART_BEAT,
            rq::UNREGISTER_CLIENT,
            rq::UPDATE_CONSUMER_OFFSET,
            rq::GET_MIN_OFFSET,
            rq::QUERY_CONSUMER_OFFSET,
        ] {
            let r = b.answer(&RemotingCommand::request(code)).unwrap();
            assert_eq!(r.code, response_code::SUCCESS, "code {code}");
        }
        let r = b.answer(&RemotingCommand::request(4242)).unwrap();
        assert_eq!(r.code, response_code::REQUEST_CODE_NOT_SUPPORTED);
        assert!(r.remark.unwrap().contains("4242"));
        // GET_MAX_OFFSET without its header: the missing field is named.
        let r = b
            .answer(&RemotingCommand::request(rq::GET_MAX_OFFSET))
            .unwrap();
        assert_eq!(r.code, response_code::SYSTEM_ERROR);
        assert!(r.remark.unwrap().contains("topic"));
        let mut oneway = RemotingCommand::request(rq::END_TRANSACTION);
        oneway.mark_oneway();
        assert!(b.answer(&oneway).is_none());
        let resp = RemotingCommand::request(rq::HEART_BEAT).response_to(0, None);
        assert!(b.answer(&resp).is_none());
    }
}
