//! Request and response codes.
