//! Client-management headers: unregister, consumer-group membership (and the broker's push that
//! it changed), message retry, and the running-info probe the broker relays to a consumer.

use super::command_header;

command_header! {
    /// UNREGISTER_CLIENT (35) request.
    pub struct UnregisterClientRequestHeader {
        client_id: String = "clientID",
        producer_group: Option<String> = "producerGroup",
        consumer_group: Option<String> = "consumerGroup",
    }
}

command_header! {
    /// GET_CONSUMER_LIST_BY_GROUP (38) request.
    pub struct GetConsumerListByGroupRequestHeader {
        consumer_group: String = "consumerGroup",
    }
}

command_header! {
    /// NOTIFY_CONSUMER_IDS_CHANGED (40), broker -> consumer, oneway.
    pub struct NotifyConsumerIdsChangedRequestHeader {
        consumer_group: String = "consumerGroup",
    }
}

command_header! {
    /// CONSUMER_SEND_MSG_BACK (36) request.
    pub struct ConsumerSendMsgBackRequestHeader {
        /// Commit-log physical offset of the message being retried.
        offset: i64 = "offset",
        group: String = "group",
        /// 0: broker picks 3 + reconsumeTimes; < 0: straight to the DLQ.
        delay_level: i32 = "delayLevel",
        origin_msg_id: Option<String> = "originMsgId",
        origin_topic: Option<String> = "originTopic",
        unit_mode: Option<bool> = "unitMode",
        max_reconsume_times: Option<i32> = "maxReconsumeTimes",
        bname: Option<String> = "bname",
    }
}

command_header! {
    /// GET_CONSUMER_RUNNING_INFO (307), admin -> broker -> consumer.
    pub struct GetConsumerRunningInfoRequestHeader {
        consumer_group: String = "consumerGroup",
        client_id: String = "clientId",
        jstack_enable: Option<bool> = "jstackEnable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::error::ProtocolError;
    use crate::protocol::header::{CommandHeader, ExtFields};

    #[test]
    fn unregister_key_is_client_id_in_caps() {
        let mut e = ExtFields::default();
        e.insert("clientID".into(), "10.0.0.2@123#456".into());
        e.insert("producerGroup".into(), "pg".into());
        let h = UnregisterClientRequestHeader::from_ext(&e).unwrap();
        assert_eq!(h.client_id, "10.0.0.2@123#456");
        assert_eq!(h.consumer_group, None);
        e.remove("clientID");
        e.insert("clientId".into(), "x".into());
        assert_eq!(
            UnregisterClientRequestHeader::from_ext(&e),
            Err(ProtocolError::MissingField("clientID"))
        );
    }

    #[test]
    fn send_back_with_negative_delay_level() {
        let mut e = ExtFields::default();
        for (k, v) in [
            ("offset", "1024"),
            ("group", "cg"),
            ("delayLevel", "-1"),
            ("unitMode", "false"),
        ] {
            e.insert(k.into(), v.into());
        }
        let h = ConsumerSendMsgBackRequestHeader::from_ext(&e).unwrap();
        assert_eq!(
            (h.offset, h.delay_level, h.unit_mode),
            (1024, -1, Some(false))
        );
        let mut out = ExtFields::default();
        h.to_ext(&mut out);
        assert_eq!(out, e);
    }
}
