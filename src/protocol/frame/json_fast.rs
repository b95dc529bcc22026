//! The JSON header's fast path: a hand-written reader for the shape real clients send.
//!
//! Why: serde_json with the lenient visitors of [`super::json`] cost ~15 k instructions per
//! SEND_MESSAGE_V2 header, over a third of the broker's work per P1 message (callgrind,
//! docs/performance.md), and every request and response on both ends pays it.
//!
//! What it reads: one object whose members are the fixed fields (`code`, `flag`, `opaque`,
//! `version` as integers; `language` and `serializeTypeCurrentRPC` as strings; `remark` as a
//! string or null) and `extFields`, an object of strings, integers, booleans and nulls. That
//! is what fastjson, the C++ client, ali-ons and our encoder write. Anything else (an unknown
//! member, a repeated fixed field, a fraction, a nested value, a lone surrogate, a malformed
//! byte anywhere) answers `None`, and the caller decodes with serde_json, whose answer,
//! including its error, stands. So this path never decides a result on its own: where it
//! answers, it answers as serde_json would (the tests below check that on generated headers).

use crate::protocol::command::{LanguageCode, RemotingCommand, SerializeType};
use crate::protocol::header::ExtFields;

/// The header in `src`, or `None` when it is not of the common shape.
pub fn decode(src: &[u8]) -> Option<RemotingCommand> {
    // One validation up front: every slice below starts and ends at an ASCII byte.
    let text = std::str::from_utf8(src).ok()?;
    let mut r = Reader {
        s: text,
        b: src,
        i: 0,
    };
    let mut h = Fixed::default();
    r.ws();
    r.eat(b'{')?;
    r.ws();
    if !r.try_eat(b'}') {
        loop {
            let key = r.plain_key()?;
            r.ws();
            r.eat(b':')?;
            r.ws();
            h.member(key, &mut r)?;
            r.ws();
            if r.try_eat(b'}') {
                break;
            }
            r.eat(b',')?;
            r.ws();
        }
    }
    r.ws();
    if r.i != src.len() {
        return None;
    }
    Some(RemotingCommand {
        code: h.code?,
        language: h.language.flatten().unwrap_or_default(),
        version: h.version.flatten().unwrap_or(0),
        opaque: h.opaque.flatten().unwrap_or(0),
        flag: h.flag.flatten().unwrap_or(0),
        remark: h.remark.flatten(),
        ext_fields: h.ext.unwrap_or_default(),
        serialize_type: SerializeType::Json,
        body: Default::default(),
        body_parts: Vec::new(),
    })
}

/// The fixed members seen so far: the outer `Option` is "present", the inner "not null".
#[derive(Default)]
struct Fixed {
    code: Option<i32>,
    seen_code: bool,
    language: Option<Option<LanguageCode>>,
    version: Option<Option<i32>>,
    opaque: Option<Option<i32>>,
    flag: Option<Option<i32>>,
    remark: Option<Option<String>>,
    ext: Option<ExtFields>,
    serialize_type: bool,
}

/// Set a member once: a repeated one goes to serde_json (which refuses it).
fn once<T>(slot: &mut Option<T>, v: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(v);
    Some(())
}

