//! JSON bodies (route data, cluster info, broker registration, ...).
