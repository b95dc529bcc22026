//! The fast path against serde_json: where it answers, it answers the same; on the shapes real
//! clients send, it answers.

use proptest::collection::hash_map;
use proptest::prelude::*;

use super::decode;
use crate::protocol::command::{LanguageCode, RemotingCommand};
use crate::protocol::frame::json::{decode_with_serde, encode_header};

fn agree(src: &str) -> Option<RemotingCommand> {
    let fast = decode(src.as_bytes());
    if let Some(f) = &fast {
        assert_eq!(Ok(f), decode_with_serde(src.as_bytes()).as_ref(), "{src:?}");
    }
    fast
}

fn answers(src: &str) -> RemotingCommand {
    agree(src).unwrap_or_else(|| panic!("fast path declined {src:?}"))
}

#[test]
fn the_shapes_real_clients_send() {
    // fastjson (Java): string ext values, properties with \u0001/\u0002.
    let java = r#"{"code":310,"extFields":{"a":"PG","b":"TopicTest","c":"TBW102","d":"4","e":"1","f":"0","g":"1795754786582","h":"0","i":"UNIQ_KEY\u0001C0A8\u0002WAIT\u0001true\u0002TAGS\u0001TagA","j":"0","k":"false","m":"false"},"flag":0,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":393}"#;
    let c = answers(java);
    assert_eq!((c.code, c.opaque, c.version), (310, 7, 393));
    assert_eq!(c.language, LanguageCode::Java);
    assert_eq!(
        c.ext_fields["i"],
        "UNIQ_KEY\u{1}C0A8\u{2}WAIT\u{1}true\u{2}TAGS\u{1}TagA"
    );
    // The C++ client: numeric ext values, an empty remark, a trailing newline.
    let cpp = "{\"code\":10,\"language\":\"CPP\",\"version\":1,\"opaque\":3,\"flag\":0,\"remark\":\"\",\"extFields\":{\"queueId\":2,\"sysFlag\":0,\"bornTimestamp\":-1,\"topic\":\"T\",\"unitMode\":false}}\n";
    let c = answers(cpp);
    assert_eq!(c.ext_fields["queueId"], "2");
    assert_eq!(c.ext_fields["bornTimestamp"], "-1");
    assert_eq!(c.ext_fields["unitMode"], "false");
    assert_eq!(c.remark.as_deref(), Some(""));
    // ali-ons: no serializeTypeCurrentRPC; nulls; a language ordinal in text.
    let ons = r#"{ "code" : 34, "language" : "5", "remark" : null, "extFields" : { "x" : null, "y" : true } , "opaque" : -1 }"#;
    let c = answers(ons);
    assert_eq!(c.remark, None);
    assert_eq!(c.ext_fields.len(), 1);
    assert_eq!(c.language, LanguageCode::from_code(5));
    answers(r#"{"code":0,"extFields":null,"remark":"a\"b\\c\/d\n\t\u00e9\u4e2d"}"#);
    answers(r#"{"code":-2147483648,"flag":2147483647,"version":null}"#);
}

#[test]
fn declines_what_only_serde_json_decides() {
    for src in [
        r#"{"code":310,"code":311}"#,
        r#"{"code":null}"#,
        r#"{}"#,
        r#"{"code":1,"extFields":{"a":1.5}}"#,
        r#"{"code":1,"extFields":{"a":1e2}}"#,
        r#"{"code":1,"extFields":{"a":-0}}"#,
        r#"{"code":1,"extFields":{"a":01}}"#,
        r#"{"code":1,"extFields":{"a":{"n":1}}}"#,
        r#"{"code":1,"extFields":{"a":[1]}}"#,
        r#"{"code":1,"extFields":{"a":12345678901234567890}}"#,
        r#"{"code":1,"remark":"\ud83c\udf89"}"#,
        r#"{"code":1,"remark":"\ud800"}"#,
        r#"{"code":"310"}"#,
        r#"{"code":2147483648}"#,
        r#"{"code":1,"other":1}"#,
        r#"{"code":1,"language":2}"#,
        r#"{"code":1,"extFields":{},"extFields":{}}"#,
        r#"{"code":1} x"#,
        r#"{"code":1,}"#,
        "{\"code\":1,\"remark\":\"tab\there\"}",
        r#"{"c\u006fde":1}"#,
    ] {
        assert_eq!(agree(src), None, "{src}");
    }
}

fn command() -> impl Strategy<Value = RemotingCommand> {
    (
        any::<i32>(),
        0u8..13,
        any::<i32>(),
        any::<i32>(),
        any::<i32>(),
        proptest::option::of("\\PC{0,20}|[\u{0}-\u{1f}\"\\\\/é🎉]{0,8}"),
        hash_map(
            "[a-zA-Z]{1,10}|\\PC{0,6}",
            "\\PC{0,30}|[\u{0}-\u{1f}\"\\\\]{0,6}",
            0..20,
        ),
    )
        .prop_map(|(code, lang, version, opaque, flag, remark, ext)| {
            let mut c = RemotingCommand::request(code);
            c.language = LanguageCode::from_code(lang);
            c.version = version;
            c.opaque = opaque;
            c.flag = flag;
            c.remark = remark;
            c.ext_fields = ext.into_iter().collect();
            c
        })
}

proptest! {
    #[test]
    fn answers_every_header_the_encoder_writes(c in command()) {
        let src = String::from_utf8(encode_header(&c)).unwrap();
        let got = answers(&src);
        prop_assert_eq!(got, c);
    }

    #[test]
    fn agrees_on_reshaped_headers(c in command(), numeric in any::<bool>(), pad in "[ \t\r\n]{0,2}") {
        // The same header with padding around every token and integer-looking values unquoted.
        let src = String::from_utf8(encode_header(&c)).unwrap();
        let mut out = String::new();
        let mut in_str = false;
        let mut esc = false;
        for ch in src.chars() {
            if in_str {
                out.push(ch);
                if esc { esc = false } else if ch == '\\' { esc = true } else if ch == '"' { in_str = false }
                continue;
            }
            match ch {
                '"' => { in_str = true; out.push(ch) }
                '{' | '}' | ':' | ',' => { out.push_str(&pad); out.push(ch); out.push_str(&pad) }
                _ => out.push(ch),
            }
        }
        if numeric {
            for v in c.ext_fields.values() {
                if !v.is_empty() && v.len() < 10 && v.bytes().all(|b| b.is_ascii_digit()) && !v.starts_with('0') {
                    out = out.replace(&format!("\"{v}\""), v);
                }
            }
        }
        agree(&out);
    }

    #[test]
    fn agrees_on_damaged_headers(c in command(), at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<bool>()) {
        let mut src = encode_header(&c);
        let i = at.index(src.len());
        if cut { src.truncate(i) } else { src[i] = byte }
        let fast = decode(&src);
        if let Some(f) = fast {
            prop_assert_eq!(Ok(f), decode_with_serde(&src));
        }
    }
}
