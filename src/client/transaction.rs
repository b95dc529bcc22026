//! Transactional messages (docs: ../shared/protocol.md §7.8): [`TransactionProducer`] sends a half
//! message (property `TRAN_MSG=true`, `PGROUP`, sysFlag TRANSACTION_PREPARED), runs the
//! application's local transaction ([`TransactionListener::execute_local`]) and tells the broker
//! the outcome with END_TRANSACTION (37, oneway). A half message left open (Unknown, or a producer
//! that died in between) is checked back by the broker with CHECK_TRANSACTION_STATE (39) sent to
//! any live producer of the group; the `InstanceActor` routes it here by the message's `PGROUP`,
//! [`TransactionListener::check_local`] runs on the producer's own checker thread (never on the
//! client I/O thread), and the answer is an END_TRANSACTION with `fromTransactionCheck=true` to the
//! broker that asked.
//!
//! Pieces: the plain functions building END_TRANSACTION headers (unit-tested below), the checker
//! thread (a bounded queue, as Java's `checkRequestHoldMax`), and the handle.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock, Weak};

use actix::prelude::*;

use super::config::ProducerConfig;
use super::error::{ClientError, Result};
use super::heartbeat::UnregisterGroup;
use super::instance::{ClientInstance, Inner};
use super::message::{Message, MessageExt, SendResult, SendStatus};
use super::producer::Producer;
use super::route::AUTO_CREATE_TOPIC;
use super::trace::{end_transaction_context, TraceDispatcher, DEFAULT_REGION};
use crate::protocol::codes::message_sys_flag as msf;
use crate::protocol::codes::request_code as rq;
use crate::protocol::headers::{CheckTransactionStateRequestHeader, EndTransactionRequestHeader};
use crate::protocol::message::{decode_offset_msg_id, decode_record, properties as prop};
use crate::protocol::RemotingCommand;

/// Check requests queued per producer before new ones are dropped (Java `checkRequestHoldMax`);
/// a dropped check is simply asked again by the broker at its next scan.
pub const CHECK_QUEUE: usize = 2000;

/// The outcome of a local transaction (Java `LocalTransactionState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTransactionState {
    /// Make the message visible to consumers.
    Commit,
    /// Drop the message for good.
    Rollback,
    /// Not known yet: the broker will ask again ([`TransactionListener::check_local`]).
    Unknown,
}

impl LocalTransactionState {
    /// The `commitOrRollback` value of END_TRANSACTION (MessageSysFlag): 8, 12 or 0.
    pub fn wire_code(self) -> i32 {
        match self {
            LocalTransactionState::Commit => msf::TRANSACTION_COMMIT_TYPE,
            LocalTransactionState::Rollback => msf::TRANSACTION_ROLLBACK_TYPE,
            LocalTransactionState::Unknown => msf::TRANSACTION_NOT_TYPE,
        }
    }
}

/// Java's names: `COMMIT_MESSAGE`, `ROLLBACK_MESSAGE`, `UNKNOW`.
impl std::fmt::Display for LocalTransactionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LocalTransactionState::Commit => "COMMIT_MESSAGE",
            LocalTransactionState::Rollback => "ROLLBACK_MESSAGE",
            LocalTransactionState::Unknown => "UNKNOW",
        })
    }
}

/// The application's side of a transaction.
pub trait TransactionListener: Send + Sync + 'static {
    /// Run the local transaction for the half message just stored. Called on the task that
    /// called [`TransactionProducer::send_in_transaction`], with that call's `arg`.
    fn execute_local(&self, msg: &Message, arg: &(dyn Any + Send + Sync)) -> LocalTransactionState;

    /// The broker asks about a transaction still open (`msg` is the half message as stored; its
    /// `UNIQ_KEY`, i.e. [`MessageExt::msg_id`], is the transaction id). Runs on the producer's
    /// checker thread.
    fn check_local(&self, msg: &MessageExt) -> LocalTransactionState;
}

/// What [`TransactionProducer::send_in_transaction`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionSendResult {
    /// The half message's send result.
    pub send: SendResult,
    /// What the local transaction answered (Rollback without running it when the half message
    /// was not stored SEND_OK).
    pub local_state: LocalTransactionState,
    /// The transaction id (the half message's UNIQ_KEY).
    pub transaction_id: String,
}

