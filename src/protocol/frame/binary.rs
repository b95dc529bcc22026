//! The ROCKETMQ binary header (serialize type 1, docs/protocol.md §1.4).
//!
//! Big-endian fixed part (code i16, language u8, version i16, opaque i32, flag i32), then the
//! remark (i32 length + UTF-8, length 0 = none) and the ext map (i32 total length, then entries of
//! u16 key length + key, i32 value length + value). Every length is checked against the bytes
//! actually left before anything is sliced or allocated, so a hostile header yields
//! `MalformedHeader`, never a panic or an oversized allocation. Zero-length keys or values are
//! skipped on decode (a zero-length string is Java's null) and therefore also on encode.

use crate::protocol::command::{LanguageCode, RemotingCommand, SerializeType};
use crate::protocol::error::ProtocolError;
use crate::protocol::header::ExtFields;

/// Bytes of the fixed part before the remark: 2 + 1 + 2 + 4 + 4.
const FIXED: usize = 13;

/// A bounds-checked big-endian reader over the header bytes.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ProtocolError> {
        if n > self.buf.len() {
            return Err(malformed(format!(
                "{what}: needs {n} bytes, {} left",
                self.buf.len()
            )));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], ProtocolError> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn i16(&mut self, what: &str) -> Result<i16, ProtocolError> {
        Ok(i16::from_be_bytes(self.array(what)?))
    }

    fn u16(&mut self, what: &str) -> Result<u16, ProtocolError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    fn i32(&mut self, what: &str) -> Result<i32, ProtocolError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    fn u8(&mut self, what: &str) -> Result<u8, ProtocolError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// An i32 length (negative is malformed) followed by that many bytes.
    fn sized(&mut self, what: &str) -> Result<&'a [u8], ProtocolError> {
        let n = self.i32(what)?;
        let n = usize::try_from(n).map_err(|_| malformed(format!("{what}: length {n}")))?;
        self.take(n, what)
    }
}

fn malformed(msg: String) -> ProtocolError {
    ProtocolError::MalformedHeader(msg)
}

fn utf8(bytes: &[u8], what: &str) -> Result<String, ProtocolError> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| malformed(format!("{what} is not UTF-8")))
}

/// Decode a binary header; the returned command has an empty body.
pub fn decode_header(src: &[u8]) -> Result<RemotingCommand, ProtocolError> {
    let mut r = Reader { buf: src };
    let code = r.i16("code")? as i32;
    let language = LanguageCode::from_code(r.u8("language")?);
    let version = r.i16("version")? as i32;
    let opaque = r.i32("opaque")?;
    let flag = r.i32("flag")?;
    let remark = r.sized("remark")?;
    let remark = if remark.is_empty() {
        None
    } else {
        Some(utf8(remark, "remark")?)
    };
    let mut ext = Reader {
        buf: r.sized("extFields")?,
    };
    if !r.buf.is_empty() {
        return Err(malformed(format!(
            "{} bytes after the extFields map",
            r.buf.len()
        )));
    }
    let mut ext_fields = ExtFields::default();
    while !ext.buf.is_empty() {
        let klen = ext.u16("ext key length")? as usize;
        let key = ext.take(klen, "ext key")?;
        let value = ext.sized("ext value")?;
        if key.is_empty() || value.is_empty() {
            continue;
        }
        ext_fields.insert(utf8(key, "ext key")?, utf8(value, "ext value")?);
    }
    Ok(RemotingCommand {
        code,
        language,
        version,
        opaque,
        flag,
        remark,
        ext_fields,
        serialize_type: SerializeType::RocketMq,
        body: Default::default(),
        body_parts: Vec::new(),
    })
}

fn i16_field(v: i32, what: &str) -> Result<i16, ProtocolError> {
    i16::try_from(v).map_err(|_| malformed(format!("{what} {v} does not fit the binary header")))
}

