//! Message lookup headers: by physical offset (33) and by key through the index (12).
//! QUERY_MESSAGE carries one extra ext key outside the Java header class, `_UNIQUE_KEY_QUERY`,
//! which is folded into the typed header as a plain bool so handlers never look at raw keys.

use super::{command_header, ExtValue};
use crate::protocol::error::ProtocolError;
use crate::protocol::header::{CommandHeader, ExtFields};

command_header! {
    /// VIEW_MESSAGE_BY_ID (33) request.
    pub struct ViewMessageRequestHeader {
        /// Commit-log physical offset, decoded by the client from an offset msg id.
        offset: i64 = "offset",
    }
}

/// The ext key marking a QUERY_MESSAGE by UNIQ_KEY.
pub const UNIQUE_KEY_QUERY: &str = "_UNIQUE_KEY_QUERY";

/// QUERY_MESSAGE (12) request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryMessageRequestHeader {
    pub topic: String,
    pub key: String,
    pub max_num: i32,
    pub begin_timestamp: i64,
    pub end_timestamp: i64,
    /// `_UNIQUE_KEY_QUERY` = `"true"`: `key` is a UNIQ_KEY. Absent means false.
    pub unique_key_query: bool,
}

impl CommandHeader for QueryMessageRequestHeader {
    fn from_ext(ext: &ExtFields) -> Result<Self, ProtocolError> {
        Ok(QueryMessageRequestHeader {
            topic: ExtValue::read(ext, "topic")?,
            key: ExtValue::read(ext, "key")?,
            max_num: ExtValue::read(ext, "maxNum")?,
            begin_timestamp: ExtValue::read(ext, "beginTimestamp")?,
            end_timestamp: ExtValue::read(ext, "endTimestamp")?,
            unique_key_query: Option::<bool>::read(ext, UNIQUE_KEY_QUERY)?.unwrap_or(false),
        })
    }

    fn to_ext(&self, ext: &mut ExtFields) {
        self.topic.write(ext, "topic");
        self.key.write(ext, "key");
        self.max_num.write(ext, "maxNum");
        self.begin_timestamp.write(ext, "beginTimestamp");
        self.end_timestamp.write(ext, "endTimestamp");
        if self.unique_key_query {
            true.write(ext, UNIQUE_KEY_QUERY);
        }
    }
}

command_header! {
    /// QUERY_MESSAGE response.
    pub struct QueryMessageResponseHeader {
        index_last_update_timestamp: i64 = "indexLastUpdateTimestamp",
        index_last_update_phyoffset: i64 = "indexLastUpdatePhyoffset",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_key_flag_reads_and_writes() {
        let mut h = QueryMessageRequestHeader {
            topic: "T".into(),
            key: "K1".into(),
            max_num: 64,
            begin_timestamp: 0,
            end_timestamp: i64::MAX,
            unique_key_query: false,
        };
        let mut e = ExtFields::default();
        h.to_ext(&mut e);
        assert!(!e.contains_key(UNIQUE_KEY_QUERY));
        assert_eq!(QueryMessageRequestHeader::from_ext(&e).unwrap(), h);
        h.unique_key_query = true;
        h.to_ext(&mut e);
        assert_eq!(e.get(UNIQUE_KEY_QUERY).map(String::as_str), Some("true"));
        assert_eq!(QueryMessageRequestHeader::from_ext(&e).unwrap(), h);
        e.remove("maxNum");
        assert_eq!(
            QueryMessageRequestHeader::from_ext(&e),
            Err(ProtocolError::MissingField("maxNum"))
        );
    }
}
