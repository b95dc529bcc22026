//! Issue 9, the fuzzer's inputs as a deterministic regression check: for every request code the
//! broker handles (and a few it does not), random structured requests built by the fuzz target's
//! own generator (`common/fuzz_requests.rs`) go to the real `broker` binary; every request that
//! must be answered is answered, and the connection still serves a runtime-info probe after each
//! sequence. Seeds are fixed (proptest's deterministic runner), so a failure reproduces.

mod common;
#[path = "common/fuzz_requests.rs"]
mod fuzz_requests;

use std::time::Instant;

use arbitrary::{Arbitrary, Unstructured};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use common::{connect, start_broker};
use fuzz_requests::{drive, input_from, Spec, CODES};

const BROKER: &str = env!("CARGO_BIN_EXE_broker");
/// Random requests per code.
const PER_CODE: u32 = 25;
/// Codes the broker does not handle (answered REQUEST_CODE_NOT_SUPPORTED).
const UNKNOWN: &[i32] = &[0, -1, 13, 105, 209, 32767, i32::MAX];

fn runner() -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases: PER_CODE,
            failure_persistence: None,
            ..Config::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    )
}

#[test]
fn every_code_answers_random_structured_requests() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let started = Instant::now();
    let codes = CODES.iter().map(|(c, _)| *c).chain(UNKNOWN.iter().copied());
    for code in codes {
        // Up to 4 requests of this code per case, each from its own random bytes.
        let strategy = vec(vec(any::<u8>(), 0..512), 1..5);
        runner()
            .run(&strategy, |specs| {
                let cmds: Vec<_> = specs
                    .iter()
                    .filter_map(|bytes| Spec::arbitrary(&mut Unstructured::new(bytes)).ok())
                    .zip(1..)
                    .map(|(spec, opaque)| spec.command(code, opaque))
                    .collect();
                let mut s = connect(b.addr);
                drive(&mut s, &cmds, 100)
                    .map_err(|e| TestCaseError::fail(format!("code {code}: {e}: {cmds:?}")))
            })
            .unwrap();
    }
    // Mixed sequences, as the fuzz target builds them.
    runner()
        .run(&vec(any::<u8>(), 0..2048), |bytes| {
            let cmds = input_from(&bytes).commands(1);
            let mut s = connect(b.addr);
            drive(&mut s, &cmds, 100).map_err(TestCaseError::fail)
        })
        .unwrap();
    eprintln!("random requests done in {:?}", started.elapsed());
}

/// Found by the fuzz target: a consumer offset committed near i64::MAX made GET_CONSUME_STATS
/// look up the store time of the message before it, and the consume queue's offset-to-byte
/// multiplication overflowed (a panic on the connection's I/O thread in debug builds, a wrapped
/// position in release). Now that offset simply has no message, and the stats are answered.
#[test]
fn consume_stats_with_a_huge_committed_offset_is_answered() {
    use common::call;
    use common::rmq::{request, send};

    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    assert_eq!(send(&mut s, "T1", 0, b"m", "", "", &[]).code, 0);
    for offset in [i64::MAX, i64::MAX / 20 + 2] {
        let offset = offset.to_string();
        let update = request(
            15,
            &[
                ("consumerGroup", "G1"),
                ("topic", "T1"),
                ("queueId", "0"),
                ("commitOffset", &offset),
            ],
        );
        assert_eq!(call(&mut s, &update).code, 0);
        let stats = call(
            &mut s,
            &request(208, &[("consumerGroup", "G1"), ("topic", "T1")]),
        );
        assert_eq!(stats.code, 0, "{:?}", stats.remark);
        let body = String::from_utf8_lossy(&stats.body);
        assert!(
            body.contains(&format!("\"consumerOffset\":{offset}")),
            "{body}"
        );
    }
    assert_eq!(call(&mut s, &request(28, &[])).code, 0);
}
