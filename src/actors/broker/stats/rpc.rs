//! Request latencies by (request code, response code, result) for RIP-46's
//! `rocketmq_rpc_latency`, recorded by the broker's dispatcher for every request: a read-mostly
//! map lookup and the histogram's atomic adds. The series are bounded (`MAX_SERIES`): any code a
//! client invents past the bound is counted under `OTHER_CODE`.

use crate::fast_map::FastMap;
use std::sync::Arc;

use parking_lot::RwLock;

use super::histogram::{Histogram, RPC_LATENCY_MS_BOUNDS};

/// The series key: request code, response code, and `success` or `oneway`.
pub type RpcKey = (i32, i32, &'static str);

/// Most series kept: a client may send any request code, so past this many new (request,
/// response) pairs are counted under request code [`OTHER_CODE`].
pub const MAX_SERIES: usize = 512;
/// The request code of the overflow series.
pub const OTHER_CODE: i32 = -1;

#[derive(Debug, Default)]
pub struct RpcLatencies {
    map: RwLock<FastMap<RpcKey, Arc<Histogram>>>,
}

impl RpcLatencies {
    pub fn observe(&self, request_code: i32, response_code: i32, oneway: bool, ms: u64) {
        let key = (
            request_code,
            response_code,
            if oneway { "oneway" } else { "success" },
        );
        if let Some(h) = self.map.read().get(&key) {
            h.observe(ms);
            return;
        }
        let mut map = self.map.write();
        let key = if map.len() >= MAX_SERIES && !map.contains_key(&key) {
            (OTHER_CODE, key.1, key.2)
        } else {
            key
        };
        map.entry(key)
            .or_insert_with(|| Arc::new(Histogram::new(RPC_LATENCY_MS_BOUNDS)))
            .observe(ms);
    }

    /// Every series, sorted by key.
    pub fn snapshot(&self) -> Vec<(RpcKey, Arc<Histogram>)> {
        let mut v: Vec<_> = self
            .map
            .read()
            .iter()
            .map(|(k, h)| (*k, h.clone()))
            .collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_series_per_code_pair_and_result() {
        let r = RpcLatencies::default();
        r.observe(10, 0, false, 2);
        r.observe(10, 0, false, 50);
        r.observe(37, 0, true, 0);
        let s = r.snapshot();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].0, (10, 0, "success"));
        assert_eq!(s[0].1.count(), 2);
        assert_eq!(s[1].0, (37, 0, "oneway"));
    }

    #[test]
    fn unknown_codes_past_the_bound_share_one_series() {
        let r = RpcLatencies::default();
        for code in 0..(MAX_SERIES as i32 + 100) {
            r.observe(code, 3, false, 1);
        }
        let s = r.snapshot();
        assert_eq!(s.len(), MAX_SERIES + 1);
        assert_eq!(s[0].0, (OTHER_CODE, 3, "success"));
        assert_eq!(s[0].1.count(), 100);
    }
}
