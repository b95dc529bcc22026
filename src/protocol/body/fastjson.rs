//! fastjson's non-standard JSON, both directions, for the few bodies that need it.
//!
//! Java writes maps with non-string keys *bare*: integer keys as numbers (`{0:12}`) and object
//! keys as an embedded object (`{{"brokerName":"b","queueId":0,"topic":"t"}:{...}}`), docs/protocol.md
//! §4.1. serde_json can neither write nor read that, and hand-writing a whole parser per body would
//! spread the quirk everywhere. So there are exactly two tools here:
//!
//! * [`bare_key_map`] writes one map in fastjson's form (each key is the key type's own JSON);
//! * [`normalize_keys`] rewrites fastjson text into standard JSON by turning every non-string key
//!   into a string holding the key's JSON text, so `{0:12}` becomes `{"0":12}` (which serde reads
//!   into integer-keyed maps directly) and an object key becomes `"{\"brokerName\":...}"` (which the
//!   body parses a second time with [`parse_key`]).
//!
//! The [`lenient`] helpers cover the other half of client sloppiness: numbers sent as strings,
//! booleans sent as `0`/`1`, and `null` everywhere.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::protocol::ProtocolError;

/// Nesting deeper than this is refused (no body we read nests more than five levels).
const MAX_DEPTH: usize = 64;

fn bad(why: impl Into<String>) -> ProtocolError {
    ProtocolError::MalformedBody(why.into())
}

/// Write `entries` as a fastjson map: `{<key JSON>:<value JSON>,...}`. Integer keys come out bare
/// (`0`), struct keys as embedded objects, string keys quoted as usual.
pub fn bare_key_map<'a, K, V, I>(entries: I) -> String
where
    K: Serialize + 'a,
    V: Serialize + 'a,
    I: IntoIterator<Item = (&'a K, &'a V)>,
{
    let mut out = String::from("{");
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(k).expect("serializable key"));
        out.push(':');
        out.push_str(&serde_json::to_string(v).expect("serializable value"));
    }
    out.push('}');
    out
}

/// Parse a key produced by [`normalize_keys`] (the key's JSON text) into its type.
pub fn parse_key<K: DeserializeOwned>(key: &str) -> Result<K, ProtocolError> {
    serde_json::from_str(key).map_err(|e| bad(format!("map key '{key}': {e}")))
}

/// Rewrite fastjson text into standard JSON: non-string object keys become strings holding their
/// (normalized) JSON text. Everything else is copied unchanged; syntax errors are reported.
pub fn normalize_keys(input: &[u8]) -> Result<String, ProtocolError> {
    let text = std::str::from_utf8(input).map_err(|_| bad("body is not UTF-8"))?;
    let mut p = Normalizer {
        b: text.as_bytes(),
        i: 0,
    };
    let mut out = String::with_capacity(text.len() + 16);
    p.value(&mut out, 0)?;
    p.ws();
    if p.i != p.b.len() {
        return Err(bad(format!("trailing data at byte {}", p.i)));
    }
    Ok(out)
}

struct Normalizer<'a> {
    b: &'a [u8],
    i: usize,
}

impl Normalizer<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&self) -> Result<u8, ProtocolError> {
        self.b
            .get(self.i)
            .copied()
            .ok_or_else(|| bad("unexpected end of JSON"))
    }

    /// Copy `b[from..self.i]` (always a slice between ASCII delimiters, hence valid UTF-8).
    fn copy(&self, from: usize, out: &mut String) {
        out.push_str(std::str::from_utf8(&self.b[from..self.i]).expect("sliced at ASCII"));
    }

    fn value(&mut self, out: &mut String, depth: usize) -> Result<(), ProtocolError> {
        if depth > MAX_DEPTH {
            return Err(bad("JSON nested too deeply"));
        }
        self.ws();
        match self.peek()? {
            b'{' => self.container(out, depth, b'}', true),
            b'[' => self.container(out, depth, b']', false),
            b'"' => self.string(out),
            _ => {
                let from = self.i;
                while self.i < self.b.len()
                    && !matches!(self.b[self.i], b',' | b'}' | b']' | b':')
                    && !self.b[self.i].is_ascii_whitespace()
                {
                    self.i += 1;
                }
                if self.i == from {
                    return Err(bad(format!("expected a value at byte {from}")));
                }
                self.copy(from, out);
                Ok(())
            }
        }
    }

    fn string(&mut self, out: &mut String) -> Result<(), ProtocolError> {
        let from = self.i;
        self.i += 1;
        loop {
            match self.peek()? {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    break;
                }
                _ => self.i += 1,
            }
        }
        if self.i > self.b.len() {
            return Err(bad("unterminated string"));
        }
        self.copy(from, out);
        Ok(())
    }

    fn container(
        &mut self,
        out: &mut String,
        depth: usize,
        close: u8,
        object: bool,
    ) -> Result<(), ProtocolError> {
        out.push(self.b[self.i] as char);
        self.i += 1;
        self.ws();
        if self.peek()? == close {
            self.i += 1;
            out.push(close as char);
            return Ok(());
        }
        loop {
            if object {
                self.ws();
                if self.peek()? == b'"' {
                    self.string(out)?;
                } else {
                    let mut key = String::new();
                    self.value(&mut key, depth + 1)?;
                    out.push_str(&serde_json::to_string(&key).expect("string"));
                }
                self.ws();
                if self.peek()? != b':' {
                    return Err(bad(format!("expected ':' at byte {}", self.i)));
                }
                self.i += 1;
                out.push(':');
            }
            self.value(out, depth + 1)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    out.push(',');
                }
                c if c == close => {
                    self.i += 1;
                    out.push(close as char);
                    return Ok(());
                }
                c => {
                    return Err(bad(format!(
                        "unexpected '{}' at byte {}",
                        c as char, self.i
                    )))
                }
            }
        }
    }
}

