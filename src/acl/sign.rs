//! RocketMQ's request signature (ACL 1.0), the same on both ends.
//!
//! A signing client adds `AccessKey` (and `SecurityToken` when it has one) to the request's
//! `extFields`, then signs: the values of every ext field, ordered by key, concatenated as UTF-8,
//! followed by the raw body; HmacSHA1 with the secret key; Base64. The result goes in the
//! `Signature` field. The checker rebuilds the same bytes from what arrived, leaving out
//! `Signature` itself and `_UNIQUE_KEY_QUERY` (a field the Java client adds after signing), so
//! whatever a client chose to put in its header (the C++ client adds `OnsChannel`) is covered.
//!
//! Why values only and no separators: that is what the Java, C++ and Node clients compute, and
//! the signature must match theirs byte for byte.
//!
//! Cost (this runs on every request of an ACL'd broker and every request a signing client
//! sends): an account's HMAC key schedule (the SHA-1 states after the ipad- and opad-keyed
//! blocks) is computed once, in a [`SigningKey`], and cloned per request, which saves two SHA-1
//! compressions each time; the fields are ordered without allocating
//! ([`for_each_sorted`]).

use arrayvec::ArrayVec;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::protocol::header::{for_each_sorted, ExtFields};
use crate::protocol::RemotingCommand;

/// Ext field names of the signature scheme.
pub const ACCESS_KEY: &str = "AccessKey";
pub const SIGNATURE: &str = "Signature";
pub const SECURITY_TOKEN: &str = "SecurityToken";
/// Added by Java clients after signing; never part of the signed content.
pub const UNIQUE_KEY_QUERY: &str = "_UNIQUE_KEY_QUERY";

/// HmacSHA1 keyed with one secret, the key schedule done once: each MAC starts from a clone.
#[derive(Clone)]
pub struct SigningKey(Hmac<Sha1>);

impl SigningKey {
    pub fn new(secret_key: &str) -> Self {
        // HMAC takes keys of any length, so this cannot fail.
        SigningKey(Hmac::<Sha1>::new_from_slice(secret_key.as_bytes()).expect("any key length"))
    }

    /// A MAC ready for the content (the keyed states copied, nothing recomputed).
    pub fn mac(&self) -> Hmac<Sha1> {
        self.0.clone()
    }
}

// The keyed states are as secret as the key.
impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

/// An account's keys as a client holds them. Built with [`Credentials::new`], which derives the
/// signing key from `secret_key` (the fields are read-only in practice: changing `secret_key`
/// afterwards would not change the key signatures are made with).
#[derive(Clone)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub security_token: Option<String>,
    key: SigningKey,
}

impl Credentials {
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        let secret_key = secret_key.into();
        Credentials {
            access_key: access_key.into(),
            key: SigningKey::new(&secret_key),
            secret_key,
            security_token: None,
        }
    }
}

impl PartialEq for Credentials {
    fn eq(&self, other: &Self) -> bool {
        self.access_key == other.access_key
            && self.secret_key == other.secret_key
            && self.security_token == other.security_token
    }
}

impl Eq for Credentials {}

// Never print the secret.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"***")
            .finish()
    }
}

/// Call `each` with the value of every signed ext field (all but `Signature` and
/// `_UNIQUE_KEY_QUERY`), in key order (bytes, as Java's `TreeMap` orders these ASCII keys).
fn for_signed_values<'a>(ext: &'a ExtFields, mut each: impl FnMut(&'a str)) {
    for_each_sorted(
        ext,
        |k| k != SIGNATURE && k != UNIQUE_KEY_QUERY,
        |_, v| each(v),
    );
}

/// The bytes that are signed: ext field values sorted by key (without the excluded fields), then
/// the body.
pub fn signed_content(ext: &ExtFields, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for_signed_values(ext, |v| out.extend_from_slice(v.as_bytes()));
    out.extend_from_slice(body);
    out
}

/// Field values gathered on the stack before one MAC update: an update per field (~17 of them)
/// cost more in the MAC's block bookkeeping than the copy.
const FIELD_BUF: usize = 1024;

