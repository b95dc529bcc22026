//! `RemotingCommand`: one request or response, independent of how its header was serialized.
//! Encoding and decoding of the two header forms live in `frame.rs` and its helpers.
//!
//! A response may carry its body in two fields: `body`, and after it `body_parts`, segments
//! (slices of the mapped CommitLog in a pull reply) that the connection's outbox queues for a
//! vectored write without copying them. Decoding always yields the whole body in `body`.

use bytes::Bytes;

use super::header::{CommandHeader, ExtFields};

/// How the header is serialized (the top byte of the header-length word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SerializeType {
    /// fastjson text (what almost every client sends).
    #[default]
    Json = 0,
    /// RocketMQ's compact binary form.
    RocketMq = 1,
}

/// The sender's language, as RocketMQ's `LanguageCode` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LanguageCode {
    #[default]
    Java,
    Cpp,
    Dotnet,
    Python,
    Delphi,
    Erlang,
    Ruby,
    Other,
    Http,
    Go,
    Php,
    Oms,
    Rust,
}

const LANGS: [(LanguageCode, &str); 13] = [
    (LanguageCode::Java, "JAVA"),
    (LanguageCode::Cpp, "CPP"),
    (LanguageCode::Dotnet, "DOTNET"),
    (LanguageCode::Python, "PYTHON"),
    (LanguageCode::Delphi, "DELPHI"),
    (LanguageCode::Erlang, "ERLANG"),
    (LanguageCode::Ruby, "RUBY"),
    (LanguageCode::Other, "OTHER"),
    (LanguageCode::Http, "HTTP"),
    (LanguageCode::Go, "GO"),
    (LanguageCode::Php, "PHP"),
    (LanguageCode::Oms, "OMS"),
    (LanguageCode::Rust, "RUST"),
];

impl LanguageCode {
    /// The wire byte (binary header) / ordinal.
    pub fn code(self) -> u8 {
        self as u8
    }
    /// From the wire byte; unknown values read as `Other` (the Java broker would fail; we stay lenient).
    pub fn from_code(b: u8) -> LanguageCode {
        LANGS
            .get(b as usize)
            .map(|(l, _)| *l)
            .unwrap_or(LanguageCode::Other)
    }
    /// The enum name written in JSON headers.
    pub fn name(self) -> &'static str {
        LANGS[self as usize].1
    }
    /// From the JSON name (case-insensitive); unknown names read as `Other`.
    pub fn from_name(s: &str) -> LanguageCode {
        LANGS
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(s))
            .map(|(l, _)| *l)
            .unwrap_or(LanguageCode::Other)
    }
}

/// Flag bit 0: the command is a response.
pub const FLAG_RESPONSE: i32 = 1;
/// Flag bit 1: the request is oneway (never answered).
pub const FLAG_ONEWAY: i32 = 2;
/// The `language` we write. `RUST` exists only in recent 4.9.x enums; older Java clients parse the
/// header with an enum that lacks it, so we write `JAVA`, as the Java broker we stand in for does.
pub const WIRE_LANGUAGE: LanguageCode = LanguageCode::Java;
/// The `version` we send: MQVersion V4_9_8.
pub const OUR_VERSION: i32 = 409;

/// One remoting command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemotingCommand {
    pub code: i32,
    pub language: LanguageCode,
    pub version: i32,
    pub opaque: i32,
    pub flag: i32,
    pub remark: Option<String>,
    pub ext_fields: ExtFields,
    /// The serialization the header arrived in (requests) or will be written in (responses).
    pub serialize_type: SerializeType,
    pub body: Bytes,
    /// More body, written after `body` (encode path only; never set by decoding). Readers of
    /// `body` do not see these bytes: only set them on a response the broker writes as is.
    pub body_parts: Vec<Bytes>,
}

impl RemotingCommand {
    /// A new request with the given code (JSON, opaque 0).
    pub fn request(code: i32) -> Self {
        RemotingCommand {
            code,
            language: WIRE_LANGUAGE,
            version: OUR_VERSION,
            ..Default::default()
        }
    }

    /// A new request carrying a typed header.
    pub fn request_with<H: CommandHeader>(code: i32, header: &H) -> Self {
        let mut c = Self::request(code);
        header.to_ext(&mut c.ext_fields);
        c
    }

    /// The response to this request: same opaque and serialization, response flag set.
    pub fn response_to(&self, code: i32, remark: Option<String>) -> Self {
        RemotingCommand {
            code,
            language: WIRE_LANGUAGE,
            version: OUR_VERSION,
            opaque: self.opaque,
            flag: FLAG_RESPONSE,
            remark,
            ext_fields: ExtFields::default(),
            serialize_type: self.serialize_type,
            body: Bytes::new(),
            body_parts: Vec::new(),
        }
    }

    pub fn is_response(&self) -> bool {
        self.flag & FLAG_RESPONSE != 0
    }

    pub fn is_oneway(&self) -> bool {
        self.flag & FLAG_ONEWAY != 0
    }

    pub fn mark_oneway(&mut self) {
        self.flag |= FLAG_ONEWAY;
    }

    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// The body as `parts` written back to back, each sent as it is (see `body_parts`).
    pub fn with_body_parts(mut self, parts: Vec<Bytes>) -> Self {
        self.body = Bytes::new();
        self.body_parts = parts;
        self
    }

    /// Bytes of the body on the wire: `body` plus every `body_parts` segment.
    pub fn body_len(&self) -> usize {
        self.body.len() + self.body_parts.iter().map(Bytes::len).sum::<usize>()
    }

    pub fn with_opaque(mut self, opaque: i32) -> Self {
        self.opaque = opaque;
        self
    }

    /// Add the typed header's fields.
    pub fn with_header<H: CommandHeader>(mut self, header: &H) -> Self {
        header.to_ext(&mut self.ext_fields);
        self
    }

    /// Read the typed header from `extFields`.
    pub fn header<H: CommandHeader>(&self) -> Result<H, super::ProtocolError> {
        H::from_ext(&self.ext_fields)
    }

    /// One `extFields` value.
    pub fn ext(&self, key: &str) -> Option<&str> {
        self.ext_fields.get(key).map(|s| s.as_str())
    }

    pub fn set_ext(&mut self, key: &str, value: impl ToString) {
        self.ext_fields.insert(key.to_string(), value.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_names_and_codes_agree() {
        for (i, (l, n)) in LANGS.iter().enumerate() {
            assert_eq!(l.code() as usize, i);
            assert_eq!(LanguageCode::from_code(i as u8), *l);
            assert_eq!(LanguageCode::from_name(n), *l);
            assert_eq!(l.name(), *n);
        }
        assert_eq!(LanguageCode::from_name("cpp"), LanguageCode::Cpp);
        assert_eq!(LanguageCode::from_code(200), LanguageCode::Other);
    }

    #[test]
    fn response_echoes_opaque_and_serialization() {
        let mut req = RemotingCommand::request(105).with_opaque(77);
        req.serialize_type = SerializeType::RocketMq;
        let resp = req.response_to(17, Some("no route".into()));
        assert_eq!(resp.opaque, 77);
        assert!(resp.is_response());
        assert!(!resp.is_oneway());
        assert_eq!(resp.serialize_type, SerializeType::RocketMq);
    }
}