/// `deserialize_with` helpers that accept what real clients send instead of the Java types.
pub mod lenient {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    fn int_of(v: &Value) -> Option<i64> {
        match v {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.trim().parse().ok(),
            Value::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }

    /// A long from a number or a numeric string; `null`/missing is 0.
    pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(0),
            v => int_of(&v).ok_or_else(|| D::Error::custom(format!("expected a number, got {v}"))),
        }
    }

    /// An int from a number or a numeric string; `null`/missing is 0.
    pub fn i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        let v = i64(d)?;
        i32::try_from(v).map_err(|_| D::Error::custom(format!("{v} does not fit an int")))
    }

    /// A boolean from `true`/`false`, `0`/`1` or their string forms; `null`/missing is false.
    pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(false),
            Value::Bool(b) => Ok(b),
            Value::Number(n) => Ok(n.as_i64() != Some(0)),
            Value::String(s) => crate::protocol::header::parse_bool(&s)
                .ok_or_else(|| D::Error::custom(format!("expected a boolean, got '{s}'"))),
            v => Err(D::Error::custom(format!("expected a boolean, got {v}"))),
        }
    }

    /// A string; `null`/missing is empty and a number is taken as its decimal text.
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(String::new()),
            Value::String(s) => Ok(s),
            v @ (Value::Number(_) | Value::Bool(_)) => Ok(v.to_string()),
            v => Err(D::Error::custom(format!("expected a string, got {v}"))),
        }
    }

    /// A list (JSON array) whose `null` or absence means empty.
    pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
    }

    /// A set of ints from numbers or numeric strings; `null` means empty.
    pub fn i32_set<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<std::collections::BTreeSet<i32>, D::Error> {
        let items = Option::<Vec<Value>>::deserialize(d)?.unwrap_or_default();
        items
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| {
                int_of(v)
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(|| D::Error::custom(format!("expected an int, got {v}")))
            })
            .collect()
    }

    /// A set of strings; `null` items and a `null` set are dropped.
    pub fn string_set<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<std::collections::BTreeSet<String>, D::Error> {
        let items = Option::<Vec<Option<String>>>::deserialize(d)?.unwrap_or_default();
        Ok(items.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn bare_keys_are_written_unquoted() {
        let m: BTreeMap<i32, i64> = [(0, 12), (3, 7)].into_iter().collect();
        assert_eq!(bare_key_map(&m), "{0:12,3:7}");
        let empty: BTreeMap<i32, i64> = BTreeMap::new();
        assert_eq!(bare_key_map(&empty), "{}");
    }

    #[test]
    fn normalize_quotes_number_and_object_keys_only() {
        let s = normalize_keys(br#"{"a":{0:12, 1 : 13},"b":[1,"x:y",{"k":null}]}"#).unwrap();
        assert_eq!(s, r#"{"a":{"0":12,"1":13},"b":[1,"x:y",{"k":null}]}"#);
        let s = normalize_keys(br#"{{"brokerName":"b","queueId":0,"topic":"t"}:5}"#).unwrap();
        let v: BTreeMap<String, i64> = serde_json::from_str(&s).unwrap();
        let (k, val) = v.into_iter().next().unwrap();
        assert_eq!(k, r#"{"brokerName":"b","queueId":0,"topic":"t"}"#);
        assert_eq!(val, 5);
        // Escapes inside strings survive, including an escaped quote.
        let s = normalize_keys(br#"{"q\"k":"v\\"}"#).unwrap();
        assert_eq!(s, r#"{"q\"k":"v\\"}"#);
    }

    #[test]
    fn normalize_reports_broken_input() {
        for bad in [
            &b"{0:"[..],
            b"{0 12}",
            b"[1,2",
            b"{\"a\":1} x",
            b"\"open",
            b"\xff",
        ] {
            assert!(normalize_keys(bad).is_err(), "{:?}", bad);
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(normalize_keys(deep.as_bytes()).is_err());
    }
}
