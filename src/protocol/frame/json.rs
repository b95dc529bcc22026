//! The JSON header (serialize type 0).
//!
//! Decoding is deliberately lenient because real clients disagree (docs/protocol.md §1.3, §9): Java
//! writes fastjson's alphabetical shape with string ext values, the C++/Python client sends
//! `"remark":""`, numeric ext values and a trailing newline, ali-ons omits
//! `serializeTypeCurrentRPC`, the Rust client may send `"remark":null` or `language` as an
//! integer. serde_json parses into a small struct whose fields use forgiving visitors, so no
//! intermediate `Value` tree is built for the fixed fields.
//!
//! Encoding writes the fastjson shape by hand (keys alphabetical, ext values always JSON strings,
//! ext keys sorted for deterministic bytes): the C++ client reads only string-typed ext values.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::protocol::command::{LanguageCode, RemotingCommand, SerializeType};
use crate::protocol::error::ProtocolError;
use crate::protocol::header::{for_each_sorted, ExtFields};

#[derive(Deserialize)]
struct WireHeader {
    #[serde(default, deserialize_with = "lenient_i32")]
    code: Option<i32>,
    #[serde(default, deserialize_with = "lenient_language")]
    language: Option<LanguageCode>,
    #[serde(default, deserialize_with = "lenient_i32")]
    version: Option<i32>,
    #[serde(default, deserialize_with = "lenient_i32")]
    opaque: Option<i32>,
    #[serde(default, deserialize_with = "lenient_i32")]
    flag: Option<i32>,
    #[serde(default, deserialize_with = "lenient_remark")]
    remark: Option<String>,
    #[serde(default, rename = "extFields", deserialize_with = "lenient_ext")]
    ext_fields: ExtFields,
}

/// Decode a JSON header; the returned command has an empty body.
pub fn decode_header(src: &[u8]) -> Result<RemotingCommand, ProtocolError> {
    // serde's derived struct would also accept a positional array: only an object is a header.
    if src.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ProtocolError::MalformedHeader(
            "JSON header is not an object".into(),
        ));
    }
    if let Some(cmd) = super::json_fast::decode(src) {
        return Ok(cmd);
    }
    decode_with_serde(src)
}

/// The general path (and the reference of [`super::json_fast`]): every shape real clients
/// send, and the errors.
pub(super) fn decode_with_serde(src: &[u8]) -> Result<RemotingCommand, ProtocolError> {
    let h: WireHeader = serde_json::from_slice(src)
        .map_err(|e| ProtocolError::MalformedHeader(format!("JSON header: {e}")))?;
    let code = h
        .code
        .ok_or_else(|| ProtocolError::MalformedHeader("JSON header without `code`".into()))?;
    Ok(RemotingCommand {
        code,
        language: h.language.unwrap_or_default(),
        version: h.version.unwrap_or(0),
        opaque: h.opaque.unwrap_or(0),
        flag: h.flag.unwrap_or(0),
        remark: h.remark,
        ext_fields: h.ext_fields,
        serialize_type: SerializeType::Json,
        body: Default::default(),
        body_parts: Vec::new(),
    })
}

/// An i32 given as a JSON number (integral, in range) or a numeric string; `null` is absent.
fn lenient_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<i32>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a 32-bit integer or a numeric string")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            i32::try_from(v)
                .map(Some)
                .map_err(|_| E::custom(format!("{v} out of i32 range")))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i32::try_from(v)
                .map(Some)
                .map_err(|_| E::custom(format!("{v} out of i32 range")))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.fract() == 0.0 && v >= i32::MIN as f64 && v <= i32::MAX as f64 {
                Ok(Some(v as i32))
            } else {
                Err(E::custom(format!("{v} is not a 32-bit integer")))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.trim()
                .parse::<i32>()
                .map(Some)
                .map_err(|_| E::custom(format!("{v:?} is not a 32-bit integer")))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// A `language` string: an enum name ("JAVA", "CPP", ...) or an ordinal in text.
pub(super) fn language_of(v: &str) -> LanguageCode {
    let v = v.trim();
    match v.parse::<u8>() {
        Ok(ordinal) => LanguageCode::from_code(ordinal),
        Err(_) => LanguageCode::from_name(v),
    }
}

/// `language` as an enum name ("JAVA", "CPP", ...) or its ordinal; `null` is absent.
fn lenient_language<'de, D: Deserializer<'de>>(d: D) -> Result<Option<LanguageCode>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<LanguageCode>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a language name or ordinal")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(language_of(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(
                u8::try_from(v).map_or(LanguageCode::Other, LanguageCode::from_code),
            ))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(
                u8::try_from(v).map_or(LanguageCode::Other, LanguageCode::from_code),
            ))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// `remark` as a string (kept as sent, `""` included) or `null`.
