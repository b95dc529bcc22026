//! client layer.
