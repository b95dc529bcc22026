//! actormq: a RocketMQ 4.x wire-compatible message broker and name server built on actix.
//!
//! Layers, dependencies pointing down only:
//!
//! - `bin` (the binaries) -> `actors` (name server and broker: actix shells over plain logic),
//!   `controller` (controller mode's Raft group; hosted by the name server or its own binary),
//!   `client` (the Rust client library), `admin` (mqadmin's and the dashboard's admin client, over
//!   `client`'s connections), `dashboard` (the web dashboard the name server serves, over `admin`),
//!   `bench` (mqbench's parts);
//! - those -> `storage` (CommitLog, ConsumeQueue, index; no actix) and `remoting` (outgoing
//!   connections; plain tokio);
//! - everything -> `protocol` (frames, commands, headers, bodies, tag filters, name rules; no
//!   I/O).
//!
//! Beside them: `config` (layered config loading), `cli` (what every binary does at start),
//! `clock` (the one wall clock), `fast_map` (the hot paths' hash map) and `error` (the service error and its one mapping to wire codes).
//! `client` and `bench` never import `actors`; `protocol`, `storage` and `remoting` never import
//! actix.

pub mod acl;
pub mod actors;
pub mod admin;
pub mod bench;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod controller;
pub mod dashboard;
pub mod error;
pub mod fast_map;
pub mod idle_poll;
pub mod protocol;
pub mod remoting;
pub mod storage;
pub mod tls;
