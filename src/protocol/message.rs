//! The stored-message layout, properties string and message ids.