impl Fixed {
    fn member(&mut self, key: &str, r: &mut Reader) -> Option<()> {
        match key {
            "code" => {
                if std::mem::replace(&mut self.seen_code, true) {
                    return None;
                }
                // `null` code is "no code": serde_json's error names it.
                self.code = Some(r.int_or_null()??);
                Some(())
            }
            "flag" => once(&mut self.flag, r.int_or_null()?),
            "opaque" => once(&mut self.opaque, r.int_or_null()?),
            "version" => once(&mut self.version, r.int_or_null()?),
            "language" => {
                let v = match r.null() {
                    true => None,
                    false => Some(super::json::language_of(r.string()?.as_ref())),
                };
                once(&mut self.language, v)
            }
            "remark" => {
                let v = match r.null() {
                    true => None,
                    false => Some(r.string()?.into_owned()),
                };
                once(&mut self.remark, v)
            }
            "extFields" => {
                let ext = match r.null() {
                    true => ExtFields::default(),
                    false => r.ext()?,
                };
                once(&mut self.ext, ext)
            }
            // Not read by serde_json either (no such field), but any value: strings only here.
            "serializeTypeCurrentRPC" if !self.serialize_type => {
                self.serialize_type = true;
                r.string().map(drop)
            }
            _ => None,
        }
    }
}

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn try_eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.i += usize::from(hit);
        hit
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.try_eat(c).then_some(())
    }

    fn literal(&mut self, word: &str) -> bool {
        let hit = self.b[self.i..].starts_with(word.as_bytes());
        if hit {
            self.i += word.len();
        }
        hit
    }

    fn null(&mut self) -> bool {
        self.literal("null")
    }

    /// The length of the run of plain string bytes from `start` (up to a quote, a backslash
    /// or a control byte), or `None` at the end of the input. A plain loop: the values are
    /// short (~16 bytes), too short for memchr's setup to pay (measured: more instructions).
    fn run(&self, start: usize) -> Option<usize> {
        self.b[start..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
    }

    /// A member name without escapes.
    fn plain_key(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let len = self.run(start)?;
        if self.b[start + len] != b'"' {
            return None;
        }
        self.i = start + len + 1;
        Some(&self.s[start..start + len])
    }

    /// A string: borrowed when it has no escapes.
    fn string(&mut self) -> Option<std::borrow::Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.i;
        let len = self.run(start)?;
        match self.b[start + len] {
            b'"' => {
                self.i = start + len + 1;
                Some(self.s[start..start + len].into())
            }
            b'\\' => {
                self.i = start + len;
                let mut out = String::with_capacity(len + 16);
                out.push_str(&self.s[start..start + len]);
                self.escaped_rest(&mut out)?;
                Some(out.into())
            }
            _ => None,
        }
    }

    /// The rest of a string from a backslash, closing quote included.
    fn escaped_rest(&mut self, out: &mut String) -> Option<()> {
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                b'\\' => {
                    let letter = *self.b.get(self.i + 1)?;
                    self.i += 2;
                    out.push(match letter {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        // A surrogate (paired or lone) is not a char: serde_json decides.
                        b'u' => char::from_u32(u32::from(self.hex4()?))?,
                        _ => return None,
                    });
                }
                c if c < 0x20 => return None,
                _ => {
                    let start = self.i;
                    let len = self.run(start)?;
                    out.push_str(&self.s[start..start + len]);
                    self.i = start + len;
                }
            }
        }
    }

    fn hex4(&mut self) -> Option<u16> {
        let digits = self.b.get(self.i..self.i + 4)?;
        let mut v: u16 = 0;
        for &d in digits {
            let n = (d as char).to_digit(16)?;
            v = v * 16 + n as u16;
        }
        self.i += 4;
        Some(v)
    }

    /// An integer token as JSON writes it (`0` or `-?[1-9][0-9]*`, at most 18 digits, so it
    /// fits i64 and reads back as written), or `None` for anything else.
    fn int_text(&mut self) -> Option<&'a str> {
        let start = self.i;
        let neg = self.try_eat(b'-');
        let first = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        let digits = self.i - first;
        let leading_zero = self.b.get(first) == Some(&b'0');
        let ok = (1..=18).contains(&digits)
            && !(leading_zero && (digits > 1 || neg))
            && !matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        ok.then(|| &self.s[start..self.i])
    }

    /// `null` (Some(None)) or an integer in i32 range; anything else `None`.
    fn int_or_null(&mut self) -> Option<Option<i32>> {
        if self.null() {
            return Some(None);
        }
        let t = self.int_text()?;
        Some(Some(t.parse::<i32>().ok()?))
    }

    /// The `extFields` object.
    fn ext(&mut self) -> Option<ExtFields> {
        self.eat(b'{')?;
        let mut out = ExtFields::with_capacity_and_hasher(16, Default::default());
        self.ws();
        if self.try_eat(b'}') {
            return Some(out);
        }
        loop {
            let key = self.string()?.into_owned();
            self.ws();
            self.eat(b':')?;
            self.ws();
            let value = match self.peek()? {
                b'"' => Some(self.string()?.into_owned()),
                b'n' if self.null() => None,
                b't' if self.literal("true") => Some("true".to_string()),
                b'f' if self.literal("false") => Some("false".to_string()),
                b'-' | b'0'..=b'9' => Some(self.int_text()?.to_string()),
                _ => return None,
            };
            if let Some(v) = value {
                out.insert(key, v);
            }
            self.ws();
            if self.try_eat(b'}') {
                return Some(out);
            }
            self.eat(b',')?;
            self.ws();
        }
    }
}

#[cfg(test)]
#[path = "json_fast_tests.rs"]
mod tests;
