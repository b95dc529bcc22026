//! Why requests fail. Each failure has a kind (`code 2 SYSTEM_BUSY`, `timeout`, `connection
//! closed`, ...) and a detail (the broker's remark, or the error's text). The summary counts
//! failures by kind; each progress line lists the kinds seen in its interval with their count and
//! the first detail, so a run that starts failing says why at once.

use std::collections::BTreeMap;

use parking_lot::Mutex;
use serde::Serialize;

use crate::protocol::codes::response_name;
use crate::remoting::client::ClientError;

/// One failed request (or message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: String,
    pub detail: String,
}

impl Failure {
    /// The broker answered with error `code` (and maybe a remark).
    pub fn response(code: i32, remark: Option<&str>) -> Failure {
        let kind = match response_name(code) {
            Some(name) => format!("code {code} {name}"),
            None => format!("code {code}"),
        };
        let detail = match remark {
            Some(r) if !r.is_empty() => r.to_string(),
            _ => "(no remark)".to_string(),
        };
        Failure { kind, detail }
    }

    /// The request never got an answer.
    pub fn client(e: &ClientError) -> Failure {
        let kind = match e {
            ClientError::Timeout { .. } => "timeout",
            ClientError::Closed(_) => "connection closed",
            ClientError::Connect { .. } => "connect failed",
        };
        Failure {
            kind: kind.to_string(),
            detail: e.to_string(),
        }
    }
}

/// The failures of one kind in one interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntervalFailures {
    pub kind: String,
    pub count: u64,
    /// The detail of the first failure of this kind in the interval.
    pub first: String,
}

impl IntervalFailures {
    /// `failed 12 x code 2 SYSTEM_BUSY: [REJECTREQUEST]system busy`.
    pub fn line(&self) -> String {
        format!("failed {} x {}: {}", self.count, self.kind, self.first)
    }
}

#[derive(Debug, Default)]
struct Log {
    totals: BTreeMap<String, u64>,
    interval: BTreeMap<String, (u64, String)>,
}

/// Failures by kind: totals for the run, counts and first details for the current interval.
#[derive(Debug, Default)]
pub struct FailureLog {
    log: Mutex<Log>,
}

impl FailureLog {
    /// `n` messages (or requests) failed for `f`.
    pub fn record(&self, f: Failure, n: u64) {
        let mut log = self.log.lock();
        *log.totals.entry(f.kind.clone()).or_default() += n;
        log.interval.entry(f.kind).or_insert((0, f.detail)).0 += n;
    }

    /// The interval's failures by kind, and start a new interval.
    pub fn take_interval(&self) -> Vec<IntervalFailures> {
        std::mem::take(&mut self.log.lock().interval)
            .into_iter()
            .map(|(kind, (count, first))| IntervalFailures { kind, count, first })
            .collect()
    }

    /// Failures of the whole run by kind.
    pub fn totals(&self) -> BTreeMap<String, u64> {
        self.log.lock().totals.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_name_the_code_and_keep_the_remark() {
        let f = Failure::response(2, Some("[REJECTREQUEST]system busy"));
        assert_eq!(f.kind, "code 2 SYSTEM_BUSY");
        assert_eq!(f.detail, "[REJECTREQUEST]system busy");
        assert_eq!(Failure::response(9999, None).kind, "code 9999");
        assert_eq!(Failure::response(9999, None).detail, "(no remark)");
        let c = Failure::client(&ClientError::Closed("127.0.0.1:1".into()));
        assert_eq!(c.kind, "connection closed");
        assert!(c.detail.contains("127.0.0.1:1"), "{c:?}");
    }

    #[test]
    fn intervals_keep_the_first_detail_and_totals_everything() {
        let log = FailureLog::default();
        log.record(Failure::response(2, Some("first")), 1);
        log.record(Failure::response(2, Some("second")), 3);
        log.record(Failure::client(&ClientError::Closed("b".into())), 1);
        let i = log.take_interval();
        assert_eq!(i.len(), 2);
        assert_eq!(i[0].kind, "code 2 SYSTEM_BUSY");
        assert_eq!((i[0].count, i[0].first.as_str()), (4, "first"));
        assert_eq!(i[0].line(), "failed 4 x code 2 SYSTEM_BUSY: first");
        assert!(log.take_interval().is_empty());
        log.record(Failure::response(2, Some("third")), 1);
        assert_eq!(log.take_interval()[0].first, "third");
        assert_eq!(log.totals()["code 2 SYSTEM_BUSY"], 5);
        assert_eq!(log.totals()["connection closed"], 1);
    }
}
