//! A server-wide budget for frames that have started to arrive but are not complete.
//!
//! Why: the decoder reserves room for a whole frame as soon as its length word arrives (up to
//! `frameMaxLength`, 16 MiB), so twenty peers that each send 16 MiB - 1 bytes and stop would pin
//! 320 MiB for as long as they stay connected. Each connection's [`BudgetedCodec`] holds a claim
//! on one shared [`FrameBudget`] for the frame it is assembling; a claim that would take the
//! total past the limit fails, and that connection is closed instead of buffering more.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::{Buf, BytesMut};
use tokio_util::codec::Decoder;

use crate::protocol::frame::{CodecError, RemotingCodec};
use crate::protocol::RemotingCommand;

/// Bytes claimed by incomplete frames across every connection of one server.
#[derive(Debug)]
pub struct FrameBudget {
    used: AtomicUsize,
    limit: usize,
}

impl FrameBudget {
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(FrameBudget {
            used: AtomicUsize::new(0),
            limit,
        })
    }

    /// Bytes currently claimed.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Change one claim from `old` to `new` bytes; refused (nothing changes) when growing it would
    /// pass the limit.
    fn reclaim(&self, old: usize, new: usize) -> Result<(), usize> {
        if new <= old {
            self.used.fetch_sub(old - new, Ordering::Relaxed);
            return Ok(());
        }
        let grow = new - old;
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                (u + grow <= self.limit).then_some(u + grow)
            })
            .map(|_| ())
    }
}

/// The remoting codec plus this connection's claim on the server's [`FrameBudget`].
#[derive(Debug)]
pub struct BudgetedCodec {
    inner: RemotingCodec,
    budget: Arc<FrameBudget>,
    claimed: usize,
}

impl BudgetedCodec {
    pub fn new(inner: RemotingCodec, budget: Arc<FrameBudget>) -> Self {
        BudgetedCodec {
            inner,
            budget,
            claimed: 0,
        }
    }
}

impl Drop for BudgetedCodec {
    fn drop(&mut self) {
        let _ = self.budget.reclaim(self.claimed, 0);
    }
}

impl Decoder for BudgetedCodec {
    type Item = RemotingCommand;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<RemotingCommand>, CodecError> {
        // The size of the frame being assembled, before the inner codec reserves room for it.
        let pending = match src.len() {
            0..=3 => src.len(),
            _ => (4 + (&src[..4]).get_u32() as usize).min(4 + self.inner.max_frame()),
        };
        let claim = if pending > src.len() { pending } else { 0 };
        if claim != self.claimed {
            if let Err(used) = self.budget.reclaim(self.claimed, claim) {
                return Err(CodecError::Io(io::Error::new(
                    io::ErrorKind::OutOfMemory,
                    format!(
                    "incomplete frames on all connections already hold {used} bytes; a further \
                     {claim}-byte frame would pass the limit of {} (incompleteFramesMaxBytes)",
                        self.budget.limit
                    ),
                )));
            }
            self.claimed = claim;
        }
        // After a whole frame the next call (the reader loops until `None`) resets the claim.
        self.inner.decode(src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;

    fn frame_prefix(len: u32, have: usize) -> BytesMut {
        let mut b = BytesMut::new();
        b.put_u32(len);
        b.put_bytes(0, have);
        b
    }

    #[test]
    fn claims_are_shared_and_released_on_drop() {
        let budget = FrameBudget::new(250);
        let mut a = BudgetedCodec::new(RemotingCodec::new(1000), budget.clone());
        let mut b = BudgetedCodec::new(RemotingCodec::new(1000), budget.clone());
        assert!(a.decode(&mut frame_prefix(200, 10)).unwrap().is_none());
        assert_eq!(budget.used(), 204);
        let err = b.decode(&mut frame_prefix(100, 10)).unwrap_err();
        assert!(
            err.to_string().contains("incompleteFramesMaxBytes"),
            "{err}"
        );
        assert_eq!(budget.used(), 204, "a refused claim changes nothing");
        drop(a);
        assert_eq!(budget.used(), 0);
        assert!(b.decode(&mut frame_prefix(100, 10)).unwrap().is_none());
        assert_eq!(budget.used(), 104);
    }

    #[test]
    fn a_completed_frame_releases_its_claim() {
        let budget = FrameBudget::new(1 << 20);
        let mut c = BudgetedCodec::new(RemotingCodec::default(), budget.clone());
        let cmd = RemotingCommand::request(10).with_body(vec![1u8; 500]);
        let mut whole = BytesMut::new();
        crate::protocol::frame::encode(&cmd, &mut whole);
        let mut buf = BytesMut::from(&whole[..100]);
        assert!(c.decode(&mut buf).unwrap().is_none());
        assert_eq!(budget.used(), whole.len());
        buf.extend_from_slice(&whole[100..]);
        assert!(c.decode(&mut buf).unwrap().is_some());
        assert_eq!(budget.used(), 0);
    }
}
