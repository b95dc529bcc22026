//! Hostile and broken client input against the real broker binary (issue 9): every request here
//! must be answered with a bound kept (memory, time, frames) or refused with a clear remark, and
//! the broker must go on serving a normal client afterwards.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use actormq::protocol::body::heartbeat::{ConsumerData, HeartbeatData};
use actormq::protocol::filter::build_subscription;
use actormq::protocol::frame;
use actormq::protocol::RemotingCommand;
use bytes::Bytes;
use common::rmq::{create_topic, next_opaque, pull, request, send};
use common::{call, connect, read_frame_bytes, start_broker, wait_until, Broker, BROKER};

const NOTIFY_CONSUMER_IDS_CHANGED: i32 = 40;

/// `RssAnon` of a process, in KiB.
fn rss_anon_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("RssAnon line")
}

/// A heartbeat body naming `groups` consumer groups with `subs` subscriptions each (the shape of
/// the issue's reproduction: ~316 bytes per group).
fn many_groups(client_id: &str, groups: usize, subs: usize) -> Vec<u8> {
    HeartbeatData {
        client_id: client_id.into(),
        consumer_data_set: (0..groups)
            .map(|i| ConsumerData {
                group_name: format!("HOSTILE_GROUP_{i:06}"),
                subscription_data_set: (0..subs)
                    .map(|j| build_subscription(&format!("HostileTopic{j}"), "*", 1))
                    .collect(),
                ..Default::default()
            })
            .collect(),
        producer_data_set: Vec::new(),
    }
    .encode()
}

fn heartbeat_request(body: Vec<u8>) -> RemotingCommand {
    RemotingCommand::request(34)
        .with_opaque(next_opaque())
        .with_body(body)
}

/// A client connection that counts the NOTIFY_CONSUMER_IDS_CHANGED requests it receives. They
/// may arrive before or after the response of the heartbeat that caused them.
struct Client {
    s: TcpStream,
    notifies: usize,
}

impl Client {
    fn new(b: &Broker) -> Client {
        let s = connect(b.addr);
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Client { s, notifies: 0 }
    }

    /// Read one frame: `Some(response)`, or `None` after counting a notification.
    fn read(&mut self) -> Option<RemotingCommand> {
        let bytes = read_frame_bytes(&mut self.s).expect("a frame before the read timeout");
        let f = frame::parse(Bytes::from(bytes)).expect("parse frame");
        if f.is_response() {
            return Some(f);
        }
        assert_eq!(f.code, NOTIFY_CONSUMER_IDS_CHANGED, "unexpected request");
        self.notifies += 1;
        None
    }

    fn call(&mut self, cmd: &RemotingCommand) -> RemotingCommand {
        common::send(&mut self.s, cmd);
        loop {
            if let Some(r) = self.read() {
                assert_eq!(r.opaque, cmd.opaque);
                return r;
            }
        }
    }

    /// Read notifications until `total` have come (each read bounded by the read timeout).
    fn await_notifies(&mut self, total: usize) {
        while self.notifies < total {
            assert!(self.read().is_none(), "a stray response");
        }
    }
}

/// A normal producer and consumer on a new connection still work.
fn send_and_pull_still_work(b: &Broker, topic: &str) {
    let mut s = connect(b.addr);
    assert_eq!(create_topic(&mut s, topic, 1).code, 0);
    let r = send(&mut s, topic, 0, b"still-serving", "", "", &[]);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let mut got = Vec::new();
    assert!(wait_until(Duration::from_secs(10), || {
        got = pull(&mut s, "NormalGroup", topic, 0, 0, "*", 0).1;
        !got.is_empty()
    }));
    assert_eq!(&got[0].body[..], b"still-serving");
}

