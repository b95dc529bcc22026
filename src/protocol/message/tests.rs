use super::*;
use proptest::prelude::*;

fn fields<'a>(body: &'a [u8], props: &'a str) -> RecordFields<'a> {
    RecordFields {
        topic: "TopicTest",
        queue_id: 3,
        flag: 7,
        sys_flag: 0,
        born_timestamp: 1_700_000_000_000,
        born_host: "192.168.1.2:54321".parse().unwrap(),
        store_host: "10.0.0.1:10911".parse().unwrap(),
        reconsume_times: 2,
        prepared_transaction_offset: 0,
        body,
        properties: props,
    }
}

#[test]
fn ipv4_layout_positions() {
    let f = fields(b"hello", "TAGS\u{1}A");
    let size = f.stored_size();
    assert_eq!(size, 91 + 5 + 9 + 6);
    let mut buf = vec![0u8; size + 10];
    let n = encode_record(
        &mut buf,
        &f,
        body_crc(b"hello"),
        42,
        4096,
        1_700_000_000_500,
    )
    .unwrap();
    assert_eq!(n, size);
    assert_eq!(&buf[0..4], &(size as i32).to_be_bytes());
    assert_eq!(&buf[4..8], &[0xDA, 0xA3, 0x20, 0xA7]);
    assert_eq!(i64::from_be_bytes(buf[20..28].try_into().unwrap()), 42);
    assert_eq!(i64::from_be_bytes(buf[28..36].try_into().unwrap()), 4096);
    assert_eq!(&buf[48..52], &[192, 168, 1, 2]);
    assert_eq!(i32::from_be_bytes(buf[52..56].try_into().unwrap()), 54321);
    assert_eq!(
        i64::from_be_bytes(buf[56..64].try_into().unwrap()),
        1_700_000_000_500
    );
    assert_eq!(&buf[64..68], &[10, 0, 0, 1]);
    let m = decode_record(&Bytes::from(buf)).unwrap();
    assert_eq!(m.body.as_ref(), b"hello");
    assert!(m.crc_ok());
    assert_eq!(m.topic, "TopicTest");
    assert_eq!(m.tags(), Some("A"));
    assert_eq!(m.queue_offset, 42);
    assert_eq!(m.offset_msg_id(), "0A00000100002A9F0000000000001000");
    assert_eq!(m.msg_id(), m.offset_msg_id());
}

#[test]
fn ipv6_hosts_set_flags_and_lengths() {
    let mut f = fields(b"x", "");
    f.born_host = "[::1]:1".parse().unwrap();
    f.store_host = "[fe80::2]:10911".parse().unwrap();
    f.sys_flag = sys_flag::BORNHOST_V6; // stale bits are recomputed
    assert_eq!(f.effective_sys_flag(), 0x30);
    let size = f.stored_size();
    assert_eq!(size, 91 + 24 + 1 + 9);
    let mut buf = vec![0u8; size];
    encode_record(&mut buf, &f, body_crc(b"x"), 0, 0, 5).unwrap();
    let m = decode_record(&Bytes::from(buf)).unwrap();
    assert_eq!(m.born_host, f.born_host);
    assert_eq!(m.store_host, f.store_host);
    assert_eq!(m.sys_flag, 0x30);
    assert_eq!(m.offset_msg_id().len(), 56);
    assert_eq!(m.encode().as_ref(), m.encode().as_ref());
}

