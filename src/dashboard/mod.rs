//! The built-in web dashboard: rocketmq-dashboard's pages (cluster, topics, groups, producers,
//! messages, DLQ, trace) and the JSON API under `/api/` they call, served by the name-server
//! process (and so by a standalone broker) with actix-web, so there is no separate service to
//! deploy. Every read and action goes through the [`crate::admin::AdminClient`] that `mqadmin`
//! uses; the chart history is collected server-side ([`collector`]); pages are plain HTML and
//! vanilla JS compiled into the binary ([`assets`]). Enabled by `dashboardEnable`
//! ([`crate::config::DashboardConfig`]). With ACL on, admin actions run as an ACL account the
//! user logs in with ([`login`]).

pub mod api;
pub mod assets;
pub mod auth;
pub mod collector;
pub mod login;
pub mod server;

pub use server::{start, Dashboard};
