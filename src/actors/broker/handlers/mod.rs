//! One file per broker request (or small family of requests). Each handler decodes its header and
//! body, calls the plain logic (through `BrokerCtx` or an actor), and builds the reply; errors are
//! returned as `ServiceError` and turned into responses in one place (`crate::error`).

pub mod admin;
pub mod client;
pub mod consumer_offset;
pub mod lock;
pub mod pull;
pub mod query;
pub mod queue_offset;
pub mod send;
pub mod send_back;

use serde::Serialize;

use crate::error::ServiceError;
use crate::protocol::codes::response_code;
use crate::protocol::RemotingCommand;

/// What every handler returns.
pub type HandlerResult = Result<RemotingCommand, ServiceError>;

/// A SUCCESS response to `req`.
pub fn ok(req: &RemotingCommand) -> RemotingCommand {
    req.response_to(response_code::SUCCESS, None)
}

/// Serialize a JSON body.
pub fn json_body<T: Serialize>(v: &T) -> bytes::Bytes {
    bytes::Bytes::from(serde_json::to_vec(v).expect("bodies serialize"))
}

/// Turn an actor mailbox failure into an error reply.
pub fn mailbox(e: actix::MailboxError) -> ServiceError {
    ServiceError::gone("broker component", e)
}
