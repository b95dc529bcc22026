//! Permissions as RocketMQ's `Permission`: the bits, their text form in `plain_acl.yml`, the check,
//! and the table of request codes that need an `admin: true` account.
//!
//! RocketMQ 4.9 lists only five admin codes (17, 25, 215, 200, 207); every other admin request is
//! open to any signed account. We go beyond it (issue 14): [`ADMIN_CODES`] lists every request
//! the broker or name server answers that changes shared state or reveals other parties' state
//! and is not part of a producer's or consumer's normal work.

use crate::protocol::codes::request_code as code;

pub const DENY: u8 = 1;
pub const ANY: u8 = 2;
pub const PUB: u8 = 4;
pub const SUB: u8 = 8;

/// A perm text that is none of DENY, PUB, SUB, PUB|SUB, SUB|PUB.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission '{0}': expected DENY, PUB, SUB, PUB|SUB or SUB|PUB")]
pub struct BadPerm(pub String);

/// Parse a perm text strictly (file entries, admin requests).
pub fn parse(text: &str) -> Result<u8, BadPerm> {
    match text.trim() {
        "DENY" => Ok(DENY),
        "PUB" => Ok(PUB),
        "SUB" => Ok(SUB),
        "PUB|SUB" | "SUB|PUB" => Ok(PUB | SUB),
        other => Err(BadPerm(other.to_string())),
    }
}

/// A default perm: absent means DENY, as RocketMQ's `parsePermFromString(null)`.
pub fn parse_default(text: Option<&str>) -> Result<u8, BadPerm> {
    match text {
        None => Ok(DENY),
        Some(t) if t.trim().is_empty() => Ok(DENY),
        Some(t) => parse(t),
    }
}

/// Whether `owned` grants `needed` (`Permission.checkPermission`).
pub fn allows(needed: u8, owned: u8) -> bool {
    if owned & DENY != 0 {
        return false;
    }
    if needed & ANY != 0 {
        return owned & (PUB | SUB) != 0;
    }
    needed & owned != 0
}

/// The broker's admin-only request codes. Send, pull, heartbeat, offsets of one's own group,
/// locks, transactions, route reads and queue-offset lookups are not here: they are checked by
/// resource (see `resource`).
pub const ADMIN_CODES: &[i32] = &[
    // RocketMQ's own five.
    code::UPDATE_AND_CREATE_TOPIC,
    code::UPDATE_BROKER_CONFIG,
    code::DELETE_TOPIC_IN_BROKER,
    code::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
    code::DELETE_SUBSCRIPTIONGROUP,
    // Writes.
    code::TRIGGER_DELETE_FILES,
    code::UPDATE_AND_CREATE_ACL_CONFIG,
    code::DELETE_ACL_CONFIG,
    code::UPDATE_GLOBAL_WHITE_ADDRS_CONFIG,
    code::RESET_CONSUMER_OFFSET_IN_BROKER,
    code::INVOKE_BROKER_TO_RESET_OFFSET,
    code::CLEAN_EXPIRED_CONSUMEQUEUE,
    code::CLONE_GROUP_OFFSET,
    code::CLEAN_UNUSED_TOPIC,
    code::RESUME_CHECK_HALF_MESSAGE,
    code::DELETE_EXPIRED_COMMITLOG,
    // Controller mode: only the controller (signed as its host's admin account) may tell a
    // broker its set has a new master; a forged push from an application account would turn a
    // slave into a master.
    code::NOTIFY_BROKER_ROLE_CHANGED,
    // Requests the broker relays to a client (it acts on them).
    code::GET_CONSUMER_RUNNING_INFO,
    code::CONSUME_MESSAGE_DIRECTLY,
    code::INVOKE_BROKER_TO_GET_CONSUMER_STATUS,
    // Reads of the broker's config, ACL and of other parties' state.
    code::GET_BROKER_CONFIG,
    code::GET_BROKER_CLUSTER_ACL_INFO,
    code::GET_BROKER_CLUSTER_ACL_CONFIG,
    code::GET_ALL_TOPIC_CONFIG,
    code::GET_ALL_CONSUMER_OFFSET,
    code::GET_ALL_DELAY_OFFSET,
    code::GET_ALL_SUBSCRIPTIONGROUP_CONFIG,
    code::GET_BROKER_RUNTIME_INFO,
    code::GET_TOPIC_STATS_INFO,
    code::GET_CONSUMER_CONNECTION_LIST,
    code::GET_PRODUCER_CONNECTION_LIST,
    code::GET_ALL_PRODUCER_INFO,
    code::GET_CONSUME_STATS,
    code::QUERY_TOPIC_CONSUME_BY_WHO,
    code::QUERY_CONSUME_TIME_SPAN,
    code::GET_SYSTEM_TOPIC_LIST_FROM_BROKER,
    code::QUERY_CONSUME_QUEUE,
    code::VIEW_BROKER_STATS_DATA,
    code::GET_BROKER_CONSUME_STATS,
];