/// The MAC of a request's signed content: the field values in key order (gathered in a stack
/// buffer, each field found once), then the body as it is (never copied).
fn request_mac(cmd: &RemotingCommand, key: &SigningKey) -> Hmac<Sha1> {
    let mut mac = key.mac();
    let mut buf: ArrayVec<u8, FIELD_BUF> = ArrayVec::new();
    for_signed_values(&cmd.ext_fields, |v| {
        if buf.try_extend_from_slice(v.as_bytes()).is_err() {
            mac.update(&buf);
            buf.clear();
            if buf.try_extend_from_slice(v.as_bytes()).is_err() {
                mac.update(v.as_bytes());
            }
        }
    });
    mac.update(&buf);
    mac.update(&cmd.body);
    mac
}

/// Base64(HmacSHA1(secret, content)).
pub fn signature(secret_key: &str, content: &[u8]) -> String {
    let mut mac = SigningKey::new(secret_key).mac();
    mac.update(content);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Sign a request as RocketMQ clients do (`AclClientRPCHook.doBeforeRequest`).
pub fn sign(cmd: &mut RemotingCommand, creds: &Credentials) {
    cmd.ext_fields.remove(SIGNATURE);
    cmd.set_ext(ACCESS_KEY, &creds.access_key);
    if let Some(token) = &creds.security_token {
        cmd.set_ext(SECURITY_TOKEN, token);
    }
    let raw = request_mac(cmd, &creds.key).finalize().into_bytes();
    let sig = base64::engine::general_purpose::STANDARD.encode(raw);
    cmd.set_ext(SIGNATURE, sig);
}

/// Whether `cmd` carries a valid signature made with `key`'s secret. Compares in constant time.
pub fn verify(cmd: &RemotingCommand, key: &SigningKey) -> bool {
    let Some(given) = cmd.ext(SIGNATURE) else {
        return false;
    };
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(given) else {
        return false;
    };
    request_mac(cmd, key).verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha1_matches_rfc_2202_case_2() {
        // RFC 2202 test case 2: key "Jefe", data "what do ya want for nothing?".
        let sig = signature("Jefe", b"what do ya want for nothing?");
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sig)
            .unwrap();
        assert_eq!(hex::encode(raw), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn fields_sort_as_whole_keys_even_with_shared_heads() {
        let keys = [
            "consumerGroup",
            "consumerGroupX",
            "consumer",
            "consume",
            "consumerG",
            "a",
            "A",
            "b",
            "queueOffset",
            "queueId",
            "maxMsgNums",
            "AccessKey",
            "SecurityToken",
            "x\0",
            "x",
            "sysFlag",
            "subVersion",
            "suspendTimeoutMillis",
            "commitOffset",
            "expressionType",
        ];
        let mut ext = ExtFields::default();
        let mut want = std::collections::BTreeMap::new();
        for (i, k) in keys.iter().enumerate() {
            ext.insert(k.to_string(), format!("<{i}>"));
            want.insert(k.to_string(), format!("<{i}>"));
        }
        let want: String = want.into_values().collect();
        assert_eq!(signed_content(&ext, b""), want.into_bytes());
    }

    #[test]
    fn content_is_values_sorted_by_key_then_body_without_signature() {
        let mut ext = ExtFields::default();
        ext.insert("topic".into(), "T".into());
        ext.insert("AccessKey".into(), "ak".into());
        ext.insert("b".into(), "B".into());
        ext.insert(SIGNATURE.into(), "x".into());
        ext.insert(UNIQUE_KEY_QUERY.into(), "true".into());
        // Byte order of keys: "AccessKey" < "b" < "topic".
        assert_eq!(signed_content(&ext, b"body"), b"akBTbody".to_vec());
    }

    #[test]
    fn signed_request_verifies_and_any_change_breaks_it() {
        let creds = Credentials::new("rocketmq2", "12345678");
        let mut cmd = RemotingCommand::request(10).with_body(&b"hello"[..]);
        cmd.set_ext("topic", "TopicA");
        sign(&mut cmd, &creds);
        assert_eq!(cmd.ext(ACCESS_KEY), Some("rocketmq2"));
        let key = SigningKey::new("12345678");
        assert!(verify(&cmd, &key));
        assert!(!verify(&cmd, &SigningKey::new("wrong")));
        let mut changed = cmd.clone();
        changed.set_ext("topic", "TopicB");
        assert!(!verify(&changed, &key));
        let mut changed = cmd.clone();
        changed.body = bytes::Bytes::from_static(b"hellO");
        assert!(!verify(&changed, &key));
        // Added after signing by Java clients: still valid.
        let mut later = cmd.clone();
        later.set_ext(UNIQUE_KEY_QUERY, "false");
        assert!(verify(&later, &key));
    }

    #[test]
    fn streamed_signature_equals_the_signature_of_the_content() {
        let creds = Credentials::new("rocketmq2", "12345678");
        let mut cmd = RemotingCommand::request(310).with_body(&b"body bytes"[..]);
        for (k, v) in [("b", "T"), ("a", "G"), ("z", ""), ("OnsChannel", "ALIYUN")] {
            cmd.set_ext(k, v);
        }
        sign(&mut cmd, &creds);
        let expected = signature("12345678", &signed_content(&cmd.ext_fields, &cmd.body));
        assert_eq!(cmd.ext(SIGNATURE), Some(expected.as_str()));
    }

    #[test]
    fn field_values_longer_than_the_stack_buffer_sign_the_same() {
        // Values that fill the buffer exactly, overflow it, and exceed it on their own.
        let creds = Credentials::new("rocketmq2", "12345678");
        let mut cmd = RemotingCommand::request(310).with_body(&b"body"[..]);
        for (k, n) in [
            ("a", FIELD_BUF - 9),
            ("b", 300),
            ("c", 3 * FIELD_BUF),
            ("d", 5),
        ] {
            cmd.set_ext(k, "v".repeat(n));
        }
        sign(&mut cmd, &creds);
        let expected = signature("12345678", &signed_content(&cmd.ext_fields, &cmd.body));
        assert_eq!(cmd.ext(SIGNATURE), Some(expected.as_str()));
        assert!(verify(&cmd, &SigningKey::new("12345678")));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = format!("{:?}", Credentials::new("ak", "very-secret"));
        assert!(!s.contains("very-secret"));
        assert!(!format!("{:?}", SigningKey::new("very-secret")).contains("very-secret"));
    }

    #[test]
    fn cached_key_state_gives_the_mac_of_a_fresh_key() {
        // Keys shorter than, equal to and longer than SHA-1's 64-byte block (a long key is
        // hashed first), and a key reused for several MACs.
        let long = "k".repeat(100);
        for secret in ["12345678", &"x".repeat(64), long.as_str()] {
            let key = SigningKey::new(secret);
            for content in [&b""[..], b"akBTbody", &[7u8; 1000]] {
                let mut fresh = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).unwrap();
                fresh.update(content);
                let mut cached = key.mac();
                cached.update(content);
                assert_eq!(
                    cached.finalize().into_bytes(),
                    fresh.finalize().into_bytes()
                );
            }
        }
    }

    #[test]
    fn more_fields_than_the_inline_array_sort_the_same() {
        let mut ext = ExtFields::default();
        for i in 0..crate::protocol::header::INLINE_FIELDS + 5 {
            ext.insert(format!("k{i:03}"), format!("{i},"));
        }
        ext.insert(SIGNATURE.into(), "x".into());
        let expected: String = (0..crate::protocol::header::INLINE_FIELDS + 5)
            .map(|i| format!("{i},"))
            .collect();
        assert_eq!(
            signed_content(&ext, b"!"),
            format!("{expected}!").into_bytes()
        );
        ext.retain(|k, _| k.as_str() < "k003");
        assert_eq!(signed_content(&ext, b""), b"0,1,2,".to_vec());
    }
}
