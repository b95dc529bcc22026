//! Pull headers (code 11). The request is the hottest header after send; the C++ client sends
//! `queueId`, `maxMsgNums` and `sysFlag` as JSON numbers, which the frame layer already turned
//! into text, so the typed read here is the same for every client.

use super::command_header;

command_header! {
    /// PULL_MESSAGE (11) request.
    pub struct PullMessageRequestHeader {
        consumer_group: String = "consumerGroup",
        topic: String = "topic",
        queue_id: i32 = "queueId",
        /// Logical offset to start from.
        queue_offset: i64 = "queueOffset",
        max_msg_nums: i32 = "maxMsgNums",
        /// PullSysFlag bits.
        sys_flag: i32 = "sysFlag",
        /// The consumer's offset to persist when the commit flag is set.
        commit_offset: i64 = "commitOffset",
        /// Long-poll hold time.
        suspend_timeout_millis: i64 = "suspendTimeoutMillis",
        /// Tag expression, sent with the subscription flag.
        subscription: Option<String> = "subscription",
        sub_version: i64 = "subVersion",
        /// `TAG` (default) or `SQL92`.
        expression_type: Option<String> = "expressionType",
        bname: Option<String> = "bname",
    }
}

command_header! {
    /// PULL_MESSAGE response.
    pub struct PullMessageResponseHeader {
        /// 0 = master.
        suggest_which_broker_id: i64 = "suggestWhichBrokerId",
        next_begin_offset: i64 = "nextBeginOffset",
        min_offset: i64 = "minOffset",
        max_offset: i64 = "maxOffset",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::error::ProtocolError;
    use crate::protocol::header::{CommandHeader, ExtFields};

    #[test]
    fn pull_request_reads_and_requires_sub_version() {
        let mut e: ExtFields = [
            ("consumerGroup", "cg"),
            ("topic", "T"),
            ("queueId", "3"),
            ("queueOffset", "100"),
            ("maxMsgNums", "32"),
            ("sysFlag", "6"),
            ("commitOffset", "0"),
            ("suspendTimeoutMillis", "15000"),
            ("subscription", "*"),
            ("subVersion", "1700000000000"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let h = PullMessageRequestHeader::from_ext(&e).unwrap();
        assert_eq!(
            (h.queue_id, h.queue_offset, h.max_msg_nums, h.sys_flag),
            (3, 100, 32, 6)
        );
        assert_eq!(h.subscription.as_deref(), Some("*"));
        assert_eq!(h.expression_type, None);
        e.remove("subVersion");
        assert_eq!(
            PullMessageRequestHeader::from_ext(&e),
            Err(ProtocolError::MissingField("subVersion"))
        );
    }
}
