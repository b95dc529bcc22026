//! The broker's metrics keys (RocketMQ 5's names, flattened into `BrokerConfig` so they stay
//! top-level): whether and where `/metrics` is served in the Prometheus text format, and extra
//! static labels. Only the Prometheus exporter exists; RocketMQ's OTLP and log exporters are
//! refused by name.

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// `metricsExporterType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MetricsExporterType {
    Disable,
    OtlpGrpc,
    Prom,
    Log,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricsConfig {
    /// `DISABLE` (default) or `PROM` (serve `/metrics`).
    pub metrics_exporter_type: MetricsExporterType,
    /// Address `/metrics` binds; empty = `brokerIP1` (as RocketMQ 5).
    pub metrics_prom_exporter_host: String,
    /// Port of `/metrics` (RocketMQ: 5557); 0 = a free port, printed as
    /// `metrics listening on HOST:PORT`.
    pub metrics_prom_exporter_port: u16,
    /// Extra labels on every metric: `key1:value1,key2:value2`.
    pub metrics_label: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            metrics_exporter_type: MetricsExporterType::Disable,
            metrics_prom_exporter_host: String::new(),
            metrics_prom_exporter_port: 5557,
            metrics_label: String::new(),
        }
    }
}

impl MetricsConfig {
    pub fn enabled(&self) -> bool {
        self.metrics_exporter_type == MetricsExporterType::Prom
    }

    /// The `metricsLabel` pairs, in order.
    pub fn labels(&self) -> Result<Vec<(String, String)>, ConfigError> {
        let bad = |reason: String| ConfigError::BadValue {
            key: "metricsLabel".into(),
            value: self.metrics_label.clone(),
            reason,
        };
        let mut out = Vec::new();
        for pair in self.metrics_label.split(',').map(str::trim) {
            if pair.is_empty() {
                continue;
            }
            let (k, v) = pair
                .split_once(':')
                .ok_or_else(|| bad(format!("'{pair}' is not key:value")))?;
            let k = k.trim();
            let legal = k
                .chars()
                .enumerate()
                .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
            if k.is_empty() || !legal {
                return Err(bad(format!(
                    "'{k}' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"
                )));
            }
            out.push((k.to_string(), v.trim().to_string()));
        }
        Ok(out)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let unsupported = match self.metrics_exporter_type {
            MetricsExporterType::OtlpGrpc => Some("OTLP_GRPC"),
            MetricsExporterType::Log => Some("LOG"),
            _ => None,
        };
        if let Some(v) = unsupported {
            return Err(ConfigError::Unsupported {
                key: "metricsExporterType".into(),
                value: v.into(),
                reason: "not supported: actormq exports metrics with PROM only (or DISABLE)".into(),
            });
        }
        self.labels().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load_sets, BrokerConfig};

    fn with(sets: &[&str]) -> Result<BrokerConfig, ConfigError> {
        load_sets::<BrokerConfig>(sets).map(|(c, _)| c)
    }

    #[test]
    fn metrics_keys_load_and_default_off() {
        let c = with(&[]).unwrap();
        assert!(!c.metrics.enabled());
        assert_eq!(c.metrics.metrics_prom_exporter_port, 5557);
        let c = with(&[
            "metricsExporterType=PROM",
            "metricsPromExporterHost=127.0.0.1",
            "metricsPromExporterPort=0",
            "metricsLabel=env:test, region:eu",
        ])
        .unwrap();
        assert!(c.metrics.enabled());
        assert_eq!(c.metrics.metrics_prom_exporter_port, 0);
        assert_eq!(
            c.metrics.labels().unwrap(),
            vec![
                ("env".into(), "test".into()),
                ("region".into(), "eu".into())
            ]
        );
    }

    #[test]
    fn other_exporters_and_bad_labels_are_errors() {
        for t in ["OTLP_GRPC", "LOG"] {
            let e = with(&[&format!("metricsExporterType={t}")]).unwrap_err();
            assert!(e.to_string().contains("not supported"), "{e}");
            assert!(e.to_string().contains("metricsExporterType"), "{e}");
        }
        let e = with(&["metricsExporterType=FOO"]).unwrap_err();
        assert!(e.to_string().contains("metricsExporterType"), "{e}");
        let e = with(&["metricsLabel=nocolon"]).unwrap_err();
        assert!(e.to_string().contains("metricsLabel"), "{e}");
        let e = with(&["metricsLabel=1bad:x"]).unwrap_err();
        assert!(e.to_string().contains("label name"), "{e}");
    }
}
