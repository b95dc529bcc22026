//! The requests a broker relays to a push consumer on an admin's behalf, answered as RocketMQ's
//! Java client answers them (ClientRemotingProcessor):
//!
//! - RESET_CONSUMER_CLIENT_OFFSET (220, oneway, mqadmin resetOffsetByTime): the named queues'
//!   process queues are dropped (their pull loops stop), running listener calls are awaited
//!   (bounded), the new offsets are set and committed, and the queues are re-created by a
//!   rebalance, so pulling restarts from the new offsets (the Java client's `resetOffset`).
//! - GET_CONSUMER_RUNNING_INFO (307): `ConsumerRunningInfo` with the consumer's properties,
//!   subscriptions and per-queue state (commit offset, cached messages, lock, timestamps).
//! - CONSUME_MESSAGE_DIRECTLY (309, the dashboard's "resend"): the stored message in the body is
//!   given to the listener once, and its outcome reported (`CR_SUCCESS`, `CR_LATER`,
//!   `CR_THROW_EXCEPTION` when the listener panicked), without touching offsets.
//!
//! The `InstanceActor` routes each request by its group to that group's `RebalanceActor`
//! (`AdminRequest`); the handler runs as an atomic response, so it never overlaps a rebalance.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use parking_lot::Mutex;

use super::consumer::{ConsumerCore, Listener};
use super::message::{prepare_received, ConsumeResult, MessageExt, MessageQueue};
use super::rebalance::{rebalance, Assignment, RebalanceActor};
use crate::protocol::body::admin::{
    CmResult, ConsumeMessageDirectlyResult, ConsumeStatus, ConsumerRunningInfo, ProcessQueueInfo,
};
use crate::protocol::body::broker::ResetOffsetBody;
use crate::protocol::codes::{request_code as rq, response_code as rc};
use crate::protocol::headers::admin::{
    ConsumeMessageDirectlyResultRequestHeader, ResetOffsetRequestHeader,
};
use crate::protocol::headers::client::GetConsumerRunningInfoRequestHeader;
use crate::protocol::message::decode_record;
use crate::protocol::RemotingCommand;
use crate::remoting::client::RemotingClient;

/// Running listener calls are awaited at most this long before a reset applies its offsets.
const RESET_AWAIT: Duration = Duration::from_secs(3);

/// A relayed admin request for one consumer group. Sender: the `InstanceActor`.
#[derive(Message)]
#[rtype(result = "AdminAnswer")]
pub enum AdminRequest {
    ResetOffset(BTreeMap<MessageQueue, i64>),
    RunningInfo,
    ConsumeDirectly {
        msg: Box<MessageExt>,
        broker_name: String,
    },
}

pub enum AdminAnswer {
    Done,
    RunningInfo(Box<ConsumerRunningInfo>),
    Consumed(ConsumeMessageDirectlyResult),
}

impl Handler<AdminRequest> for RebalanceActor {
    type Result = AtomicResponse<Self, AdminAnswer>;

    fn handle(&mut self, msg: AdminRequest, _: &mut Self::Context) -> Self::Result {
        let (core, assign, started) = (self.core.clone(), self.assign.clone(), self.started_ms);
        AtomicResponse::new(Box::pin(
            async move {
                match msg {
                    AdminRequest::ResetOffset(offsets) => {
                        reset(&core, &assign, offsets).await;
                        AdminAnswer::Done
                    }
                    AdminRequest::RunningInfo => {
                        AdminAnswer::RunningInfo(Box::new(running_info(&core, &assign, started)))
                    }
                    AdminRequest::ConsumeDirectly { msg, broker_name } => {
                        AdminAnswer::Consumed(consume_directly(&core, *msg, broker_name).await)
                    }
                }
            }
            .into_actor(self),
        ))
    }
}

async fn reset(
    core: &Arc<ConsumerCore>,
    assign: &Arc<Mutex<Assignment>>,
    offsets: BTreeMap<MessageQueue, i64>,
) {
    let dropped: Vec<MessageQueue> = {
        let a = assign.lock();
        offsets
            .keys()
            .filter_map(|mq| a.queues.get(mq).map(|pq| (mq, pq)))
            .map(|(mq, pq)| {
                pq.state.lock().dropped = true;
                mq.clone()
            })
            .collect()
    };
    if !core.await_in_flight(RESET_AWAIT).await {
        tracing::warn!(
            group = core.group(),
            "reset offset: listener calls still running"
        );
    }
    {
        let mut t = core.offsets.lock();
        for (mq, &o) in &offsets {
            t.update(mq, o, false);
        }
    }
    let mqs: Vec<MessageQueue> = offsets.keys().cloned().collect();
    core.persist_offsets(Some(&mqs), false).await;
    {
        let mut a = assign.lock();
        for mq in &dropped {
            a.queues.remove(mq);
        }
    }
    tracing::info!(
        group = core.group(),
        queues = offsets.len(),
        restarted = dropped.len(),
        "offsets reset by the broker"
    );
    rebalance(core, assign, "reset offset").await;
}