/// Mark `msg` as a half message of `group` (Java clears a delay level: delay applies only to
/// the committed message, which the broker re-stores without it).
pub fn mark_half(mut msg: Message, group: &str) -> Message {
    msg.delay_level = 0;
    msg.properties
        .insert(prop::TRAN_MSG.to_string(), "true".to_string());
    msg.properties
        .insert(prop::PGROUP.to_string(), group.to_string());
    msg
}

/// END_TRANSACTION after a send: offsets from the send result (commit-log offset decoded from the
/// offset msg id).
pub fn end_after_send(
    group: &str,
    send: &SendResult,
    state: LocalTransactionState,
) -> Result<EndTransactionRequestHeader> {
    let id = send.offset_msg_id.split(',').next().unwrap_or_default();
    let (_, commit_log_offset) = decode_offset_msg_id(id)
        .map_err(|e| ClientError::State(format!("bad offset msg id {id:?}: {e}")))?;
    Ok(EndTransactionRequestHeader {
        producer_group: group.to_string(),
        tran_state_table_offset: send.queue_offset,
        commit_log_offset,
        commit_or_rollback: state.wire_code(),
        from_transaction_check: Some(false),
        msg_id: send.msg_id.clone(),
        transaction_id: Some(send.msg_id.clone()),
        bname: None,
    })
}

/// END_TRANSACTION answering a check-back: the offsets the broker gave, the message's id.
pub fn end_after_check(
    group: &str,
    check: &CheckTransactionStateRequestHeader,
    msg: &MessageExt,
    state: LocalTransactionState,
) -> EndTransactionRequestHeader {
    let msg_id = msg.msg_id();
    EndTransactionRequestHeader {
        producer_group: group.to_string(),
        tran_state_table_offset: check.tran_state_table_offset,
        commit_log_offset: check.commit_log_offset,
        commit_or_rollback: state.wire_code(),
        from_transaction_check: Some(true),
        transaction_id: check
            .transaction_id
            .clone()
            .or_else(|| Some(msg_id.clone())),
        msg_id,
        bname: None,
    }
}

/// A CHECK_TRANSACTION_STATE request, parsed, with the broker address to answer.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    pub broker_addr: String,
    pub header: CheckTransactionStateRequestHeader,
    pub msg: MessageExt,
}

impl CheckRequest {
    /// Parse a request from `broker_addr`; Ok((producer group, request)).
    pub fn parse(broker_addr: &str, cmd: &RemotingCommand) -> Result<(String, CheckRequest)> {
        let header = cmd.header::<CheckTransactionStateRequestHeader>()?;
        let msg = decode_record(&cmd.body)
            .map_err(|e| ClientError::State(format!("check-back body: {e}")))?;
        let group = msg
            .property(prop::PGROUP)
            .ok_or_else(|| ClientError::State("check-back message without PGROUP".into()))?
            .to_string();
        let req = CheckRequest {
            broker_addr: broker_addr.to_string(),
            header,
            msg,
        };
        Ok((group, req))
    }
}

/// The producers' check queues by group. Sender: `TransactionProducer::start`.
#[derive(Message)]
#[rtype(result = "Result<()>")]
pub struct RegisterTransactionChecker {
    pub group: String,
    pub queue: SyncSender<CheckRequest>,
}

/// Sender: `TransactionProducer` at shutdown or drop.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UnregisterTransactionChecker(pub String);

/// Hand a check to its group's queue (on the I/O thread: a non-blocking push only).
pub fn dispatch_check(queue: Option<&SyncSender<CheckRequest>>, group: &str, req: CheckRequest) {
    let Some(q) = queue else {
        tracing::warn!(%group, broker = %req.broker_addr, "check-back for a group with no transaction producer here");
        return;
    };
    match q.try_send(req) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            tracing::warn!(%group, "transaction check queue full; check dropped")
        }
        Err(TrySendError::Disconnected(_)) => {
            tracing::warn!(%group, "transaction checker stopped; check dropped")
        }
    }
}

/// Ask the listener, catching a panic as Unknown (the broker asks again later).
fn ask(f: impl FnOnce() -> LocalTransactionState) -> LocalTransactionState {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        tracing::error!("transaction listener panicked; answering UNKNOWN");
        LocalTransactionState::Unknown
    })
}

/// What the EndTransaction trace record of one END_TRANSACTION says (Java's
/// `EndTransactionTraceHookImpl`: region from the message's MSG_REGION, else DefaultRegion).
struct Ended<'a> {
    group: &'a str,
    topic: &'a str,
    tags: &'a str,
    keys: &'a str,
    region: Option<&'a str>,
    msg_id: &'a str,
    store_host: &'a str,
    state: LocalTransactionState,
    from_check: bool,
}

