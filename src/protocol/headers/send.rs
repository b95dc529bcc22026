//! Send headers. V1 (codes 10, 324) uses readable keys; V2 (310, 320, 325) the same fields under
//! single-letter keys `a`..`n` to shrink every send. The broker converts V2 to V1 and handles both
//! identically, so [`send_request_header`] hides the difference from the send processor.
//!
//! The response carries two extra keys Java clients dereference unconditionally, `MSG_REGION` and
//! `TRACE_ON`, so they are plain fields of [`SendMessageResponseHeader`].

use super::command_header;
use crate::protocol::codes::request_code;
use crate::protocol::error::ProtocolError;
use crate::protocol::header::{CommandHeader, ExtFields};
use crate::protocol::headers::ExtValue;

command_header! {
    /// SEND_MESSAGE (10) / SEND_REPLY_MESSAGE (324) request, and the V1 form of every send.
    pub struct SendMessageRequestHeader {
        producer_group: String = "producerGroup",
        topic: String = "topic",
        /// Template topic for auto-creation, normally `TBW102`.
        default_topic: String = "defaultTopic",
        default_topic_queue_nums: i32 = "defaultTopicQueueNums",
        /// Negative: the broker picks a writable queue.
        queue_id: i32 = "queueId",
        /// MessageSysFlag bits.
        sys_flag: i32 = "sysFlag",
        born_timestamp: i64 = "bornTimestamp",
        /// The user flag stored with the message.
        flag: i32 = "flag",
        /// The properties string.
        properties: Option<String> = "properties",
        reconsume_times: Option<i32> = "reconsumeTimes",
        unit_mode: Option<bool> = "unitMode",
        batch: Option<bool> = "batch",
        max_reconsume_times: Option<i32> = "maxReconsumeTimes",
        bname: Option<String> = "bname",
    }
}

command_header! {
    /// SEND_MESSAGE_V2 (310) / SEND_BATCH_MESSAGE (320) / SEND_REPLY_MESSAGE_V2 (325) request.
    /// The C++ client sends `k`/`m` as `"0"`/`"1"` and some numbers as JSON numbers; both read fine.
    pub struct SendMessageRequestHeaderV2 {
        a: String = "a",
        b: String = "b",
        c: String = "c",
        d: i32 = "d",
        e: i32 = "e",
        f: i32 = "f",
        g: i64 = "g",
        h: i32 = "h",
        i: Option<String> = "i",
        j: Option<i32> = "j",
        k: Option<bool> = "k",
        l: Option<i32> = "l",
        m: Option<bool> = "m",
        n: Option<String> = "n",
    }
}

impl From<SendMessageRequestHeaderV2> for SendMessageRequestHeader {
    fn from(v: SendMessageRequestHeaderV2) -> Self {
        SendMessageRequestHeader {
            producer_group: v.a,
            topic: v.b,
            default_topic: v.c,
            default_topic_queue_nums: v.d,
            queue_id: v.e,
            sys_flag: v.f,
            born_timestamp: v.g,
            flag: v.h,
            properties: v.i,
            reconsume_times: v.j,
            unit_mode: v.k,
            max_reconsume_times: v.l,
            batch: v.m,
            bname: v.n,
        }
    }
}

impl From<SendMessageRequestHeader> for SendMessageRequestHeaderV2 {
    fn from(v: SendMessageRequestHeader) -> Self {
        SendMessageRequestHeaderV2 {
            a: v.producer_group,
            b: v.topic,
            c: v.default_topic,
            d: v.default_topic_queue_nums,
            e: v.queue_id,
            f: v.sys_flag,
            g: v.born_timestamp,
            h: v.flag,
            i: v.properties,
            j: v.reconsume_times,
            k: v.unit_mode,
            l: v.max_reconsume_times,
            m: v.batch,
            n: v.bname,
        }
    }
}

/// Whether `code` is a send whose header uses the V2 single-letter keys.
pub fn is_v2_send(code: i32) -> bool {
    matches!(
        code,
        request_code::SEND_MESSAGE_V2
            | request_code::SEND_BATCH_MESSAGE
            | request_code::SEND_REPLY_MESSAGE_V2
    )
}

/// Read the send header of a request with `code`, V2 keys or V1 keys as the code dictates.
pub fn send_request_header(
    code: i32,
    ext: &ExtFields,
) -> Result<SendMessageRequestHeader, ProtocolError> {
    if is_v2_send(code) {
        SendMessageRequestHeaderV2::from_ext(ext).map(Into::into)
    } else {
        SendMessageRequestHeader::from_ext(ext)
    }
}

/// The default `MSG_REGION` of a Java broker.
pub const DEFAULT_REGION: &str = "DefaultRegion";

/// Send response header (to 10, 310, 320, 324, 325).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMessageResponseHeader {
    /// Offset message id; for a batch the ids joined by `,`.
    pub msg_id: String,
    pub queue_id: i32,
    /// Consume-queue offset (of the first message of a batch).
    pub queue_offset: i64,
    pub transaction_id: Option<String>,
    /// `MSG_REGION`: the broker's region id.
    pub region: String,
    /// `TRACE_ON`.
    pub trace_on: bool,
}