fn running_info(
    core: &Arc<ConsumerCore>,
    assign: &Arc<Mutex<Assignment>>,
    started_ms: i64,
) -> ConsumerRunningInfo {
    let mut info = ConsumerRunningInfo::default();
    let cfg = &core.config;
    let props = [
        (
            ConsumerRunningInfo::PROP_CONSUME_TYPE,
            core.consume_type.name().to_string(),
        ),
        (
            ConsumerRunningInfo::PROP_CONSUME_ORDERLY,
            core.orderly().to_string(),
        ),
        (
            ConsumerRunningInfo::PROP_NAMESERVER_ADDR,
            cfg.client.namesrv_addr.clone(),
        ),
        (
            ConsumerRunningInfo::PROP_THREADPOOL_CORE_SIZE,
            cfg.consume_thread_max.to_string(),
        ),
        (
            ConsumerRunningInfo::PROP_CLIENT_VERSION,
            "V4_9_8".to_string(),
        ),
        (
            ConsumerRunningInfo::PROP_CONSUMER_START_TIMESTAMP,
            started_ms.to_string(),
        ),
        ("consumerGroup", cfg.group.clone()),
        ("messageModel", cfg.message_model.name().to_string()),
        (
            "consumeFromWhere",
            cfg.consume_from_where.name().to_string(),
        ),
    ];
    info.properties = props.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    for (topic, sub) in core.subscriptions.read().iter() {
        info.subscription_set.push(sub.data.clone());
        info.status_table
            .insert(topic.clone(), ConsumeStatus::default());
    }
    let offsets = core.offsets.lock().all();
    for (mq, pq) in assign.lock().queues.iter() {
        let s = pq.state.lock();
        let (count, min, max) = s.cached_range();
        info.mq_table.insert(
            mq.clone(),
            ProcessQueueInfo {
                cached_msg_count: count as i32,
                cached_msg_max_offset: max,
                cached_msg_min_offset: min,
                commit_offset: offsets.get(mq).copied().unwrap_or(-1),
                droped: s.dropped,
                last_lock_timestamp: s.last_lock_ms,
                locked: s.locked,
                ..Default::default()
            },
        );
    }
    info
}

async fn consume_directly(
    core: &Arc<ConsumerCore>,
    msg: MessageExt,
    broker_name: String,
) -> ConsumeMessageDirectlyResult {
    let (f, order) = match core.listener.get() {
        Some(Listener::Concurrent(f)) => (f.clone(), false),
        Some(Listener::Orderly(f)) => (f.clone(), true),
        None => {
            return ConsumeMessageDirectlyResult {
                consume_result: CmResult::CrReturnNull,
                remark: Some("the consumer has no listener".into()),
                ..Default::default()
            }
        }
    };
    let msg = prepare_received(msg, core.group());
    let mq = MessageQueue::new(&msg.topic, &broker_name, msg.queue_id);
    let started = Instant::now();
    let outcome = tokio::task::spawn_blocking(move || f(std::slice::from_ref(&msg), &mq)).await;
    let (consume_result, remark) = match outcome {
        Ok(ConsumeResult::Success) => (CmResult::CrSuccess, None),
        Ok(ConsumeResult::Later) => (CmResult::CrLater, None),
        Err(e) => (
            CmResult::CrThrowException,
            Some(format!("the listener panicked: {e}")),
        ),
    };
    ConsumeMessageDirectlyResult {
        auto_commit: true,
        consume_result,
        order,
        remark,
        spent_time_mills: started.elapsed().as_millis() as i64,
    }
}

/// The group a relayed admin request is for, or `None` when `cmd` is not one.
pub fn group_of(cmd: &RemotingCommand) -> Option<Result<String, String>> {
    let group = match cmd.code {
        rq::RESET_CONSUMER_CLIENT_OFFSET => {
            cmd.header::<ResetOffsetRequestHeader>().map(|h| h.group)
        }
        rq::GET_CONSUMER_RUNNING_INFO => cmd
            .header::<GetConsumerRunningInfoRequestHeader>()
            .map(|h| h.consumer_group),
        rq::CONSUME_MESSAGE_DIRECTLY => cmd
            .header::<ConsumeMessageDirectlyResultRequestHeader>()
            .map(|h| h.consumer_group),
        _ => return None,
    };
    Some(group.map_err(|e| e.to_string()))
}