fn lenient_remark<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

/// `extFields`: an object (or `null`) whose values may be strings, numbers or booleans. Integers
/// within 64 bits keep their decimal text exactly (`1` -> "1", `-1` -> "-1"); other numbers are
/// rendered from their f64 value (`1.5` -> "1.5", but `1.50` -> "1.5" and `1e2` -> "100.0"), since
/// serde_json without `arbitrary_precision` does not keep the source text. No client sends those.
/// `null` values are skipped; nested objects/arrays are kept as their compact JSON text.
fn lenient_ext<'de, D: Deserializer<'de>>(d: D) -> Result<ExtFields, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = ExtFields;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an extFields object")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(ExtFields::default())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            // serde_json gives no size hint; 16 holds every header real clients send (a send has
            // 9-14 fields) without rehashing. Cap the pre-allocation: a hint comes from the peer.
            let mut out = ExtFields::with_capacity_and_hasher(
                map.size_hint().unwrap_or(16).min(32),
                Default::default(),
            );
            while let Some((k, v)) = map.next_entry::<String, ExtText>()? {
                if let Some(text) = v.0 {
                    out.insert(k, text);
                }
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// One `extFields` value as text: strings as they are, numbers and booleans as their text,
/// `null` as absent, nested objects/arrays as compact JSON. Scalars are read without building a
/// `serde_json::Value` (this runs for every field of every request).
struct ExtText(Option<String>);

impl<'de> Deserialize<'de> for ExtText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ExtText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an extFields value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ExtText, E> {
                Ok(ExtText(Some(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<ExtText, E> {
                Ok(ExtText(Some(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ExtText, E> {
                Ok(ExtText(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ExtText, E> {
                Ok(ExtText(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ExtText, E> {
                Ok(ExtText(Some(
                    serde_json::Number::from_f64(v)
                        .map_or_else(|| v.to_string(), |n| n.to_string()),
                )))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ExtText, E> {
                Ok(ExtText(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ExtText, E> {
                Ok(ExtText(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ExtText, A::Error> {
                let v = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ExtText(Some(v.to_string())))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<ExtText, A::Error> {
                let v = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(ExtText(Some(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// Encode the header of `cmd` as fastjson would write it.
pub fn encode_header(cmd: &RemotingCommand) -> Vec<u8> {
    let ext_size: usize = cmd
        .ext_fields
        .iter()
        .map(|(k, v)| k.len() + v.len() + 6)
        .sum();
    let mut out =
        String::with_capacity(128 + ext_size + cmd.remark.as_ref().map_or(0, |r| r.len() + 12));
    out.push_str("{\"code\":");
    push_int(&mut out, cmd.code);
    if !cmd.ext_fields.is_empty() {
        out.push_str(",\"extFields\":{");
        let mut first = true;
        for_each_sorted(
            &cmd.ext_fields,
            |_| true,
            |k, v| {
                if !first {
                    out.push(',');
                }
                first = false;
                push_str(&mut out, k);
                out.push(':');
                push_str(&mut out, v);
            },
        );
        out.push('}');
    }
    out.push_str(",\"flag\":");
    push_int(&mut out, cmd.flag);
    out.push_str(",\"language\":\"");
    out.push_str(cmd.language.name());
    out.push_str("\",\"opaque\":");
    push_int(&mut out, cmd.opaque);
    if let Some(remark) = &cmd.remark {
        out.push_str(",\"remark\":");
        push_str(&mut out, remark);
    }
    out.push_str(",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":");
    push_int(&mut out, cmd.version);
    out.push('}');
    out.into_bytes()
}

fn push_int(out: &mut String, v: i32) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// Append `s` as a JSON string literal. Scans bytes, not chars: every byte that needs escaping
/// is ASCII, and no byte of a multi-byte UTF-8 sequence is below 0x80, so runs between escapes
/// are copied whole. (Message properties carry \u0001/\u0002 separators in every send, so the
/// `\u00XX` form is written from a table rather than through `fmt`.)
fn push_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // `i` is at an ASCII byte, so a char boundary.
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut all_controls = String::new();
        for b in 0u8..0x20 {
            all_controls.push(b as char);
        }
        for s in [
            "",
            "plain",
            "UNIQ_KEY\u{1}ABC\u{2}KEYS\u{1}k1 k2\u{2}",
            "quote \" back \\ slash",
            "é中文🎉\u{7f}\u{1}ü",
            all_controls.as_str(),
        ] {
            let mut out = String::new();
            push_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap(), "{s:?}");
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s);
        }
    }

    fn dec(s: &str) -> RemotingCommand {
        decode_header(s.as_bytes()).unwrap()
    }

    #[test]
    fn ext_numbers_and_booleans_become_text() {
        let c = dec(r#"{"code":310,"extFields":{"d":4,"e":-1,"x":1.5,"k":true,"n":null,"s":"v"}}"#);
        assert_eq!(c.ext("d"), Some("4"));
        assert_eq!(c.ext("e"), Some("-1"));
        assert_eq!(c.ext("x"), Some("1.5"));
        assert_eq!(c.ext("k"), Some("true"));
        assert_eq!(c.ext("n"), None);
        assert_eq!(c.ext("s"), Some("v"));
    }

    #[test]
    fn ext_extreme_integers_and_nested_values() {
        let c = dec(concat!(
            r#"{"code":1,"extFields":{"max":9223372036854775807,"min":-9223372036854775808,"#,
            r#""u":18446744073709551615,"o":{"x":[1,"y"]},"e":"\u00e9\n"}}"#
        ));
        assert_eq!(c.ext("max"), Some("9223372036854775807"));
        assert_eq!(c.ext("min"), Some("-9223372036854775808"));
        assert_eq!(c.ext("u"), Some("18446744073709551615"));
        assert_eq!(c.ext("o"), Some(r#"{"x":[1,"y"]}"#));
        assert_eq!(c.ext("e"), Some("\u{e9}\n"));
    }

    #[test]
    fn numeric_strings_language_ordinals_and_nulls() {
        let c = dec(" {\"code\":\"105\",\"opaque\":\" 7\",\"language\":12,\"remark\":null,\"extFields\":null}\n");
        assert_eq!((c.code, c.opaque), (105, 7));
        assert_eq!(c.language, LanguageCode::Rust);
        assert_eq!(c.remark, None);
        assert!(c.ext_fields.is_empty());
        assert_eq!(
            dec(r#"{"code":1,"language":"cpp"}"#).language,
            LanguageCode::Cpp
        );
    }

    #[test]
    fn missing_code_and_out_of_range_numbers_are_malformed() {
        for bad in [
            r#"{"opaque":1}"#,
            r#"{"code":4294967296}"#,
            r#"{"code":"x"}"#,
            r#"{"code":1.5}"#,
            r#"[1]"#,
            r#"{"code":1} x"#,
        ] {
            assert!(
                matches!(
                    decode_header(bad.as_bytes()),
                    Err(ProtocolError::MalformedHeader(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn escapes_round_trip_through_serde() {
        let mut out = String::new();
        let nasty = "a\"b\\c\nd\u{1}e\u{7f}é😀";
        push_str(&mut out, nasty);
        assert_eq!(serde_json::from_str::<String>(&out).unwrap(), nasty);
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\u0001e\u{7f}é😀\"");
    }
}