impl Default for SendMessageResponseHeader {
    fn default() -> Self {
        SendMessageResponseHeader {
            msg_id: String::new(),
            queue_id: 0,
            queue_offset: 0,
            transaction_id: None,
            region: DEFAULT_REGION.to_string(),
            trace_on: true,
        }
    }
}

impl CommandHeader for SendMessageResponseHeader {
    /// `MSG_REGION`/`TRACE_ON` are read leniently (defaults when absent): only Java brokers add them.
    fn from_ext(ext: &ExtFields) -> Result<Self, ProtocolError> {
        Ok(SendMessageResponseHeader {
            msg_id: ExtValue::read(ext, "msgId")?,
            queue_id: ExtValue::read(ext, "queueId")?,
            queue_offset: ExtValue::read(ext, "queueOffset")?,
            transaction_id: ExtValue::read(ext, "transactionId")?,
            region: Option::<String>::read(ext, "MSG_REGION")?
                .unwrap_or_else(|| DEFAULT_REGION.to_string()),
            trace_on: Option::<bool>::read(ext, "TRACE_ON")?.unwrap_or(true),
        })
    }

    fn to_ext(&self, ext: &mut ExtFields) {
        self.msg_id.write(ext, "msgId");
        self.queue_id.write(ext, "queueId");
        self.queue_offset.write(ext, "queueOffset");
        self.transaction_id.write(ext, "transactionId");
        self.region.write(ext, "MSG_REGION");
        self.trace_on.write(ext, "TRACE_ON");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::protocol::header::ext_of as ext;

    fn cpp_v2() -> ExtFields {
        // As decoded from the C++ client's JSON: numbers already turned into their text.
        ext(&[
            ("a", "pg"),
            ("b", "TopicTest"),
            ("c", "TBW102"),
            ("d", "4"),
            ("e", "-1"),
            ("f", "0"),
            ("g", "1700000000000"),
            ("h", "0"),
            ("i", "TAGS\u{1}t\u{2}UNIQ_KEY\u{1}ABC"),
            ("j", "0"),
            ("k", "0"),
            ("l", "16"),
            ("m", "1"),
            ("AccessKey", ""),
            ("Signature", ""),
        ])
    }

    #[test]
    fn v2_with_numeric_text_and_zero_one_booleans_converts_to_v1() {
        let h = send_request_header(request_code::SEND_MESSAGE_V2, &cpp_v2()).unwrap();
        assert_eq!(h.producer_group, "pg");
        assert_eq!(h.topic, "TopicTest");
        assert_eq!(h.default_topic, "TBW102");
        assert_eq!(
            (h.default_topic_queue_nums, h.queue_id, h.sys_flag),
            (4, -1, 0)
        );
        assert_eq!((h.born_timestamp, h.flag), (1_700_000_000_000, 0));
        assert_eq!(
            h.properties.as_deref(),
            Some("TAGS\u{1}t\u{2}UNIQ_KEY\u{1}ABC")
        );
        assert_eq!(h.reconsume_times, Some(0));
        assert_eq!(h.unit_mode, Some(false));
        assert_eq!(h.max_reconsume_times, Some(16));
        assert_eq!(h.batch, Some(true));
        assert_eq!(h.bname, None);
        // And back: V1 -> V2 -> ext -> V1 is the identity.
        let v2: SendMessageRequestHeaderV2 = h.clone().into();
        let mut out = ExtFields::default();
        v2.to_ext(&mut out);
        assert_eq!(out.get("k").map(String::as_str), Some("false"));
        assert_eq!(send_request_header(320, &out).unwrap(), h);
    }

    #[test]
    fn v1_keys_are_read_for_code_10_and_missing_ones_named() {
        let mut v1 = ExtFields::default();
        SendMessageRequestHeader::from(SendMessageRequestHeaderV2::from_ext(&cpp_v2()).unwrap())
            .to_ext(&mut v1);
        assert_eq!(v1.get("queueId").map(String::as_str), Some("-1"));
        assert!(send_request_header(request_code::SEND_MESSAGE, &v1).is_ok());
        let mut no_topic = cpp_v2();
        no_topic.remove("b");
        assert_eq!(
            send_request_header(310, &no_topic),
            Err(ProtocolError::MissingField("b"))
        );
        v1.remove("bornTimestamp");
        assert_eq!(
            send_request_header(10, &v1),
            Err(ProtocolError::MissingField("bornTimestamp"))
        );
        let mut bad_bool = cpp_v2();
        bad_bool.insert("k".into(), "2".into());
        assert!(matches!(
            send_request_header(310, &bad_bool),
            Err(ProtocolError::InvalidField { field: "k", .. })
        ));
    }

    #[test]
    fn response_always_carries_region_and_trace() {
        let h = SendMessageResponseHeader {
            msg_id: "0A0000010000291100000000000000A0".into(),
            queue_id: 2,
            queue_offset: 7,
            trace_on: false,
            ..Default::default()
        };
        let mut out = ExtFields::default();
        h.to_ext(&mut out);
        assert_eq!(
            out,
            ext(&[
                ("msgId", "0A0000010000291100000000000000A0"),
                ("queueId", "2"),
                ("queueOffset", "7"),
                ("MSG_REGION", "DefaultRegion"),
                ("TRACE_ON", "false"),
            ])
        );
        assert_eq!(SendMessageResponseHeader::from_ext(&out).unwrap(), h);
    }
}
