//! Transactional messages on the real `broker` binary over raw remoting: half messages are
//! invisible until END_TRANSACTION commits them (once) and never after a rollback; a half message
//! left open is checked back (CHECK_TRANSACTION_STATE read off the producer's own connection),
//! given up into TRANS_CHECK_MAX_TIME_TOPIC after `transactionCheckMax` checks, and survives a
//! SIGKILL of the broker without being committed twice; a slave refuses END_TRANSACTION; a DELAY
//! level applies after commit.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use actormq::protocol::body::heartbeat::{HeartbeatData, ProducerData};
use actormq::protocol::frame;
use actormq::protocol::header::CommandHeader;
use actormq::protocol::headers::send::{SendMessageRequestHeader, SendMessageRequestHeaderV2};
use actormq::protocol::headers::{CheckTransactionStateRequestHeader, EndTransactionRequestHeader};
use actormq::protocol::message::{decode_offset_msg_id, decode_record, MessageExt, Properties};
use actormq::protocol::RemotingCommand;
use bytes::Bytes;
use common::rmq::*;
use common::{call, connect, read_frame_bytes, start_broker, wait_until, BROKER};

const GROUP: &str = "PG_tx";
const COMMIT: i32 = 8;
const ROLLBACK: i32 = 12;
const UNKNOWN: i32 = 0;
/// Quick check-backs: every 300 ms for half messages older than 500 ms.
const QUICK: [&str; 2] = ["transactionCheckInterval=300", "transactionTimeOut=500"];

/// A half message as the Java producer sends it; returns (queue offset, physical offset, uniq).
struct Half {
    queue_offset: i64,
    phys: i64,
    uniq: String,
}

fn send_half(s: &mut TcpStream, topic: &str, body: &str, extra: &[(&str, &str)]) -> Half {
    let uniq = format!("UNIQ-{body}-{}", next_opaque());
    let mut props = Properties::new();
    props.insert("TAGS", "tx");
    props.insert("TRAN_MSG", "true");
    props.insert("PGROUP", GROUP);
    props.insert("UNIQ_KEY", &uniq);
    for (k, v) in extra {
        props.insert(k, v);
    }
    let h = SendMessageRequestHeader {
        producer_group: GROUP.into(),
        sys_flag: 0x4,
        properties: Some(props.encode()),
        ..send_header(topic, 0)
    };
    let v2: SendMessageRequestHeaderV2 = h.into();
    let c = RemotingCommand::request_with(310, &v2)
        .with_opaque(next_opaque())
        .with_body(body.as_bytes().to_vec());
    let r = call(s, &c);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let msg_id = r.ext("msgId").unwrap().to_string();
    Half {
        queue_offset: r.ext("queueOffset").unwrap().parse().unwrap(),
        phys: decode_offset_msg_id(&msg_id).unwrap().1,
        uniq,
    }
}

fn end_header(offset: i64, phys: i64, uniq: &str, state: i32) -> EndTransactionRequestHeader {
    EndTransactionRequestHeader {
        producer_group: GROUP.into(),
        tran_state_table_offset: offset,
        commit_log_offset: phys,
        commit_or_rollback: state,
        from_transaction_check: Some(false),
        msg_id: uniq.into(),
        transaction_id: Some(uniq.into()),
        bname: None,
    }
}

/// END_TRANSACTION oneway, as producers send it.
fn end_oneway(s: &mut TcpStream, h: &EndTransactionRequestHeader) {
    let mut c = RemotingCommand::request_with(37, h).with_opaque(next_opaque());
    c.mark_oneway();
    common::send(s, &c);
}

/// A producer heartbeat of `GROUP` on `s`: the check-backs come to this connection.
fn producer_heartbeat(s: &mut TcpStream, client_id: &str) {
    let hb = HeartbeatData {
        client_id: client_id.into(),
        consumer_data_set: vec![],
        producer_data_set: vec![ProducerData {
            group_name: GROUP.into(),
        }],
    };
    let c = RemotingCommand::request(34)
        .with_opaque(next_opaque())
        .with_body(hb.encode());
    assert_eq!(call(s, &c).code, 0);
}

/// The next CHECK_TRANSACTION_STATE written to `s` within `limit`.
fn next_check(
    s: &mut TcpStream,
    limit: Duration,
) -> Option<(CheckTransactionStateRequestHeader, MessageExt)> {
    let end = Instant::now() + limit;
    loop {
        let left = end.checked_duration_since(Instant::now())?;
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        let bytes = read_frame_bytes(s).ok()?;
        let cmd = frame::parse(Bytes::from(bytes)).expect("frame");
        if cmd.code == 39 && !cmd.is_response() {
            assert!(cmd.is_oneway(), "check-backs are oneway");
            let h = CheckTransactionStateRequestHeader::from_ext(&cmd.ext_fields).unwrap();
            let m = decode_record(&cmd.body).expect("the check body is a message");
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            return Some((h, m));
        }
    }
}

