//! The frame codec: bytes on a TCP stream <-> [`RemotingCommand`].
//!
//! Shaped after tokio's mini-redis: [`check`] only answers "is one whole frame buffered, and how
//! long is it?" without allocating, and [`parse`] turns exactly one frame into a command. The split
//! keeps the codec pure (no I/O, no actix) so every rule is testable on byte slices, and lets the
//! [`RemotingCodec`] adapter for `tokio_util::codec` stay a few lines long. The body is a zero-copy
//! slice of the frame. Encoding can stop after the header ([`try_encode_head`]) so the caller
//! sends the body segments of `RemotingCommand::body_parts` without copying them.
//!
//! Frame layout (docs/protocol.md §1.1): `length:i32` (bytes after this word), `headerLenWord:i32`
//! (top byte = serialize type, low 24 bits = header length), header, body. The two header forms
//! live in [`json`] (lenient, because real clients disagree on the details) and [`binary`].
//! Decoding never panics and never allocates more than the bytes actually present.

pub mod binary;
pub mod json;
mod json_fast;

use std::io;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use thiserror::Error;
use tokio_util::codec::{Decoder, Encoder};

use super::command::{RemotingCommand, SerializeType};
use super::error::ProtocolError;

/// The largest `length` word accepted by default (the Java decoder's `frameMaxLength`).
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// The largest header the 24-bit header-length field can describe.
pub const MAX_HEADER_LEN: usize = 0x00FF_FFFF;

/// Is a whole frame at the start of `src`?
///
/// `Ok(None)`: more bytes are needed. `Ok(Some(n))`: the first `n` bytes (the length word plus
/// `length` bytes) are one frame. A length word larger than `max_frame` or too small to hold the
/// header-length word is an error; the connection cannot be resynchronised after it.
pub fn check(src: &[u8], max_frame: usize) -> Result<Option<usize>, ProtocolError> {
    let Some(word) = src.get(..4) else {
        return Ok(None);
    };
    // Read as unsigned: a negative i32 is a huge length and fails the limit check.
    let len = u32::from_be_bytes([word[0], word[1], word[2], word[3]]) as usize;
    if len > max_frame {
        return Err(ProtocolError::FrameTooLarge {
            len,
            max: max_frame,
        });
    }
    if len < 4 {
        return Err(ProtocolError::FrameTooSmall(len));
    }
    let total = 4 + len;
    if src.len() < total {
        Ok(None)
    } else {
        Ok(Some(total))
    }
}

/// Decode exactly one frame (including its leading length word) into a command.
///
/// Errors: `FrameTooSmall` (length word < 4), `MalformedHeader` (length word disagreeing with the
/// frame, or an undecodable header), `HeaderPastFrame`, `UnknownSerializeType`.
pub fn parse(frame: Bytes) -> Result<RemotingCommand, ProtocolError> {
    let declared = frame
        .get(..4)
        .map_or(0, |w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]) as usize);
    if declared < 4 {
        return Err(ProtocolError::FrameTooSmall(declared));
    }
    let actual = frame.len().saturating_sub(4);
    if declared != actual {
        return Err(ProtocolError::MalformedHeader(format!(
            "length word {declared} does not match the {actual} bytes of the frame"
        )));
    }
    // From here on the frame holds at least the two length words.
    let word = u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let type_byte = (word >> 24) as u8;
    let header_len = (word & MAX_HEADER_LEN as u32) as usize;
    let available = frame.len() - 8;
    if header_len > available {
        return Err(ProtocolError::HeaderPastFrame {
            header: header_len,
            available,
        });
    }
    let header = &frame[8..8 + header_len];
    let mut cmd = match type_byte {
        0 => json::decode_header(header)?,
        1 => binary::decode_header(header)?,
        other => return Err(ProtocolError::UnknownSerializeType(other)),
    };
    cmd.body = frame.slice(8 + header_len..);
    Ok(cmd)
}

