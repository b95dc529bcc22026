//! The end-of-run summary: one serde struct per mode (the `--json` output) and its text form.

use std::collections::BTreeMap;

use serde::Serialize;

use super::stats::{ConsumerSample, LatencySummary, ProducerSample};

/// Producer results.
#[derive(Debug, Clone, Serialize)]
pub struct ProducerSummary {
    pub mode: &'static str,
    pub send_mode: String,
    pub topic: String,
    pub broker: String,
    pub body_size: usize,
    pub concurrency: usize,
    pub batch: usize,
    pub elapsed_secs: f64,
    /// Messages acknowledged by the broker (written, for oneway).
    pub sent: u64,
    /// Messages whose request failed or was answered with an error.
    pub failed: u64,
    /// Failed messages by reason: `code N` (the broker's response code), `timeout`, ...
    pub errors: BTreeMap<String, u64>,
    pub tps: f64,
    /// Body bytes per second (MiB/s = 2^20 bytes).
    pub mib_per_sec: f64,
    /// Request round trip (one request = `batch` messages in batch mode).
    pub rt_us: LatencySummary,
    pub per_second: Vec<ProducerSample>,
}

/// Consumer results.
#[derive(Debug, Clone, Serialize)]
pub struct ConsumerSummary {
    pub mode: &'static str,
    pub topic: String,
    pub group: String,
    pub broker: String,
    pub queues: usize,
    pub elapsed_secs: f64,
    pub consumed: u64,
    pub failed_pulls: u64,
    /// Failed pulls by reason, as for the producer.
    pub errors: BTreeMap<String, u64>,
    pub tps: f64,
    pub mib_per_sec: f64,
    /// Producer's born time -> consumed. Microsecond precision when the producer was mqbench
    /// (it stamps a `bornUs` property), else the millisecond born timestamp.
    pub born_to_consume_us: LatencySummary,
    /// Broker's store timestamp (milliseconds) -> consumed.
    pub store_to_consume_us: LatencySummary,
    pub per_second: Vec<ConsumerSample>,
}

/// Rate over `secs`, 0 when nothing elapsed.
pub fn rate(n: f64, secs: f64) -> f64 {
    if secs > 0.0 {
        n / secs
    } else {
        0.0
    }
}

/// `code 2 SYSTEM_BUSY: 64, timeout: 3` after `prefix`, or nothing when there were no failures.
fn by_kind(prefix: &str, errors: &BTreeMap<String, u64>, suffix: &str) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let kinds: Vec<String> = errors.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    format!("{prefix}{}{suffix}", kinds.join(", "))
}

impl ProducerSummary {
    pub fn text(&self) -> String {
        format!(
            "=== producer summary ({} mode, {} B bodies, {} in flight{}) topic {} broker {}\n\
             sent {} failed {}{} in {:.2} s: {:.0} msg/s, {:.1} MiB/s\n\
             send rt: {}",
            self.send_mode,
            self.body_size,
            self.concurrency,
            if self.send_mode == "batch" {
                format!(", {} per batch", self.batch)
            } else {
                String::new()
            },
            self.topic,
            self.broker,
            self.sent,
            self.failed,
            by_kind(" (", &self.errors, ")"),
            self.elapsed_secs,
            self.tps,
            self.mib_per_sec,
            self.rt_us.text()
        )
    }
}

impl ConsumerSummary {
    pub fn text(&self) -> String {
        format!(
            "=== consumer summary topic {} group {} broker {} ({} queues)\n\
             consumed {} (failed pulls {}{}) in {:.2} s: {:.0} msg/s, {:.1} MiB/s\n\
             born->consume:  {}\n\
             store->consume: {}",
            self.topic,
            self.group,
            self.broker,
            self.queues,
            self.consumed,
            self.failed_pulls,
            by_kind("; ", &self.errors, ""),
            self.elapsed_secs,
            self.tps,
            self.mib_per_sec,
            self.born_to_consume_us.text(),
            self.store_to_consume_us.text()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn producer() -> ProducerSummary {
        ProducerSummary {
            mode: "producer",
            send_mode: "batch".into(),
            topic: "T".into(),
            broker: "127.0.0.1:10911".into(),
            body_size: 1024,
            concurrency: 4,
            batch: 32,
            elapsed_secs: 2.0,
            sent: 64000,
            failed: 64,
            errors: [("code 2 SYSTEM_BUSY".to_string(), 64)]
                .into_iter()
                .collect(),
            tps: rate(64000.0, 2.0),
            mib_per_sec: rate(64000.0 * 1024.0 / 1048576.0, 2.0),
            rt_us: LatencySummary {
                count: 2000,
                mean_us: 900.5,
                p50_us: 800,
                p99_us: 2000,
                p999_us: 4000,
                max_us: 5000,
            },
            per_second: vec![],
        }
    }

    #[test]
    fn producer_json_has_the_documented_keys() {
        let v: serde_json::Value = serde_json::to_value(producer()).unwrap();
        assert_eq!(v["mode"], "producer");
        assert_eq!(v["sent"], 64000);
        assert_eq!(v["tps"], 32000.0);
        assert_eq!(v["mib_per_sec"], 31.25);
        assert_eq!(v["rt_us"]["p999_us"], 4000);
        assert_eq!(v["errors"]["code 2 SYSTEM_BUSY"], 64);
        assert!(v["per_second"].as_array().unwrap().is_empty());
    }

    #[test]
    fn producer_text_mentions_batch_and_percentiles() {
        let t = producer().text();
        assert!(t.contains("32 per batch"), "{t}");
        assert!(t.contains("failed 64 (code 2 SYSTEM_BUSY: 64) in"), "{t}");
        assert!(t.contains("32000 msg/s, 31.2 MiB/s"), "{t}");
        assert!(t.contains("mean 900 us  p50 800 us  p99 2.00 ms"), "{t}");
        assert!(t.contains("p99.9 4.00 ms"), "{t}");
    }

    #[test]
    fn consumer_json_and_text() {
        let c = ConsumerSummary {
            mode: "consumer",
            topic: "T".into(),
            group: "G".into(),
            broker: "b".into(),
            queues: 4,
            elapsed_secs: 1.0,
            consumed: 10,
            failed_pulls: 1,
            errors: [("timeout".to_string(), 1)].into_iter().collect(),
            tps: 10.0,
            mib_per_sec: 0.0,
            born_to_consume_us: LatencySummary::default(),
            store_to_consume_us: LatencySummary::default(),
            per_second: vec![],
        };
        let v: serde_json::Value = serde_json::to_value(&c).unwrap();
        assert_eq!(v["consumed"], 10);
        assert_eq!(v["born_to_consume_us"]["p50_us"], 0);
        assert!(
            c.text()
                .contains("consumed 10 (failed pulls 1; timeout: 1) in"),
            "{}",
            c.text()
        );
        assert_eq!(rate(5.0, 0.0), 0.0);
    }
}
