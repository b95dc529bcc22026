//! Typed custom headers. On the wire a header is flattened into `extFields` (string -> string);
//! each request/response header type converts from and to that map. Parsing is lenient the way
//! the Java broker is (unknown keys ignored, booleans as `true`/`false`/`1`/`0`), but a missing
//! required field is an error that names the field, so the client sees what was wrong.

use arrayvec::ArrayVec;

use crate::fast_map::FastMap;

use super::error::ProtocolError;

/// The `extFields` map of a command. Values are kept as text, whatever JSON type they arrived as.
/// A [`FastMap`]: its ~16 keys are hashed at every parse and lookup, on both ends.
pub type ExtFields = FastMap<String, String>;

/// Fields ordered on the stack up to this many (a SEND_MESSAGE_V2 has about 15, signed 17).
pub const INLINE_FIELDS: usize = 32;

/// One field with the first 8 bytes of its key as a big-endian number, which orders like the
/// key's bytes up to there. Why: sorting ~16 fields by `str` comparison called `memcmp` ~60
/// times a request (the header encoder on every request, the ACL signature twice more), a few
/// per cent of P1 on each end (`perf`); RocketMQ's keys differ within their first bytes, so the
/// number decides almost every comparison.
type Field<'a> = (u64, &'a str, &'a str);

fn field<'a>(key: &'a str, value: &'a str) -> Field<'a> {
    let mut head = [0u8; 8];
    let n = key.len().min(8);
    head[..n].copy_from_slice(&key.as_bytes()[..n]);
    (u64::from_be_bytes(head), key, value)
}

/// Call `each(key, value)` for the fields whose key `keep` accepts, in the byte order of the
/// keys, without a heap allocation up to [`INLINE_FIELDS`] fields.
pub fn for_each_sorted<'a>(
    ext: &'a ExtFields,
    keep: impl Fn(&str) -> bool,
    mut each: impl FnMut(&'a str, &'a str),
) {
    // Uninitialised inline storage: filling 32 empty fields first cost more than the sort.
    let mut inline: ArrayVec<Field<'a>, INLINE_FIELDS> = ArrayVec::new();
    let mut spill: Vec<Field<'a>> = Vec::new();
    let kept = ext
        .iter()
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| field(k, v));
    for f in kept {
        if let Err(full) = inline.try_push(f) {
            if spill.is_empty() {
                spill.extend_from_slice(&inline);
            }
            spill.push(full.element());
        }
    }
    let fields = if spill.is_empty() {
        &mut inline[..]
    } else {
        &mut spill[..]
    };
    // Keys are unique, so the unstable sort gives the one order; it sorts in place. Equal
    // heads (a shared 8-byte start, or a key ending in NULs) fall back to the whole keys.
    fields.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    for (_, k, v) in fields.iter() {
        each(k, v);
    }
}

/// A typed view of a command's `extFields`.
pub trait CommandHeader: Sized {
    /// Read the header from the fields; a missing required field gives `MissingField(name)`.
    fn from_ext(ext: &ExtFields) -> Result<Self, ProtocolError>;
    /// Write the header's non-null fields into the map, every value as text.
    fn to_ext(&self, ext: &mut ExtFields);
}

/// A required string field.
pub fn req_str(ext: &ExtFields, key: &'static str) -> Result<String, ProtocolError> {
    ext.get(key)
        .cloned()
        .ok_or(ProtocolError::MissingField(key))
}

/// An optional string field.
pub fn opt_str(ext: &ExtFields, key: &str) -> Option<String> {
    ext.get(key).cloned()
}

fn parse_num<T: std::str::FromStr>(key: &'static str, v: &str) -> Result<T, ProtocolError> {
    v.trim()
        .parse::<T>()
        .map_err(|_| ProtocolError::InvalidField {
            field: key,
            value: v.to_string(),
        })
}

/// A required integer field (i32, i64, ...).
pub fn req_num<T: std::str::FromStr>(
    ext: &ExtFields,
    key: &'static str,
) -> Result<T, ProtocolError> {
    let v = ext.get(key).ok_or(ProtocolError::MissingField(key))?;
    parse_num(key, v)
}

/// An optional integer field; present but unparsable is an error.
pub fn opt_num<T: std::str::FromStr>(
    ext: &ExtFields,
    key: &'static str,
) -> Result<Option<T>, ProtocolError> {
    match ext.get(key) {
        None => Ok(None),
        Some(v) if v.is_empty() || v == "null" => Ok(None),
        Some(v) => parse_num(key, v).map(Some),
    }
}

/// Parse a boolean the way real clients write it: `true`/`false` (any case) or `1`/`0`.
pub fn parse_bool(v: &str) -> Option<bool> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("true") || v == "1" {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") || v == "0" {
        Some(false)
    } else {
        None
    }
}

/// An optional boolean field; absent is `None`, unparsable is an error.
pub fn opt_bool(ext: &ExtFields, key: &'static str) -> Result<Option<bool>, ProtocolError> {
    match ext.get(key) {
        None => Ok(None),
        Some(v) if v.is_empty() || v == "null" => Ok(None),
        Some(v) => parse_bool(v).map(Some).ok_or(ProtocolError::InvalidField {
            field: key,
            value: v.clone(),
        }),
    }
}

/// A required boolean field.
pub fn req_bool(ext: &ExtFields, key: &'static str) -> Result<bool, ProtocolError> {
    opt_bool(ext, key)?.ok_or(ProtocolError::MissingField(key))
}

/// Insert `key` with `value`'s text.
pub fn put<V: ToString>(ext: &mut ExtFields, key: &str, value: V) {
    ext.insert(key.to_string(), value.to_string());
}

/// Insert `key` only when `value` is present.
pub fn put_opt<V: ToString>(ext: &mut ExtFields, key: &str, value: &Option<V>) {
    if let Some(v) = value {
        ext.insert(key.to_string(), v.to_string());
    }
}

/// Ext fields from (key, value) pairs: the unit tests' way to write a header's fields.
#[cfg(test)]
pub(crate) fn ext_of(pairs: &[(&str, &str)]) -> ExtFields {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::ext_of as ext;
    use super::*;

    #[test]
    fn missing_required_field_names_it() {
        let e = req_num::<i32>(&ext(&[]), "queueId").unwrap_err();
        assert_eq!(e, ProtocolError::MissingField("queueId"));
        assert!(e.to_string().contains("queueId"));
    }

    #[test]
    fn booleans_in_all_client_shapes() {
        for (t, want) in [
            ("true", true),
            ("TRUE", true),
            ("1", true),
            ("false", false),
            ("0", false),
        ] {
            assert_eq!(req_bool(&ext(&[("k", t)]), "k").unwrap(), want, "{t}");
        }
        assert!(req_bool(&ext(&[("k", "yes")]), "k").is_err());
    }

    #[test]
    fn numbers_tolerate_whitespace_but_not_garbage() {
        assert_eq!(req_num::<i64>(&ext(&[("o", " 42 ")]), "o").unwrap(), 42);
        assert!(matches!(
            req_num::<i64>(&ext(&[("o", "4x")]), "o"),
            Err(ProtocolError::InvalidField { field: "o", .. })
        ));
        assert_eq!(opt_num::<i32>(&ext(&[]), "o").unwrap(), None);
    }
}
