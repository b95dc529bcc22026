//! Admin headers (mqadmin / dashboard -> broker): topic and group management, stats, connections,
//! offset reset, broker config, and the requests the broker forwards to a client (307, 309).
//! Low traffic, so they follow the Java classes field for field and nothing more. A Java field
//! that is a primitive without `@CFNotNull` is an `Option` here: Java reads its absence as the
//! primitive's default, and so do the accessors below.

use super::client::GetConsumerRunningInfoRequestHeader;
use super::command_header;

command_header! {
    /// UPDATE_AND_CREATE_TOPIC (17) request.
    pub struct CreateTopicRequestHeader {
        topic: String = "topic",
        default_topic: String = "defaultTopic",
        read_queue_nums: i32 = "readQueueNums",
        write_queue_nums: i32 = "writeQueueNums",
        /// PermName bits (6 = read + write).
        perm: i32 = "perm",
        /// `SINGLE_TAG` or `MULTI_TAG`.
        topic_filter_type: String = "topicFilterType",
        topic_sys_flag: Option<i32> = "topicSysFlag",
        /// Java always sends it; absent means false (see [`CreateTopicRequestHeader::is_order`]).
        order: Option<bool> = "order",
    }
}

impl CreateTopicRequestHeader {
    /// The `order` flag, false when absent.
    pub fn is_order(&self) -> bool {
        self.order.unwrap_or(false)
    }
}

command_header! {
    /// GET_TOPIC_STATS_INFO (202) request.
    pub struct GetTopicStatsInfoRequestHeader {
        topic: String = "topic",
    }
}

command_header! {
    /// GET_CONSUMER_CONNECTION_LIST (203) request.
    pub struct GetConsumerConnectionListRequestHeader {
        consumer_group: String = "consumerGroup",
    }
}

command_header! {
    /// GET_PRODUCER_CONNECTION_LIST (204) request.
    pub struct GetProducerConnectionListRequestHeader {
        producer_group: String = "producerGroup",
    }
}

command_header! {
    /// DELETE_SUBSCRIPTIONGROUP (207) request.
    pub struct DeleteSubscriptionGroupRequestHeader {
        group_name: String = "groupName",
        remove_offset: Option<bool> = "removeOffset",
    }
}

command_header! {
    /// GET_CONSUME_STATS (208) request; a blank topic means all topics of the group.
    pub struct GetConsumeStatsRequestHeader {
        consumer_group: String = "consumerGroup",
        topic: Option<String> = "topic",
    }
}

command_header! {
    /// DELETE_TOPIC_IN_BROKER (215) request.
    pub struct DeleteTopicRequestHeader {
        topic: String = "topic",
    }
}

command_header! {
    /// RESET_CONSUMER_CLIENT_OFFSET (220) / INVOKE_BROKER_TO_RESET_OFFSET (222) request.
    pub struct ResetOffsetRequestHeader {
        topic: String = "topic",
        group: String = "group",
        /// -1 = to the max offset.
        timestamp: i64 = "timestamp",
        is_force: bool = "isForce",
    }
}

command_header! {
    /// GET_CONSUMER_STATUS_FROM_CLIENT (221) / INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223) request.
    pub struct GetConsumerStatusRequestHeader {
        topic: String = "topic",
        group: String = "group",
        client_addr: Option<String> = "clientAddr",
    }
}

command_header! {
    /// QUERY_TOPIC_CONSUME_BY_WHO (300) request.
    pub struct QueryTopicConsumeByWhoRequestHeader {
        topic: String = "topic",
    }
}

command_header! {
    /// GET_BROKER_CONFIG (26) response; the body is the properties text.
    pub struct GetBrokerConfigResponseHeader {
        /// The config's `DataVersion` as JSON.
        version: String = "version",
    }
}

command_header! {
    /// QUERY_CONSUME_TIME_SPAN (303) request.
    pub struct QueryConsumeTimeSpanRequestHeader {
        topic: String = "topic",
        group: String = "group",
    }
}

command_header! {
    /// QUERY_CONSUME_QUEUE (321) request: `count` consume-queue entries of one queue from `index`.
    pub struct QueryConsumeQueueRequestHeader {
        topic: String = "topic",
        queue_id: i32 = "queueId",
        index: i64 = "index",
        count: i32 = "count",
        /// Optional: the group whose subscription filters the entries (`eval`).
        consumer_group: Option<String> = "consumerGroup",
    }
}

command_header! {
    /// CLONE_GROUP_OFFSET (314) request; a blank topic means every topic of the source group.
    pub struct CloneGroupOffsetRequestHeader {
        src_group: String = "srcGroup",
        dest_group: String = "destGroup",
        topic: Option<String> = "topic",
        offline: Option<bool> = "offline",
    }
}