fn len_i32(n: usize, what: &str) -> Result<[u8; 4], ProtocolError> {
    i32::try_from(n)
        .map(i32::to_be_bytes)
        .map_err(|_| malformed(format!("{what} of {n} bytes is too long")))
}

/// Encode the header of `cmd` in the binary form. Ext entries are written in sorted key order
/// (deterministic bytes); empty keys or values are left out, as Java leaves out nulls.
pub fn encode_header(cmd: &RemotingCommand) -> Result<Vec<u8>, ProtocolError> {
    let mut entries: Vec<(&String, &String)> = cmd
        .ext_fields
        .iter()
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .collect();
    entries.sort_unstable();
    let ext_len: usize = entries.iter().map(|(k, v)| 6 + k.len() + v.len()).sum();
    let remark = cmd.remark.as_deref().unwrap_or("");
    let mut out = Vec::with_capacity(FIXED + 8 + remark.len() + ext_len);
    out.extend_from_slice(&i16_field(cmd.code, "code")?.to_be_bytes());
    out.push(cmd.language.code());
    out.extend_from_slice(&i16_field(cmd.version, "version")?.to_be_bytes());
    out.extend_from_slice(&cmd.opaque.to_be_bytes());
    out.extend_from_slice(&cmd.flag.to_be_bytes());
    out.extend_from_slice(&len_i32(remark.len(), "remark")?);
    out.extend_from_slice(remark.as_bytes());
    out.extend_from_slice(&len_i32(ext_len, "extFields")?);
    for (k, v) in entries {
        let klen = u16::try_from(k.len())
            .map_err(|_| malformed(format!("ext key of {} bytes is too long", k.len())))?;
        out.extend_from_slice(&klen.to_be_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&len_i32(v.len(), "ext value")?);
        out.extend_from_slice(v.as_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ext: &[u8]) -> Vec<u8> {
        let mut h = vec![0, 105, 1, 1, 153, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0];
        h.extend_from_slice(&(ext.len() as i32).to_be_bytes());
        h.extend_from_slice(ext);
        h
    }

    #[test]
    fn decodes_fixed_part_and_entries() {
        let mut ext = vec![0, 5];
        ext.extend_from_slice(b"topic");
        ext.extend_from_slice(&[0, 0, 0, 2]);
        ext.extend_from_slice(b"t1");
        // Empty value: Java's null, skipped.
        ext.extend_from_slice(&[0, 1, b'x', 0, 0, 0, 0]);
        let c = decode_header(&header(&ext)).unwrap();
        assert_eq!((c.code, c.version, c.opaque, c.flag), (105, 409, 9, 0));
        assert_eq!(c.language, LanguageCode::Cpp);
        assert_eq!(c.remark, None);
        assert_eq!(c.ext_fields.len(), 1);
        assert_eq!(c.ext("topic"), Some("t1"));
    }

    #[test]
    fn lengths_past_the_end_are_malformed() {
        let cases: Vec<Vec<u8>> = vec![
            vec![0, 1, 0],
            header(&[0, 9, b'a']),
            header(&[0, 1, b'a', 0x7f, 0, 0, 0]),
            header(&[0, 1, b'a', 0xff, 0xff, 0xff, 0xff]),
            {
                let mut h = header(&[]);
                h[13..17].copy_from_slice(&[0x7f, 0xff, 0xff, 0xff]);
                h
            },
            {
                let mut h = header(&[]);
                h.push(0);
                h
            },
        ];
        for h in cases {
            assert!(
                matches!(decode_header(&h), Err(ProtocolError::MalformedHeader(_))),
                "{h:?}"
            );
        }
    }

    #[test]
    fn encode_rejects_codes_outside_i16() {
        let c = RemotingCommand::request(40_000);
        assert!(encode_header(&c).is_err());
        let c = RemotingCommand::request(310);
        assert_eq!(decode_header(&encode_header(&c).unwrap()).unwrap(), {
            let mut want = c.clone();
            want.serialize_type = SerializeType::RocketMq;
            want
        });
    }
}
