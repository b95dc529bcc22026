//! What the producer sends and when: [`MessageFactory`] builds the requests (fixed body,
//! per-message properties), [`Budget`] hands out message numbers until the count or the time
//! runs out and paces a target rate.
//!
//! Every message carries a `bornUs` property (microseconds since the epoch) so a consumer can
//! measure born->consume latency below the millisecond resolution of the stored born timestamp.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::args::ProducerArgs;
use super::net::now_us;
use crate::protocol::codes::{message_sys_flag, request_code};
use crate::protocol::headers::SendMessageRequestHeaderV2;
use crate::protocol::message::properties::{
    DELAY, KEYS, NAME_VALUE_SEPARATOR as NV, PGROUP, PROPERTY_SEPARATOR as PS, TAGS, TRAN_MSG,
    UNIQ_KEY,
};
use crate::protocol::message::{encode_batch, BatchItem};
use crate::protocol::RemotingCommand;

/// The property carrying the born time in microseconds.
pub const BORN_US: &str = "bornUs";

/// Builds the requests: fixed body, per-message properties.
#[derive(Debug, Clone)]
pub struct MessageFactory {
    pub topic: String,
    pub group: String,
    pub body: Bytes,
    pub tag: Option<String>,
    pub tag_count: usize,
    pub keys: bool,
    pub delay_level: u32,
    pub queues: u32,
    /// Distinguishes this run's unique keys from another run's.
    pub run_id: u32,
    /// Half messages (`--transaction`): TRAN_MSG and PGROUP set, sysFlag TRANSACTION_PREPARED.
    pub transaction: bool,
}

impl MessageFactory {
    pub fn new(args: &ProducerArgs, queues: u32) -> Self {
        // A body that is not all one byte, so nothing along the way can shortcut it.
        let body: Vec<u8> = (0..args.size).map(|i| b'a' + (i % 26) as u8).collect();
        MessageFactory {
            topic: args.common.topic.clone(),
            group: args.group.clone(),
            body: Bytes::from(body),
            tag: args.tag.clone(),
            tag_count: args.tag_count,
            keys: args.keys,
            delay_level: args.delay_level,
            queues: queues.max(1),
            run_id: (now_us() & 0xFFFF_FFFF) as u32,
            transaction: args.transaction,
        }
    }

    /// The properties string of message number `seq` born at `born_us`.
    pub fn properties(&self, seq: u64, born_us: u64) -> String {
        let mut p = String::with_capacity(96);
        let mut put = |k: &str, v: &str| {
            if !p.is_empty() {
                p.push(PS);
            }
            p.push_str(k);
            p.push(NV);
            p.push_str(v);
        };
        put(BORN_US, &born_us.to_string());
        if let Some(tag) = &self.tag {
            if self.tag_count > 1 {
                put(TAGS, &format!("{tag}{}", seq % self.tag_count as u64));
            } else {
                put(TAGS, tag);
            }
        }
        let uniq = format!("{:08X}{:016X}", self.run_id, seq);
        if self.keys {
            put(KEYS, &format!("K{uniq}"));
        }
        if self.delay_level > 0 {
            put(DELAY, &self.delay_level.to_string());
        }
        if self.transaction {
            put(TRAN_MSG, "true");
            put(PGROUP, &self.group);
        }
        put(UNIQ_KEY, &uniq);
        p
    }

    fn header(
        &self,
        queue_id: i32,
        born_ms: i64,
        properties: Option<String>,
        batch: bool,
    ) -> SendMessageRequestHeaderV2 {
        SendMessageRequestHeaderV2 {
            a: self.group.clone(),
            b: self.topic.clone(),
            c: "TBW102".into(),
            d: 4,
            e: queue_id,
            f: if self.transaction {
                message_sys_flag::TRANSACTION_PREPARED_TYPE
            } else {
                0
            },
            g: born_ms,
            h: 0,
            i: properties,
            j: Some(0),
            k: Some(false),
            l: None,
            m: Some(batch),
            n: None,
        }
    }

    /// The request for messages `seq .. seq + n` (`n > 1` or `batch` = one batch request).
    pub fn request(&self, seq: u64, n: usize, batch: bool) -> RemotingCommand {
        let born_us = now_us();
        let born_ms = (born_us / 1000) as i64;
        let queue_id = ((seq / n.max(1) as u64) % self.queues as u64) as i32;
        if !batch {
            let h = self.header(
                queue_id,
                born_ms,
                Some(self.properties(seq, born_us)),
                false,
            );
            return RemotingCommand::request_with(request_code::SEND_MESSAGE_V2, &h)
                .with_body(self.body.clone());
        }
        let items: Vec<BatchItem> = (0..n as u64)
            .map(|i| BatchItem {
                flag: 0,
                body: self.body.clone(),
                properties: self.properties(seq + i, born_us),
            })
            .collect();
        let h = self.header(queue_id, born_ms, None, true);
        RemotingCommand::request_with(request_code::SEND_BATCH_MESSAGE, &h)
            .with_body(encode_batch(&items).freeze())
    }
}

/// Hands out message numbers until the duration or the count runs out, and paces a target rate.
#[derive(Debug)]
pub struct Budget {
    start: Instant,
    deadline: Instant,
    limit: Option<u64>,
    next: AtomicU64,
    rate: u64,
}

