//! `mqbench`: the load generator behind `src/bin/mqbench.rs`.
//!
//! It speaks the raw remoting protocol through [`crate::remoting::client::RemotingClient`]
//! (pipelined requests on a few connections), not the client library, so what it measures is the
//! broker plus the wire, with as little client machinery as possible in between.
//!
//! - [`args`]: the command line (clap).
//! - [`stats`]: per-second meters (relaxed atomics) and the HDR histogram summary.
//! - [`report`]: the end-of-run summary, as text or `--json`.
//! - [`net`]: route lookup, topic creation, queue offsets.
//! - [`link`]: the broker connections, reopened with backoff (route asked again) when they break.
//! - [`failures`]: why requests fail, by kind, per interval and in total.
//! - [`load`]: what the producer sends (requests, message numbers, pacing).
//! - [`producer`], [`consumer`]: the two modes.
//! - [`trace`]: `--trace`, a Pub trace record per acknowledged send (client library dispatcher).
//! - [`transaction`]: `--transaction`, half messages each committed by END_TRANSACTION.
//! - [`null_broker`], [`null_server`]: `mqbench null-broker`, a broker that answers without
//!   storing, so each figure can be given as a ratio to it measured in the same run.

pub mod args;
pub mod consumer;
pub mod failures;
pub mod link;
pub mod load;
pub mod net;
pub mod null_broker;
pub mod null_server;
pub mod producer;
pub mod report;
pub mod stats;
pub mod trace;
pub mod transaction;
