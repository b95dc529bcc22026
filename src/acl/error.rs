//! `AclError`: why an ACL check or an ACL admin request failed. `ServiceError::Acl` carries it and
//! `src/error.rs` picks its wire code (the only place): a denial is SYSTEM_ERROR with RocketMQ's
//! `AclException` remark, the admin failures are 209/210/211 as RocketMQ's `AdminBrokerProcessor`.

use super::validator::Denied;

/// Which ACL admin request failed (each has its own RocketMQ response code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclOp {
    /// UPDATE_AND_CREATE_ACL_CONFIG (50): UPDATE_AND_CREATE_ACL_CONFIG_FAILED (209).
    UpdateAccount,
    /// DELETE_ACL_CONFIG (51): DELETE_ACL_CONFIG_FAILED (210).
    DeleteAccount,
    /// UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53): UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED (211).
    GlobalWhite,
    /// GET_BROKER_CLUSTER_ACL_INFO (52) / GET_BROKER_CLUSTER_ACL_CONFIG (54): SYSTEM_ERROR.
    Read,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclError {
    /// The request is refused: RocketMQ answers with the exception's class and message.
    #[error("org.apache.rocketmq.acl.common.AclException: {0}")]
    Denied(Denied),
    /// An ACL admin request could not be done; the text says why (never a secret).
    #[error("{why}")]
    Failed { op: AclOp, why: String },
}

impl AclError {
    /// ACL admin requests on a process with `aclEnable=false`.
    pub fn not_enabled(op: AclOp) -> Self {
        AclError::Failed {
            op,
            why: "ACL is off on this server (aclEnable=false): there are no accounts to change or show"
                .into(),
        }
    }
}
