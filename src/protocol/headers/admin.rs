//! Admin headers (mqadmin / dashboard -> broker): topic and group management, stats, connections,
//! offset reset. Low traffic, so they follow the Java classes field for field and nothing more.

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::error::ProtocolError;
    use crate::protocol::header::{CommandHeader, ExtFields};

    #[test]
    fn create_topic_from_numeric_text_and_missing_perm() {
        let mut e = ExtFields::new();
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
}
