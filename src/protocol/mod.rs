//! The RocketMQ 4.x remoting protocol: frames, commands, codes, typed headers, JSON bodies, the
//! stored-message layout, tag filters and name rules. Pure data and parsing: no actix, no I/O, so
//! every rule here is unit-tested on bytes alone.

pub mod body;
pub mod codes;
pub mod command;
pub mod error;
pub mod filter;
pub mod frame;
pub mod ha;
pub mod header;
pub mod headers;
pub mod message;
pub mod validate;

pub use command::{LanguageCode, RemotingCommand, SerializeType};
pub use error::ProtocolError;
pub use header::{CommandHeader, ExtFields};
