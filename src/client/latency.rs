//! Latency-based fault avoidance for the producer (Java `MQFaultStrategy` with
//! `sendLatencyFaultEnable`): every send records how long the broker took; a slow answer or a
//! failure makes that broker "not available" for a while, and queue selection skips it while any
//! other broker is available. Plain struct; time is a parameter.

use std::collections::HashMap;

use crate::protocol::body::MessageQueue;

/// Latency steps (ms) and how long a broker is avoided after a send that slow (Java's tables).
const LATENCY_MAX: [i64; 7] = [50, 100, 550, 1000, 2000, 3000, 15000];
const NOT_AVAILABLE: [i64; 7] = [0, 0, 30000, 60000, 120000, 180000, 600000];
/// The latency charged for a failed send (isolates the broker for the longest step).
pub const FAILURE_LATENCY: i64 = 30000;

#[derive(Debug, Default)]
pub struct LatencyFault {
    /// broker name -> (last latency, available again at ms)
    items: HashMap<String, (i64, i64)>,
}

impl LatencyFault {
    fn not_available_for(latency: i64) -> i64 {
        for i in (0..LATENCY_MAX.len()).rev() {
            if latency >= LATENCY_MAX[i] {
                return NOT_AVAILABLE[i];
            }
        }
        0
    }

    /// Record a send to `broker` that took `latency_ms` (or failed: `FAILURE_LATENCY`).
    pub fn update(&mut self, broker: &str, latency_ms: i64, now_ms: i64) {
        let until = now_ms + Self::not_available_for(latency_ms);
        self.items.insert(broker.to_string(), (latency_ms, until));
    }

    pub fn is_available(&self, broker: &str, now_ms: i64) -> bool {
        self.items
            .get(broker)
            .is_none_or(|(_, until)| now_ms >= *until)
    }

    /// Pick a queue: round-robin from `counter`, preferring available brokers other than
    /// `avoid` (the broker that just failed), then any available one, then any other broker, then
    /// anything.
    pub fn select<'a>(
        &self,
        queues: &'a [MessageQueue],
        counter: usize,
        avoid: Option<&str>,
        now_ms: i64,
    ) -> Option<&'a MessageQueue> {
        let n = queues.len();
        if n == 0 {
            return None;
        }
        let order = (0..n).map(|i| &queues[(counter + i) % n]);
        let other = |q: &&MessageQueue| avoid != Some(q.broker_name.as_str());
        let avail = |q: &&MessageQueue| self.is_available(&q.broker_name, now_ms);
        order
            .clone()
            .find(|q| other(q) && avail(q))
            .or_else(|| order.clone().find(avail))
            .or_else(|| order.clone().find(other))
            .or_else(|| order.clone().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qs() -> Vec<MessageQueue> {
        vec![
            MessageQueue::new("T", "a", 0),
            MessageQueue::new("T", "a", 1),
            MessageQueue::new("T", "b", 0),
            MessageQueue::new("T", "b", 1),
        ]
    }

    #[test]
    fn round_robin_when_all_healthy() {
        let f = LatencyFault::default();
        let q = qs();
        let picked: Vec<i32> = (0..4)
            .map(|c| {
                let m = f.select(&q, c, None, 0).unwrap();
                m.queue_id + if m.broker_name == "b" { 10 } else { 0 }
            })
            .collect();
        assert_eq!(picked, vec![0, 1, 10, 11]);
    }

    #[test]
    fn slow_or_failed_broker_is_avoided_until_its_time_passes() {
        let mut f = LatencyFault::default();
        f.update("a", 20, 0);
        assert!(f.is_available("a", 0), "fast sends do not isolate");
        f.update("a", FAILURE_LATENCY, 1000);
        let q = qs();
        for c in 0..4 {
            assert_eq!(f.select(&q, c, None, 2000).unwrap().broker_name, "b");
        }
        assert!(f.is_available("a", 1000 + 600_000));
        f.update("b", 600, 0); // 550 ms step: 30 s
        assert!(!f.is_available("b", 29_999));
        assert!(f.is_available("b", 30_000));
    }

    #[test]
    fn retry_prefers_another_broker_and_falls_back_when_all_are_down() {
        let mut f = LatencyFault::default();
        let q = qs();
        assert_eq!(f.select(&q, 0, Some("a"), 0).unwrap().broker_name, "b");
        f.update("a", FAILURE_LATENCY, 0);
        f.update("b", FAILURE_LATENCY, 0);
        assert_eq!(f.select(&q, 0, Some("a"), 1).unwrap().broker_name, "b");
        assert!(f.select(&[], 0, None, 0).is_none());
    }
}
