//! The controller's typed refusals. Each names the RocketMQ 5 response code it becomes (mapped
//! once, in `crate::error`), and carries the remark the broker sees. They travel through the Raft
//! log as apply results, hence serde.

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
pub enum ControllerError {
    #[error("{0}")]
    FencedMasterEpoch(String),
    #[error("{0}")]
    FencedSyncStateSetEpoch(String),
    #[error("{0}")]
    InvalidMaster(String),
    #[error("{0}")]
    InvalidReplicas(String),
    #[error("{0}")]
    MasterNotAvailable(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    BrokerNotAlive(String),
    /// This node does not lead the controller group; the remark names the leader when known.
    #[error("the controller is not the leader; leader: {}", .leader.as_deref().unwrap_or("unknown"))]
    NotLeader { leader: Option<String> },
    #[error("{0}")]
    MetadataNotExist(String),
    #[error("{0}")]
    InvalidCleanBrokerMetadata(String),
    #[error("{0}")]
    NeedToBeRegistered(String),
    #[error("{0}")]
    ElectMasterFailed(String),
    #[error("{0}")]
    AlterSyncStateSetFailed(String),
    #[error("{0}")]
    BrokerIdInvalid(String),
    /// The Raft layer failed (no quorum within the timeout, shutting down, storage error).
    #[error("controller consensus failed: {0}")]
    Consensus(String),
}
