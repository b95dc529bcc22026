//! Offset headers: consumer offsets (14, 15) and queue offset/time lookups (29-32). The lookups all
//! answer with a single `offset`, so they share [`OffsetResponseHeader`].

use super::command_header;

command_header! {
    /// QUERY_CONSUMER_OFFSET (14) request.
    pub struct QueryConsumerOffsetRequestHeader {
        consumer_group: String = "consumerGroup",
        topic: String = "topic",
        queue_id: i32 = "queueId",
        bname: Option<String> = "bname",
    }
}

command_header! {
    /// A response carrying one `offset`: QUERY_CONSUMER_OFFSET, GET_MAX_OFFSET, GET_MIN_OFFSET,
    /// SEARCH_OFFSET_BY_TIMESTAMP.
    pub struct OffsetResponseHeader {
        offset: i64 = "offset",
    }
}

/// QUERY_CONSUMER_OFFSET response.
pub type QueryConsumerOffsetResponseHeader = OffsetResponseHeader;

command_header! {
    /// UPDATE_CONSUMER_OFFSET (15) request; the response has no header.
    pub struct UpdateConsumerOffsetRequestHeader {
        consumer_group: String = "consumerGroup",
        topic: String = "topic",
        queue_id: i32 = "queueId",
        commit_offset: i64 = "commitOffset",
        bname: Option<String> = "bname",
    }
}

command_header! {
    /// GET_MAX_OFFSET (30) request.
    pub struct GetMaxOffsetRequestHeader {
        topic: String = "topic",
        queue_id: i32 = "queueId",
        bname: Option<String> = "bname",
    }
}

command_header! {
    /// GET_MIN_OFFSET (31) request.
    pub struct GetMinOffsetRequestHeader {
        topic: String = "topic",
        queue_id: i32 = "queueId",
        bname: Option<String> = "bname",
    }
}

command_header! {
    /// GET_EARLIEST_MSG_STORETIME (32) request.
    pub struct GetEarliestMsgStoretimeRequestHeader {
        topic: String = "topic",
        queue_id: i32 = "queueId",
        bname: Option<String> = "bname",
    }
}

command_header! {
    /// GET_EARLIEST_MSG_STORETIME response.
    pub struct GetEarliestMsgStoretimeResponseHeader {
        timestamp: i64 = "timestamp",
    }
}

command_header! {
    /// SEARCH_OFFSET_BY_TIMESTAMP (29) request; answered with [`OffsetResponseHeader`].
    pub struct SearchOffsetRequestHeader {
        topic: String = "topic",
        queue_id: i32 = "queueId",
        timestamp: i64 = "timestamp",
        bname: Option<String> = "bname",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::header::{CommandHeader, ExtFields};

    #[test]
    fn offset_response_round_trips_and_bname_is_optional() {
        let mut e = ExtFields::default();
        OffsetResponseHeader { offset: -1 }.to_ext(&mut e);
        assert_eq!(e.get("offset").map(String::as_str), Some("-1"));
        assert_eq!(
            QueryConsumerOffsetResponseHeader::from_ext(&e)
                .unwrap()
                .offset,
            -1
        );

        let mut q = ExtFields::default();
        for (k, v) in [("topic", "T"), ("queueId", "1"), ("timestamp", "5")] {
            q.insert(k.into(), v.into());
        }
        let s = SearchOffsetRequestHeader::from_ext(&q).unwrap();
        assert_eq!((s.queue_id, s.timestamp, s.bname), (1, 5, None));
        q.insert("bname".into(), "broker-a".into());
        assert_eq!(
            GetMaxOffsetRequestHeader::from_ext(&q)
                .unwrap()
                .bname
                .as_deref(),
            Some("broker-a")
        );
    }
}
