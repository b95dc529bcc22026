//! Errors of the protocol layer. The broker maps them to wire response codes in one place
//! (`crate::error`).

use thiserror::Error;

/// What can go wrong while decoding or validating protocol data.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// The frame's length word is larger than the configured maximum.
    #[error("frame length {len} exceeds the limit of {max} bytes")]
    FrameTooLarge { len: usize, max: usize },
    /// The frame's length word is too small to hold even the header-length word.
    #[error("frame length {0} is too small")]
    FrameTooSmall(usize),
    /// The header length in the frame points past the end of the frame.
    #[error("header length {header} exceeds the frame's {available} remaining bytes")]
    HeaderPastFrame { header: usize, available: usize },
    /// The header could not be parsed (bad JSON, truncated binary header, bad UTF-8...).
    #[error("malformed header: {0}")]
    MalformedHeader(String),
    /// The serialize-type byte is neither JSON (0) nor ROCKETMQ (1).
    #[error("unknown serialize type {0}")]
    UnknownSerializeType(u8),
    /// A required header field is absent.
    #[error("the request header field '{0}' is missing")]
    MissingField(&'static str),
    /// A header field is present but its value does not parse.
    #[error("the request header field '{field}' has an invalid value '{value}'")]
    InvalidField { field: &'static str, value: String },
    /// A body could not be decoded.
    #[error("malformed body: {0}")]
    MalformedBody(String),
    /// A message does not fit the stored layout (topic > 127 bytes, properties > 32767 bytes...).
    #[error("illegal message: {0}")]
    IllegalMessage(String),
}
