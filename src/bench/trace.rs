//! `mqbench producer --trace`: what a client with message trace on adds to each acknowledged
//! send: a Pub record built from the request and the answer (one per batch request in
//! `--mode batch`, as the Java client traces a `MessageBatch`), queued to the client library's
//! [`TraceDispatcher`] (batched trace messages to `RMQ_SYS_TRACE_TOPIC`, or `--trace-topic`, or
//! the region's topic with `--access-channel cloud`, through the name server, on the client
//! library's own runtime thread). The counters are printed at the end of the run.

use std::time::{Duration, Instant};

use crate::client::trace::dispatcher::DispatchOptions;
use crate::client::trace::hooks::Sent;
use crate::client::trace::{TraceDispatcher, TraceStats};
use crate::client::{ClientConfig, ClientInstance};
use crate::protocol::codes::{request_code, response_code};
use crate::protocol::message::decode_batch;
use crate::protocol::message::properties::{self as prop, find};
use crate::protocol::RemotingCommand;

use super::args::ProducerArgs;

pub struct BenchTrace {
    dispatcher: TraceDispatcher,
    group: String,
    topic: String,
}

/// What the Pub record of one request needs from the request, read before it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedRequest {
    /// The request's properties (a batch request has none of its own).
    properties: String,
    /// A batch: the members' UNIQ_KEYs joined by `,` (Java's batch `msgId`). A single message's
    /// id is its UNIQ_KEY property, read from `properties` (no second copy per send).
    batch_ids: Option<String>,
    /// The request body: one message's, or the whole encoded batch.
    body_length: usize,
}

impl TracedRequest {
    /// `None` for a request without the ids a record needs (a malformed batch body).
    pub fn of(req: &RemotingCommand) -> Option<TracedRequest> {
        if req.code != request_code::SEND_BATCH_MESSAGE {
            let properties = BenchTrace::request_properties(req)?;
            find(&properties, prop::UNIQ_KEY)?;
            return Some(TracedRequest {
                properties,
                batch_ids: None,
                body_length: req.body.len(),
            });
        }
        let items = decode_batch(&req.body).ok()?;
        let ids: Option<Vec<&str>> = items
            .iter()
            .map(|m| find(&m.properties, prop::UNIQ_KEY))
            .collect();
        Some(TracedRequest {
            properties: String::new(),
            batch_ids: Some(ids?.join(",")),
            body_length: req.body.len(),
        })
    }

    /// The id the Pub record carries.
    pub fn msg_id(&self) -> &str {
        match &self.batch_ids {
            Some(ids) => ids,
            None => find(&self.properties, prop::UNIQ_KEY).unwrap_or_default(),
        }
    }
}

impl BenchTrace {
    /// The dispatcher of the run's producer group, on a client instance of `--namesrv`.
    pub fn start(args: &ProducerArgs) -> Result<BenchTrace, String> {
        let mut cfg = ClientConfig::new(&args.common.namesrv);
        cfg.instance_name = "mqbench-trace".into();
        cfg.credentials = args.common.credentials().map(|c| (*c).clone());
        let inst = ClientInstance::get(&cfg).map_err(|e| format!("trace client: {e}"))?;
        let mut opts = DispatchOptions::new(&args.trace_topic);
        opts.access_channel = args.access_channel.into();
        Ok(BenchTrace {
            dispatcher: TraceDispatcher::start(&inst, &args.group, "PRODUCE", opts),
            group: args.group.clone(),
            topic: args.common.topic.clone(),
        })
    }

    /// The properties of a single-message send request (V2 header field `i`).
    pub fn request_properties(req: &RemotingCommand) -> Option<String> {
        req.ext("i").map(str::to_string)
    }

    /// Queue the Pub record of an acknowledged send. Reads the three answer fields it needs
    /// straight from the header map: the benchmark's plain run never decodes the whole
    /// `SendMessageResponseHeader`, so decoding it here would be charged to tracing.
    pub fn on_reply(
        &self,
        t: &TracedRequest,
        store_host: &str,
        started: Instant,
        r: &RemotingCommand,
    ) {
        let Some(offset_msg_id) = r.ext("msgId") else {
            return;
        };
        let sent = Sent {
            group: &self.group,
            properties: &t.properties,
            store_host,
            body_length: t.body_length,
            batch: t.batch_ids.is_some(),
            started,
            region: r.ext(prop::MSG_REGION).unwrap_or_default(),
            trace_on: r.ext(prop::TRACE_ON) != Some("false"),
            topic: &self.topic,
            msg_id: t.msg_id(),
            offset_msg_id,
            send_ok: r.code == response_code::SUCCESS,
        };
        self.dispatcher.on_sent(&sent);
    }

    /// Wait (at most `limit`) until every queued record was sent or failed; the counters.
    pub async fn settle(&self, limit: Duration) -> TraceStats {
        self.dispatcher.flush(limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::args::{Cli, Mode};
    use crate::bench::load::MessageFactory;
    use clap::Parser;

    fn factory(extra: &[&str]) -> MessageFactory {
        let mut argv = vec!["mqbench", "producer", "-s", "10"];
        argv.extend_from_slice(extra);
        let Mode::Producer(p) = Cli::try_parse_from(argv).unwrap().mode else {
            panic!("producer args")
        };
        p.validate().unwrap();
        MessageFactory::new(&p, 2)
    }

    #[test]
    fn a_batch_request_is_traced_as_one_record_of_all_its_ids() {
        let req = factory(&["--trace", "--mode", "batch", "-b", "3"]).request(0, 3, true);
        let t = TracedRequest::of(&req).unwrap();
        let items = decode_batch(&req.body).unwrap();
        let ids: Vec<&str> = items
            .iter()
            .map(|m| find(&m.properties, prop::UNIQ_KEY).unwrap())
            .collect();
        assert_eq!(ids.len(), 3);
        assert_eq!(t.msg_id(), ids.join(","));
        assert!(t.batch_ids.is_some() && t.properties.is_empty());
        assert_eq!(t.body_length, req.body.len());
    }

    #[test]
    fn a_single_request_is_traced_with_its_own_id_and_properties() {
        let req = factory(&["--trace"]).request(5, 1, false);
        let t = TracedRequest::of(&req).unwrap();
        let props = BenchTrace::request_properties(&req).unwrap();
        assert_eq!(Some(t.msg_id()), find(&props, prop::UNIQ_KEY));
        assert_eq!((t.body_length, t.batch_ids.is_none()), (10, true));
        let mut bad = factory(&["--mode", "batch"]).request(0, 2, true);
        bad.body = bytes::Bytes::from_static(b"junk");
        assert_eq!(TracedRequest::of(&bad), None);
    }
}