/// Answer a check-back as a producer does: END_TRANSACTION with the offsets it named.
fn answer(s: &mut TcpStream, h: &CheckTransactionStateRequestHeader, state: i32) {
    let uniq = h.msg_id.clone().unwrap_or_default();
    let mut e = end_header(h.tran_state_table_offset, h.commit_log_offset, &uniq, state);
    e.from_transaction_check = Some(true);
    end_oneway(s, &e);
}

fn bodies(s: &mut TcpStream, topic: &str) -> Vec<String> {
    let mut v: Vec<String> = pull_all(s, "CG_tx", topic, 0, "*")
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect();
    v.sort();
    v
}

fn single_queue_topic(s: &mut TcpStream, topic: &str) {
    assert_eq!(create_topic(s, topic, 1).code, 0);
}

#[test]
fn commit_is_delivered_once_and_rollback_never() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    single_queue_topic(&mut s, "TxT");
    let a = send_half(&mut s, "TxT", "A", &[]);
    let r = send_half(&mut s, "TxT", "R", &[]);
    assert_eq!(
        bodies(&mut s, "TxT"),
        Vec::<String>::new(),
        "half messages are invisible"
    );

    // Mismatches are refused with RocketMQ's reasons (answered: not oneway).
    let mut wrong = end_header(a.queue_offset, a.phys, &a.uniq, COMMIT);
    wrong.producer_group = "other".into();
    let resp = call(
        &mut s,
        &RemotingCommand::request_with(37, &wrong).with_opaque(next_opaque()),
    );
    assert_eq!(resp.code, 1);
    assert!(resp.remark.unwrap().contains("producer group wrong"));
    let wrong = end_header(a.queue_offset + 7, a.phys, &a.uniq, COMMIT);
    let resp = call(
        &mut s,
        &RemotingCommand::request_with(37, &wrong).with_opaque(next_opaque()),
    );
    assert_eq!(resp.code, 1);
    assert!(resp.remark.unwrap().contains("offset wrong"));
    let wrong = end_header(a.queue_offset, a.phys + 1, &a.uniq, COMMIT);
    let resp = call(
        &mut s,
        &RemotingCommand::request_with(37, &wrong).with_opaque(next_opaque()),
    );
    assert_eq!(resp.code, 1);

    end_oneway(&mut s, &end_header(a.queue_offset, a.phys, &a.uniq, COMMIT));
    end_oneway(
        &mut s,
        &end_header(r.queue_offset, r.phys, &r.uniq, ROLLBACK),
    );
    assert!(wait_until(Duration::from_secs(10), || bodies(
        &mut s, "TxT"
    ) == ["A"]));
    let got = pull_all(&mut s, "CG_tx", "TxT", 0, "*");
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.property("UNIQ_KEY"), Some(a.uniq.as_str()));
    assert_eq!(m.property("TRAN_MSG"), None);
    assert_eq!(m.property("PGROUP"), Some(GROUP));
    assert_eq!(m.sys_flag & 0xC, COMMIT);
    assert_eq!(m.prepared_transaction_offset, a.phys);
    // The op records: one per ended half message, tag d, body = half queue offset.
    let ops: Vec<String> = pull_all(&mut s, "CG_tx", "RMQ_SYS_TRANS_OP_HALF_TOPIC", 0, "*")
        .iter()
        .map(|m| {
            assert_eq!(m.tags(), Some("d"));
            String::from_utf8_lossy(&m.body).into_owned()
        })
        .collect();
    assert_eq!(
        ops,
        [a.queue_offset.to_string(), r.queue_offset.to_string()]
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(bodies(&mut s, "TxT"), ["A"]);
}

#[test]
fn an_open_transaction_is_checked_back_and_committed_once() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &QUICK);
    let mut p = connect(b.addr);
    producer_heartbeat(&mut p, "producer-1");
    let mut s = connect(b.addr);
    single_queue_topic(&mut s, "TxC");
    let h = send_half(&mut s, "TxC", "C", &[]);
    let (check, m) = next_check(&mut p, Duration::from_secs(10)).expect("a check-back");
    assert_eq!(check.msg_id.as_deref(), Some(h.uniq.as_str()));
    assert_eq!(check.transaction_id.as_deref(), Some(h.uniq.as_str()));
    assert!(check.offset_msg_id.is_some());
    assert_eq!((m.topic.as_str(), m.queue_id), ("TxC", 0));
    assert_eq!(&m.body[..], b"C");
    assert_eq!(m.property("TRANSACTION_CHECK_TIMES"), Some("1"));
    answer(&mut p, &check, COMMIT);
    assert!(wait_until(Duration::from_secs(10), || bodies(
        &mut s, "TxC"
    ) == ["C"]));
    // No further check-back, no second delivery.
    assert!(next_check(&mut p, Duration::from_millis(1500)).is_none());
    assert_eq!(bodies(&mut s, "TxC"), ["C"]);
}

