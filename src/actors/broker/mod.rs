//! The broker. For now only the plain logic its actors will wrap; the actix shells come later.

pub mod logic;
