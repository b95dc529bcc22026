//! Golden frames: the exact header shapes real clients put on the wire (docs/protocol.md §1, §9;
//! clients.md), decoded through the public codec API, answered, and re-encoded. Plus the bad
//! inputs a connection can see, each mapped to its `ProtocolError` without a panic.

use actormq::protocol::codes::{request_code, response_code};
use actormq::protocol::frame::{self, CodecError, RemotingCodec, DEFAULT_MAX_FRAME};
use actormq::protocol::headers::{
    send_request_header, GetRouteInfoRequestHeader, PullMessageRequestHeader,
    QueryConsumerOffsetRequestHeader, SendMessageResponseHeader,
};
use actormq::protocol::{LanguageCode, ProtocolError, RemotingCommand, SerializeType};
use bytes::{BufMut, Bytes, BytesMut};
use tokio_util::codec::Decoder;

/// A frame around `header` bytes of serialize type `ty`.
fn wire(ty: u8, header: &[u8], body: &[u8]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u32((4 + header.len() + body.len()) as u32);
    b.put_u32(((ty as u32) << 24) | header.len() as u32);
    b.put_slice(header);
    b.put_slice(body);
    b.freeze()
}

/// Decode through `check` + `parse`, as a connection would.
fn decode(bytes: Bytes) -> RemotingCommand {
    let n = frame::check(&bytes, DEFAULT_MAX_FRAME).unwrap().unwrap();
    assert_eq!(n, bytes.len());
    frame::parse(bytes).unwrap()
}

/// Answer `req` and check the response keeps its serialize type and opaque on the wire.
fn answer_keeps_type_and_opaque(req: &RemotingCommand) {
    let resp = req.response_to(response_code::SUCCESS, None);
    let mut buf = BytesMut::new();
    frame::encode(&resp, &mut buf);
    assert_eq!(
        buf[4], req.serialize_type as u8,
        "type byte of the response"
    );
    let back = decode(buf.freeze());
    assert_eq!(back.opaque, req.opaque);
    assert_eq!(back.serialize_type, req.serialize_type);
    assert!(back.is_response());
}

#[test]
fn java_route_query() {
    let json = br#"{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":409}"#;
    let req = decode(wire(0, json, b""));
    assert_eq!(req.code, request_code::GET_ROUTEINFO_BY_TOPIC);
    assert_eq!(
        (req.language, req.version, req.opaque, req.flag),
        (LanguageCode::Java, 409, 1, 0)
    );
    assert_eq!(req.remark, None);
    assert!(req.body.is_empty());
    let h: GetRouteInfoRequestHeader = req.header().unwrap();
    assert_eq!(h.topic, "TopicTest");
    assert_eq!(h.accept_standard_json_only, None);
    answer_keeps_type_and_opaque(&req);
}

#[test]
fn java_send_v2() {
    let json = br#"{"code":310,"extFields":{"a":"please_rename_unique_group_name","b":"TopicTest","c":"TBW102","d":"4","e":"1","f":"0","g":"1700000000123","h":"0","i":"UNIQ_KEY\u00017F0000010001\u0002WAIT\u0001true\u0002TAGS\u0001TagA","j":"0","k":"false","m":"false","n":"broker-a"},"flag":0,"language":"JAVA","opaque":3,"serializeTypeCurrentRPC":"JSON","version":409}"#;
    let req = decode(wire(0, json, b"Hello RocketMQ"));
    assert_eq!(req.code, request_code::SEND_MESSAGE_V2);
    assert_eq!(&req.body[..], b"Hello RocketMQ");
    let h = send_request_header(req.code, &req.ext_fields).unwrap();
    assert_eq!(h.producer_group, "please_rename_unique_group_name");
    assert_eq!(
        (h.default_topic_queue_nums, h.queue_id, h.born_timestamp),
        (4, 1, 1_700_000_000_123)
    );
    assert_eq!(
        h.properties.as_deref(),
        Some("UNIQ_KEY\u{1}7F0000010001\u{2}WAIT\u{1}true\u{2}TAGS\u{1}TagA")
    );
    assert_eq!((h.unit_mode, h.batch), (Some(false), Some(false)));
    assert_eq!(h.bname.as_deref(), Some("broker-a"));
    answer_keeps_type_and_opaque(&req);
}

