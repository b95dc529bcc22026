//! Access control: RocketMQ's ACL 1.0 ("plain ACL"), wire-compatible, plus the checks RocketMQ
//! 4.x lacks (admin codes, locks, the name server). Plain structs, no actix:
//! - `sign`: what clients and servers compute (HmacSHA1 over the sorted ext values and body);
//! - `file`: `plain_acl.yml`; `files`: it and the ACL directory's files, merged; `rules`: their
//!   compiled form; `address`, `perm`: their parts;
//! - `resource`: which resources a request needs; `validator`: the per-request check;
//! - `state`: the rules in force for a process, hot reload, and the admin changes (codes 50-53);
//! - `log_limit`: at most ten refusal log lines a second.

pub mod address;
pub mod error;
pub mod file;
pub mod files;
pub mod log_limit;
pub mod perm;
pub mod resource;
pub mod rules;
pub mod sign;
pub mod state;
pub mod validator;

pub use error::{AclError, AclOp};
pub use file::{AclFile, AclFileError};
pub use rules::Rules;
pub use sign::Credentials;
pub use state::AclState;
pub use validator::Denied;
