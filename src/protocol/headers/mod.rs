//! Typed request/response headers, one file per family.
