//! Fuzz the frame decoder the way a connection drives it: `check` on the raw bytes, then `parse`
//! on whatever it accepts; every accepted command must re-encode and decode to itself (modulo what
//! the binary form cannot carry), and nothing may panic.
#![no_main]

use actormq::protocol::frame::{self, DEFAULT_MAX_FRAME};
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(Some(n)) = frame::check(data, DEFAULT_MAX_FRAME) else {
        return;
    };
    let Ok(cmd) = frame::parse(Bytes::copy_from_slice(&data[..n])) else {
        return;
    };
    let mut buf = BytesMut::new();
    if frame::try_encode(&cmd, &mut buf).is_ok() {
        let again = frame::parse(buf.freeze()).expect("re-encoded frame decodes");
        assert_eq!(again, cmd);
    }
});
