//! The HA (master/slave replication) wire protocol of RocketMQ 4.x (docs/protocol.md §8.1): a
//! plain TCP stream beside the remoting port, no remoting frames, all integers big-endian.
//!
//! * Slave → master: bare 8-byte reports, each the slave's CommitLog end (its max physical
//!   offset). The master only cares about the newest complete one ([`latest_report`]).
//! * Master → slave: transfers `phyOffset:i64 bodySize:i32` followed by `bodySize` raw CommitLog
//!   bytes starting at `phyOffset`; a transfer with an empty body is a heartbeat.
//! * Controller mode only (actormq's own): before its first report a slave sends a handshake
//!   `marker:i64(-1) brokerId:i64 masterEpoch:i32`, so the master knows which SyncStateSet member
//!   each connection is and refuses a slave that expects another master term ([`Handshake`]).
//!
//! Same shape as the remoting codec (`frame/mod.rs`): a `check_*` function only answers "is one
//! whole unit buffered, and how long is it?", a `parse_*` function decodes exactly one unit (the
//! body as a zero-copy slice). Pure: no I/O. Decoding never panics, and a header claiming a body
//! larger than the caller's maximum is an error before anything is allocated.

use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

/// Length of one slave report.
pub const REPORT_LEN: usize = 8;
/// Length of a transfer header: `phyOffset(8) + bodySize(4)`.
pub const TRANSFER_HEADER_LEN: usize = 12;
/// `haTransferBatchSize`: the most CommitLog bytes a master puts in one transfer.
pub const DEFAULT_TRANSFER_BATCH_SIZE: usize = 32 * 1024;
/// The largest transfer body a slave accepts, and so the largest `haTransferBatchSize`: a
/// RocketMQ slave reads transfers into one 4 MiB buffer (its `DefaultHAClient`), header
/// included, and stalls on anything longer. Why a slave does not use its own
/// `haTransferBatchSize` as the limit: that setting is the master's, and a slave must take what
/// its master was configured to send (a master at 128 KiB and a slave at the default 32 KiB
/// replicated nothing).
pub const MAX_TRANSFER_BODY: usize = 4 * 1024 * 1024 - TRANSFER_HEADER_LEN;

/// What can be wrong with HA bytes. After any of these the connection must be closed: the
/// stream position can no longer be trusted.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HaError {
    /// A report or transfer header carries a negative CommitLog offset.
    #[error("negative CommitLog offset {0}")]
    NegativeOffset(i64),
    /// A transfer header carries a negative body size.
    #[error("negative transfer body size {0}")]
    NegativeBodySize(i32),
    /// A transfer header claims a body larger than the configured maximum.
    #[error("transfer body of {size} bytes exceeds the limit of {max} bytes")]
    BodyTooLarge { size: usize, max: usize },
    /// `parse_*` got a slice that is not exactly one unit.
    #[error("expected a {expected}-byte unit, got {got} bytes")]
    WrongLength { expected: usize, got: usize },
    /// A controller-mode master got something else than a handshake first.
    #[error("expected a controller-mode handshake (marker -1), got {0}")]
    NoHandshake(i64),
}

/// Length of the controller-mode handshake.
pub const HANDSHAKE_LEN: usize = 20;
/// First word of a handshake: never a report (offsets are not negative).
const HANDSHAKE_MARKER: i64 = -1;

/// A controller-mode slave's first words: who it is and which master term it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    pub broker_id: i64,
    pub master_epoch: i32,
}

impl Handshake {
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.put_i64(HANDSHAKE_MARKER);
        dst.put_i64(self.broker_id);
        dst.put_i32(self.master_epoch);
    }

    /// Decode exactly one handshake.
    pub fn parse(unit: &[u8]) -> Result<Self, HaError> {
        if unit.len() != HANDSHAKE_LEN {
            return Err(HaError::WrongLength {
                expected: HANDSHAKE_LEN,
                got: unit.len(),
            });
        }
        let marker = be_i64(unit);
        if marker != HANDSHAKE_MARKER {
            return Err(HaError::NoHandshake(marker));
        }
        let mut e = [0u8; 4];
        e.copy_from_slice(&unit[16..20]);
        Ok(Handshake {
            broker_id: be_i64(&unit[8..]),
            master_epoch: i32::from_be_bytes(e),
        })
    }
}

/// One master → slave transfer: `body` is the CommitLog content at `phy_offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub phy_offset: u64,
    pub body: Bytes,
}

impl Transfer {
    /// A transfer without data: the master's keep-alive.
    pub fn is_heartbeat(&self) -> bool {
        self.body.is_empty()
    }
    /// The offset one past the last byte carried.
    pub fn end_offset(&self) -> u64 {
        self.phy_offset + self.body.len() as u64
    }
}

fn be_i64(b: &[u8]) -> i64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    i64::from_be_bytes(w)
}

fn offset(raw: i64) -> Result<u64, HaError> {
    u64::try_from(raw).map_err(|_| HaError::NegativeOffset(raw))
}

