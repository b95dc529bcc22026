//! `ClientError`: every way a client call can fail, typed so an application can tell an unknown
//! topic from a timeout from a broker refusal without parsing text. Network failures of the shared
//! `RemotingClient` are folded in here so callers see one error type.

use thiserror::Error;

use crate::protocol::codes::response_name;
use crate::remoting::client::ClientError as NetError;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ClientError {
    /// Neither the topic's route nor the auto-create template (TBW102) is known to the name servers.
    #[error("topic {0} does not exist (no route on the name servers)")]
    TopicNotExist(String),
    #[error("message body of {size} bytes exceeds the limit of {max} bytes")]
    BodyTooLarge { size: usize, max: usize },
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    #[error("request timed out after {millis} ms ({what})")]
    Timeout { what: String, millis: u128 },
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("connection to {0} closed")]
    Closed(String),
    #[error("no name server answered: {0}")]
    NameServer(String),
    #[error("broker answered {name} ({code}): {remark}")]
    Broker {
        code: i32,
        name: String,
        remark: String,
    },
    #[error("malformed response: {0}")]
    Protocol(String),
    #[error("client state: {0}")]
    State(String),
    #[error("local offset store: {0}")]
    Io(String),
}

impl ClientError {
    /// A broker response code other than the one expected.
    pub fn broker(code: i32, remark: Option<&str>) -> ClientError {
        ClientError::Broker {
            code,
            name: response_name(code).unwrap_or("UNKNOWN").to_string(),
            remark: remark.unwrap_or("").to_string(),
        }
    }

    /// Whether a retry on another broker may help (network trouble or a refusal Java retries).
    pub fn retriable(&self) -> bool {
        use crate::protocol::codes::response_code as rc;
        match self {
            ClientError::Timeout { .. } | ClientError::Connect { .. } | ClientError::Closed(_) => {
                true
            }
            ClientError::Broker { code, .. } => matches!(
                *code,
                rc::TOPIC_NOT_EXIST
                    | rc::SERVICE_NOT_AVAILABLE
                    | rc::SYSTEM_ERROR
                    | rc::SYSTEM_BUSY
                    | rc::NO_PERMISSION
                    | rc::NO_BUYER_ID
                    | rc::NOT_IN_CURRENT_UNIT
            ),
            _ => false,
        }
    }
}

impl From<NetError> for ClientError {
    fn from(e: NetError) -> Self {
        match e {
            NetError::Connect { addr, reason } => ClientError::Connect { addr, reason },
            NetError::Timeout { addr, millis } => ClientError::Timeout {
                what: format!("request to {addr}"),
                millis,
            },
            NetError::Closed(a) => ClientError::Closed(a),
        }
    }
}

impl From<crate::protocol::ProtocolError> for ClientError {
    fn from(e: crate::protocol::ProtocolError) -> Self {
        ClientError::Protocol(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;
