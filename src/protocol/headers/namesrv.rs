//! Name-server headers: broker registration, route queries, KV config, topic/permission admin.
//!
//! Kept apart from the broker families because the name server is its own process and only needs
//! these; brokers send the registration ones.

use super::command_header;

command_header! {
    /// REGISTER_BROKER (103) request.
    pub struct RegisterBrokerRequestHeader {
        broker_name: String = "brokerName",
        broker_addr: String = "brokerAddr",
        cluster_name: String = "clusterName",
        ha_server_addr: String = "haServerAddr",
        /// 0 = master, > 0 = slave.
        broker_id: i64 = "brokerId",
        /// The body is the deflated binary RegisterBrokerBody.
        compressed: Option<bool> = "compressed",
        /// CRC32 of the body & 0x7FFFFFFF; 0 or absent = not checked.
        body_crc32: Option<i32> = "bodyCrc32",
    }
}

command_header! {
    /// REGISTER_BROKER response (filled for slaves only).
    pub struct RegisterBrokerResponseHeader {
        ha_server_addr: Option<String> = "haServerAddr",
        master_addr: Option<String> = "masterAddr",
    }
}

command_header! {
    /// UNREGISTER_BROKER (104) request.
    pub struct UnRegisterBrokerRequestHeader {
        broker_name: String = "brokerName",
        broker_addr: String = "brokerAddr",
        cluster_name: String = "clusterName",
        broker_id: i64 = "brokerId",
    }
}

command_header! {
    /// GET_ROUTEINFO_BY_TOPIC (105) request.
    pub struct GetRouteInfoRequestHeader {
        topic: String = "topic",
        /// Ask for standard JSON (quoted map keys) regardless of the client version.
        accept_standard_json_only: Option<bool> = "acceptStandardJsonOnly",
    }
}

command_header! {
    /// PUT_KV_CONFIG (100) request.
    pub struct PutKVConfigRequestHeader {
        namespace: String = "namespace",
        key: String = "key",
        value: String = "value",
    }
}

command_header! {
    /// GET_KV_CONFIG (101) request.
    pub struct GetKVConfigRequestHeader {
        namespace: String = "namespace",
        key: String = "key",
    }
}

command_header! {
    /// GET_KV_CONFIG response.
    pub struct GetKVConfigResponseHeader {
        value: Option<String> = "value",
    }
}

command_header! {
    /// DELETE_KV_CONFIG (102) request.
    pub struct DeleteKVConfigRequestHeader {
        namespace: String = "namespace",
        key: String = "key",
    }
}

command_header! {
    /// GET_KVLIST_BY_NAMESPACE (219) request.
    pub struct GetKVListByNamespaceRequestHeader {
        namespace: String = "namespace",
    }
}

command_header! {
    /// QUERY_DATA_VERSION (322) request; the body is the broker's DataVersion.
    pub struct QueryDataVersionRequestHeader {
        broker_name: String = "brokerName",
        broker_addr: String = "brokerAddr",
        cluster_name: String = "clusterName",
        broker_id: i64 = "brokerId",
    }
}

command_header! {
    /// QUERY_DATA_VERSION response.
    pub struct QueryDataVersionResponseHeader {
        changed: bool = "changed",
    }
}

command_header! {
    /// WIPE_WRITE_PERM_OF_BROKER (205) request.
    pub struct WipeWritePermOfBrokerRequestHeader {
        broker_name: String = "brokerName",
    }
}

command_header! {
    /// WIPE_WRITE_PERM_OF_BROKER response.
    pub struct WipeWritePermOfBrokerResponseHeader {
        wipe_topic_count: i32 = "wipeTopicCount",
    }
}

command_header! {
    /// ADD_WRITE_PERM_OF_BROKER (327) request.
    pub struct AddWritePermOfBrokerRequestHeader {
        broker_name: String = "brokerName",
    }
}

command_header! {
    /// ADD_WRITE_PERM_OF_BROKER response.
    pub struct AddWritePermOfBrokerResponseHeader {
        add_topic_count: i32 = "addTopicCount",
    }
}

command_header! {
    /// GET_TOPICS_BY_CLUSTER (224) request.
    pub struct GetTopicsByClusterRequestHeader {
        cluster: String = "cluster",
    }
}

command_header! {
    /// DELETE_TOPIC_IN_NAMESRV (216) request.
    pub struct DeleteTopicFromNamesrvRequestHeader {
        topic: String = "topic",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::error::ProtocolError;
    use crate::protocol::header::{CommandHeader, ExtFields};

    use crate::protocol::header::ext_of as ext;

    #[test]
    fn register_broker_from_java_ext() {
        let e = ext(&[
            ("brokerName", "broker-a"),
            ("brokerAddr", "10.0.0.1:10911"),
            ("clusterName", "DefaultCluster"),
            ("haServerAddr", "10.0.0.1:10912"),
            ("brokerId", "0"),
            ("compressed", "false"),
            ("bodyCrc32", "123456"),
        ]);
        let h = RegisterBrokerRequestHeader::from_ext(&e).unwrap();
        assert_eq!(h.broker_name, "broker-a");
        assert_eq!(
            (h.broker_id, h.compressed, h.body_crc32),
            (0, Some(false), Some(123456))
        );
        let mut out = ExtFields::default();
        h.to_ext(&mut out);
        assert_eq!(out, e);
    }

    #[test]
    fn missing_required_key_is_named() {
        let e = ext(&[
            ("brokerName", "b"),
            ("brokerAddr", "a"),
            ("clusterName", "c"),
        ]);
        assert_eq!(
            QueryDataVersionRequestHeader::from_ext(&e),
            Err(ProtocolError::MissingField("brokerId"))
        );
        assert_eq!(
            GetRouteInfoRequestHeader::from_ext(&ext(&[])),
            Err(ProtocolError::MissingField("topic"))
        );
    }

    #[test]
    fn route_query_flag_and_response_headers() {
        let h = GetRouteInfoRequestHeader::from_ext(&ext(&[
            ("topic", "T"),
            ("acceptStandardJsonOnly", "true"),
        ]))
        .unwrap();
        assert_eq!(h.accept_standard_json_only, Some(true));
        let mut out = ExtFields::default();
        QueryDataVersionResponseHeader { changed: true }.to_ext(&mut out);
        RegisterBrokerResponseHeader::default().to_ext(&mut out);
        assert_eq!(out, ext(&[("changed", "true")]));
    }
}