#[test]
fn a_heartbeat_with_thousands_of_groups_is_linear_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    // Allow the issue's 5 000 groups, to measure how an accepted huge heartbeat is handled.
    let b = start_broker(BROKER, dir.path(), &["maxGroupsPerClient=10000"]);
    let pid = b.server.child.id();
    let mut c = Client::new(&b);
    let before = rss_anon_kib(pid);

    let body = many_groups("10.0.0.1@hostile", 5_000, 1);
    assert!(body.len() > 1_500_000, "{}", body.len());
    let started = Instant::now();
    let r = c.call(&heartbeat_request(body.clone()));
    let took = started.elapsed();
    assert_eq!(r.code, 0, "{:?}", r.remark);
    assert!(took < Duration::from_secs(10), "reply after {took:?}");
    // One notification per changed group for this connection.
    c.await_notifies(5_000);
    // The same heartbeat again changes nothing: no notification.
    let r = c.call(&heartbeat_request(body));
    assert_eq!(r.code, 0);
    let grown_mib = rss_anon_kib(pid).saturating_sub(before) / 1024;
    assert!(grown_mib < 200, "RssAnon grew {grown_mib} MiB");

    // Over the bound: refused whole, with the bound named, nothing registered or notified.
    let r = c.call(&heartbeat_request(many_groups("c2@x", 10_001, 1)));
    assert_eq!(r.code, 1);
    let remark = r.remark.unwrap();
    assert!(remark.contains("maxGroupsPerClient 10000"), "{remark}");
    let grown_mib = rss_anon_kib(pid).saturating_sub(before) / 1024;
    assert!(grown_mib < 200, "RssAnon grew {grown_mib} MiB");
    // A last round trip: still exactly one notification per group ever changed.
    assert_eq!(
        c.call(&request(38, &[("consumerGroup", "HOSTILE_GROUP_000001")]))
            .code,
        0
    );
    assert_eq!(c.notifies, 5_000);
    send_and_pull_still_work(&b, "AfterManyGroups");
}

#[test]
fn heartbeats_over_the_default_bounds_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let pid = b.server.child.id();
    let before = rss_anon_kib(pid);
    let mut c = Client::new(&b);
    // The issue's 5 000-group heartbeat passes the default 1 000 groups per client.
    let started = Instant::now();
    let r = c.call(&heartbeat_request(many_groups("c@1", 5_000, 1)));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(r.code, 1);
    let remark = r.remark.unwrap();
    assert!(
        remark.contains("5000 consumer groups") && remark.contains("maxGroupsPerClient 1000"),
        "{remark}"
    );
    // Too many subscriptions in one group.
    let r = c.call(&heartbeat_request(many_groups("c@1", 1, 1_001)));
    assert_eq!(r.code, 1);
    let remark = r.remark.unwrap();
    assert!(remark.contains("maxSubscriptionsPerGroup 1000"), "{remark}");
    assert_eq!(c.notifies, 0);
    // The bound holds across heartbeats of one connection: 600 groups, then 600 others.
    let r = c.call(&heartbeat_request(many_groups("c@1", 600, 1)));
    assert_eq!(r.code, 0);
    c.await_notifies(600);
    let other: Vec<u8> = String::from_utf8(many_groups("c@1", 600, 1))
        .unwrap()
        .replace("HOSTILE_GROUP_", "OTHER_GROUP_")
        .into_bytes();
    let r = c.call(&heartbeat_request(other));
    assert_eq!(r.code, 1);
    assert!(r.remark.unwrap().contains("1200 consumer groups"));
    assert_eq!(
        c.call(&request(38, &[("consumerGroup", "HOSTILE_GROUP_000001")]))
            .code,
        0
    );
    assert_eq!(
        c.notifies, 600,
        "nothing notified for the refused heartbeats"
    );
    let grown_mib = rss_anon_kib(pid).saturating_sub(before) / 1024;
    assert!(grown_mib < 200, "RssAnon grew {grown_mib} MiB");
    send_and_pull_still_work(&b, "AfterRefusals");
}

