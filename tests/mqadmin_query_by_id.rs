//! `mqadmin queryMsgById` options beyond the detail view, against the real standalone broker:
//! `-f charset` prints the body decoded in that charset (RocketMQ 5), an unknown charset is a
//! one-line error; `-s true -u unitName` resends with a producer whose client id carries the unit
//! name (RocketMQ's `ip@instance@unitName`).

mod common;

use actormq::protocol::codes::response_code;
use common::client::*;
use common::mqadmin::adm;
use common::{connect, rmq};

#[test]
fn body_format_and_unit_name() {
    let b = start_broker(&[]);
    let ns = b.namesrv_addr();
    let ns = ns.as_str();
    create_topic(&b, "AdmF", 1);
    // "hé" in ISO-8859-1: not valid UTF-8.
    let r = rmq::send(
        &mut connect(b.broker),
        "AdmF",
        0,
        &[0x68, 0xe9],
        "",
        "",
        &[],
    );
    assert_eq!(r.code, response_code::SUCCESS, "{:?}", r.remark);
    let id = r.ext("msgId").unwrap().to_string();

    let body_line = |charset: &str| {
        let out = adm(ns, "queryMsgById", &["-i", &id, "-f", charset]).ok();
        let line = out
            .lines()
            .find(|l| l.starts_with("Message Body:"))
            .unwrap_or_else(|| panic!("{out}"))
            .to_string();
        let path = out.find("Message Body Path:").unwrap();
        assert!(out.find("Message Body:").unwrap() > path, "{out}");
        line
    };
    assert_eq!(
        body_line("ISO-8859-1"),
        format!("{:<20} hé", "Message Body:")
    );
    assert_eq!(
        body_line("UTF-8"),
        format!("{:<20} h\u{FFFD}", "Message Body:")
    );
    let plain = adm(ns, "queryMsgById", &["-i", &id]).ok();
    assert!(!plain.contains("Message Body:"), "{plain}");
    adm(ns, "queryMsgById", &["-i", &id, "-f", "EBCDIC"]).fails_with("charset EBCDIC");

    let r = adm(
        ns,
        "queryMsgById",
        &["-i", &id, "-s", "true", "-u", "UnitX", "--json"],
    )
    .json();
    assert_eq!(r[0]["sendStatus"], "SEND_OK", "{r}");
    let client = r[0]["clientId"].as_str().unwrap();
    assert!(
        client.ends_with("@UnitX") && client.matches('@').count() == 2,
        "{client}"
    );
    let copy = r[0]["offsetMsgId"].as_str().unwrap();
    let j = adm(ns, "queryMsgById", &["-i", copy, "--json"]).json();
    assert_eq!(j[0]["topic"], "AdmF", "{j}");
    let r = adm(ns, "queryMsgById", &["-i", &id, "-s", "true", "--json"]).json();
    assert_eq!(r[0]["clientId"].as_str().unwrap().matches('@').count(), 1);
}
