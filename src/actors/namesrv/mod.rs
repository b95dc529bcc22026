//! Name server.
pub mod kv_config;
pub mod route_table;