/// The request for the group's actor, or the error answer to send back.
fn parse(cmd: &RemotingCommand) -> Result<AdminRequest, String> {
    match cmd.code {
        rq::RESET_CONSUMER_CLIENT_OFFSET => ResetOffsetBody::from_fastjson(&cmd.body)
            .map(|b| AdminRequest::ResetOffset(b.offset_table))
            .map_err(|e| e.to_string()),
        rq::GET_CONSUMER_RUNNING_INFO => Ok(AdminRequest::RunningInfo),
        _ => {
            let msg = decode_record(&cmd.body).map_err(|e| e.to_string())?;
            let broker_name = cmd
                .ext_fields
                .get("brokerName")
                .cloned()
                .unwrap_or_default();
            Ok(AdminRequest::ConsumeDirectly {
                msg: Box::new(msg),
                broker_name,
            })
        }
    }
}

/// Serve one relayed request on the client runtime: hand it to the group's actor (`target`,
/// `None` when this client has no such push consumer) and answer on `conn` unless it is oneway.
pub async fn serve(
    conn: RemotingClient,
    cmd: RemotingCommand,
    group: String,
    target: Option<Recipient<AdminRequest>>,
) {
    let answer = match (target, parse(&cmd)) {
        (None, _) => Err(format!(
            "The Consumer Group <{group}> not exist in this consumer"
        )),
        (_, Err(e)) => Err(format!("bad request {}: {e}", cmd.code)),
        (Some(t), Ok(req)) => t
            .send(req)
            .await
            .map_err(|e| format!("consumer <{group}> is stopping: {e}")),
    };
    if cmd.is_oneway() {
        if let Err(e) = answer {
            tracing::warn!(%group, code = cmd.code, "relayed admin request not applied: {e}");
        }
        return;
    }
    let resp = match answer {
        Ok(AdminAnswer::RunningInfo(info)) => cmd
            .response_to(rc::SUCCESS, None)
            .with_body(info.to_fastjson().into_bytes()),
        Ok(AdminAnswer::Consumed(r)) => cmd.response_to(rc::SUCCESS, None).with_body(r.encode()),
        Ok(AdminAnswer::Done) => cmd.response_to(rc::SUCCESS, None),
        Err(e) => cmd.response_to(rc::SYSTEM_ERROR, Some(e)),
    };
    let _ = conn.reply(resp).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::header::CommandHeader;

    fn with_header(code: i32, h: &impl CommandHeader) -> RemotingCommand {
        RemotingCommand::request_with(code, h)
    }

    #[test]
    fn relayed_requests_are_routed_by_their_group() {
        let reset = with_header(
            rq::RESET_CONSUMER_CLIENT_OFFSET,
            &ResetOffsetRequestHeader::to_client("T", "G", 5),
        );
        assert_eq!(group_of(&reset), Some(Ok("G".to_string())));
        let info = with_header(
            rq::GET_CONSUMER_RUNNING_INFO,
            &GetConsumerRunningInfoRequestHeader {
                consumer_group: "G2".into(),
                client_id: "c".into(),
                jstack_enable: None,
            },
        );
        assert_eq!(group_of(&info), Some(Ok("G2".to_string())));
        assert!(matches!(
            group_of(&RemotingCommand::request(rq::CONSUME_MESSAGE_DIRECTLY)),
            Some(Err(_))
        ));
        assert_eq!(
            group_of(&RemotingCommand::request(rq::NOTIFY_CONSUMER_IDS_CHANGED)),
            None
        );
    }

    #[test]
    fn bodies_are_parsed_or_refused() {
        let mut body = ResetOffsetBody::default();
        body.offset_table.insert(MessageQueue::new("T", "b", 1), 4);
        let reset = with_header(
            rq::RESET_CONSUMER_CLIENT_OFFSET,
            &ResetOffsetRequestHeader::to_client("T", "G", 5),
        )
        .with_body(body.to_fastjson().into_bytes());
        match parse(&reset) {
            Ok(AdminRequest::ResetOffset(t)) => assert_eq!(t, body.offset_table),
            _ => panic!("a reset"),
        }
        let bad = RemotingCommand::request(rq::RESET_CONSUMER_CLIENT_OFFSET).with_body(&b"{"[..]);
        assert!(parse(&bad).is_err());
        let garbage = RemotingCommand::request(rq::CONSUME_MESSAGE_DIRECTLY).with_body(&b"xx"[..]);
        assert!(parse(&garbage).is_err());
    }
}