#[test]
fn cpp_send_v2_with_numbers_empty_acl_fields_and_newline() {
    let json = b"{\"code\":310,\"extFields\":{\"AccessKey\":\"\",\"OnsChannel\":\"ALIYUN\",\"Signature\":\"\",\"a\":\"GID_py\",\"b\":\"TopicTest\",\"c\":\"TBW102\",\"d\":4,\"e\":0,\"f\":0,\"g\":1700000000456,\"h\":0,\"i\":\"KEYS\\u0001k1\\u0002TAGS\\u0001t\",\"j\":0,\"k\":\"0\",\"l\":16,\"m\":\"0\"},\"flag\":0,\"language\":\"CPP\",\"opaque\":5,\"remark\":\"\",\"version\":63}\n";
    let req = decode(wire(0, json, b"py-body"));
    assert_eq!(
        (req.language, req.version, req.opaque),
        (LanguageCode::Cpp, 63, 5)
    );
    assert_eq!(req.remark.as_deref(), Some(""));
    assert_eq!(req.ext("AccessKey"), Some(""));
    assert_eq!(req.ext("d"), Some("4"));
    assert_eq!(req.ext("g"), Some("1700000000456"));
    let h = send_request_header(req.code, &req.ext_fields).unwrap();
    assert_eq!(
        (h.default_topic_queue_nums, h.queue_id, h.sys_flag, h.flag),
        (4, 0, 0, 0)
    );
    assert_eq!(
        (h.unit_mode, h.batch, h.max_reconsume_times),
        (Some(false), Some(false), Some(16))
    );
    assert_eq!(h.properties.as_deref(), Some("KEYS\u{1}k1\u{2}TAGS\u{1}t"));
    answer_keeps_type_and_opaque(&req);
}

#[test]
fn cpp_pull_with_numeric_fields() {
    let json = b"{\"code\":11,\"extFields\":{\"AccessKey\":\"\",\"OnsChannel\":\"ALIYUN\",\"Signature\":\"\",\"commitOffset\":\"0\",\"consumerGroup\":\"GID_py\",\"maxMsgNums\":32,\"queueId\":1,\"queueOffset\":\"12\",\"subVersion\":\"0\",\"subscription\":\"*\",\"suspendTimeoutMillis\":\"20000\",\"sysFlag\":2,\"topic\":\"TopicTest\"},\"flag\":0,\"language\":\"CPP\",\"opaque\":6,\"remark\":\"\",\"version\":333}\n";
    let req = decode(wire(0, json, b""));
    assert_eq!(req.version, 333);
    let h: PullMessageRequestHeader = req.header().unwrap();
    assert_eq!(
        (h.queue_id, h.max_msg_nums, h.sys_flag, h.queue_offset),
        (1, 32, 2, 12)
    );
    assert_eq!(h.suspend_timeout_millis, 20_000);
    answer_keeps_type_and_opaque(&req);
}

#[test]
fn node_ali_ons_pull_without_serialize_type_key() {
    let json = br#"{"code":11,"language":"JAVA","opaque":7,"flag":0,"version":253,"extFields":{"consumerGroup":"GID_node","topic":"TopicTest","queueId":3,"queueOffset":0,"maxMsgNums":32,"sysFlag":6,"commitOffset":0,"suspendTimeoutMillis":15000,"subscription":"*","subVersion":1700000000789}}"#;
    let req = decode(wire(0, json, b""));
    assert_eq!(
        (req.language, req.version, req.opaque),
        (LanguageCode::Java, 253, 7)
    );
    let h: PullMessageRequestHeader = req.header().unwrap();
    assert_eq!(
        (h.queue_id, h.sys_flag, h.sub_version),
        (3, 6, 1_700_000_000_789)
    );
    assert_eq!(h.expression_type, None);
    answer_keeps_type_and_opaque(&req);
}

#[test]
fn binary_header_built_byte_by_byte() {
    let mut h = vec![
        0x00, 0x0E, // code 14 QUERY_CONSUMER_OFFSET
        0x00, // JAVA
        0x01, 0x99, // version 409
        0x00, 0x00, 0x00, 0x2A, // opaque 42
        0x00, 0x00, 0x00, 0x00, // flag
        0x00, 0x00, 0x00, 0x00, // remark: none
    ];
    let mut ext = Vec::new();
    for (k, v) in [("consumerGroup", "cg"), ("topic", "T1"), ("queueId", "2")] {
        ext.extend_from_slice(&(k.len() as u16).to_be_bytes());
        ext.extend_from_slice(k.as_bytes());
        ext.extend_from_slice(&(v.len() as u32).to_be_bytes());
        ext.extend_from_slice(v.as_bytes());
    }
    assert_eq!(ext.len(), 2 + 13 + 4 + 2 + 2 + 5 + 4 + 2 + 2 + 7 + 4 + 1);
    h.extend_from_slice(&(ext.len() as u32).to_be_bytes());
    h.extend_from_slice(&ext);
    let bytes = wire(1, &h, b"");
    assert_eq!(bytes[4], 1);
    let req = decode(bytes);
    assert_eq!(req.serialize_type, SerializeType::RocketMq);
    assert_eq!((req.code, req.version, req.opaque), (14, 409, 42));
    let q: QueryConsumerOffsetRequestHeader = req.header().unwrap();
    assert_eq!(
        (q.consumer_group.as_str(), q.topic.as_str(), q.queue_id),
        ("cg", "T1", 2)
    );
    answer_keeps_type_and_opaque(&req);
}

