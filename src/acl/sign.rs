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

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::protocol::header::ExtFields;
use crate::protocol::RemotingCommand;

/// Ext field names of the signature scheme.
pub const ACCESS_KEY: &str = "AccessKey";
pub const SIGNATURE: &str = "Signature";
pub const SECURITY_TOKEN: &str = "SecurityToken";
/// Added by Java clients after signing; never part of the signed content.
pub const UNIQUE_KEY_QUERY: &str = "_UNIQUE_KEY_QUERY";

/// An account's keys as a client holds them.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub security_token: Option<String>,
}

impl Credentials {
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Credentials {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            security_token: None,
        }
    }
}

// Never print the secret.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"***")
            .finish()
    }
}

/// The ext fields that are signed, as (key, value), ordered by key.
fn signed_fields(ext: &ExtFields) -> Vec<(&str, &str)> {
    let mut fields: Vec<(&str, &str)> = ext
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .filter(|(k, _)| *k != SIGNATURE && *k != UNIQUE_KEY_QUERY)
        .collect();
    fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
    fields
}

/// The bytes that are signed: ext field values sorted by key (without the excluded fields), then
/// the body.
pub fn signed_content(ext: &ExtFields, body: &[u8]) -> Vec<u8> {
    let fields = signed_fields(ext);
    let len = fields.iter().map(|(_, v)| v.len()).sum::<usize>() + body.len();
    let mut out = Vec::with_capacity(len);
    for (_, v) in fields {
        out.extend_from_slice(v.as_bytes());
    }
    out.extend_from_slice(body);
    out
}

/// HmacSHA1 keyed with `secret_key`.
fn mac(secret_key: &str) -> Hmac<Sha1> {
    // HMAC takes keys of any length, so this cannot fail.
    Hmac::<Sha1>::new_from_slice(secret_key.as_bytes()).expect("any key length")
}

/// The MAC of a request's signed content, fed piece by piece: the body (up to the message size
/// limit) is never copied, and each field is found once.
fn request_mac(cmd: &RemotingCommand, secret_key: &str) -> Hmac<Sha1> {
    let mut mac = mac(secret_key);
    for (_, v) in signed_fields(&cmd.ext_fields) {
        mac.update(v.as_bytes());
    }
    mac.update(&cmd.body);
    mac
}

/// Base64(HmacSHA1(secret, content)).
pub fn signature(secret_key: &str, content: &[u8]) -> String {
    let mut mac = mac(secret_key);
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
    let raw = request_mac(cmd, &creds.secret_key).finalize().into_bytes();
    let sig = base64::engine::general_purpose::STANDARD.encode(raw);
    cmd.set_ext(SIGNATURE, sig);
}

/// Whether `cmd` carries a valid signature made with `secret_key`. Compares in constant time.
pub fn verify(cmd: &RemotingCommand, secret_key: &str) -> bool {
    let Some(given) = cmd.ext(SIGNATURE) else {
        return false;
    };
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(given) else {
        return false;
    };
    request_mac(cmd, secret_key).verify_slice(&given).is_ok()
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
    fn content_is_values_sorted_by_key_then_body_without_signature() {
        let mut ext = ExtFields::new();
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
        assert!(verify(&cmd, "12345678"));
        assert!(!verify(&cmd, "wrong"));
        let mut changed = cmd.clone();
        changed.set_ext("topic", "TopicB");
        assert!(!verify(&changed, "12345678"));
        let mut changed = cmd.clone();
        changed.body = bytes::Bytes::from_static(b"hellO");
        assert!(!verify(&changed, "12345678"));
        // Added after signing by Java clients: still valid.
        let mut later = cmd.clone();
        later.set_ext(UNIQUE_KEY_QUERY, "false");
        assert!(verify(&later, "12345678"));
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
    fn debug_never_shows_the_secret() {
        let s = format!("{:?}", Credentials::new("ak", "very-secret"));
        assert!(!s.contains("very-secret"));
    }
}
