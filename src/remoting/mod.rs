//! Outgoing remoting connections: plain tokio, no actix, so the broker (registering with name
//! servers), the client library and the benchmark tool share one implementation.

pub mod client;

pub use client::{ClientError, RemotingClient};
