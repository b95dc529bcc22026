//! The openraft type configuration of the controller group: log entries carry [`Command`]s,
//! apply results are [`Applied`], nodes are numbered by the sorted order of their
//! `controllerDLegerPeers` ids and addressed by their Raft host:port.

use std::io::Cursor;

use openraft::BasicNode;

use super::state::{Applied, Command};

openraft::declare_raft_types!(
    /// The controller's Raft types.
    pub TypeConfig:
        D = Command,
        R = Applied,
        NodeId = u64,
        Node = BasicNode,
);

pub type NodeId = u64;
pub type Entry = openraft::Entry<TypeConfig>;
pub type LogId = openraft::LogId<NodeId>;
pub type Vote = openraft::Vote<NodeId>;
pub type StorageError = openraft::StorageError<NodeId>;
pub type Raft = openraft::Raft<TypeConfig>;
