//! Property tests of the frame codec through its public API: every representable command survives
//! encode -> check -> parse in both serializations, and no byte sequence makes the decoder panic.

use actormq::protocol::frame::{self, RemotingCodec, DEFAULT_MAX_FRAME};
use actormq::protocol::{ExtFields, LanguageCode, RemotingCommand, SerializeType};
use bytes::{BufMut, Bytes, BytesMut};
use proptest::collection::{hash_map, vec};
use proptest::prelude::*;
use tokio_util::codec::Decoder;

fn command(binary: bool) -> impl Strategy<Value = RemotingCommand> {
    let small = if binary {
        (i16::MIN as i32..=i16::MAX as i32).boxed()
    } else {
        any::<i32>().boxed()
    };
    (
        small.clone(),
        0u8..13,
        small,
        any::<i32>(),
        any::<i32>(),
        proptest::option::of(".{0,40}"),
        hash_map(".{0,12}", ".{0,40}", 0..8),
        vec(any::<u8>(), 0..256),
    )
        .prop_map(
            move |(code, lang, version, opaque, flag, remark, ext, body)| RemotingCommand {
                code,
                language: LanguageCode::from_code(lang),
                version,
                opaque,
                flag,
                remark,
                ext_fields: ext.into_iter().collect(),
                serialize_type: if binary {
                    SerializeType::RocketMq
                } else {
                    SerializeType::Json
                },
                body: Bytes::from(body),
                body_parts: Vec::new(),
            },
        )
}

/// What the binary form can carry: an empty remark is "none", empty keys/values are Java nulls.
fn binary_normal(mut c: RemotingCommand) -> RemotingCommand {
    if c.remark.as_deref() == Some("") {
        c.remark = None;
    }
    c.ext_fields = c
        .ext_fields
        .into_iter()
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .collect::<ExtFields>();
    c
}

fn round_trip(cmd: &RemotingCommand) -> RemotingCommand {
    let mut buf = BytesMut::new();
    frame::try_encode(cmd, &mut buf).expect("representable command");
    let n = frame::check(&buf, DEFAULT_MAX_FRAME)
        .unwrap()
        .expect("whole frame");
    assert_eq!(n, buf.len());
    frame::parse(buf.freeze()).unwrap()
}

/// Decode whatever `check` accepts; errors are fine, panics are not.
fn feed(bytes: &[u8]) {
    if let Ok(Some(n)) = frame::check(bytes, DEFAULT_MAX_FRAME) {
        let _ = frame::parse(Bytes::copy_from_slice(&bytes[..n]));
    }
    let mut codec = RemotingCodec::new(4096);
    let mut src = BytesMut::from(bytes);
    while let Ok(Some(_)) = codec.decode(&mut src) {}
}

proptest! {
    #[test]
    fn json_round_trip(cmd in command(false)) {
        prop_assert_eq!(round_trip(&cmd), cmd);
    }

    #[test]
    fn binary_round_trip(cmd in command(true)) {
        let want = binary_normal(cmd.clone());
        prop_assert_eq!(round_trip(&cmd), want);
    }

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        feed(&bytes);
    }

    #[test]
    fn random_headers_behind_valid_length_words(
        ty in prop_oneof![Just(0u8), Just(1u8), any::<u8>()],
        header in vec(any::<u8>(), 0..200),
        declared in proptest::option::of(0u32..0x00FF_FFFF),
        body in vec(any::<u8>(), 0..64),
    ) {
        let hlen = declared.unwrap_or(header.len() as u32);
        let mut f = BytesMut::new();
        f.put_u32((4 + header.len() + body.len()) as u32);
        f.put_u32(((ty as u32) << 24) | hlen);
        f.put_slice(&header);
        f.put_slice(&body);
        feed(&f);
    }

    #[test]
    fn mutated_valid_headers_never_panic(
        cmd in prop_oneof![command(false), command(true)],
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut buf = BytesMut::new();
        frame::try_encode(&cmd, &mut buf).unwrap();
        let header_end = 8 + (u32::from_be_bytes([0, buf[5], buf[6], buf[7]]) as usize);
        if header_end > 8 {
            for (i, b) in edits {
                buf[8 + i.index(header_end - 8)] = b;
            }
        }
        feed(&buf);
        // Truncated header (length words fixed up so only the header is short).
        let keep = cut.index(header_end - 8 + 1);
        let mut t = BytesMut::new();
        t.put_u32((4 + keep) as u32);
        t.put_u32(((cmd.serialize_type as u32) << 24) | keep as u32);
        t.put_slice(&buf[8..8 + keep]);
        feed(&t);
    }
}