impl Ended<'_> {
    fn context(&self) -> crate::client::trace::TraceContext {
        // Java's LocalTransactionState names.
        let state = match self.state {
            LocalTransactionState::Commit => "COMMIT_MESSAGE",
            LocalTransactionState::Rollback => "ROLLBACK_MESSAGE",
            LocalTransactionState::Unknown => "UNKNOW",
        };
        end_transaction_context(
            self.group,
            self.region
                .filter(|r| !r.is_empty())
                .unwrap_or(DEFAULT_REGION),
            self.topic,
            self.msg_id,
            self.tags,
            self.keys,
            self.store_host,
            self.msg_id,
            state,
            self.from_check,
        )
    }
}

/// The checker thread: answers each check with `check_local`, then END_TRANSACTION oneway sent
/// from the client runtime. Ends when its queue is dropped (unregistered, or instance gone).
fn run_checker(
    group: String,
    rx: Receiver<CheckRequest>,
    listener: Arc<dyn TransactionListener>,
    instance: Weak<Inner>,
    trace: Arc<OnceLock<TraceDispatcher>>,
) {
    while let Ok(req) = rx.recv() {
        let state = ask(|| listener.check_local(&req.msg));
        let h = end_after_check(&group, &req.header, &req.msg, state);
        if let Some(t) = trace.get() {
            let m = &req.msg;
            let ended = Ended {
                group: &group,
                topic: &m.topic,
                tags: m.property("TAGS").unwrap_or_default(),
                keys: m.property("KEYS").unwrap_or_default(),
                region: m.property("MSG_REGION"),
                msg_id: &h.msg_id,
                store_host: &req.broker_addr,
                state,
                from_check: true,
            };
            t.submit(ended.context());
        }
        tracing::debug!(%group, msg_id = %h.msg_id, ?state, broker = %req.broker_addr, "transaction checked");
        let Some(inner) = instance.upgrade() else {
            return;
        };
        let inst = ClientInstance { inner };
        let net = inst.inner.net.clone();
        let addr = req.broker_addr;
        let cmd = RemotingCommand::request_with(rq::END_TRANSACTION, &h);
        drop(inst.spawn(async move {
            if let Err(e) = net.oneway(&addr, cmd).await {
                tracing::warn!(broker = %addr, error = %e, "END_TRANSACTION after check failed");
            }
        }));
    }
}

/// A producer of transactional messages: a [`Producer`] plus the group's [`TransactionListener`].
/// One per group and client instance (use another `instance_name` for a second member in the
/// same process). Dropping it stops answering check-backs; [`shutdown`](Self::shutdown) also
/// unregisters the group from the brokers.
pub struct TransactionProducer {
    producer: Producer,
    listener: Arc<dyn TransactionListener>,
    /// Set by `shutdown`, which unregisters the group itself (and waits for it).
    shut_down: bool,
}

impl TransactionProducer {
    /// Start the checker thread, route the group's check-backs to it, then start the producer
    /// (which heartbeats the group to the brokers it knows, so they may pick this member for
    /// check-backs). Brokers are learned from the route of TBW102 when the name server has one,
    /// else from the topics sent to (or [`Producer::queues`] of `producer()`).
    pub async fn start(
        config: ProducerConfig,
        listener: impl TransactionListener,
    ) -> Result<TransactionProducer> {
        let listener: Arc<dyn TransactionListener> = Arc::new(listener);
        let instance = ClientInstance::get(&config.client)?;
        let (tx, rx) = sync_channel(CHECK_QUEUE);
        let group = config.group.clone();
        instance
            .inner
            .actor
            .send(RegisterTransactionChecker {
                group: group.clone(),
                queue: tx,
            })
            .await
            .map_err(|e| ClientError::State(format!("instance actor: {e}")))??;
        let (l, weak) = (listener.clone(), Arc::downgrade(&instance.inner));
        let (g, trace) = (group.clone(), Arc::new(OnceLock::new()));
        let t = trace.clone();
        std::thread::Builder::new()
            .name(format!("mq-tx-check-{group}"))
            .spawn(move || run_checker(g, rx, l, weak, t))
            .map_err(|e| ClientError::State(format!("spawn checker thread: {e}")))?;
        let producer = match Producer::start(config).await {
            Ok(p) => p,
            Err(e) => {
                instance
                    .inner
                    .actor
                    .do_send(UnregisterTransactionChecker(group));
                return Err(e);
            }
        };
        if let Some(t) = producer.trace_dispatcher() {
            let _ = trace.set(t.clone());
        }
        // As Java's producer (which watches TBW102 from its start): learn the brokers now, so a
        // member that has not sent yet heartbeats them and can be picked for check-backs.
        if let Err(e) = instance.update_route(AUTO_CREATE_TOPIC).await {
            tracing::debug!(error = %e, "no {AUTO_CREATE_TOPIC} route; brokers learned at first send");
        }
        Ok(TransactionProducer {
            producer,
            listener,
            shut_down: false,
        })
    }

