//! The broker settings an operator may change while the broker runs (UPDATE_BROKER_CONFIG): the
//! ones RocketMQ 4.9 reads from its `BrokerConfig` / `MessageStoreConfig` each time it uses them
//! (send fast-failure, SYNC_MASTER waits, send answers, pull hold and slave suggestion,
//! transaction check-back). Each is one atomic (or `ArcSwap`) read on its path, so a change
//! reaches the next request without a lock. Auto-creation of topics and groups lives in their
//! tables (changed under the tables' own write locks); store keys in `storage::tunables`.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::BrokerConfig;

/// The hot broker keys (besides [`crate::storage::tunables::HOT_STORE_KEYS`] and the ones the
/// update handler applies itself: `brokerPermission`, `autoCreateTopicEnable`,
/// `autoCreateSubscriptionGroup`).
pub const HOT_BROKER_KEYS: &[&str] = &[
    "waitTimeMillsInSendQueue",
    "haSlaveFallbehindMax",
    "slaveTimeout",
    "regionId",
    "traceOn",
    "longPollingEnable",
    "shortPollingTimeMills",
    "slaveReadEnable",
    "transactionTimeOut",
    "transactionCheckMax",
    "transactionCheckInterval",
];

/// The live values of [`HOT_BROKER_KEYS`].
pub struct BrokerTunables {
    pub wait_time_mills_in_send_queue: AtomicU64,
    pub ha_slave_fallbehind_max: AtomicU64,
    pub slave_timeout: AtomicU64,
    pub region_id: ArcSwap<String>,
    pub trace_on: AtomicBool,
    pub long_polling_enable: AtomicBool,
    pub short_polling_time_mills: AtomicU64,
    pub slave_read_enable: AtomicBool,
    pub transaction_time_out: AtomicU64,
    pub transaction_check_max: AtomicI32,
    pub transaction_check_interval: AtomicU64,
}

impl BrokerTunables {
    pub fn new(cfg: &BrokerConfig) -> Self {
        BrokerTunables {
            wait_time_mills_in_send_queue: AtomicU64::new(cfg.wait_time_mills_in_send_queue),
            ha_slave_fallbehind_max: AtomicU64::new(cfg.ha_slave_fallbehind_max),
            slave_timeout: AtomicU64::new(cfg.slave_timeout),
            region_id: ArcSwap::from_pointee(cfg.region_id.clone()),
            trace_on: AtomicBool::new(cfg.trace_on),
            long_polling_enable: AtomicBool::new(cfg.long_polling_enable),
            short_polling_time_mills: AtomicU64::new(cfg.short_polling_time_mills),
            slave_read_enable: AtomicBool::new(cfg.slave_read_enable),
            transaction_time_out: AtomicU64::new(cfg.transaction_time_out),
            transaction_check_max: AtomicI32::new(cfg.transaction_check_max),
            transaction_check_interval: AtomicU64::new(cfg.transaction_check_interval),
        }
    }

    /// Take the hot values of `cfg` (a checked config); the others are ignored.
    pub fn apply(&self, cfg: &BrokerConfig) {
        self.wait_time_mills_in_send_queue
            .store(cfg.wait_time_mills_in_send_queue, Relaxed);
        self.ha_slave_fallbehind_max
            .store(cfg.ha_slave_fallbehind_max, Relaxed);
        self.slave_timeout.store(cfg.slave_timeout, Relaxed);
        if **self.region_id.load() != cfg.region_id {
            self.region_id.store(Arc::new(cfg.region_id.clone()));
        }
        self.trace_on.store(cfg.trace_on, Relaxed);
        self.long_polling_enable
            .store(cfg.long_polling_enable, Relaxed);
        self.short_polling_time_mills
            .store(cfg.short_polling_time_mills, Relaxed);
        self.slave_read_enable.store(cfg.slave_read_enable, Relaxed);
        self.transaction_time_out
            .store(cfg.transaction_time_out, Relaxed);
        self.transaction_check_max
            .store(cfg.transaction_check_max, Relaxed);
        self.transaction_check_interval
            .store(cfg.transaction_check_interval, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_takes_the_new_values() {
        let mut cfg = BrokerConfig::default();
        let t = BrokerTunables::new(&cfg);
        cfg.long_polling_enable = !cfg.long_polling_enable;
        cfg.region_id = "EU".into();
        cfg.transaction_check_max = 3;
        t.apply(&cfg);
        assert_eq!(t.long_polling_enable.load(Relaxed), cfg.long_polling_enable);
        assert_eq!(**t.region_id.load(), "EU");
        assert_eq!(t.transaction_check_max.load(Relaxed), 3);
    }
}
