//! Typed request/response headers, one file per family (docs/protocol.md §2.2).
//!
//! On the wire a header is only the flat `extFields` string map, and RocketMQ has dozens of header
//! classes that differ just in their field lists. Writing each `CommandHeader` impl by hand would
//! repeat the same read/write line per field and invite key typos, so each header is declared once
//! with [`command_header!`]: Rust field, type and exact wire key side by side. The field type picks
//! the rule: `String`/`i32`/`i64`/`bool` are required (absence is `MissingField(key)`), `Option<_>`
//! is optional. Unknown keys are ignored, as the Java broker does.

use super::error::ProtocolError;
use super::header::{parse_bool, ExtFields};

pub mod acl;
pub mod admin;
pub mod client;
pub mod controller;
pub mod namesrv;
pub mod offset;
pub mod pull;
pub mod query;
pub mod send;
pub mod stats;
pub mod transaction;

pub use acl::*;
pub use admin::*;
pub use client::*;
pub use controller::*;
pub use namesrv::*;
pub use offset::*;
pub use pull::*;
pub use query::*;
pub use send::*;
pub use stats::*;
pub use transaction::*;

/// A scalar header value: how it is parsed from and rendered to its text.
pub trait Scalar: Sized {
    /// Whether an empty text counts as absent (true for numbers and booleans; an empty string
    /// stays an empty string).
    const EMPTY_IS_ABSENT: bool;
    fn parse(key: &'static str, text: &str) -> Result<Self, ProtocolError>;
    fn render(&self) -> String;
}

fn invalid(key: &'static str, text: &str) -> ProtocolError {
    ProtocolError::InvalidField {
        field: key,
        value: text.to_string(),
    }
}

impl Scalar for String {
    const EMPTY_IS_ABSENT: bool = false;
    fn parse(_: &'static str, text: &str) -> Result<Self, ProtocolError> {
        Ok(text.to_string())
    }
    fn render(&self) -> String {
        self.clone()
    }
}

macro_rules! numeric_scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const EMPTY_IS_ABSENT: bool = true;
            fn parse(key: &'static str, text: &str) -> Result<Self, ProtocolError> {
                text.trim().parse().map_err(|_| invalid(key, text))
            }
            // itoa, not `fmt`: every header written renders a few of these (~1 k instructions a
            // send through `fmt`, callgrind).
            fn render(&self) -> String {
                itoa::Buffer::new().format(*self).to_owned()
            }
        }
    )*};
}
numeric_scalar!(i32, i64);

impl Scalar for bool {
    const EMPTY_IS_ABSENT: bool = true;
    fn parse(key: &'static str, text: &str) -> Result<Self, ProtocolError> {
        parse_bool(text).ok_or_else(|| invalid(key, text))
    }
    fn render(&self) -> String {
        if *self { "true" } else { "false" }.to_owned()
    }
}

/// A header field: a required scalar or an `Option` of one.
pub trait ExtValue: Sized {
    fn read(ext: &ExtFields, key: &'static str) -> Result<Self, ProtocolError>;
    fn write(&self, ext: &mut ExtFields, key: &str);
}

fn read_opt<T: Scalar>(ext: &ExtFields, key: &'static str) -> Result<Option<T>, ProtocolError> {
    match ext.get(key) {
        None => Ok(None),
        Some(v) if T::EMPTY_IS_ABSENT && (v.trim().is_empty() || v == "null") => Ok(None),
        Some(v) => T::parse(key, v).map(Some),
    }
}

impl<T: Scalar> ExtValue for T {
    fn read(ext: &ExtFields, key: &'static str) -> Result<Self, ProtocolError> {
        read_opt(ext, key)?.ok_or(ProtocolError::MissingField(key))
    }
    fn write(&self, ext: &mut ExtFields, key: &str) {
        ext.insert(key.to_string(), self.render());
    }
}

impl<T: Scalar> ExtValue for Option<T> {
    fn read(ext: &ExtFields, key: &'static str) -> Result<Self, ProtocolError> {
        read_opt(ext, key)
    }
    fn write(&self, ext: &mut ExtFields, key: &str) {
        if let Some(v) = self {
            ext.insert(key.to_string(), v.render());
        }
    }
}

/// Declare a header struct and its `CommandHeader` impl from `field: Type = "wireKey"` lines.
macro_rules! command_header {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $key:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::protocol::header::CommandHeader for $name {
            fn from_ext(
                ext: &$crate::protocol::header::ExtFields,
            ) -> Result<Self, $crate::protocol::error::ProtocolError> {
                Ok($name {
                    $( $field: $crate::protocol::headers::ExtValue::read(ext, $key)?, )*
                })
            }

            fn to_ext(&self, ext: &mut $crate::protocol::header::ExtFields) {
                $( $crate::protocol::headers::ExtValue::write(&self.$field, ext, $key); )*
            }
        }
    };
}
pub(crate) use command_header;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::header::CommandHeader;

    command_header! {
        /// A header exercising every field kind.
        pub struct Probe {
            name: String = "name",
            count: i32 = "count",
            big: i64 = "big",
            on: bool = "on",
            note: Option<String> = "note",
            limit: Option<i64> = "limit",
            flag: Option<bool> = "flag",
        }
    }

    use crate::protocol::header::ext_of as ext;

    #[test]
    fn reads_writes_and_names_missing_keys() {
        let e = ext(&[
            ("name", ""),
            ("count", "-3"),
            ("big", "9000000000"),
            ("on", "1"),
            ("limit", ""),
            ("flag", "false"),
            ("unknown", "x"),
        ]);
        let p = Probe::from_ext(&e).unwrap();
        assert_eq!(p.name, "");
        assert_eq!((p.count, p.big, p.on), (-3, 9_000_000_000, true));
        assert_eq!(
            (p.note.as_deref(), p.limit, p.flag),
            (None, None, Some(false))
        );
        let mut out = ExtFields::default();
        p.to_ext(&mut out);
        assert_eq!(out.get("on").map(String::as_str), Some("true"));
        assert!(!out.contains_key("limit") && !out.contains_key("unknown"));
        assert_eq!(Probe::from_ext(&out).unwrap(), p);

        let mut missing = e.clone();
        missing.remove("big");
        assert_eq!(
            Probe::from_ext(&missing),
            Err(ProtocolError::MissingField("big"))
        );
        let mut empty_num = e.clone();
        empty_num.insert("count".into(), "".into());
        assert_eq!(
            Probe::from_ext(&empty_num),
            Err(ProtocolError::MissingField("count"))
        );
        let mut bad = e;
        bad.insert("count".into(), "3x".into());
        assert!(matches!(
            Probe::from_ext(&bad),
            Err(ProtocolError::InvalidField { field: "count", .. })
        ));
    }
}