/// Is a whole slave report at the start of `src`? `Some(REPORT_LEN)` when it is.
pub fn check_report(src: &[u8]) -> Option<usize> {
    (src.len() >= REPORT_LEN).then_some(REPORT_LEN)
}

/// Decode exactly one report (8 bytes).
pub fn parse_report(unit: &[u8]) -> Result<u64, HaError> {
    if unit.len() != REPORT_LEN {
        return Err(HaError::WrongLength {
            expected: REPORT_LEN,
            got: unit.len(),
        });
    }
    offset(be_i64(unit))
}

/// The master's reading rule: of all complete reports buffered in `src`, only the newest counts.
/// Returns that offset and how many bytes it consumed (a multiple of 8; a trailing partial report
/// stays buffered), or `None` when not one whole report is there.
pub fn latest_report(src: &[u8]) -> Result<Option<(u64, usize)>, HaError> {
    let whole = src.len() - src.len() % REPORT_LEN;
    if whole == 0 {
        return Ok(None);
    }
    let off = parse_report(&src[whole - REPORT_LEN..whole])?;
    Ok(Some((off, whole)))
}

/// Write one report.
pub fn encode_report(max_offset: u64, dst: &mut BytesMut) -> Result<(), HaError> {
    let raw = i64::try_from(max_offset).map_err(|_| HaError::NegativeOffset(max_offset as i64))?;
    dst.put_i64(raw);
    Ok(())
}

/// Is a whole transfer at the start of `src`?
///
/// `Ok(None)`: more bytes are needed. `Ok(Some(n))`: the first `n` bytes (header plus body) are
/// one transfer. A negative offset or size, or a body over `max_body`, is an error as soon as the
/// header is buffered.
pub fn check_transfer(src: &[u8], max_body: usize) -> Result<Option<usize>, HaError> {
    let Some(header) = src.get(..TRANSFER_HEADER_LEN) else {
        return Ok(None);
    };
    let size = body_size(header, max_body)?;
    let total = TRANSFER_HEADER_LEN + size;
    Ok((src.len() >= total).then_some(total))
}

/// Validate a 12-byte header; returns the body size.
fn body_size(header: &[u8], max_body: usize) -> Result<usize, HaError> {
    offset(be_i64(header))?;
    let raw = i32::from_be_bytes([header[8], header[9], header[10], header[11]]);
    let size = usize::try_from(raw).map_err(|_| HaError::NegativeBodySize(raw))?;
    if size > max_body {
        return Err(HaError::BodyTooLarge {
            size,
            max: max_body,
        });
    }
    Ok(size)
}

/// Decode exactly one transfer (header plus body, as measured by [`check_transfer`]); the body
/// is a zero-copy slice of `unit`.
pub fn parse_transfer(unit: Bytes, max_body: usize) -> Result<Transfer, HaError> {
    let wrong = |expected| HaError::WrongLength {
        expected,
        got: unit.len(),
    };
    let Some(header) = unit.get(..TRANSFER_HEADER_LEN) else {
        return Err(wrong(TRANSFER_HEADER_LEN));
    };
    let size = body_size(header, max_body)?;
    if unit.len() != TRANSFER_HEADER_LEN + size {
        return Err(wrong(TRANSFER_HEADER_LEN + size));
    }
    Ok(Transfer {
        phy_offset: offset(be_i64(header))?,
        body: unit.slice(TRANSFER_HEADER_LEN..),
    })
}

/// Write a transfer header for `body_len` bytes at `phy_offset` (the caller sends the bytes
/// after it, e.g. straight from the mapped file). Fails, writing nothing, when the values do not
/// fit the header's signed fields.
pub fn encode_transfer_header(
    phy_offset: u64,
    body_len: usize,
    dst: &mut BytesMut,
) -> Result<(), HaError> {
    let off = i64::try_from(phy_offset).map_err(|_| HaError::NegativeOffset(phy_offset as i64))?;
    let size = i32::try_from(body_len).map_err(|_| HaError::BodyTooLarge {
        size: body_len,
        max: i32::MAX as usize,
    })?;
    dst.reserve(TRANSFER_HEADER_LEN);
    dst.put_i64(off);
    dst.put_i32(size);
    Ok(())
}

