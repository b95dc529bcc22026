//! storage layer.