    /// The plain producer of the same group (for non-transactional sends).
    pub fn producer(&self) -> &Producer {
        &self.producer
    }

    /// Send `msg` as a half message, run `execute_local(msg, arg)` here, then end the transaction
    /// (commit, rollback, or leave it to the check-back when Unknown). An error means the half
    /// message was not stored; the local transaction did not run.
    pub async fn send_in_transaction<A: Any + Send + Sync>(
        &self,
        msg: Message,
        arg: A,
    ) -> Result<TransactionSendResult> {
        let group = self.producer.group().to_string();
        let msg = mark_half(msg, &group);
        let send = self.producer.send(msg.clone()).await?;
        let local_state = if send.status == SendStatus::SendOk {
            ask(|| self.listener.execute_local(&msg, &arg))
        } else {
            LocalTransactionState::Rollback
        };
        let broker = self.end(&group, &send, local_state).await?;
        if let Some(t) = self.producer.trace_dispatcher() {
            let ended = Ended {
                group: &group,
                topic: &msg.topic,
                tags: msg.tags.as_deref().unwrap_or_default(),
                keys: &msg.keys.join(" "),
                region: msg.properties.get("MSG_REGION").map(String::as_str),
                msg_id: &send.msg_id,
                store_host: &broker,
                state: local_state,
                from_check: false,
            };
            t.submit(ended.context());
        }
        Ok(TransactionSendResult {
            transaction_id: send.msg_id.clone(),
            send,
            local_state,
        })
    }

    /// Send END_TRANSACTION; returns the broker address it went to.
    async fn end(
        &self,
        group: &str,
        send: &SendResult,
        state: LocalTransactionState,
    ) -> Result<String> {
        let h = end_after_send(group, send, state)?;
        let inst = self.producer.instance().clone();
        let broker = send.queue.broker_name.clone();
        inst.clone()
            .run(async move {
                let addr = inst
                    .inner
                    .routes
                    .read()
                    .master_addr(&broker)
                    .ok_or_else(|| ClientError::State(format!("no address for broker {broker}")))?;
                let cmd = RemotingCommand::request_with(rq::END_TRANSACTION, &h);
                inst.inner.net.oneway(&addr, cmd).await.map(|()| addr)
            })
            .await?
    }

    /// Stop answering check-backs and unregister the group from the brokers.
    pub async fn shutdown(mut self) -> Result<()> {
        self.shut_down = true;
        let p = self.producer.clone();
        drop(self);
        p.shutdown().await
    }
}

