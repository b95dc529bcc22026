//! `AdminError`: how an admin call fails. Network and broker refusals come through the client
//! library's [`ClientError`] (the admin client reuses its connections and calls); the admin layer
//! adds only what is its own: a name that resolves to nothing (cluster, broker, group) and bad
//! arguments. The CLI prints the `Display` text as its one-line error.

use thiserror::Error;

use crate::client::ClientError;
use crate::protocol::ProtocolError;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AdminError {
    /// A request failed on the network or the peer refused it (see [`AdminError::code`]).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The thing named does not exist (no such cluster, broker, topic route, message...).
    #[error("{0}")]
    NotFound(String),
    /// The arguments cannot be sent as given.
    #[error("invalid argument: {0}")]
    Invalid(String),
}

impl AdminError {
    /// The RocketMQ response code when a peer answered with an error code.
    pub fn code(&self) -> Option<i32> {
        match self {
            AdminError::Client(ClientError::Broker { code, .. }) => Some(*code),
            _ => None,
        }
    }

    /// A peer's refusal with `code` and `remark`.
    pub fn refused(code: i32, remark: Option<&str>) -> AdminError {
        AdminError::Client(ClientError::broker(code, remark))
    }
}

impl From<ProtocolError> for AdminError {
    fn from(e: ProtocolError) -> Self {
        AdminError::Client(e.into())
    }
}

impl From<crate::remoting::ClientError> for AdminError {
    fn from(e: crate::remoting::ClientError) -> Self {
        AdminError::Client(e.into())
    }
}

pub type Result<T> = std::result::Result<T, AdminError>;