impl Budget {
    pub fn new(start: Instant, duration: Duration, limit: Option<u64>, rate: u64) -> Self {
        Budget {
            start,
            deadline: start + duration,
            limit,
            next: AtomicU64::new(0),
            rate,
        }
    }

    /// Claim up to `n` messages: `(first sequence number, how many)`, or `None` when done.
    pub fn claim(&self, n: usize, now: Instant) -> Option<(u64, usize)> {
        if now >= self.deadline {
            return None;
        }
        let seq = self.next.fetch_add(n as u64, Ordering::Relaxed);
        match self.limit {
            Some(l) if seq >= l => None,
            Some(l) => Some((seq, (l - seq).min(n as u64) as usize)),
            None => Some((seq, n)),
        }
    }

    /// When the time budget runs out.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// When message `seq` is due under the target rate (`None` = no pacing).
    pub fn due(&self, seq: u64) -> Option<Instant> {
        (self.rate > 0).then(|| self.start + Duration::from_secs_f64(seq as f64 / self.rate as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::args::{Cli, Mode};
    use crate::protocol::message::{decode_batch, properties::Properties};
    use clap::Parser;

    fn args(extra: &[&str]) -> ProducerArgs {
        let mut v = vec!["mqbench", "producer"];
        v.extend_from_slice(extra);
        match Cli::try_parse_from(v).unwrap().mode {
            Mode::Producer(p) => p,
            _ => unreachable!(),
        }
    }

    #[test]
    fn single_request_carries_header_body_and_properties() {
        let f = MessageFactory::new(
            &args(&[
                "-t",
                "T",
                "-s",
                "100",
                "--tag",
                "Tg",
                "--tag-count",
                "2",
                "-k",
                "-e",
                "3",
                "-q",
                "4",
            ]),
            4,
        );
        let req = f.request(5, 1, false);
        assert_eq!(req.code, request_code::SEND_MESSAGE_V2);
        assert_eq!(req.body.len(), 100);
        assert_eq!(req.ext("b"), Some("T"));
        assert_eq!(req.ext("e"), Some("1")); // 5 % 4
        let p = Properties::decode(req.ext("i").unwrap());
        assert_eq!(p.get(TAGS), Some("Tg1"));
        assert_eq!(p.get(DELAY), Some("3"));
        assert!(p.get(KEYS).unwrap().starts_with('K'));
        assert_eq!(p.get(UNIQ_KEY).unwrap().len(), 24);
        let born: u64 = p.get(BORN_US).unwrap().parse().unwrap();
        let ms: u64 = req.ext("g").unwrap().parse().unwrap();
        assert_eq!(born / 1000, ms);
    }

    #[test]
    fn transactional_request_is_a_half_message_of_the_group() {
        let f = MessageFactory::new(&args(&["--transaction", "--group", "PG"]), 1);
        let req = f.request(0, 1, false);
        assert_eq!(req.ext("f"), Some("4"));
        let p = Properties::decode(req.ext("i").unwrap());
        assert_eq!(p.get(TRAN_MSG), Some("true"));
        assert_eq!(p.get(PGROUP), Some("PG"));
        assert!(p.get(UNIQ_KEY).is_some());
        let plain = MessageFactory::new(&args(&[]), 1).request(0, 1, false);
        assert_eq!(plain.ext("f"), Some("0"));
        assert_eq!(
            Properties::decode(plain.ext("i").unwrap()).get(TRAN_MSG),
            None
        );
    }

    #[test]
    fn batch_request_encodes_n_messages_with_distinct_keys() {
        let f = MessageFactory::new(&args(&["--mode", "batch", "-b", "8", "-s", "10"]), 2);
        let req = f.request(16, 8, true);
        assert_eq!(req.code, request_code::SEND_BATCH_MESSAGE);
        assert_eq!(req.ext("m"), Some("true"));
        assert_eq!(req.ext("e"), Some("0")); // (16 / 8) % 2
        let items = decode_batch(&req.body).unwrap();
        assert_eq!(items.len(), 8);
        assert!(items.iter().all(|i| i.body.len() == 10));
        let k0 = Properties::decode(&items[0].properties)
            .get(UNIQ_KEY)
            .map(String::from);
        let k1 = Properties::decode(&items[1].properties)
            .get(UNIQ_KEY)
            .map(String::from);
        assert_ne!(k0, k1);
    }

    #[test]
    fn budget_stops_at_count_and_deadline() {
        let t0 = Instant::now();
        let b = Budget::new(t0, Duration::from_secs(10), Some(10), 0);
        assert_eq!(b.claim(4, t0), Some((0, 4)));
        assert_eq!(b.claim(4, t0), Some((4, 4)));
        assert_eq!(b.claim(4, t0), Some((8, 2)));
        assert_eq!(b.claim(4, t0), None);
        let b = Budget::new(t0, Duration::from_secs(1), None, 0);
        assert_eq!(b.claim(1, t0), Some((0, 1)));
        assert_eq!(b.claim(1, t0 + Duration::from_secs(1)), None);
        assert_eq!(b.due(5), None);
    }

    #[test]
    fn budget_paces_the_rate() {
        let t0 = Instant::now();
        let b = Budget::new(t0, Duration::from_secs(10), None, 1000);
        assert_eq!(b.due(0), Some(t0));
        assert_eq!(b.due(1500), Some(t0 + Duration::from_millis(1500)));
    }
}