#[test]
fn limits_and_bad_input() {
    let long = "t".repeat(128);
    let mut f = fields(b"", "");
    f.topic = &long;
    assert!(f.validate().is_err());
    let props = "a".repeat(40000);
    let f = fields(b"", &props);
    assert!(f.validate().is_err());
    let f = fields(b"abc", "");
    let mut small = vec![0u8; 10];
    assert!(encode_record(&mut small, &f, 0, 0, 0, 0).is_err());

    let mut buf = vec![0u8; f.stored_size()];
    encode_record(&mut buf, &f, body_crc(b"abc"), 0, 0, 0).unwrap();
    // Truncated, bad magic, bad size, corrupted body.
    for cut in [0, 3, 20, buf.len() - 1] {
        assert!(
            decode_record(&Bytes::copy_from_slice(&buf[..cut])).is_err(),
            "cut {cut}"
        );
    }
    let mut bad = buf.clone();
    bad[5] ^= 1;
    assert!(decode_record(&Bytes::from(bad)).is_err());
    let mut bad = buf.clone();
    bad[3] = bad[3].wrapping_sub(1);
    assert!(decode_record(&Bytes::from(bad)).is_err());
    let mut bad = buf.clone();
    bad[88] ^= 0xFF; // the body starts after 84 fixed bytes + the 4-byte length
    let m = decode_record(&Bytes::from(bad)).unwrap();
    assert!(!m.crc_ok());
}

#[test]
fn concatenated_records_stop_at_garbage() {
    let mut all = Vec::new();
    for i in 0..3u8 {
        let body = vec![i; 10];
        let f = fields(&body, "");
        let mut buf = vec![0u8; f.stored_size()];
        encode_record(&mut buf, &f, body_crc(&body), i as i64, all.len() as i64, 0).unwrap();
        all.extend_from_slice(&buf);
    }
    all.extend_from_slice(&[0, 0, 0, 50, 1, 2]);
    let ms = decode_records(&Bytes::from(all));
    assert_eq!(ms.len(), 3);
    assert_eq!(ms[2].queue_offset, 2);
    assert_eq!(ms[1].body.as_ref(), &[1u8; 10]);
}

#[test]
fn batch_body_round_trip_and_errors() {
    let items = vec![
        BatchItem {
            flag: 1,
            body: Bytes::from_static(b"one"),
            properties: "UNIQ_KEY\u{1}A".into(),
        },
        BatchItem {
            flag: 0,
            body: Bytes::new(),
            properties: String::new(),
        },
    ];
    let enc = encode_batch(&items).freeze();
    assert_eq!(decode_batch(&enc).unwrap(), items);
    assert!(decode_batch(&enc.slice(..enc.len() - 1)).is_err());
    let mut bad = enc.to_vec();
    bad[3] = 99;
    assert!(decode_batch(&Bytes::from(bad)).is_err());
    assert!(decode_batch(&Bytes::new()).unwrap().is_empty());
}

proptest! {
    #[test]
    fn record_round_trip(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        topic in "[a-zA-Z0-9_%-]{1,127}",
        props in "[a-zA-Z0-9\u{1}\u{2}]{0,100}",
        qid in any::<i32>(), flag in any::<i32>(), sys in 0i32..0x400,
        qoff in any::<i64>(), poff in any::<i64>(), ts in any::<i64>(), v6 in any::<bool>(),
    ) {
        let mut f = fields(&body, &props);
        f.topic = &topic;
        f.queue_id = qid;
        f.flag = flag;
        f.sys_flag = sys;
        if v6 {
            f.store_host = "[2001:db8::7]:10911".parse().unwrap();
        }
        let mut buf = vec![0u8; f.stored_size()];
        let n = encode_record(&mut buf, &f, body_crc(&body), qoff, poff, ts).unwrap();
        let bytes = Bytes::from(buf);
        let m = decode_record(&bytes).unwrap();
        prop_assert_eq!(n, m.store_size as usize);
        prop_assert_eq!(m.body.as_ref(), &body[..]);
        prop_assert_eq!(&m.topic, &topic);
        prop_assert_eq!(&m.properties, &props);
        prop_assert_eq!((m.queue_id, m.flag, m.queue_offset, m.commit_log_offset, m.store_timestamp), (qid, flag, qoff, poff, ts));
        prop_assert_eq!(m.sys_flag, f.effective_sys_flag());
        prop_assert!(m.crc_ok());
        let again = m.encode();
        prop_assert_eq!(again.as_ref(), bytes.as_ref());
    }

    #[test]
    fn decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let b = Bytes::from(data);
        let _ = decode_record(&b);
        let _ = decode_records(&b);
        let _ = decode_batch(&b);
    }
}
