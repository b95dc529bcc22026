//! Access control: RocketMQ's ACL 1.0 ("plain ACL"). `sign` is what both ends compute.

pub mod sign;

pub use sign::Credentials;
