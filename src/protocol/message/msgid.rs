//! Offset message ids (docs/protocol.md §5.6) and the tag hash (§5.7).
//!
//! The offset msg id is how a client names a stored record: the store host and the record's
//! physical CommitLog offset, rendered as uppercase hex. Clients decode it to find the broker and
//! the offset, so the encoding must match Java's byte for byte.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::protocol::ProtocolError;

/// Length of an IPv4 offset msg id in hex characters.
pub const MSG_ID_LEN_V4: usize = 32;
/// Length of an IPv6 offset msg id in hex characters.
pub const MSG_ID_LEN_V6: usize = 56;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0xF) as usize] as char);
    }
}

/// Offset msg id: store IP (4 or 16 bytes) + port (i32) + physical offset (i64), uppercase hex.
pub fn encode_offset_msg_id(store_host: SocketAddr, phys_offset: i64) -> String {
    let mut out = String::with_capacity(MSG_ID_LEN_V6);
    match store_host.ip() {
        IpAddr::V4(ip) => push_hex(&mut out, &ip.octets()),
        IpAddr::V6(ip) => push_hex(&mut out, &ip.octets()),
    }
    push_hex(&mut out, &(store_host.port() as i32).to_be_bytes());
    push_hex(&mut out, &phys_offset.to_be_bytes());
    out
}

/// Decode an offset msg id into the store host and the physical offset. The IP form is chosen by
/// length (32 characters = IPv4), as the Java client does.
pub fn decode_offset_msg_id(id: &str) -> Result<(SocketAddr, i64), ProtocolError> {
    let bad = || ProtocolError::InvalidField {
        field: "msgId",
        value: id.to_string(),
    };
    let bytes = hex::decode(id).map_err(|_| bad())?;
    let ip_len = match id.len() {
        MSG_ID_LEN_V4 => 4,
        MSG_ID_LEN_V6 => 16,
        _ => return Err(bad()),
    };
    let ip: IpAddr = if ip_len == 4 {
        Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).into()
    } else {
        let mut a = [0u8; 16];
        a.copy_from_slice(&bytes[..16]);
        Ipv6Addr::from(a).into()
    };
    let port = i32::from_be_bytes(bytes[ip_len..ip_len + 4].try_into().unwrap());
    let off = i64::from_be_bytes(bytes[ip_len + 4..ip_len + 12].try_into().unwrap());
    if !(0..=65535).contains(&port) {
        return Err(bad());
    }
    Ok((SocketAddr::new(ip, port as u16), off))
}

/// Java `String.hashCode()` over UTF-16 code units (32-bit wrapping `h = 31*h + c`).
pub fn java_string_hash(s: &str) -> i32 {
    let mut h: i32 = 0;
    for unit in s.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(unit as i32);
    }
    h
}

/// The consume-queue `tagsCode` of a tag: its Java hash sign-extended to 64 bits; 0 for no tag.
pub fn tags_code(tags: Option<&str>) -> i64 {
    match tags {
        Some(t) if !t.is_empty() => java_string_hash(t) as i64,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn offset_msg_id_matches_java() {
        let host: SocketAddr = "10.0.0.1:10911".parse().unwrap();
        let id = encode_offset_msg_id(host, 0x1234);
        assert_eq!(id, "0A00000100002A9F0000000000001234");
        assert_eq!(decode_offset_msg_id(&id).unwrap(), (host, 0x1234));
        let v6: SocketAddr = "[fe80::1]:10911".parse().unwrap();
        let id6 = encode_offset_msg_id(v6, 7);
        assert_eq!(id6.len(), MSG_ID_LEN_V6);
        assert_eq!(decode_offset_msg_id(&id6).unwrap(), (v6, 7));
        assert!(decode_offset_msg_id("XYZ").is_err());
        assert!(decode_offset_msg_id("0A00000100002A9F00000000000012").is_err());
        assert!(decode_offset_msg_id("0A000001FFFFFFFF0000000000001234").is_err());
    }

    #[test]
    fn java_hash_values() {
        // Values computed by Java's String.hashCode().
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("TagA"), 2598919);
        assert_eq!(java_string_hash("hello"), 99162322);
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        // A supplementary character is two UTF-16 units.
        assert_eq!(java_string_hash("\u{1F600}"), 0xD83D * 31 + 0xDE00);
        assert_eq!(tags_code(Some("polygenelubricants")), i32::MIN as i64);
        assert_eq!(tags_code(None), 0);
        assert_eq!(tags_code(Some("")), 0);
    }

    proptest! {
        #[test]
        fn msg_id_round_trip(a in any::<[u8; 4]>(), port in any::<u16>(), off in any::<i64>()) {
            let host = SocketAddr::new(Ipv4Addr::from(a).into(), port);
            let id = encode_offset_msg_id(host, off);
            prop_assert_eq!(id.len(), 32);
            prop_assert_eq!(decode_offset_msg_id(&id).unwrap(), (host, off));
        }
    }
}
