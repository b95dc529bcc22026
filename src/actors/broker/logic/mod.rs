//! The broker's rules as plain structs: no actix, no I/O, no clock (time arrives as `now_ms`).
//!
//! Each file owns one table or one decision of RocketMQ 4.x's broker (docs/protocol.md §7) so the
//! actors that own them stay thin shells: unpack a request, call one method here, answer. Everything
//! here is unit-tested directly, which is the point of keeping it free of actors.

pub mod admin_views;
pub mod client_table;
pub mod delay;
pub mod groups;
pub mod ha_session;
pub mod heartbeat_rules;
pub mod locks;
pub mod offsets;
pub mod pull_hold;
pub mod pull_result;
pub mod replica_acks;
pub mod replicas;
pub mod reset_offset;
pub mod retry;
pub mod schedule_plan;
pub mod send_plan;
pub mod slave_sync;
pub mod subscription_view;
pub mod topics;
pub mod transaction;
