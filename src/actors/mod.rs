//! actors layer.
