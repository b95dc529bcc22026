//! Unit tests of the frame layer: length checks, dispatch on the serialize type, the codec.

use bytes::{BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::*;
use crate::protocol::command::LanguageCode;

fn frame(type_byte: u8, header: &[u8], body: &[u8]) -> BytesMut {
    let mut b = BytesMut::new();
    b.put_u32((4 + header.len() + body.len()) as u32);
    b.put_u32(((type_byte as u32) << 24) | header.len() as u32);
    b.put_slice(header);
    b.put_slice(body);
    b
}

#[test]
fn check_waits_for_whole_frame() {
    let f = frame(0, br#"{"code":1}"#, b"xyz");
    for cut in 0..f.len() {
        assert_eq!(check(&f[..cut], DEFAULT_MAX_FRAME).unwrap(), None, "{cut}");
    }
    assert_eq!(check(&f, DEFAULT_MAX_FRAME).unwrap(), Some(f.len()));
    let mut two = f.clone();
    two.extend_from_slice(&f);
    assert_eq!(check(&two, DEFAULT_MAX_FRAME).unwrap(), Some(f.len()));
}

#[test]
fn check_rejects_bad_lengths() {
    assert_eq!(
        check(&[0, 0, 0, 3], 100),
        Err(ProtocolError::FrameTooSmall(3))
    );
    assert_eq!(
        check(&[0, 0, 0, 101], 100),
        Err(ProtocolError::FrameTooLarge { len: 101, max: 100 })
    );
    assert!(matches!(
        check(&[0xff, 0xff, 0xff, 0xff], DEFAULT_MAX_FRAME),
        Err(ProtocolError::FrameTooLarge { .. })
    ));
    assert_eq!(check(&[0, 0, 0, 100], 100).unwrap(), None);
}

#[test]
fn parse_splits_header_and_body_without_copying() {
    let f = frame(0, br#"{"code":11,"opaque":5}"#, b"body").freeze();
    let c = parse(f.clone()).unwrap();
    assert_eq!((c.code, c.opaque), (11, 5));
    assert_eq!(&c.body[..], b"body");
    // Same allocation: the body points into the frame.
    assert_eq!(c.body.as_ptr(), f[f.len() - 4..].as_ptr());
}

#[test]
fn parse_errors() {
    let f = frame(7, b"{}", b"");
    assert_eq!(
        parse(f.freeze()),
        Err(ProtocolError::UnknownSerializeType(7))
    );
    let mut f = frame(0, br#"{"code":1}"#, b"");
    f[7] = 200;
    assert_eq!(
        parse(f.freeze()),
        Err(ProtocolError::HeaderPastFrame {
            header: 200,
            available: 10
        })
    );
    assert!(matches!(
        parse(Bytes::from_static(&[0, 0, 0, 9, 0, 0, 0, 0])),
        Err(ProtocolError::MalformedHeader(_))
    ));
    assert_eq!(
        parse(Bytes::from_static(&[0, 0, 0, 3, 0, 0, 0])),
        Err(ProtocolError::FrameTooSmall(3))
    );
    assert_eq!(parse(Bytes::new()), Err(ProtocolError::FrameTooSmall(0)));
    // A frame cut short of its declared length.
    assert!(matches!(
        parse(Bytes::from_static(&[0, 0, 0, 100, 0, 0, 0, 0])),
        Err(ProtocolError::MalformedHeader(_))
    ));
    assert!(matches!(
        parse(frame(1, &[1, 2, 3], b"").freeze()),
        Err(ProtocolError::MalformedHeader(_))
    ));
}

#[test]
fn encode_then_parse_both_types() {
    for st in [SerializeType::Json, SerializeType::RocketMq] {
        let mut c = RemotingCommand::request(310)
            .with_opaque(-3)
            .with_body(&b"hi"[..]);
        c.serialize_type = st;
        c.remark = Some("r".into());
        c.language = LanguageCode::Go;
        c.set_ext("a", "g");
        c.set_ext("e", -1);
        let mut buf = BytesMut::new();
        encode(&c, &mut buf);
        assert_eq!(buf[4], st as u8);
        assert_eq!(parse(buf.freeze()).unwrap(), c);
    }
}

#[test]
fn body_parts_go_on_the_wire_after_the_body() {
    for st in [SerializeType::Json, SerializeType::RocketMq] {
        let mut whole = RemotingCommand::request(11).with_body(&b"abcdefg"[..]);
        whole.serialize_type = st;
        let parts = whole.clone().with_body_parts(vec![
            Bytes::from_static(b"ab"),
            Bytes::new(),
            Bytes::from_static(b"cdefg"),
        ]);
        assert!(parts.body.is_empty());
        // `body` first, then the parts.
        let mut split = parts.clone();
        split.body = Bytes::from_static(b"ab");
        split.body_parts.remove(0);
        for c in [&parts, &split] {
            assert_eq!(c.body_len(), 7);
        }
        let (mut a, mut b, mut c) = (BytesMut::new(), BytesMut::new(), BytesMut::new());
        encode(&whole, &mut a);
        encode(&split, &mut b);
        encode(&parts, &mut c);
        assert_eq!(a, b);
        assert_eq!(a, c);
        // The head alone is the frame minus its body; decoding sees the whole body.
        let mut head = BytesMut::new();
        try_encode_head(&split, &mut head).unwrap();
        assert_eq!(&head[..], &a[..a.len() - 7]);
        let back = parse(b.freeze()).unwrap();
        assert_eq!(&back.body[..], b"abcdefg");
        assert!(back.body_parts.is_empty());
    }
}

#[test]
fn unencodable_command_writes_nothing() {
    let mut c = RemotingCommand::request(70_000);
    c.serialize_type = SerializeType::RocketMq;
    let mut buf = BytesMut::new();
    assert!(try_encode(&c, &mut buf).is_err());
    encode(&c, &mut buf);
    assert!(try_encode_head(&c, &mut buf).is_err());
    assert!(buf.is_empty());
}

#[test]
fn codec_streams_frames_and_reports_errors() {
    let mut codec = RemotingCodec::default();
    let mut wire = BytesMut::new();
    for i in 0..3 {
        let mut c = RemotingCommand::request(34).with_opaque(i);
        if i == 1 {
            c.serialize_type = SerializeType::RocketMq;
        }
        codec.encode(c, &mut wire).unwrap();
    }
    // Feed in small pieces.
    let mut src = BytesMut::new();
    let mut got = Vec::new();
    for chunk in wire.chunks(7) {
        src.extend_from_slice(chunk);
        while let Some(c) = codec.decode(&mut src).unwrap() {
            got.push(c.opaque);
        }
    }
    assert_eq!(got, vec![0, 1, 2]);
    assert!(src.is_empty());

    let mut small = RemotingCodec::new(64);
    let mut big = BytesMut::from(&[0u8, 0, 1, 0][..]);
    assert!(matches!(
        small.decode(&mut big),
        Err(CodecError::Protocol(ProtocolError::FrameTooLarge { .. }))
    ));
}
