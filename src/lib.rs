//! actormq: a RocketMQ 4.x wire-compatible message broker and name server built on actix.
//!
//! Layers, dependencies pointing down only:
//! `bin` -> `actors` / `client` -> `storage` -> `protocol`.
//! `protocol` and `storage` never import actix.

pub mod actors;
pub mod bench;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod error;
pub mod protocol;
pub mod storage;