command_header! {
    /// CONSUME_MESSAGE_DIRECTLY (309) request, admin -> broker and broker -> client alike; to the
    /// client the body is the stored message.
    pub struct ConsumeMessageDirectlyResultRequestHeader {
        consumer_group: String = "consumerGroup",
        client_id: Option<String> = "clientId",
        /// The offsetMsgId (32 hex digits: store host + commit-log offset).
        msg_id: Option<String> = "msgId",
        broker_name: Option<String> = "brokerName",
    }
}

impl ResetOffsetRequestHeader {
    /// A RESET_CONSUMER_CLIENT_OFFSET (220) header as the broker pushes it (`isForce` false).
    pub fn to_client(topic: &str, group: &str, timestamp: i64) -> Self {
        ResetOffsetRequestHeader {
            topic: topic.to_string(),
            group: group.to_string(),
            timestamp,
            is_force: false,
        }
    }
}

impl CloneGroupOffsetRequestHeader {
    /// The topic to clone, `None` for all of the source group's topics.
    pub fn topic(&self) -> Option<&str> {
        self.topic
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }
}

impl GetConsumerRunningInfoRequestHeader {
    pub fn jstack(&self) -> bool {
        self.jstack_enable.unwrap_or(false)
    }
}

impl DeleteSubscriptionGroupRequestHeader {
    /// `removeOffset`, false when absent.
    pub fn remove_offset(&self) -> bool {
        self.remove_offset.unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::error::ProtocolError;
    use crate::protocol::header::{CommandHeader, ExtFields};

    #[test]
    fn create_topic_from_numeric_text_and_missing_perm() {
        let mut e = ExtFields::default();
        for (k, v) in [
            ("topic", "T"),
            ("defaultTopic", "TBW102"),
            ("readQueueNums", "8"),
            ("writeQueueNums", "8"),
            ("perm", "6"),
            ("topicFilterType", "SINGLE_TAG"),
        ] {
            e.insert(k.into(), v.into());
        }
        let h = CreateTopicRequestHeader::from_ext(&e).unwrap();
        assert_eq!((h.read_queue_nums, h.perm, h.is_order()), (8, 6, false));
        e.remove("perm");
        assert_eq!(
            CreateTopicRequestHeader::from_ext(&e),
            Err(ProtocolError::MissingField("perm"))
        );
    }

    fn round_trip<H: CommandHeader + PartialEq + std::fmt::Debug>(h: H) -> ExtFields {
        let mut e = ExtFields::default();
        h.to_ext(&mut e);
        assert_eq!(H::from_ext(&e).unwrap(), h);
        e
    }

    #[test]
    fn admin_code_headers_round_trip_with_java_keys() {
        let e = round_trip(QueryConsumeQueueRequestHeader {
            topic: "T".into(),
            queue_id: 1,
            index: 5,
            count: 10,
            consumer_group: Some("g".into()),
        });
        assert_eq!(e.get("queueId").map(String::as_str), Some("1"));
        assert_eq!(e.get("consumerGroup").map(String::as_str), Some("g"));
        let e = round_trip(CloneGroupOffsetRequestHeader {
            src_group: "a".into(),
            dest_group: "b".into(),
            topic: Some(" ".into()),
            offline: Some(true),
        });
        assert_eq!(e.get("srcGroup").map(String::as_str), Some("a"));
        assert_eq!(
            CloneGroupOffsetRequestHeader::from_ext(&e).unwrap().topic(),
            None
        );
        let e = round_trip(GetConsumerRunningInfoRequestHeader {
            consumer_group: "g".into(),
            client_id: "c@1".into(),
            jstack_enable: Some(false),
        });
        assert_eq!(e.get("jstackEnable").map(String::as_str), Some("false"));
        round_trip(ConsumeMessageDirectlyResultRequestHeader {
            consumer_group: "g".into(),
            client_id: Some("c@1".into()),
            msg_id: Some("0A00000100002A9F0000000000000000".into()),
            broker_name: Some("b".into()),
        });
        round_trip(QueryConsumeTimeSpanRequestHeader {
            topic: "T".into(),
            group: "g".into(),
        });
        round_trip(GetBrokerConfigResponseHeader {
            version: r#"{"counter":1,"timestamp":2}"#.into(),
        });
        let e = round_trip(ResetOffsetRequestHeader::to_client("T", "g", -1));
        assert_eq!(e.get("isForce").map(String::as_str), Some("false"));
        let d = DeleteSubscriptionGroupRequestHeader::from_ext(
            &[("groupName".to_string(), "g".to_string())]
                .into_iter()
                .collect(),
        )
        .unwrap();
        assert!(!d.remove_offset());
    }
}
