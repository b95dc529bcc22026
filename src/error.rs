//! Service-level errors and their one mapping to wire response codes.
//!
//! Every layer has its own typed error (`ProtocolError`, later `StoreError`...). Request handlers
//! return `ServiceError`, and `ServiceError::into_response` is the single place where an error
//! becomes a RocketMQ response code and remark.

use thiserror::Error;

use crate::protocol::codes::response_code as rc;
use crate::protocol::{ProtocolError, RemotingCommand};

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
    /// Any other failure with a remark.
    #[error("{0}")]
    System(String),
    /// Writing or reading is not permitted (broker or topic perm, forbidden system topic).
    #[error("{0}")]
    NoPermission(String),
    /// The message breaks a limit (size, properties, topic length).
    #[error("{0}")]
    MessageIllegal(String),
    /// The store refuses writes (disk full, shutting down, slave).
    #[error("{0}")]
    ServiceNotAvailable(String),
    /// A pull without its own subscription from a group that registered none for the topic.
    #[error("{0}")]
    SubscriptionNotExist(String),
    /// The registered subscription is older than the pull's.
    #[error("{0}")]
    SubscriptionNotLatest(String),
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
    /// A topic-table refusal; the code is the one the table names (`TopicError::response_code`).
    #[error("{0}")]
    Topic(#[from] crate::actors::broker::logic::topics::TopicError),
    /// The consumer group is unknown and auto-creation is off.
    #[error("{0}")]
    SubscriptionGroupNotExist(String),
    /// A heartbeat breaks a bound or names no client: SYSTEM_ERROR with the reason.
    #[error("{0}")]
    Heartbeat(#[from] crate::actors::broker::logic::heartbeat_rules::HeartbeatError),
    /// A commit of a negative consumer offset: SYSTEM_ERROR with the reason.
    #[error("{0}")]
    NegativeOffset(#[from] crate::actors::broker::logic::offsets::NegativeOffset),
}

impl From<crate::storage::StoreError> for ServiceError {
    fn from(e: crate::storage::StoreError) -> Self {
        use crate::storage::StoreError as S;
        match e {
            S::DiskFull(_) | S::ShutDown => ServiceError::ServiceNotAvailable(e.to_string()),
            S::IllegalMessage(_) => ServiceError::MessageIllegal(e.to_string()),
            _ => ServiceError::System(e.to_string()),
        }
    }
}

impl ServiceError {
    /// The wire response code.
    pub fn code(&self) -> i32 {
        match self {
            ServiceError::Protocol(_)
            | ServiceError::System(_)
            | ServiceError::Invalid(_)
            | ServiceError::Heartbeat(_)
            | ServiceError::NegativeOffset(_) => rc::SYSTEM_ERROR,
            ServiceError::Topic(e) => e.response_code(),
            ServiceError::NotSupported(_) => rc::REQUEST_CODE_NOT_SUPPORTED,
            ServiceError::Busy(_) => rc::SYSTEM_BUSY,
            ServiceError::TopicNotExist(_) => rc::TOPIC_NOT_EXIST,
            ServiceError::NotFound(_) => rc::QUERY_NOT_FOUND,
            ServiceError::NoPermission(_) => rc::NO_PERMISSION,
            ServiceError::MessageIllegal(_) => rc::MESSAGE_ILLEGAL,
            ServiceError::ServiceNotAvailable(_) => rc::SERVICE_NOT_AVAILABLE,
            ServiceError::SubscriptionGroupNotExist(_) => rc::SUBSCRIPTION_GROUP_NOT_EXIST,
            ServiceError::SubscriptionNotExist(_) => rc::SUBSCRIPTION_NOT_EXIST,
            ServiceError::SubscriptionNotLatest(_) => rc::SUBSCRIPTION_NOT_LATEST,
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

    /// The response to `req` that reports this error.
    pub fn into_response(self, req: &RemotingCommand) -> RemotingCommand {
        req.response_to(self.code(), Some(self.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
