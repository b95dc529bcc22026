//! Request and response codes (docs/protocol.md §2.1, §3) and the sys-flag bits (§5.5).
//!
//! Plain `i32` constants rather than enums: codes arrive from the wire as arbitrary integers and an
//! unknown one must still be answered (REQUEST_CODE_NOT_SUPPORTED), so a closed enum would only add
//! a fallible conversion at every use. The names are RocketMQ's, so logs and greps match the Java
//! sources; a single macro keeps each constant and its log name from drifting apart.

/// Declares the constants of a code module plus a `(code, name)` table for log lookups.
macro_rules! codes {
    ($(#[$doc:meta])* $module:ident, $table:ident { $($name:ident = $value:expr,)* }) => {
        $(#[$doc])*
        pub mod $module {
            $(pub const $name: i32 = $value;)*

            /// Every code with its name, in declaration order.
            pub const ALL: &[(i32, &str)] = &[$(($name, stringify!($name)),)*];
        }
        use $module::ALL as $table;
    };
}

codes!(
    /// Request codes (`RequestCode`).
    request_code, REQUEST_TABLE {
    SEND_MESSAGE = 10,
    PULL_MESSAGE = 11,
    QUERY_MESSAGE = 12,
    QUERY_BROKER_OFFSET = 13,
    QUERY_CONSUMER_OFFSET = 14,
    UPDATE_CONSUMER_OFFSET = 15,
    UPDATE_AND_CREATE_TOPIC = 17,
    GET_ALL_TOPIC_CONFIG = 21,
    GET_TOPIC_CONFIG_LIST = 22,
    GET_TOPIC_NAME_LIST = 23,
    UPDATE_BROKER_CONFIG = 25,
    GET_BROKER_CONFIG = 26,
    TRIGGER_DELETE_FILES = 27,
    GET_BROKER_RUNTIME_INFO = 28,
    SEARCH_OFFSET_BY_TIMESTAMP = 29,
    GET_MAX_OFFSET = 30,
    GET_MIN_OFFSET = 31,
    GET_EARLIEST_MSG_STORETIME = 32,
    VIEW_MESSAGE_BY_ID = 33,
    HEART_BEAT = 34,
    UNREGISTER_CLIENT = 35,
    CONSUMER_SEND_MSG_BACK = 36,
    END_TRANSACTION = 37,
    GET_CONSUMER_LIST_BY_GROUP = 38,
    CHECK_TRANSACTION_STATE = 39,
    NOTIFY_CONSUMER_IDS_CHANGED = 40,
    LOCK_BATCH_MQ = 41,
    UNLOCK_BATCH_MQ = 42,
    GET_ALL_CONSUMER_OFFSET = 43,
    GET_ALL_DELAY_OFFSET = 45,
    CHECK_CLIENT_CONFIG = 46,
    UPDATE_AND_CREATE_ACL_CONFIG = 50,
    DELETE_ACL_CONFIG = 51,
    GET_BROKER_CLUSTER_ACL_INFO = 52,
    UPDATE_GLOBAL_WHITE_ADDRS_CONFIG = 53,
    // RocketMQ 4.7-4.9.7 (removed in 4.9.8); we answer it with secrets masked.
    GET_BROKER_CLUSTER_ACL_CONFIG = 54,
    PUT_KV_CONFIG = 100,
    GET_KV_CONFIG = 101,
    DELETE_KV_CONFIG = 102,
    REGISTER_BROKER = 103,
    UNREGISTER_BROKER = 104,
    GET_ROUTEINFO_BY_TOPIC = 105,
    GET_BROKER_CLUSTER_INFO = 106,
    UPDATE_AND_CREATE_SUBSCRIPTIONGROUP = 200,
    GET_ALL_SUBSCRIPTIONGROUP_CONFIG = 201,
    GET_TOPIC_STATS_INFO = 202,
    GET_CONSUMER_CONNECTION_LIST = 203,
    GET_PRODUCER_CONNECTION_LIST = 204,
    WIPE_WRITE_PERM_OF_BROKER = 205,
    GET_ALL_TOPIC_LIST_FROM_NAMESERVER = 206,
    DELETE_SUBSCRIPTIONGROUP = 207,
    GET_CONSUME_STATS = 208,
    SUSPEND_CONSUMER = 209,
    RESUME_CONSUMER = 210,
    RESET_CONSUMER_OFFSET_IN_CONSUMER = 211,
    RESET_CONSUMER_OFFSET_IN_BROKER = 212,
    ADJUST_CONSUMER_THREAD_POOL = 213,
    WHO_CONSUME_THE_MESSAGE = 214,
    DELETE_TOPIC_IN_BROKER = 215,
    DELETE_TOPIC_IN_NAMESRV = 216,
    GET_KVLIST_BY_NAMESPACE = 219,
    RESET_CONSUMER_CLIENT_OFFSET = 220,
    GET_CONSUMER_STATUS_FROM_CLIENT = 221,
    INVOKE_BROKER_TO_RESET_OFFSET = 222,
    INVOKE_BROKER_TO_GET_CONSUMER_STATUS = 223,
    GET_TOPICS_BY_CLUSTER = 224,
    QUERY_TOPIC_CONSUME_BY_WHO = 300,
    REGISTER_FILTER_SERVER = 301,
    REGISTER_MESSAGE_FILTER_CLASS = 302,
    QUERY_CONSUME_TIME_SPAN = 303,
    GET_SYSTEM_TOPIC_LIST_FROM_NS = 304,
    GET_SYSTEM_TOPIC_LIST_FROM_BROKER = 305,
    CLEAN_EXPIRED_CONSUMEQUEUE = 306,
    GET_CONSUMER_RUNNING_INFO = 307,
    QUERY_CORRECTION_OFFSET = 308,
    CONSUME_MESSAGE_DIRECTLY = 309,
    SEND_MESSAGE_V2 = 310,
    GET_UNIT_TOPIC_LIST = 311,
    GET_HAS_UNIT_SUB_TOPIC_LIST = 312,
    GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST = 313,
    CLONE_GROUP_OFFSET = 314,
    VIEW_BROKER_STATS_DATA = 315,
    CLEAN_UNUSED_TOPIC = 316,
    GET_BROKER_CONSUME_STATS = 317,
    UPDATE_NAMESRV_CONFIG = 318,
    GET_NAMESRV_CONFIG = 319,
    SEND_BATCH_MESSAGE = 320,
    QUERY_CONSUME_QUEUE = 321,
    QUERY_DATA_VERSION = 322,
    RESUME_CHECK_HALF_MESSAGE = 323,
    SEND_REPLY_MESSAGE = 324,
    SEND_REPLY_MESSAGE_V2 = 325,
    PUSH_REPLY_MESSAGE_TO_CLIENT = 326,
    ADD_WRITE_PERM_OF_BROKER = 327,
    GET_ALL_PRODUCER_INFO = 328,
    DELETE_EXPIRED_COMMITLOG = 329,
    // RocketMQ 5 controller mode (RIP-44).
    BROKER_HEARTBEAT = 904,
    CONTROLLER_ALTER_SYNC_STATE_SET = 1001,
    CONTROLLER_ELECT_MASTER = 1002,
    CONTROLLER_REGISTER_BROKER = 1003,
    CONTROLLER_GET_REPLICA_INFO = 1004,
    CONTROLLER_GET_METADATA_INFO = 1005,
    CONTROLLER_GET_SYNC_STATE_DATA = 1006,
    GET_BROKER_EPOCH_CACHE = 1007,
    NOTIFY_BROKER_ROLE_CHANGED = 1008,
    UPDATE_CONTROLLER_CONFIG = 1009,
    GET_CONTROLLER_CONFIG = 1010,
    CLEAN_BROKER_DATA = 1011,
    CONTROLLER_GET_NEXT_BROKER_ID = 1012,
    CONTROLLER_APPLY_BROKER_ID = 1013,
});

codes!(
    /// Response codes (`RemotingSysResponseCode` + `ResponseCode`).
    response_code, RESPONSE_TABLE {
    SUCCESS = 0,
    SYSTEM_ERROR = 1,
    SYSTEM_BUSY = 2,
    REQUEST_CODE_NOT_SUPPORTED = 3,
    TRANSACTION_FAILED = 4,
    FLUSH_DISK_TIMEOUT = 10,
    SLAVE_NOT_AVAILABLE = 11,
    FLUSH_SLAVE_TIMEOUT = 12,
    MESSAGE_ILLEGAL = 13,
    SERVICE_NOT_AVAILABLE = 14,
    VERSION_NOT_SUPPORTED = 15,
    NO_PERMISSION = 16,
    TOPIC_NOT_EXIST = 17,
    TOPIC_EXIST_ALREADY = 18,
    PULL_NOT_FOUND = 19,
    PULL_RETRY_IMMEDIATELY = 20,
    PULL_OFFSET_MOVED = 21,
    QUERY_NOT_FOUND = 22,
    SUBSCRIPTION_PARSE_FAILED = 23,
    SUBSCRIPTION_NOT_EXIST = 24,
    SUBSCRIPTION_NOT_LATEST = 25,
    SUBSCRIPTION_GROUP_NOT_EXIST = 26,
    FILTER_DATA_NOT_EXIST = 27,
    FILTER_DATA_NOT_LATEST = 28,
    TRANSACTION_SHOULD_COMMIT = 200,
    TRANSACTION_SHOULD_ROLLBACK = 201,
    TRANSACTION_STATE_UNKNOW = 202,
    TRANSACTION_STATE_GROUP_WRONG = 203,
    NO_BUYER_ID = 204,
    NOT_IN_CURRENT_UNIT = 205,
    CONSUMER_NOT_ONLINE = 206,
    CONSUME_MSG_TIMEOUT = 207,
    NO_MESSAGE = 208,
    UPDATE_AND_CREATE_ACL_CONFIG_FAILED = 209,
    DELETE_ACL_CONFIG_FAILED = 210,
    UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED = 211,
    FLOW_CONTROL = 215,
    // RocketMQ 5 controller mode (RIP-44).
    CONTROLLER_FENCED_MASTER_EPOCH = 2000,
    CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH = 2001,
    CONTROLLER_INVALID_MASTER = 2002,
    CONTROLLER_INVALID_REPLICAS = 2003,
    CONTROLLER_MASTER_NOT_AVAILABLE = 2004,
    CONTROLLER_INVALID_REQUEST = 2005,
    CONTROLLER_BROKER_NOT_ALIVE = 2006,
    CONTROLLER_NOT_LEADER = 2007,
    CONTROLLER_BROKER_METADATA_NOT_EXIST = 2008,
    CONTROLLER_INVALID_CLEAN_BROKER_METADATA = 2009,
    CONTROLLER_BROKER_NEED_TO_BE_REGISTERED = 2010,
    CONTROLLER_MASTER_STILL_EXIST = 2011,
    CONTROLLER_ELECT_MASTER_FAILED = 2012,
    CONTROLLER_ALTER_SYNC_STATE_SET_FAILED = 2013,
    CONTROLLER_BROKER_ID_INVALID = 2014,
    CONTROLLER_JRAFT_INTERNAL_ERROR = 2015,
    CONTROLLER_BROKER_LIVE_INFO_NOT_EXISTS = 2016,
});

fn lookup(table: &[(i32, &'static str)], code: i32) -> Option<&'static str> {
    table.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The RocketMQ name of a request code, for logs.
pub fn request_name(code: i32) -> Option<&'static str> {
    lookup(REQUEST_TABLE, code)
}

/// The RocketMQ name of a response code, for logs.
pub fn response_name(code: i32) -> Option<&'static str> {
    lookup(RESPONSE_TABLE, code)
}

/// `PullSysFlag` bits of the pull request header's `sysFlag`.
pub mod pull_sys_flag {
    /// Persist the header's `commitOffset`.
    pub const FLAG_COMMIT_OFFSET: i32 = 0x1;
    /// Long polling allowed.
    pub const FLAG_SUSPEND: i32 = 0x2;
    /// Use the header's `subscription` instead of the heartbeat's.
    pub const FLAG_SUBSCRIPTION: i32 = 0x4;
    pub const FLAG_CLASS_FILTER: i32 = 0x8;
    pub const FLAG_LITE_PULL_MESSAGE: i32 = 0x10;

    pub fn has_commit_offset(sys_flag: i32) -> bool {
        sys_flag & FLAG_COMMIT_OFFSET != 0
    }
    pub fn has_suspend(sys_flag: i32) -> bool {
        sys_flag & FLAG_SUSPEND != 0
    }
    pub fn has_subscription(sys_flag: i32) -> bool {
        sys_flag & FLAG_SUBSCRIPTION != 0
    }
    pub fn has_class_filter(sys_flag: i32) -> bool {
        sys_flag & FLAG_CLASS_FILTER != 0
    }
    /// The flag with the commit-offset bit cleared (what the broker does when it must not commit).
    pub fn clear_commit_offset(sys_flag: i32) -> i32 {
        sys_flag & !FLAG_COMMIT_OFFSET
    }
}

/// `MessageSysFlag` bits of a message's `sysFlag`.
pub mod message_sys_flag {
    /// Body zlib (or the type in bits 8-10) compressed by the producer.
    pub const COMPRESSED_FLAG: i32 = 0x1;
    pub const MULTI_TAGS_FLAG: i32 = 0x2;
    pub const TRANSACTION_NOT_TYPE: i32 = 0;
    pub const TRANSACTION_PREPARED_TYPE: i32 = 0x4;
    pub const TRANSACTION_COMMIT_TYPE: i32 = 0x8;
    pub const TRANSACTION_ROLLBACK_TYPE: i32 = 0xC;
    /// Mask of the two transaction-type bits.
    pub const TRANSACTION_TYPE_MASK: i32 = 0xC;
    pub const BORNHOST_V6_FLAG: i32 = 0x10;
    pub const STOREHOSTADDRESS_V6_FLAG: i32 = 0x20;
    pub const NEED_UNWRAP_FLAG: i32 = 0x40;
    pub const INNER_BATCH_FLAG: i32 = 0x80;
    pub const COMPRESSION_LZ4_TYPE: i32 = 0x100;
    pub const COMPRESSION_ZSTD_TYPE: i32 = 0x200;
    pub const COMPRESSION_ZLIB_TYPE: i32 = 0x300;
    /// Mask of the compression-type bits (0 = legacy, meaning zlib).
    pub const COMPRESSION_TYPE_MASK: i32 = 0x700;

    /// The transaction type bits of `sys_flag`.
    pub fn transaction_value(sys_flag: i32) -> i32 {
        sys_flag & TRANSACTION_TYPE_MASK
    }
    /// `sys_flag` with its transaction type replaced by `ty`.
    pub fn reset_transaction_value(sys_flag: i32, ty: i32) -> i32 {
        (sys_flag & !TRANSACTION_TYPE_MASK) | (ty & TRANSACTION_TYPE_MASK)
    }
    /// `sys_flag` with `flag` cleared.
    pub fn clear(sys_flag: i32, flag: i32) -> i32 {
        sys_flag & !flag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_and_codes_are_unique() {
        assert_eq!(request_name(310), Some("SEND_MESSAGE_V2"));
        assert_eq!(
            request_name(request_code::GET_TOPICS_BY_CLUSTER),
            Some("GET_TOPICS_BY_CLUSTER")
        );
        assert_eq!(response_name(22), Some("QUERY_NOT_FOUND"));
        assert_eq!(
            response_name(response_code::FLOW_CONTROL),
            Some("FLOW_CONTROL")
        );
        assert_eq!(request_name(9999), None);
        assert_eq!(
            request_name(request_code::CONTROLLER_APPLY_BROKER_ID),
            Some("CONTROLLER_APPLY_BROKER_ID")
        );
        assert_eq!(response_name(2007), Some("CONTROLLER_NOT_LEADER"));
        for table in [REQUEST_TABLE, RESPONSE_TABLE] {
            let mut codes: Vec<i32> = table.iter().map(|(c, _)| *c).collect();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), table.len());
        }
    }

    #[test]
    fn transaction_bits() {
        use message_sys_flag::*;
        let f = COMPRESSED_FLAG | TRANSACTION_PREPARED_TYPE;
        assert_eq!(transaction_value(f), TRANSACTION_PREPARED_TYPE);
        let g = reset_transaction_value(f, TRANSACTION_COMMIT_TYPE);
        assert_eq!(g, COMPRESSED_FLAG | TRANSACTION_COMMIT_TYPE);
        assert_eq!(
            transaction_value(reset_transaction_value(g, TRANSACTION_NOT_TYPE)),
            0
        );
        assert!(pull_sys_flag::has_suspend(3));
        assert_eq!(pull_sys_flag::clear_commit_offset(7), 6);
    }
}
