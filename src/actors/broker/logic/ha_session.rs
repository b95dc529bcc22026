//! The decisions of both ends of an HA connection (docs/protocol.md §8), without I/O or clocks:
//! the `ReplicationActor` (`actors/broker/replication.rs`) feeds them bytes and instants and does
//! what they answer.
//!
//! * [`MasterSession`]: one per connected slave. The first report fixes where streaming starts
//!   (0 = an empty slave, which starts at the master's last CommitLog file); later reports only
//!   prove the slave is alive. A report beyond the master's CommitLog end closes the connection.
//! * [`SlaveSession`]: the slave's receive buffer (transfers arrive cut anywhere by TCP) and when
//!   to report.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use thiserror::Error;

use crate::protocol::ha::{self, HaError, Transfer};

/// Why a master drops a slave.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SessionError {
    /// The slave claims more CommitLog than the master has (another master's data, or ours was
    /// lost): streaming from there would leave a gap or mix histories.
    #[error("slave reports offset {report}, beyond this master's CommitLog end {end}")]
    ReportBeyondEnd { report: u64, end: u64 },
    #[error("{0}")]
    Wire(#[from] HaError),
    #[error("the peer was silent for {0:?}")]
    Silent(Duration),
    /// The connection failed or closed, or the store refused the bytes.
    #[error("{0}")]
    Io(String),
}

/// What the master's sending side should do next.
#[derive(Debug, PartialEq, Eq)]
pub enum MasterStep {
    /// Nothing is known yet (no report) or nothing is due: wait a little.
    Wait,
    /// Read up to the batch size of CommitLog bytes at this offset and send them (or a heartbeat
    /// at this offset if there are none and one is due, see [`MasterSession::heartbeat_due`]).
    Stream(u64),
}

/// One slave, seen from the master.
#[derive(Debug)]
pub struct MasterSession {
    /// The next CommitLog offset to send; `None` until the first report.
    next: Option<u64>,
    last_report: Instant,
    last_sent: Instant,
    heartbeat: Duration,
    housekeeping: Duration,
    /// The slave's offset was found behind the master's oldest data (logged once).
    pub gone_reported: bool,
}

impl MasterSession {
    pub fn new(now: Instant, heartbeat: Duration, housekeeping: Duration) -> Self {
        MasterSession {
            next: None,
            last_report: now,
            last_sent: now,
            heartbeat,
            housekeeping,
            gone_reported: false,
        }
    }

    /// Take the newest whole report out of `buf`. `end` is the master's CommitLog end and
    /// `empty_start` where an empty slave begins.
    pub fn on_reports(
        &mut self,
        buf: &mut BytesMut,
        now: Instant,
        end: u64,
        empty_start: u64,
    ) -> Result<Option<u64>, SessionError> {
        let Some((report, used)) = ha::latest_report(buf)? else {
            return Ok(None);
        };
        let _ = buf.split_to(used);
        self.last_report = now;
        if report > end {
            return Err(SessionError::ReportBeyondEnd { report, end });
        }
        if self.next.is_none() {
            self.next = Some(if report == 0 { empty_start } else { report });
        }
        Ok(Some(report))
    }

    /// The next step, or an error when the slave has been silent too long.
    pub fn step(&self, now: Instant) -> Result<MasterStep, SessionError> {
        let silent = now.saturating_duration_since(self.last_report);
        if silent >= self.housekeeping {
            return Err(SessionError::Silent(silent));
        }
        Ok(self.next.map_or(MasterStep::Wait, MasterStep::Stream))
    }

    /// With nothing to stream, is an empty transfer due?
    pub fn heartbeat_due(&self, now: Instant) -> bool {
        self.next.is_some() && now.saturating_duration_since(self.last_sent) >= self.heartbeat
    }

    /// `len` bytes (0 for a heartbeat) were sent at the current offset.
    pub fn sent(&mut self, len: usize, now: Instant) {
        if let Some(n) = &mut self.next {
            *n += len as u64;
        }
        self.last_sent = now;
    }
}

/// The slave's side: buffered transfer bytes and report timing.
#[derive(Debug)]
pub struct SlaveSession {
    buf: BytesMut,
    max_body: usize,
    last_report: Instant,
    last_heard: Instant,
    heartbeat: Duration,
    housekeeping: Duration,
}

impl SlaveSession {
    pub fn new(now: Instant, max_body: usize, heartbeat: Duration, housekeeping: Duration) -> Self {
        SlaveSession {
            buf: BytesMut::new(),
            max_body,
            last_report: now,
            last_heard: now,
            heartbeat,
            housekeeping,
        }
    }