#[test]
fn an_out_of_range_disk_ratio_stops_the_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for set in [
        "diskMaxUsedSpaceRatio=1",
        "diskSpaceWarningLevelRatio=0",
        "diskSpaceCleanForciblyRatio=100",
    ] {
        let key = set.split('=').next().unwrap();
        let mut child = Command::new(BROKER)
            .args(["--set", "standalone=true", "--set", "listenPort=0"])
            .args(["--set", "namesrvListenPort=0", "--set", set])
            .arg("--set")
            .arg(format!("storePathRootDir={}", dir.path().display()))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut status = None;
        let exited = wait_until(Duration::from_secs(20), || {
            status = child.try_wait().unwrap();
            status.is_some()
        });
        if !exited {
            let _ = child.kill();
            let _ = child.wait();
            panic!("broker with {set} did not exit");
        }
        assert!(!status.unwrap().success(), "{set}");
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(err.contains(key) && err.contains("10..=95"), "{set}: {err}");
    }
    let b = start_broker(BROKER, dir.path(), &[]);
    send_and_pull_still_work(&b, "AfterBadConfig");
}

#[test]
fn lenient_values_are_refused_with_a_remark() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    let refused = |s: &mut TcpStream, body: &[u8], says: &str| {
        let r = call(s, &heartbeat_request(body.to_vec()));
        let remark = r.remark.unwrap_or_default();
        assert_eq!(r.code, 1, "{}: {remark}", String::from_utf8_lossy(body));
        assert!(remark.contains(says), "{remark}");
    };
    refused(&mut s, b"[]", "JSON object");
    refused(
        &mut s,
        br#"{"clientID":""}"#,
        "clientID is missing or blank",
    );
    refused(&mut s, br#"{"consumerDataSet":[]}"#, "clientID is missing");
    refused(
        &mut s,
        br#"{"clientID":12345}"#,
        "clientID must be a string",
    );

    create_topic(&mut s, "OffsetsT", 1);
    let update = |s: &mut TcpStream, offset: &str| {
        call(
            s,
            &request(
                15,
                &[
                    ("consumerGroup", "G"),
                    ("topic", "OffsetsT"),
                    ("queueId", "0"),
                    ("commitOffset", offset),
                ],
            ),
        )
    };
    let r = update(&mut s, "-5");
    assert_eq!(r.code, 1);
    assert!(r.remark.unwrap().contains("commitOffset -5"));
    assert_eq!(update(&mut s, "3").code, 0);
    // A pull carrying a negative commit offset (commit flag set) is refused too.
    let h = actormq::protocol::headers::pull::PullMessageRequestHeader {
        consumer_group: "G".into(),
        topic: "OffsetsT".into(),
        queue_id: 0,
        queue_offset: 0,
        max_msg_nums: 32,
        sys_flag: 0x1 | 0x4,
        commit_offset: -7,
        suspend_timeout_millis: 0,
        subscription: Some("*".into()),
        sub_version: 0,
        expression_type: Some("TAG".into()),
        bname: None,
    };
    let r = call(
        &mut s,
        &RemotingCommand::request_with(11, &h).with_opaque(next_opaque()),
    );
    assert_eq!(r.code, 1);
    assert!(r.remark.unwrap().contains("commitOffset -7"));
    let offset = call(
        &mut s,
        &request(
            14,
            &[
                ("consumerGroup", "G"),
                ("topic", "OffsetsT"),
                ("queueId", "0"),
            ],
        ),
    );
    assert_eq!(
        offset.ext("offset"),
        Some("3"),
        "the refused commits stored nothing"
    );

    // A record the layout refuses is called illegal once.
    let big = "v".repeat(40_000);
    let r = send(&mut s, "OffsetsT", 0, b"x", "", "", &[("big", &big)]);
    assert_eq!(r.code, 13);
    let remark = r.remark.unwrap();
    assert_eq!(remark.matches("illegal message").count(), 1, "{remark}");
    send_and_pull_still_work(&b, "AfterLenient");
}
