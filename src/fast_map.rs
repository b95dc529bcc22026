//! The hash map of the hot paths: std's `HashMap` with foldhash instead of SipHash.
//!
//! Why: a P1 send hashed ~14 short keys through SipHash (its request header's fields, the
//! topic in the consume-queue table, the dispatcher's queue index, the per-topic statistics and
//! the RPC latency series), and SipHash's per-hash setup cost the broker ~10 % of its
//! instructions per message (callgrind, docs/performance.md). The seed is random per process,
//! so a client that chooses keys (topics, header fields) cannot know which of them collide.

use std::collections::HashMap;

/// The hasher of [`FastMap`].
pub type FastHasher = foldhash::fast::RandomState;

/// A `HashMap` hashed with [`FastHasher`]; build it with `FastMap::default()`.
pub type FastMap<K, V> = HashMap<K, V, FastHasher>;