    /// The read buffer, to read into.
    pub fn buffer(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Bytes arrived (already in [`Self::buffer`]): the whole transfers now buffered, in order.
    pub fn take_transfers(&mut self, now: Instant) -> Result<Vec<Transfer>, HaError> {
        self.last_heard = now;
        let mut out = Vec::new();
        while let Some(n) = ha::check_transfer(&self.buf, self.max_body)? {
            out.push(ha::parse_transfer(
                self.buf.split_to(n).freeze(),
                self.max_body,
            )?);
        }
        Ok(out)
    }

    /// Is a periodic report due?
    pub fn report_due(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_report) >= self.heartbeat
    }

    pub fn reported(&mut self, now: Instant) {
        self.last_report = now;
    }

    /// Has the master been silent too long (it heartbeats, so silence means a dead link)?
    pub fn master_silent(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_heard) >= self.housekeeping
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HB: Duration = Duration::from_millis(100);
    const HK: Duration = Duration::from_millis(1000);

    fn reports(offs: &[u64]) -> BytesMut {
        let mut b = BytesMut::new();
        for o in offs {
            ha::encode_report(*o, &mut b).unwrap();
        }
        b
    }

    #[test]
    fn an_empty_slave_starts_at_the_given_file_start_and_later_reports_do_not_move_it() {
        let t0 = Instant::now();
        let mut s = MasterSession::new(t0, HB, HK);
        assert_eq!(s.step(t0), Ok(MasterStep::Wait));
        let mut b = reports(&[0]);
        b.extend_from_slice(&[0, 0]);
        assert_eq!(s.on_reports(&mut b, t0, 5000, 4096), Ok(Some(0)));
        assert_eq!(b.len(), 2, "a partial report stays buffered");
        assert_eq!(s.step(t0), Ok(MasterStep::Stream(4096)));
        s.sent(100, t0);
        let mut b = reports(&[10, 4100]);
        assert_eq!(s.on_reports(&mut b, t0, 5000, 4096), Ok(Some(4100)));
        assert_eq!(s.step(t0), Ok(MasterStep::Stream(4196)));
    }

    #[test]
    fn a_restarted_slave_resumes_at_its_report() {
        let t0 = Instant::now();
        let mut s = MasterSession::new(t0, HB, HK);
        s.on_reports(&mut reports(&[777]), t0, 5000, 4096).unwrap();
        assert_eq!(s.step(t0), Ok(MasterStep::Stream(777)));
    }

    #[test]
    fn a_report_beyond_the_end_or_a_silent_slave_closes() {
        let t0 = Instant::now();
        let mut s = MasterSession::new(t0, HB, HK);
        assert_eq!(
            s.on_reports(&mut reports(&[6000]), t0, 5000, 4096),
            Err(SessionError::ReportBeyondEnd {
                report: 6000,
                end: 5000
            })
        );
        let s = MasterSession::new(t0, HB, HK);
        assert!(matches!(s.step(t0 + HK), Err(SessionError::Silent(_))));
    }

    #[test]
    fn heartbeats_only_after_idle_and_after_the_first_report() {
        let t0 = Instant::now();
        let mut s = MasterSession::new(t0, HB, HK);
        assert!(!s.heartbeat_due(t0 + HB));
        s.on_reports(&mut reports(&[0]), t0, 0, 0).unwrap();
        assert!(!s.heartbeat_due(t0));
        assert!(s.heartbeat_due(t0 + HB));
        s.sent(0, t0 + HB);
        assert!(!s.heartbeat_due(t0 + HB));
        assert_eq!(s.step(t0 + HB), Ok(MasterStep::Stream(0)));
    }

    #[test]
    fn the_slave_decodes_transfers_split_anywhere() {
        let t0 = Instant::now();
        let mut s = SlaveSession::new(t0, 64, HB, HK);
        let mut stream = BytesMut::new();
        ha::encode_transfer(4096, b"hello", &mut stream).unwrap();
        ha::encode_transfer(4101, b"", &mut stream).unwrap();
        let mut got = Vec::new();
        for piece in stream.chunks(5) {
            s.buffer().extend_from_slice(piece);
            got.extend(s.take_transfers(t0).unwrap());
        }
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].phy_offset, &got[0].body[..]), (4096, &b"hello"[..]));
        assert!(got[1].is_heartbeat());
        let mut big = BytesMut::new();
        ha::encode_transfer_header(0, 65, &mut big).unwrap();
        s.buffer().extend_from_slice(&big);
        assert!(s.take_transfers(t0).is_err(), "over the batch size");
    }

    #[test]
    fn the_slave_reports_periodically_and_notices_a_silent_master() {
        let t0 = Instant::now();
        let mut s = SlaveSession::new(t0, 64, HB, HK);
        assert!(!s.report_due(t0));
        assert!(s.report_due(t0 + HB));
        s.reported(t0 + HB);
        assert!(!s.report_due(t0 + HB));
        assert!(!s.master_silent(t0 + HB));
        assert!(s.master_silent(t0 + HK));
        let _ = s.take_transfers(t0 + HK).unwrap();
        assert!(!s.master_silent(t0 + HK));
    }
}
