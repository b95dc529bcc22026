//! Controller mode (RocketMQ 5, RIP-44): a Raft group of controllers that stores, per broker set,
//! the broker ids, the master (id, address, masterEpoch) and the SyncStateSet, elects a new master
//! when the old one's heartbeats stop, and tells the brokers. Consensus is openraft's (pinned);
//! this module supplies its storage (files under `controllerStorePath`), its transport (TCP
//! between the Raft ports of `controllerDLegerPeers`) and the state machine.
//!
//! Layout: `state` (the replicated state and its commands, pure), `plan` (the leader's checks and
//! the election policy, pure), `live` (heartbeat table), `logfile` + `store` (openraft storage),
//! `network` (Raft RPC), `node` (the running controller), `handlers` (request codes), `scan`
//! (failure detection), `notify` (NOTIFY_BROKER_ROLE_CHANGED), `dispatch` (the `controller`
//! binary's request routing). Hosted by the `controller` binary or by the name server
//! (`enableControllerInNamesrv`).

mod config_codes;
pub mod dispatch;
pub mod error;
pub mod handlers;
pub mod live;
mod logfile;
mod network;
pub mod node;
mod notify;
pub mod plan;
mod raft_auth;
mod scan;
pub mod state;
mod store;
pub mod types;

pub use error::ControllerError;
pub use node::Controller;