#[test]
fn java_style_send_response_exact_bytes() {
    let mut req = RemotingCommand::request(request_code::SEND_MESSAGE_V2).with_opaque(3);
    req.language = LanguageCode::Java;
    let resp =
        req.response_to(response_code::SUCCESS, None)
            .with_header(&SendMessageResponseHeader {
                msg_id: "7F00000100002A9F0000000000000000".into(),
                queue_id: 1,
                queue_offset: 7,
                ..Default::default()
            });
    let mut buf = BytesMut::new();
    frame::encode(&resp, &mut buf);
    let json = r#"{"code":0,"extFields":{"MSG_REGION":"DefaultRegion","TRACE_ON":"true","msgId":"7F00000100002A9F0000000000000000","queueId":"1","queueOffset":"7"},"flag":1,"language":"JAVA","opaque":3,"serializeTypeCurrentRPC":"JSON","version":409}"#;
    assert_eq!(json.len(), 231);
    let mut want = vec![0, 0, 0, 235, 0, 0, 0, 231];
    want.extend_from_slice(json.as_bytes());
    assert_eq!(std::str::from_utf8(&buf[8..]).unwrap(), json);
    assert_eq!(&buf[..], &want[..]);

    // An error response with a remark and no ext fields, with a body.
    let err = req
        .response_to(
            response_code::TOPIC_NOT_EXIST,
            Some("topic \"x\" not exist".into()),
        )
        .with_body(&b"b"[..]);
    let mut buf = BytesMut::new();
    frame::encode(&err, &mut buf);
    let json = r#"{"code":17,"flag":1,"language":"JAVA","opaque":3,"remark":"topic \"x\" not exist","serializeTypeCurrentRPC":"JSON","version":409}"#;
    let mut want = Vec::new();
    want.extend_from_slice(&((4 + json.len() + 1) as u32).to_be_bytes());
    want.extend_from_slice(&(json.len() as u32).to_be_bytes());
    want.extend_from_slice(json.as_bytes());
    want.push(b'b');
    assert_eq!(&buf[..], &want[..]);
}

#[test]
fn rust_client_null_remark_and_integer_language() {
    let json = br#"{"code":34,"extFields":null,"flag":0,"language":12,"opaque":9,"remark":null,"serializeTypeCurrentRPC":"JSON","version":413}"#;
    let req = decode(wire(0, json, br#"{"clientID":"c"}"#));
    assert_eq!(req.code, request_code::HEART_BEAT);
    assert_eq!(req.language, LanguageCode::Rust);
    assert_eq!(req.remark, None);
    assert!(req.ext_fields.is_empty());
    assert_eq!(&req.body[..], br#"{"clientID":"c"}"#);
    answer_keeps_type_and_opaque(&req);
}

#[test]
fn bad_inputs_map_to_errors() {
    let max = 1024;
    // Oversize length word.
    assert_eq!(
        frame::check(&[0, 0, 4, 1, 0, 0], max),
        Err(ProtocolError::FrameTooLarge { len: 1025, max })
    );
    // Length smaller than the header-length word.
    assert_eq!(
        frame::check(&[0, 0, 0, 2, 0, 0], max),
        Err(ProtocolError::FrameTooSmall(2))
    );
    // Header length past the frame.
    let mut f = BytesMut::from(&wire(0, br#"{"code":1}"#, b"")[..]);
    f[7] = 11;
    assert_eq!(
        frame::parse(f.freeze()),
        Err(ProtocolError::HeaderPastFrame {
            header: 11,
            available: 10
        })
    );
    // Garbage headers in both forms.
    for (ty, h) in [
        (0u8, &b"not json"[..]),
        (0, b"{\"code\":"),
        (0, b"{}"),
        (1, &[0xFF; 30][..]),
    ] {
        assert!(
            matches!(
                frame::parse(wire(ty, h, b"")),
                Err(ProtocolError::MalformedHeader(_))
            ),
            "{ty} {h:?}"
        );
    }
    // Unknown serialize type byte.
    assert_eq!(
        frame::parse(wire(7, br#"{"code":1}"#, b"")),
        Err(ProtocolError::UnknownSerializeType(7))
    );
    // The same through the tokio codec.
    let mut codec = RemotingCodec::new(max);
    let mut src = BytesMut::from(&wire(7, b"{}", b"")[..]);
    assert!(matches!(
        codec.decode(&mut src),
        Err(CodecError::Protocol(ProtocolError::UnknownSerializeType(7)))
    ));
    let mut src = BytesMut::from(&[0xFFu8, 0xFF, 0xFF, 0xFF][..]);
    assert!(matches!(
        codec.decode(&mut src),
        Err(CodecError::Protocol(ProtocolError::FrameTooLarge { .. }))
    ));
}