#[test]
fn the_check_back_goes_to_a_live_member_of_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &QUICK);
    let mut gone = connect(b.addr);
    producer_heartbeat(&mut gone, "producer-gone");
    let mut live = connect(b.addr);
    producer_heartbeat(&mut live, "producer-live");
    // The first producer dies between its half message and END_TRANSACTION.
    let h = send_half(&mut gone, "TxM", "M", &[]);
    drop(gone);
    let (check, _) = next_check(&mut live, Duration::from_secs(10)).expect("a check-back");
    assert_eq!(check.msg_id.as_deref(), Some(h.uniq.as_str()));
    answer(&mut live, &check, COMMIT);
    let mut s = connect(b.addr);
    assert!(wait_until(Duration::from_secs(10), || {
        bodies_all(&mut s, "TxM") == ["M"]
    }));
}

/// The bodies on every queue of an auto-created topic (4 queues).
fn bodies_all(s: &mut TcpStream, topic: &str) -> Vec<String> {
    let mut v: Vec<String> = (0..4)
        .flat_map(|q| pull_all(s, "CG_tx", topic, q, "*"))
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn unknown_answers_end_in_the_check_max_topic() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(
        BROKER,
        dir.path(),
        &[QUICK[0], QUICK[1], "transactionCheckMax=2"],
    );
    let mut p = connect(b.addr);
    producer_heartbeat(&mut p, "producer-1");
    let mut s = connect(b.addr);
    single_queue_topic(&mut s, "TxU");
    send_half(&mut s, "TxU", "U", &[]);
    let mut checks = 0;
    while let Some((check, _)) = next_check(&mut p, Duration::from_secs(3)) {
        checks += 1;
        answer(&mut p, &check, UNKNOWN);
        assert!(checks <= 2, "checked more than transactionCheckMax times");
    }
    assert_eq!(checks, 2);
    assert!(wait_until(Duration::from_secs(10), || {
        bodies(&mut s, "TRANS_CHECK_MAX_TIME_TOPIC") == ["U"]
    }));
    assert_eq!(bodies(&mut s, "TxU"), Vec::<String>::new());
}

#[test]
fn a_killed_broker_checks_back_pending_transactions_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = start_broker(BROKER, dir.path(), &QUICK);
    let mut p = connect(b.addr);
    producer_heartbeat(&mut p, "producer-1");
    let mut s = connect(b.addr);
    single_queue_topic(&mut s, "TxK");
    let one = send_half(&mut s, "TxK", "K1", &[]);
    send_half(&mut s, "TxK", "K2", &[]);
    // Commit K1 through its check-back; leave K2 open.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut committed = false;
    while !committed && Instant::now() < deadline {
        let (check, _) = next_check(&mut p, Duration::from_secs(5)).expect("a check-back");
        if check.msg_id.as_deref() == Some(one.uniq.as_str()) {
            answer(&mut p, &check, COMMIT);
            committed = true;
        } else {
            answer(&mut p, &check, UNKNOWN);
        }
    }
    assert!(committed);
    assert!(wait_until(Duration::from_secs(10), || bodies(
        &mut s, "TxK"
    ) == ["K1"]));

    b.server.child.kill().unwrap(); // SIGKILL
    b.server.child.wait().unwrap();
    drop((p, s));
    let b = start_broker(BROKER, dir.path(), &QUICK);
    let mut p = connect(b.addr);
    producer_heartbeat(&mut p, "producer-2");
    let mut s = connect(b.addr);
    let (check, m) = next_check(&mut p, Duration::from_secs(10)).expect("K2 checked back");
    assert_eq!(&m.body[..], b"K2", "only the open transaction is checked");
    answer(&mut p, &check, COMMIT);
    assert!(wait_until(Duration::from_secs(10), || {
        bodies(&mut s, "TxK") == ["K1", "K2"]
    }));
    assert!(next_check(&mut p, Duration::from_millis(1500)).is_none());
    assert_eq!(bodies(&mut s, "TxK"), ["K1", "K2"]);
}

#[test]
fn a_delay_level_applies_after_commit() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    single_queue_topic(&mut s, "TxD");
    // Level 2 = 5 s.
    let h = send_half(&mut s, "TxD", "D", &[("DELAY", "2")]);
    std::thread::sleep(Duration::from_millis(300));
    let committed = Instant::now();
    end_oneway(&mut s, &end_header(h.queue_offset, h.phys, &h.uniq, COMMIT));
    assert!(wait_until(Duration::from_secs(15), || bodies(
        &mut s, "TxD"
    ) == ["D"]));
    let waited = committed.elapsed();
    assert!(
        waited >= Duration::from_millis(4500),
        "delivered {waited:?} after commit"
    );
}

#[test]
fn a_slave_refuses_end_transaction() {
    let ns = common::ha::start_namesrv();
    let mdir = tempfile::tempdir().unwrap();
    let sdir = tempfile::tempdir().unwrap();
    let (_master, ha) = common::ha::start_master(mdir.path(), ns.addr, &[]);
    let slave = common::ha::start_slave(sdir.path(), ns.addr, Some(ha), &[]);
    let mut s = connect(slave.addr);
    let h = end_header(0, 0, "U", COMMIT);
    let r = call(
        &mut s,
        &RemotingCommand::request_with(37, &h).with_opaque(next_opaque()),
    );
    assert_eq!(r.code, 11, "{:?}", r.remark);
    assert!(r.remark.unwrap().contains("slave"));
}