/// Write `cmd` as one frame in `cmd.serialize_type`: [`try_encode_head`], then `body` and every
/// `body_parts` segment copied after it.
///
/// Fails only when the command cannot be represented: a header over 16 MiB - 1 (24-bit field),
/// a frame over `i32::MAX`, or (binary form) a code/version outside `i16` or an ext key over
/// 65535 bytes. On error nothing is written to `dst`.
pub fn try_encode(cmd: &RemotingCommand, dst: &mut BytesMut) -> Result<(), ProtocolError> {
    try_encode_head(cmd, dst)?;
    dst.put_slice(&cmd.body);
    dst.reserve(cmd.body_len() - cmd.body.len());
    for part in &cmd.body_parts {
        dst.put_slice(part);
    }
    Ok(())
}

/// Write the start of `cmd`'s frame: the two length words and the header. The caller writes the
/// body right after: `body`, then the `body_parts` (the outbox queues those without copying
/// them). Reserves room for the head and `body`. Errors as [`try_encode`]; on error nothing is
/// written.
pub fn try_encode_head(cmd: &RemotingCommand, dst: &mut BytesMut) -> Result<(), ProtocolError> {
    let header = match cmd.serialize_type {
        SerializeType::Json => json::encode_header(cmd),
        SerializeType::RocketMq => binary::encode_header(cmd)?,
    };
    if header.len() > MAX_HEADER_LEN {
        return Err(ProtocolError::MalformedHeader(format!(
            "header of {} bytes exceeds the 24-bit header length field",
            header.len()
        )));
    }
    let length = 4 + header.len() + cmd.body_len();
    if length > i32::MAX as usize {
        return Err(ProtocolError::FrameTooLarge {
            len: length,
            max: i32::MAX as usize,
        });
    }
    dst.reserve(8 + header.len() + cmd.body.len());
    dst.put_u32(length as u32);
    dst.put_u32(((cmd.serialize_type as u32) << 24) | header.len() as u32);
    dst.put_slice(&header);
    Ok(())
}

/// Write `cmd` as one frame in `cmd.serialize_type`.
///
/// Every command the broker builds fits; for one that cannot be represented (see [`try_encode`])
/// nothing is written and the failure is logged. Use [`try_encode`] to handle it.
pub fn encode(cmd: &RemotingCommand, dst: &mut BytesMut) {
    if let Err(e) = try_encode(cmd, dst) {
        log_unencodable(cmd, &e);
    }
}

/// The log line of a command [`encode`] (or the outbox) could not represent.
pub fn log_unencodable(cmd: &RemotingCommand, e: &ProtocolError) {
    tracing::error!(
        code = cmd.code,
        opaque = cmd.opaque,
        "cannot encode command: {e}"
    );
}

/// A decode or transport failure. After a decode error the caller must close the connection:
/// the stream position can no longer be trusted.
#[derive(Debug, Error)]
pub enum CodecError {
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// `tokio_util` codec over [`check`]/[`parse`] and [`try_encode`].
#[derive(Debug, Clone, Copy)]
pub struct RemotingCodec {
    max_frame: usize,
}

impl RemotingCodec {
    pub fn new(max_frame: usize) -> Self {
        RemotingCodec { max_frame }
    }

    pub fn max_frame(&self) -> usize {
        self.max_frame
    }
}

impl Default for RemotingCodec {
    fn default() -> Self {
        RemotingCodec::new(DEFAULT_MAX_FRAME)
    }
}

impl Decoder for RemotingCodec {
    type Item = RemotingCommand;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<RemotingCommand>, CodecError> {
        match check(src, self.max_frame)? {
            Some(n) => {
                let frame = src.split_to(n).freeze();
                Ok(Some(parse(frame)?))
            }
            None => {
                if src.len() >= 4 {
                    // The length was validated against max_frame, so this reservation is bounded.
                    let want = 4 + (&src[..4]).get_u32() as usize;
                    src.reserve(want.saturating_sub(src.len()));
                }
                Ok(None)
            }
        }
    }
}

impl Encoder<RemotingCommand> for RemotingCodec {
    type Error = CodecError;

    fn encode(&mut self, item: RemotingCommand, dst: &mut BytesMut) -> Result<(), CodecError> {
        Ok(try_encode(&item, dst)?)
    }
}

impl Encoder<&RemotingCommand> for RemotingCodec {
    type Error = CodecError;

    fn encode(&mut self, item: &RemotingCommand, dst: &mut BytesMut) -> Result<(), CodecError> {
        Ok(try_encode(item, dst)?)
    }
}

#[cfg(test)]
mod tests;
