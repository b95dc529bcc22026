//! What every request handler shares, name server and broker alike: the result type and the small
//! builders of replies. Errors become responses in one place (`crate::error`), so a handler only
//! ever returns a reply or a typed error.

use serde::Serialize;

use crate::error::ServiceError;
use crate::protocol::codes::response_code;
use crate::protocol::RemotingCommand;

/// What every handler returns: a reply, or an error that becomes one.
pub type HandlerResult = Result<RemotingCommand, ServiceError>;

/// A SUCCESS response to `req`.
pub fn ok(req: &RemotingCommand) -> RemotingCommand {
    req.response_to(response_code::SUCCESS, None)
}

/// Serialize a JSON body.
pub fn json_body<T: Serialize>(v: &T) -> bytes::Bytes {
    bytes::Bytes::from(serde_json::to_vec(v).expect("bodies serialize"))
}

/// An actor the handler asked is gone (the server is stopping): an error reply.
pub fn mailbox(e: actix::MailboxError) -> ServiceError {
    ServiceError::gone("server actor", e)
}