/// Write a whole transfer (header and body).
pub fn encode_transfer(phy_offset: u64, body: &[u8], dst: &mut BytesMut) -> Result<(), HaError> {
    encode_transfer_header(phy_offset, body.len(), dst)?;
    dst.put_slice(body);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAX: usize = DEFAULT_TRANSFER_BATCH_SIZE;

    fn transfer(off: u64, body: &[u8]) -> BytesMut {
        let mut b = BytesMut::new();
        encode_transfer(off, body, &mut b).unwrap();
        b
    }

    #[test]
    fn report_is_eight_big_endian_bytes() {
        let mut b = BytesMut::new();
        encode_report(0x0102_0304_0506_0708, &mut b).unwrap();
        assert_eq!(&b[..], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(check_report(&b[..7]), None);
        assert_eq!(check_report(&b), Some(8));
        assert_eq!(parse_report(&b).unwrap(), 0x0102_0304_0506_0708);
        assert_eq!(
            parse_report(&[0xff; 8]),
            Err(HaError::NegativeOffset(-1)),
            "a negative offset is refused"
        );
        assert!(encode_report(u64::MAX, &mut BytesMut::new()).is_err());
    }

    #[test]
    fn master_takes_the_newest_complete_report() {
        let mut b = BytesMut::new();
        for off in [10u64, 20, 30] {
            encode_report(off, &mut b).unwrap();
        }
        b.put_slice(&[0, 0, 0]); // the start of a fourth
        assert_eq!(latest_report(&b).unwrap(), Some((30, 24)));
        assert_eq!(latest_report(&b[..7]).unwrap(), None);
    }

    #[test]
    fn transfer_layout_and_heartbeat() {
        let b = transfer(65536, b"abc");
        assert_eq!(&b[..12], &[0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 3]);
        for cut in 0..b.len() {
            assert_eq!(check_transfer(&b[..cut], MAX).unwrap(), None, "{cut}");
        }
        assert_eq!(check_transfer(&b, MAX).unwrap(), Some(15));
        let t = parse_transfer(b.freeze(), MAX).unwrap();
        assert_eq!(
            (t.phy_offset, &t.body[..], t.end_offset()),
            (65536, &b"abc"[..], 65539)
        );
        let hb = parse_transfer(transfer(7, b"").freeze(), MAX).unwrap();
        assert!(hb.is_heartbeat());
    }

    #[test]
    fn oversized_or_negative_headers_are_errors_before_the_body_arrives() {
        let mut h = BytesMut::new();
        encode_transfer_header(0, MAX + 1, &mut h).unwrap();
        assert_eq!(
            check_transfer(&h, MAX),
            Err(HaError::BodyTooLarge {
                size: MAX + 1,
                max: MAX
            })
        );
        let mut neg = [0u8; 12];
        neg[8..].copy_from_slice(&(-5i32).to_be_bytes());
        assert_eq!(
            check_transfer(&neg, MAX),
            Err(HaError::NegativeBodySize(-5))
        );
        let mut neg_off = [0u8; 12];
        neg_off[..8].copy_from_slice(&(-1i64).to_be_bytes());
        assert_eq!(
            check_transfer(&neg_off, MAX),
            Err(HaError::NegativeOffset(-1))
        );
        assert!(matches!(
            parse_transfer(Bytes::from_static(&[0; 13]), MAX),
            Err(HaError::WrongLength {
                expected: 12,
                got: 13
            })
        ));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64),
                                    max in 0usize..64) {
            let _ = latest_report(&data);
            let _ = check_report(&data);
            let _ = parse_report(&data);
            if let Ok(Some(n)) = check_transfer(&data, max) {
                let t = parse_transfer(Bytes::copy_from_slice(&data[..n]), max).unwrap();
                prop_assert_eq!(t.body.len(), n - TRANSFER_HEADER_LEN);
            }
            let _ = parse_transfer(Bytes::from(data), max);
        }

        #[test]
        fn transfers_round_trip_through_a_split_stream(
            units in proptest::collection::vec(
                (0u64..=i64::MAX as u64, proptest::collection::vec(any::<u8>(), 0..100)), 1..8),
            split in 1usize..40,
        ) {
            let mut stream = BytesMut::new();
            for (off, body) in &units {
                encode_transfer(*off, body, &mut stream).unwrap();
            }
            // Feed the stream in pieces of `split` bytes, decoding whatever is whole.
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            for piece in stream.chunks(split) {
                buf.extend_from_slice(piece);
                while let Some(n) = check_transfer(&buf, 100).unwrap() {
                    got.push(parse_transfer(buf.split_to(n).freeze(), 100).unwrap());
                }
            }
            prop_assert!(buf.is_empty());
            prop_assert_eq!(got.len(), units.len());
            for (t, (off, body)) in got.iter().zip(&units) {
                prop_assert_eq!(t.phy_offset, *off);
                prop_assert_eq!(&t.body[..], &body[..]);
            }
        }

        #[test]
        fn reports_round_trip(offs in proptest::collection::vec(0u64..=i64::MAX as u64, 1..10)) {
            let mut b = BytesMut::new();
            for o in &offs {
                encode_report(*o, &mut b).unwrap();
            }
            prop_assert_eq!(parse_report(&b[..8]).unwrap(), offs[0]);
            prop_assert_eq!(latest_report(&b).unwrap(), Some((*offs.last().unwrap(), b.len())));
        }
    }

    #[test]
    fn handshake_round_trips_and_a_report_is_not_one() {
        let h = Handshake {
            broker_id: 3,
            master_epoch: 7,
        };
        let mut b = BytesMut::new();
        h.encode(&mut b);
        assert_eq!(b.len(), HANDSHAKE_LEN);
        assert_eq!(Handshake::parse(&b), Ok(h));
        let mut r = BytesMut::new();
        encode_report(5, &mut r).unwrap();
        r.extend_from_slice(&[0; 12]);
        assert_eq!(Handshake::parse(&r), Err(HaError::NoHandshake(5)));
        assert!(Handshake::parse(&b[..8]).is_err());
    }
}
