//! `mqbench null-broker` end to end: the real binary (debug build) on 127.0.0.1 port 0, read its
//! `null-broker listening on` line, then run `mqbench producer` (sync and batch) and `mqbench
//! consumer` against it for about a second each: every request must succeed. Raw frames check
//! that an unknown request code is refused by name and that pipelined requests are answered in
//! order. Every wait is bounded; the null broker is killed at the end (drop).

mod common;

use std::io::Write;
use std::time::Duration;

use actormq::protocol::codes::{request_code, response_code};
use actormq::protocol::headers::{GetMaxOffsetRequestHeader, OffsetResponseHeader};
use actormq::protocol::RemotingCommand;
use bytes::{Bytes, BytesMut};

const MQBENCH: &str = env!("CARGO_BIN_EXE_mqbench");

fn null_broker() -> common::Server {
    let nb = common::start(
        MQBENCH,
        &["null-broker", "--listen", "127.0.0.1:0", "--size", "512"],
    );
    assert_ne!(nb.addr.port(), 0);
    nb
}

/// Run mqbench to its end (at most 30 s) and parse its JSON summary.
fn summary(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = common::run_to_exit(MQBENCH, args, Duration::from_secs(30));
    assert_eq!(code, Some(0), "mqbench {args:?} failed:\n{err}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("bad JSON ({e}): {out}\n{err}"))
}

fn n(v: &serde_json::Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("no number {key} in {v}"))
}

fn assert_sent(s: &serde_json::Value, what: &str) {
    assert!(n(s, "sent") > 0.0, "{what}: nothing sent: {s}");
    assert_eq!(n(s, "failed"), 0.0, "{what}: failures: {s}");
    assert!(n(s, "tps") > 0.0, "{what}: {s}");
}

#[test]
fn producer_and_consumer_runs_succeed_against_the_null_broker() {
    let nb = null_broker();
    let addr = nb.addr.to_string();
    let common = ["--broker", &addr, "-t", "NB", "--duration", "1", "--json"];
    let p = summary(&[&["producer"][..], &common, &["-s", "100", "-w", "8"]].concat());
    assert_eq!(p["send_mode"], "sync");
    assert_sent(&p, "sync");
    let b = summary(
        &[
            &["producer"][..],
            &common,
            &["--mode", "batch", "-b", "32", "-w", "4"],
        ]
        .concat(),
    );
    assert_eq!(b["send_mode"], "batch");
    assert_sent(&b, "batch");
    assert_eq!(n(&b, "sent") as u64 % 32, 0, "whole batches: {b}");

    // From the last offsets: the queues the producers filled report where they are.
    let c = summary(&[&["consumer"][..], &common, &["-q", "4", "--from", "last"]].concat());
    assert!(n(&c, "consumed") > 0.0, "nothing consumed: {c}");
    assert_eq!(n(&c, "failed_pulls"), 0.0, "{c}");
    assert!(n(&c, "tps") > 0.0 && n(&c, "mib_per_sec") > 0.0, "{c}");
    drop(nb);
}

#[test]
fn unknown_codes_are_refused_by_name_and_pipelined_requests_answered_in_order() {
    let nb = null_broker();
    let mut s = common::connect(nb.addr);
    let r = common::call(&mut s, &RemotingCommand::request(4242).with_opaque(7));
    assert_eq!(r.code, response_code::REQUEST_CODE_NOT_SUPPORTED);
    assert!(r.remark.as_deref().unwrap_or("").contains("4242"), "{r:?}");

    // Three requests in one write: the answers come back in the same order.
    let max = RemotingCommand::request_with(
        request_code::GET_MAX_OFFSET,
        &GetMaxOffsetRequestHeader {
            topic: "NB".into(),
            queue_id: 0,
            bname: None,
        },
    );
    let reqs = [
        RemotingCommand::request(request_code::HEART_BEAT).with_opaque(10),
        RemotingCommand::request(999).with_opaque(11),
        max.with_opaque(12),
    ];
    let mut bytes = BytesMut::new();
    for r in &reqs {
        bytes.extend_from_slice(&common::frame_bytes(r));
    }
    s.write_all(&bytes).unwrap();
    let answers: Vec<RemotingCommand> = (0..3)
        .map(|_| {
            let b = common::read_frame_bytes(&mut s).expect("an answer");
            actormq::protocol::frame::parse(Bytes::from(b)).expect("parse")
        })
        .collect();
    let got: Vec<(i32, i32)> = answers.iter().map(|a| (a.opaque, a.code)).collect();
    assert_eq!(
        got,
        vec![
            (10, response_code::SUCCESS),
            (11, response_code::REQUEST_CODE_NOT_SUPPORTED),
            (12, response_code::SUCCESS)
        ]
    );
    let h: OffsetResponseHeader = answers[2].header().unwrap();
    assert_eq!(h.offset, 0);
    drop(nb);
}
