//! Actors: thin actix shells over the plain logic structs beside them.

pub mod admin_error;
pub mod broker;
pub mod namesrv;
pub mod net;
pub mod reply;
