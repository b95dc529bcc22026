//! Broker statistics headers (mqadmin statsAll / brokerConsumeStats, the dashboard's collector,
//! rocketmq-exporter -> broker).

use super::command_header;

command_header! {
    /// VIEW_BROKER_STATS_DATA (315) request: one stats item by RocketMQ's stats name
    /// (`TOPIC_PUT_NUMS`, `GROUP_GET_NUMS`, ...) and key (a topic, `topic@group`, or the cluster
    /// name for the BROKER_* items).
    pub struct ViewBrokerStatsDataRequestHeader {
        stats_name: String = "statsName",
        stats_key: String = "statsKey",
    }
}

command_header! {
    /// GET_BROKER_CONSUME_STATS (317) request; `isOrder` keeps only ordered topics.
    pub struct GetConsumeStatsInBrokerHeader {
        is_order: bool = "isOrder",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::header::CommandHeader;
    use crate::protocol::ProtocolError;

    #[test]
    fn stats_headers_read_their_keys() {
        let mut f = crate::protocol::header::ExtFields::default();
        f.insert("statsName".into(), "TOPIC_PUT_NUMS".into());
        f.insert("statsKey".into(), "T".into());
        let h = ViewBrokerStatsDataRequestHeader::from_ext(&f).unwrap();
        assert_eq!(
            (h.stats_name.as_str(), h.stats_key.as_str()),
            ("TOPIC_PUT_NUMS", "T")
        );
        let missing = GetConsumeStatsInBrokerHeader::from_ext(&f).unwrap_err();
        assert!(matches!(missing, ProtocolError::MissingField(k) if k == "isOrder"));
        f.insert("isOrder".into(), "true".into());
        assert!(
            GetConsumeStatsInBrokerHeader::from_ext(&f)
                .unwrap()
                .is_order
        );
    }
}
