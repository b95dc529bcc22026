//! Service-level errors and their one mapping to wire response codes.
//!
//! Every layer has its own typed error (`ProtocolError`, `StoreError`, `TopicError`,
//! `SendRefusal`...). Request handlers return `ServiceError`, and [`ServiceError::code`] (with the
//! variant's remark) is the single place where an error becomes a RocketMQ response code;
//! [`ServiceError::into_response`] builds the answer from it. Sub-errors keep their own remark
//! text but never choose a code.

use thiserror::Error;

use crate::actors::broker::logic::send_plan::SendRefusal;
use crate::actors::broker::logic::topics::TopicError;
use crate::protocol::codes::response_code as rc;
use crate::protocol::{ProtocolError, RemotingCommand};
use crate::storage::StoreError;

/// Why a request failed, as the client will be told.
#[derive(Debug, Error)]
pub enum ServiceError {
    /// Bad header or body: SYSTEM_ERROR with the parse error (it names the field).
    #[error("{0}")]
    Protocol(#[from] ProtocolError),
    /// No handler for the request code.
    #[error(" request type {0} not supported")]
    NotSupported(i32),
    /// The server is overloaded; the remark starts with RocketMQ's marker (`[OVERLOAD]`...).
    #[error("{0}")]
    Busy(String),
    /// The topic is unknown.
    #[error("{0}")]
    TopicNotExist(String),
    /// A lookup found nothing (QUERY_NOT_FOUND).
    #[error("{0}")]
    NotFound(String),
    /// Writing or reading is not permitted (broker or topic perm, forbidden system topic).
    #[error("{0}")]
    NoPermission(String),
    /// The broker's perm forbids writes (`brokerPermission` without PERM_WRITE).
    #[error("the broker[{0}] sending message is forbidden")]
    BrokerNotWriteable(String),
    /// A slave takes no writes: messages reach it only by replication from its master.
    #[error(
        "the broker[{0}] is a slave: it stores only what its master replicates, send to the master"
    )]
    SlaveRefusesWrites(String),
    /// The message breaks a limit (size, properties, topic length).
    #[error("{0}")]
    MessageIllegal(String),
    /// The store refuses writes (disk full, shutting down, slave).
    #[error("{0}")]
    ServiceNotAvailable(String),
    /// The message is stored, but its SYNC_FLUSH did not finish within `syncFlushTimeout`.
    /// The send is answered with its result header and this code (RocketMQ's `sendOK` outcomes,
    /// as the two below).
    #[error("the message is stored but its flush did not finish within {timeout_ms} ms")]
    FlushDiskTimeout { timeout_ms: u64 },
    /// SYNC_MASTER: the message is stored, but no slave acknowledged it within `slaveTimeout`.
    #[error("the message is stored but no slave acknowledged it within {timeout_ms} ms")]
    FlushSlaveTimeout { timeout_ms: u64 },
    /// SYNC_MASTER: the message is stored, but no slave is connected or the slave is more than
    /// `haSlaveFallbehindMax` behind, so it was not waited for.
    #[error("the message is stored but no slave can take it: {0}")]
    SlaveNotAvailable(String),
    /// Any other store failure (I/O, corrupt data, a failed flush): SYSTEM_ERROR.
    #[error("{0}")]
    Store(StoreError),
    /// A send the broker's rules refuse (half messages, batch restrictions).
    #[error("{0}")]
    Send(#[from] SendRefusal),
    /// No stored message at the commit-log offset a request named.
    #[error("{}", match .lookup {
        OffsetLookup::SendBack => format!("look message by offset failed, {offset}"),
        OffsetLookup::View => format!("can not find message by the offset, {offset}"),
    })]
    NoMessageAtOffset { offset: i64, lookup: OffsetLookup },
    /// A subscription expression type the broker cannot filter by (only TAG is built).
    #[error("The broker does not support consumer to filter message by {0}")]
    FilterNotSupported(String),
    /// A pull without its own subscription whose group registration fails Java's checks (group
    /// online, broadcast allowed, topic subscribed, version): the code below, Java's remark.
    #[error("{0}")]
    PullSubscription(
        #[from] crate::actors::broker::logic::subscription_view::PullSubscriptionError,
    ),
    /// A name, queue count or perm breaks the input rules (`protocol::validate`): SYSTEM_ERROR,
    /// as RocketMQ's TopicValidator answers.
    #[error("{0}")]
    Invalid(#[from] crate::protocol::validate::InvalidInput),
    /// A topic-table refusal; its code is chosen in [`ServiceError::code`].
    #[error("{0}")]
    Topic(#[from] TopicError),
    /// The consumer group is unknown and auto-creation is off.
    #[error("{0}")]
    SubscriptionGroupNotExist(String),
    /// GET_CONSUMER_CONNECTION_LIST for a group with no connected consumer.
    #[error("the consumer group[{0}] not online")]
    ConsumerNotOnline(String),
    /// GET_CONSUMER_LIST_BY_GROUP for a group with no connected consumer (SYSTEM_ERROR in Java).
    #[error("no consumer for this group, {0}")]
    NoConsumerInGroup(String),
    /// REGISTER_BROKER whose body does not match its `bodyCrc32`.
    #[error("crc32 not match: header says {expected}, body is {actual}")]
    BodyCrcMismatch { expected: i32, actual: i32 },
    /// An actor the request needs has stopped (its mailbox is closed).
    #[error("{component} unavailable: {reason}")]
    ComponentGone {
        component: &'static str,
        reason: actix::MailboxError,
    },
    /// A heartbeat breaks a bound or names no client: SYSTEM_ERROR with the reason.
    #[error("{0}")]
    Heartbeat(#[from] crate::actors::broker::logic::heartbeat_rules::HeartbeatError),
    /// An END_TRANSACTION whose half message is missing or does not match: SYSTEM_ERROR with
    /// RocketMQ's reason.
    #[error("{0}")]
    EndTransaction(#[from] crate::actors::broker::logic::transaction::EndTxError),
    /// END_TRANSACTION on a slave: SLAVE_NOT_AVAILABLE, as RocketMQ.
    #[error("the broker[{0}] is a slave: end transactions on its master")]
    SlaveCannotEndTransaction(String),
    /// A commit of a negative consumer offset: SYSTEM_ERROR with the reason.
    #[error("{0}")]
    NegativeOffset(#[from] crate::actors::broker::logic::offsets::NegativeOffset),
    /// VIEW_BROKER_STATS_DATA for an item nothing was counted in: SYSTEM_ERROR, Java's remark.
    #[error("The stats <{name}> <{key}> not exist")]
    StatsNotExist { name: String, key: String },
    /// An admin request refused or failed: NO_PERMISSION for a black-listed config key, else
    /// SYSTEM_ERROR, each with its reason.
    #[error("{0}")]
    Admin(#[from] crate::actors::admin_error::AdminError),
    /// An ACL denial (SYSTEM_ERROR with RocketMQ's `AclException` remark, as its remoting layer
    /// answers an exception from the ACL hook) or a failed ACL admin request (209/210/211).
    #[error("{0}")]
    Acl(#[from] crate::acl::AclError),
    /// A controller-mode refusal (RocketMQ 5's CONTROLLER_* codes 2000-2016).
    #[error("{0}")]
    Controller(#[from] crate::controller::ControllerError),
}

/// Which request looked a message up by its commit-log offset (the remarks differ, as in Java).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetLookup {
    /// CONSUMER_SEND_MSG_BACK.
    SendBack,
    /// VIEW_MESSAGE_BY_ID.
    View,
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::DiskFull(_) | StoreError::ShutDown => {
                ServiceError::ServiceNotAvailable(e.to_string())
            }
            StoreError::IllegalMessage(_) => ServiceError::MessageIllegal(e.to_string()),
            StoreError::FlushTimeout { timeout_ms } => {
                ServiceError::FlushDiskTimeout { timeout_ms }
            }
            e => ServiceError::Store(e),
        }
    }
}

impl ServiceError {
    /// The wire response code: the one place a failure's code is chosen.
    pub fn code(&self) -> i32 {
        match self {
            ServiceError::Protocol(_)
            | ServiceError::FilterNotSupported(_)
            | ServiceError::Store(_)
            | ServiceError::NoMessageAtOffset { .. }
            | ServiceError::NoConsumerInGroup(_)
            | ServiceError::BodyCrcMismatch { .. }
            | ServiceError::ComponentGone { .. }
            | ServiceError::Invalid(_)
            | ServiceError::Heartbeat(_)
            | ServiceError::EndTransaction(_)
            | ServiceError::NegativeOffset(_)
            | ServiceError::StatsNotExist { .. } => rc::SYSTEM_ERROR,
            ServiceError::Admin(e) if e.is_no_permission() => rc::NO_PERMISSION,
            ServiceError::Admin(crate::actors::admin_error::AdminError::ClientTimeout(_)) => {
                rc::CONSUME_MSG_TIMEOUT
            }
            ServiceError::Admin(_) => rc::SYSTEM_ERROR,
            ServiceError::Acl(e) => acl_code(e),
            ServiceError::Controller(e) => controller_code(e),
            ServiceError::Topic(e) => topic_code(e),
            ServiceError::Send(e) => send_code(e),
            ServiceError::NotSupported(_) => rc::REQUEST_CODE_NOT_SUPPORTED,
            ServiceError::Busy(_) => rc::SYSTEM_BUSY,
            ServiceError::TopicNotExist(_) => rc::TOPIC_NOT_EXIST,
            ServiceError::NotFound(_) => rc::QUERY_NOT_FOUND,
            ServiceError::NoPermission(_) | ServiceError::BrokerNotWriteable(_) => {
                rc::NO_PERMISSION
            }
            ServiceError::MessageIllegal(_) => rc::MESSAGE_ILLEGAL,
            ServiceError::ServiceNotAvailable(_) | ServiceError::SlaveRefusesWrites(_) => {
                rc::SERVICE_NOT_AVAILABLE
            }
            ServiceError::FlushDiskTimeout { .. } => rc::FLUSH_DISK_TIMEOUT,
            ServiceError::FlushSlaveTimeout { .. } => rc::FLUSH_SLAVE_TIMEOUT,
            ServiceError::SlaveNotAvailable(_) | ServiceError::SlaveCannotEndTransaction(_) => {
                rc::SLAVE_NOT_AVAILABLE
            }
            ServiceError::SubscriptionGroupNotExist(_) => rc::SUBSCRIPTION_GROUP_NOT_EXIST,
            ServiceError::ConsumerNotOnline(_) => rc::CONSUMER_NOT_ONLINE,
            ServiceError::PullSubscription(e) => {
                use crate::actors::broker::logic::subscription_view::PullSubscriptionError as P;
                match e {
                    P::GroupNotOnline | P::NotSubscribed => rc::SUBSCRIPTION_NOT_EXIST,
                    P::BroadcastForbidden(_) => rc::NO_PERMISSION,
                    P::NotLatest => rc::SUBSCRIPTION_NOT_LATEST,
                }
            }
        }
    }

    /// The message was stored although the answer is not SUCCESS: the send still reports its
    /// result (msg id, queue offset), as RocketMQ's `sendOK` outcomes do.
    pub fn message_stored(&self) -> bool {
        matches!(
            self,
            ServiceError::FlushDiskTimeout { .. }
                | ServiceError::FlushSlaveTimeout { .. }
                | ServiceError::SlaveNotAvailable(_)
        )
    }

    /// The response to `req` that reports this error.
    pub fn into_response(self, req: &RemotingCommand) -> RemotingCommand {
        req.response_to(self.code(), Some(self.to_string()))
    }

    /// An actor's mailbox failure, naming the component.
    pub fn gone(component: &'static str, reason: actix::MailboxError) -> Self {
        ServiceError::ComponentGone { component, reason }
    }
}

/// Java's codes for topic-table refusals (exhaustive: a new refusal must choose).
fn topic_code(e: &TopicError) -> i32 {
    match e {
        TopicError::NotAllowedSend(_)
        | TopicError::NotReadable(_)
        | TopicError::NotWriteable(_) => rc::NO_PERMISSION,
        TopicError::NotExist(_) => rc::TOPIC_NOT_EXIST,
        TopicError::Invalid(_)
        | TopicError::SystemTopic(_)
        | TopicError::ConflictsWithCluster(_)
        | TopicError::QueueIdIllegal { .. } => rc::SYSTEM_ERROR,
    }
}

/// RocketMQ 5's codes for controller refusals (exhaustive: a new refusal must choose).
fn controller_code(e: &crate::controller::ControllerError) -> i32 {
    use crate::controller::ControllerError as C;
    match e {
        C::FencedMasterEpoch(_) => rc::CONTROLLER_FENCED_MASTER_EPOCH,
        C::FencedSyncStateSetEpoch(_) => rc::CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH,
        C::InvalidMaster(_) => rc::CONTROLLER_INVALID_MASTER,
        C::InvalidReplicas(_) => rc::CONTROLLER_INVALID_REPLICAS,
        C::MasterNotAvailable(_) => rc::CONTROLLER_MASTER_NOT_AVAILABLE,
        C::InvalidRequest(_) => rc::CONTROLLER_INVALID_REQUEST,
        C::BrokerNotAlive(_) => rc::CONTROLLER_BROKER_NOT_ALIVE,
        C::NotLeader { .. } => rc::CONTROLLER_NOT_LEADER,
        C::MetadataNotExist(_) => rc::CONTROLLER_BROKER_METADATA_NOT_EXIST,
        C::InvalidCleanBrokerMetadata(_) => rc::CONTROLLER_INVALID_CLEAN_BROKER_METADATA,
        C::NeedToBeRegistered(_) => rc::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED,
        C::ElectMasterFailed(_) => rc::CONTROLLER_ELECT_MASTER_FAILED,
        C::AlterSyncStateSetFailed(_) => rc::CONTROLLER_ALTER_SYNC_STATE_SET_FAILED,
        C::BrokerIdInvalid(_) => rc::CONTROLLER_BROKER_ID_INVALID,
        C::Consensus(_) => rc::SYSTEM_ERROR,
    }
}

/// RocketMQ's codes for ACL failures.
fn acl_code(e: &crate::acl::AclError) -> i32 {
    use crate::acl::{AclError, AclOp};
    match e {
        AclError::Denied(_) => rc::SYSTEM_ERROR,
        AclError::Failed { op, .. } => match op {
            AclOp::UpdateAccount => rc::UPDATE_AND_CREATE_ACL_CONFIG_FAILED,
            AclOp::DeleteAccount => rc::DELETE_ACL_CONFIG_FAILED,
            AclOp::GlobalWhite => rc::UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED,
            AclOp::Read => rc::SYSTEM_ERROR,
        },
    }
}

/// Java's codes for the send rules' refusals.
fn send_code(e: &SendRefusal) -> i32 {
    match e {
        SendRefusal::BatchTopicTooLong
        | SendRefusal::BatchToRetryTopic(_)
        | SendRefusal::BatchWithDelay => rc::MESSAGE_ILLEGAL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acl_answers_as_rocketmq() {
        use crate::acl::{AclError, AclOp, Denied};
        let req = RemotingCommand::request(17);
        let d = Denied {
            message: "No accessKey is configured".into(),
            access_key: None,
        };
        let r = ServiceError::from(AclError::Denied(d)).into_response(&req);
        assert_eq!(r.code, 1);
        assert_eq!(
            r.remark.as_deref(),
            Some("org.apache.rocketmq.acl.common.AclException: No accessKey is configured")
        );
        for (op, code) in [
            (AclOp::UpdateAccount, 209),
            (AclOp::DeleteAccount, 210),
            (AclOp::GlobalWhite, 211),
            (AclOp::Read, 1),
        ] {
            assert_eq!(ServiceError::from(AclError::not_enabled(op)).code(), code);
        }
    }

    #[test]
    fn mapping_is_rocketmqs() {
        let req = RemotingCommand::request(105).with_opaque(9);
        let r = ServiceError::from(ProtocolError::MissingField("topic")).into_response(&req);
        assert_eq!(r.code, 1);
        assert!(r.remark.unwrap().contains("topic"));
        assert_eq!(r.opaque, 9);
        let r = ServiceError::NotSupported(999).into_response(&req);
        assert_eq!(
            (r.code, r.remark.as_deref()),
            (3, Some(" request type 999 not supported"))
        );
        assert_eq!(ServiceError::TopicNotExist("x".into()).code(), 17);
        assert_eq!(ServiceError::Busy("[OVERLOAD]".into()).code(), 2);
        assert_eq!(ServiceError::NotFound("x".into()).code(), 22);
        let disk = crate::storage::StoreError::DiskFull("/data 96% > 90%".into());
        let e = ServiceError::from(disk);
        assert_eq!(e.code(), 14);
        assert!(e.to_string().contains("96%"));
        assert_eq!(ServiceError::NoPermission("x".into()).code(), 16);
        assert_eq!(ServiceError::MessageIllegal("x".into()).code(), 13);
        assert_eq!(
            ServiceError::SubscriptionGroupNotExist("x".into()).code(),
            26
        );
        let bad = crate::protocol::validate::check_group("../x").unwrap_err();
        let r = ServiceError::from(bad).into_response(&req);
        assert_eq!(r.code, 1);
        assert!(r.remark.unwrap().contains("illegal characters"));
        let outside = crate::storage::StoreError::OutsideStore("../x".into());
        assert_eq!(ServiceError::from(outside).code(), 1);
        let big = crate::protocol::validate::check_queue_nums("writeQueueNums", 2147483647);
        let r = ServiceError::from(big.unwrap_err()).into_response(&req);
        assert_eq!(r.code, 1);
        assert!(r.remark.unwrap().contains("writeQueueNums 2147483647"));
        use crate::actors::broker::logic::topics::TopicError;
        assert_eq!(
            ServiceError::from(TopicError::NotExist("t".into())).code(),
            17
        );
    }

    #[test]
    fn every_topic_refusal_gets_javas_code() {
        let code = |e: TopicError| ServiceError::from(e).code();
        assert_eq!(code(TopicError::NotAllowedSend("S".into())), 16);
        assert_eq!(code(TopicError::NotReadable("T".into())), 16);
        assert_eq!(code(TopicError::NotWriteable("T".into())), 16);
        assert_eq!(code(TopicError::NotExist("T".into())), 17);
        assert_eq!(code(TopicError::SystemTopic("TBW102".into())), 1);
        assert_eq!(code(TopicError::ConflictsWithCluster("C".into())), 1);
        let illegal = TopicError::QueueIdIllegal {
            topic: "T".into(),
            queue_id: 9,
            queues: 4,
        };
        assert_eq!(code(illegal), 1);
    }

    #[test]
    fn a_flush_timeout_is_flush_disk_timeout_and_keeps_the_result() {
        let e = ServiceError::from(crate::storage::StoreError::FlushTimeout { timeout_ms: 5000 });
        assert_eq!(e.code(), 10);
        assert!(e.message_stored());
        assert_eq!(
            e.to_string(),
            "the message is stored but its flush did not finish within 5000 ms"
        );
        let failed = ServiceError::from(crate::storage::StoreError::FlushFailed("EIO".into()));
        assert_eq!(failed.code(), 1);
        assert!(!failed.message_stored());
        assert!(!ServiceError::from(crate::storage::StoreError::ShutDown).message_stored());
    }

    #[test]
    fn send_refusals_and_typed_conditions() {
        let req = RemotingCommand::request(36).with_opaque(4);
        let answer = |e: ServiceError| {
            let r = e.into_response(&req);
            (r.code, r.remark.unwrap_or_default())
        };
        let end = crate::actors::broker::logic::transaction::EndTxError::NoHalfMessage {
            commit_log_offset: 7,
        };
        assert_eq!(answer(end.into()).0, 1);
        assert_eq!(
            answer(ServiceError::SlaveCannotEndTransaction("b".into())).0,
            11
        );
        assert_eq!(
            answer(SendRefusal::BatchToRetryTopic("%RETRY%g".into()).into()),
            (
                13,
                "batch request does not support retry group %RETRY%g".into()
            )
        );
        assert_eq!(answer(SendRefusal::BatchWithDelay.into()).0, 13);
        assert_eq!(answer(SendRefusal::BatchTopicTooLong.into()).0, 13);
        assert_eq!(
            answer(ServiceError::BrokerNotWriteable("broker-a".into())),
            (
                16,
                "the broker[broker-a] sending message is forbidden".into()
            )
        );
        assert_eq!(
            answer(ServiceError::SlaveRefusesWrites("broker-a".into())),
            (
                14,
                "the broker[broker-a] is a slave: it stores only what its master replicates, \
                 send to the master"
                    .into()
            )
        );
        assert_eq!(
            answer(ServiceError::NoMessageAtOffset {
                offset: 42,
                lookup: OffsetLookup::SendBack
            }),
            (1, "look message by offset failed, 42".into())
        );
        assert_eq!(
            answer(ServiceError::NoMessageAtOffset {
                offset: 42,
                lookup: OffsetLookup::View
            }),
            (1, "can not find message by the offset, 42".into())
        );
        assert_eq!(
            answer(ServiceError::ConsumerNotOnline("g".into())),
            (206, "the consumer group[g] not online".into())
        );
        assert_eq!(
            answer(ServiceError::NoConsumerInGroup("g".into())),
            (1, "no consumer for this group, g".into())
        );
        let crc = ServiceError::BodyCrcMismatch {
            expected: 1,
            actual: 2,
        };
        assert_eq!(answer(crc).0, 1);
        let gone = ServiceError::gone("broker component", actix::MailboxError::Closed);
        let (code, remark) = answer(gone);
        assert_eq!(code, 1);
        assert!(
            remark.starts_with("broker component unavailable: "),
            "{remark}"
        );
    }

    #[test]
    fn an_illegal_record_is_named_illegal_once() {
        let layout = ProtocolError::IllegalMessage("properties length 40000 exceeds 32767".into());
        let e = ServiceError::from(crate::storage::StoreError::from(layout));
        assert_eq!(e.code(), 13);
        assert_eq!(
            e.to_string(),
            "illegal message: properties length 40000 exceeds 32767"
        );
    }
}