/// Dropped without `shutdown`: stop answering check-backs and stop advertising the group (the
/// brokers are told in the background), so check-backs go to other members.
impl Drop for TransactionProducer {
    fn drop(&mut self) {
        let inner = &self.producer.instance().inner;
        let group = self.producer.group().to_string();
        inner
            .actor
            .do_send(UnregisterTransactionChecker(group.clone()));
        if !self.shut_down {
            inner.heartbeat.do_send(UnregisterGroup {
                producer: Some(group),
                consumer: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::message::MessageQueue;
    use crate::protocol::message::encode_offset_msg_id;

    fn send_result() -> SendResult {
        let host = "10.0.0.1:10911".parse().unwrap();
        SendResult {
            status: SendStatus::SendOk,
            msg_id: "UNIQ1".into(),
            offset_msg_id: encode_offset_msg_id(host, 4242),
            queue: MessageQueue::new("RMQ_SYS_TRANS_HALF_TOPIC", "b", 0),
            queue_offset: 17,
        }
    }

    #[test]
    fn states_map_to_sys_flag_values() {
        assert_eq!(LocalTransactionState::Commit.wire_code(), 8);
        assert_eq!(LocalTransactionState::Rollback.wire_code(), 12);
        assert_eq!(LocalTransactionState::Unknown.wire_code(), 0);
    }

    #[test]
    fn half_marks_group_and_drops_delay() {
        let m = mark_half(Message::new("T", "b").with_delay_level(3), "pg");
        assert_eq!(m.delay_level, 0);
        assert_eq!(m.properties.get("TRAN_MSG").unwrap(), "true");
        assert_eq!(m.properties.get("PGROUP").unwrap(), "pg");
    }

    #[test]
    fn end_after_send_takes_offsets_from_the_send() {
        let h = end_after_send("pg", &send_result(), LocalTransactionState::Commit).unwrap();
        assert_eq!(h.producer_group, "pg");
        assert_eq!(h.tran_state_table_offset, 17);
        assert_eq!(h.commit_log_offset, 4242);
        assert_eq!(h.commit_or_rollback, 8);
        assert_eq!(h.from_transaction_check, Some(false));
        assert_eq!(h.msg_id, "UNIQ1");
        assert_eq!(h.transaction_id.as_deref(), Some("UNIQ1"));
        let mut bad = send_result();
        bad.offset_msg_id = "nonsense".into();
        assert!(end_after_send("pg", &bad, LocalTransactionState::Commit).is_err());
    }

    fn half_message() -> MessageExt {
        let host: std::net::SocketAddr = "10.0.0.1:10911".parse().unwrap();
        let m = mark_half(Message::new("T", "body"), "pg");
        MessageExt {
            store_size: 0,
            body_crc: 0,
            queue_id: 0,
            flag: 0,
            queue_offset: 5,
            commit_log_offset: 999,
            sys_flag: 0,
            born_timestamp: 1,
            born_host: host,
            store_timestamp: 2,
            store_host: host,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: bytes::Bytes::from_static(b"body"),
            topic: "RMQ_SYS_TRANS_HALF_TOPIC".into(),
            properties: m.encode_properties("UNIQ2"),
        }
    }

    #[test]
    fn check_answer_uses_the_brokers_offsets_and_the_uniq_key() {
        let check = CheckTransactionStateRequestHeader {
            tran_state_table_offset: 5,
            commit_log_offset: 999,
            msg_id: Some("UNIQ2".into()),
            transaction_id: None,
            offset_msg_id: None,
        };
        let h = end_after_check(
            "pg",
            &check,
            &half_message(),
            LocalTransactionState::Rollback,
        );
        assert_eq!((h.tran_state_table_offset, h.commit_log_offset), (5, 999));
        assert_eq!(h.commit_or_rollback, 12);
        assert_eq!(h.from_transaction_check, Some(true));
        assert_eq!(h.msg_id, "UNIQ2");
        assert_eq!(h.transaction_id.as_deref(), Some("UNIQ2"));
    }

    #[test]
    fn check_request_parses_group_and_message() {
        let mut m = half_message();
        let enc = m.encode().freeze();
        m = decode_record(&enc).unwrap();
        let h = CheckTransactionStateRequestHeader {
            tran_state_table_offset: m.queue_offset,
            commit_log_offset: m.commit_log_offset,
            msg_id: Some(m.msg_id()),
            transaction_id: Some(m.msg_id()),
            offset_msg_id: Some(m.offset_msg_id()),
        };
        let cmd = RemotingCommand::request_with(rq::CHECK_TRANSACTION_STATE, &h).with_body(enc);
        let (group, req) = CheckRequest::parse("1.2.3.4:10911", &cmd).unwrap();
        assert_eq!(group, "pg");
        assert_eq!(req.broker_addr, "1.2.3.4:10911");
        assert_eq!(req.msg.msg_id(), "UNIQ2");
        assert_eq!(req.header, h);
        let empty = RemotingCommand::request_with(rq::CHECK_TRANSACTION_STATE, &h);
        assert!(CheckRequest::parse("a", &empty).is_err());
    }

    #[test]
    fn a_full_or_missing_queue_drops_the_check_without_blocking() {
        let (tx, rx) = sync_channel(1);
        let (_, req) = {
            let m = half_message();
            let h = CheckTransactionStateRequestHeader {
                tran_state_table_offset: 1,
                commit_log_offset: 2,
                msg_id: None,
                transaction_id: None,
                offset_msg_id: None,
            };
            (
                "pg".to_string(),
                CheckRequest {
                    broker_addr: "a".into(),
                    header: h,
                    msg: m,
                },
            )
        };
        dispatch_check(Some(&tx), "pg", req.clone());
        dispatch_check(Some(&tx), "pg", req.clone());
        dispatch_check(None, "pg", req);
        assert!(rx.try_recv().is_ok());
        assert!(rx.try_recv().is_err());
        assert_eq!(ask(|| panic!("boom")), LocalTransactionState::Unknown);
    }
}