/// The name server's codes that change its state: they need a signed admin account there
/// (RocketMQ 4.x has no name-server ACL, nor has RocketMQ 5's controller). Everything else
/// (route, config and controller reads) stays open.
pub const NAMESRV_ADMIN_CODES: &[i32] = &[
    code::PUT_KV_CONFIG,
    code::DELETE_KV_CONFIG,
    code::REGISTER_BROKER,
    code::UNREGISTER_BROKER,
    code::WIPE_WRITE_PERM_OF_BROKER,
    code::ADD_WRITE_PERM_OF_BROKER,
    code::DELETE_TOPIC_IN_NAMESRV,
    code::UPDATE_NAMESRV_CONFIG,
    code::REGISTER_FILTER_SERVER,
    // The hosted controller's writes (`enableControllerInNamesrv`): what brokers in controller
    // mode send (their heartbeats too: a forged one would keep a dead master from being
    // replaced) and the admin's election, cleaning and config change.
    code::BROKER_HEARTBEAT,
    code::CONTROLLER_ALTER_SYNC_STATE_SET,
    code::CONTROLLER_ELECT_MASTER,
    code::CONTROLLER_REGISTER_BROKER,
    code::CONTROLLER_APPLY_BROKER_ID,
    code::CLEAN_BROKER_DATA,
    code::UPDATE_CONTROLLER_CONFIG,
];

/// Whether the broker answers `code` only to admin accounts.
pub fn needs_admin(code: i32) -> bool {
    ADMIN_CODES.contains(&code)
}

/// Whether the name server answers `code` only to signed admin accounts.
pub fn namesrv_needs_admin(code: i32) -> bool {
    NAMESRV_ADMIN_CODES.contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_texts_and_reject_unknown() {
        assert_eq!(parse("PUB"), Ok(PUB));
        assert_eq!(parse(" SUB "), Ok(SUB));
        assert_eq!(parse("SUB|PUB"), Ok(PUB | SUB));
        assert_eq!(parse("DENY"), Ok(DENY));
        assert_eq!(parse("ALL"), Err(BadPerm("ALL".into())));
        assert_eq!(parse_default(None), Ok(DENY));
        assert_eq!(parse_default(Some("")), Ok(DENY));
        assert!(parse_default(Some("pub")).is_err());
    }

    #[test]
    fn check_as_rocketmq() {
        assert!(allows(PUB, PUB | SUB));
        assert!(!allows(PUB, SUB));
        assert!(allows(SUB, SUB));
        assert!(!allows(SUB, DENY));
        assert!(!allows(PUB, DENY | PUB));
        assert!(allows(ANY, PUB));
        assert!(allows(ANY, SUB));
        assert!(!allows(ANY, DENY));
    }

    #[test]
    fn admin_tables() {
        for c in [
            17, 25, 215, 200, 207, 222, 314, 50, 51, 52, 53, 54, 204, 307, 309, 321, 1008,
        ] {
            assert!(needs_admin(c), "{c}");
        }
        for c in [
            10, 11, 12, 14, 15, 34, 35, 36, 37, 38, 41, 42, 310, 320, 30, 105,
        ] {
            assert!(!needs_admin(c), "{c}");
        }
        for c in [
            100, 102, 103, 104, 205, 216, 318, 327, 904, 1001, 1002, 1003, 1009, 1011, 1013,
        ] {
            assert!(namesrv_needs_admin(c), "{c}");
        }
        for c in [
            101, 105, 106, 206, 219, 224, 304, 319, 322, 1004, 1005, 1006, 1007, 1010, 1012,
        ] {
            assert!(!namesrv_needs_admin(c), "{c}");
        }
    }
}
