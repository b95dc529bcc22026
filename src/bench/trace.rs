//! `mqbench producer --trace`: what a client with message trace on adds to each acknowledged
//! send: a Pub record built from the request and the answer, queued to the client library's
//! [`TraceDispatcher`] (batched trace messages to `RMQ_SYS_TRACE_TOPIC` through the name server,
//! on the client library's own runtime thread). The counters are printed at the end of the run.

use std::time::{Duration, Instant};

use crate::client::trace::dispatcher::DispatchOptions;
use crate::client::trace::hooks::Sent;
use crate::client::trace::{TraceDispatcher, TraceStats, TRACE_TOPIC};
use crate::client::{ClientConfig, ClientInstance};
use crate::protocol::codes::response_code;
use crate::protocol::RemotingCommand;

use super::args::ProducerArgs;

pub struct BenchTrace {
    dispatcher: TraceDispatcher,
    group: String,
    topic: String,
    body_len: usize,
}

impl BenchTrace {
    /// The dispatcher of the run's producer group, on a client instance of `--namesrv`.
    pub fn start(args: &ProducerArgs) -> Result<BenchTrace, String> {
        let mut cfg = ClientConfig::new(&args.common.namesrv);
        cfg.instance_name = "mqbench-trace".into();
        cfg.credentials = args.common.credentials().map(|c| (*c).clone());
        let inst = ClientInstance::get(&cfg).map_err(|e| format!("trace client: {e}"))?;
        let opts = DispatchOptions::new(TRACE_TOPIC);
        Ok(BenchTrace {
            dispatcher: TraceDispatcher::start(&inst, &args.group, "PRODUCE", opts),
            group: args.group.clone(),
            topic: args.common.topic.clone(),
            body_len: args.size,
        })
    }

    /// The properties of a single-message send request (V2 header field `i`).
    pub fn request_properties(req: &RemotingCommand) -> Option<String> {
        req.ext("i").map(str::to_string)
    }

    /// Queue the Pub record of an acknowledged send. Reads the three answer fields it needs
    /// straight from the header map: the benchmark's plain run never decodes the whole
    /// `SendMessageResponseHeader`, so decoding it here would be charged to tracing.
    pub fn on_reply(&self, props: &str, store_host: &str, started: Instant, r: &RemotingCommand) {
        let Some(offset_msg_id) = r.ext("msgId") else {
            return;
        };
        let sent = Sent {
            group: &self.group,
            properties: props,
            store_host,
            body_length: self.body_len,
            batch: false,
            started,
            region: r.ext("MSG_REGION").unwrap_or_default(),
            trace_on: r.ext("TRACE_ON") != Some("false"),
            topic: &self.topic,
            msg_id: crate::protocol::message::properties::find(props, "UNIQ_KEY")
                .unwrap_or_default(),
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
