//! Issue 9 against the real `broker` binary: queue counts are bounded on every path that sets one
//! (create topic, auto-creation, retry topics, config and metadata files), names that could
//! leave the store directory are refused everywhere, perms outside 0..=7 are refused, and a deleted
//! topic's data is gone when the topic comes back.

mod common;

use std::net::TcpStream;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use actormq::protocol::body::{TopicConfigSerializeWrapper, TopicRouteData};
use actormq::protocol::headers::send::{SendMessageRequestHeader, SendMessageRequestHeaderV2};
use actormq::protocol::RemotingCommand;
use common::rmq::*;
use common::{call, connect, start_broker, wait_until, Broker, BROKER};

fn create_topic_with(s: &mut TcpStream, topic: &str, fields: &[(&str, &str)]) -> RemotingCommand {
    let mut ext = vec![
        ("topic", topic),
        ("defaultTopic", "TBW102"),
        ("readQueueNums", "4"),
        ("writeQueueNums", "4"),
        ("perm", "6"),
        ("topicFilterType", "SINGLE_TAG"),
        ("topicSysFlag", "0"),
        ("order", "false"),
    ];
    for (k, v) in fields {
        ext.retain(|(key, _)| key != k);
        ext.push((k, v));
    }
    call(s, &request(17, &ext))
}

fn create_group(s: &mut TcpStream, body: &str) -> RemotingCommand {
    let c = RemotingCommand::request(200)
        .with_opaque(next_opaque())
        .with_body(body.as_bytes().to_vec());
    call(s, &c)
}

/// SEND_MESSAGE_V2 to a topic the broker may not know, with the client's `defaultTopicQueueNums`.
fn send_auto(s: &mut TcpStream, topic: &str, default_queue_nums: i32) -> RemotingCommand {
    let h = SendMessageRequestHeader {
        default_topic_queue_nums: default_queue_nums,
        born_timestamp: 1,
        ..send_header(topic, -1)
    };
    let v2: SendMessageRequestHeaderV2 = h.into();
    let c = RemotingCommand::request_with(310, &v2)
        .with_opaque(next_opaque())
        .with_body(b"x".to_vec());
    call(s, &c)
}

fn topic_table(s: &mut TcpStream) -> TopicConfigSerializeWrapper {
    let r = call(s, &request(21, &[]));
    assert_eq!(r.code, 0);
    serde_json::from_slice(&r.body).unwrap()
}

fn assert_refused(r: &RemotingCommand, words: &[&str]) {
    let remark = r.remark.clone().unwrap_or_default();
    assert_eq!(r.code, 1, "{remark}");
    for w in words {
        assert!(remark.contains(w), "remark {remark:?} lacks {w:?}");
    }
}

/// Every entry under `dir`, recursively.
fn count_entries(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            1 + if e.path().is_dir() {
                count_entries(&e.path())
            } else {
                0
            }
        })
        .sum()
}

/// After hostile requests, a fresh connection still sends and pulls normally.
fn send_and_pull_still_work(b: &Broker, topic: &str) {
    let mut s = connect(b.addr);
    assert_eq!(create_topic(&mut s, topic, 2).code, 0);
    let r = send(&mut s, topic, 1, b"still-fine", "", "", &[]);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let msgs = pull_all(&mut s, "AfterGroup", topic, 1, "*");
    assert_eq!(msgs.len(), 1);
    assert_eq!(&msgs[0].body[..], b"still-fine");
}

/// The lexical resolution of `base/rel` (what the OS would open), for "did it escape" checks.
fn resolve(base: &Path, rel: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in base.join(rel).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[test]
fn queue_counts_are_bounded_on_every_path() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);

    // Item 2: answered at once with the field and the limit; nothing is created.
    let t = Instant::now();
    let r = create_topic_with(
        &mut s,
        "BigQ",
        &[("readQueueNums", "1024"), ("writeQueueNums", "2147483647")],
    );
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_refused(&r, &["writeQueueNums", "2147483647", "1024"]);
    let r = create_topic_with(&mut s, "BigQ", &[("writeQueueNums", "100000")]);
    assert_refused(&r, &["writeQueueNums", "100000", "1024"]);
    let r = create_topic_with(&mut s, "BigQ", &[("readQueueNums", "1025")]);
    assert_refused(&r, &["readQueueNums", "1024"]);
    // Item 9: perms outside READ|WRITE|INHERIT.
    for p in ["-1", "255", "8"] {
        let r = create_topic_with(&mut s, "BigQ", &[("perm", p)]);
        assert_refused(&r, &[&format!("perm {p}"), "0 and 7"]);
    }
    assert!(!topic_table(&mut s).topic_config_table.contains_key("BigQ"));
    // The limit itself is allowed, and makes at most its own queues' directories.
    let r = create_topic_with(
        &mut s,
        "MaxQ",
        &[("readQueueNums", "1024"), ("writeQueueNums", "1024")],
    );
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let cq = dir.path().join("consumequeue");
    assert!(wait_until(Duration::from_secs(30), || {
        count_entries(&cq.join("MaxQ")) == 2 * 1024
    }));
    assert!(!cq.join("BigQ").exists());

    // Auto-creation: min(d, TBW102's 8 write queues); d <= 0 never makes a dead topic.
    for d in [0, -1] {
        let r = send_auto(&mut s, &format!("AutoZero{}", -d), d);
        assert_refused(&r, &["defaultTopicQueueNums", &d.to_string()]);
    }
    let r = send_auto(&mut s, "AutoHuge", i32::MAX);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let table = topic_table(&mut s).topic_config_table;
    assert!(!table.contains_key("AutoZero0") && !table.contains_key("AutoZero1"));
    assert_eq!(table["AutoHuge"].write_queue_nums, 8);

    // Retry topics: retryQueueNums is checked when the group is set.
    let r = create_group(
        &mut s,
        r#"{"groupName":"BigRetryG","consumeEnable":true,"retryQueueNums":2147483647,"retryMaxTimes":16}"#,
    );
    assert_refused(&r, &["retryQueueNums", "2147483647", "1024"]);
    send_and_pull_still_work(&b, "AfterBigQ");
}

#[test]
fn stored_configs_past_the_limit_are_not_loaded_nor_published() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("subscriptionGroup.json"),
        r#"{"dataVersion":{"counter":1,"timestamp":1},"subscriptionGroupTable":{"BigRetryG":
        {"groupName":"BigRetryG","consumeEnable":true,"retryQueueNums":2147483647,"retryMaxTimes":16}}}"#,
    )
    .unwrap();
    std::fs::write(
        config.join("topics.json"),
        r#"{"dataVersion":{"counter":1,"timestamp":1},"topicConfigTable":{"BigQ":
        {"order":false,"perm":6,"readQueueNums":1024,"topicFilterType":"SINGLE_TAG",
        "topicName":"BigQ","topicSysFlag":0,"writeQueueNums":2147483647}}}"#,
    )
    .unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    assert!(!topic_table(&mut s).topic_config_table.contains_key("BigQ"));

    // Item 6: the heartbeat creates the retry topic from the group's (default) config, and the
    // name server is told about a bounded number of queues.
    let r = heartbeat(&mut s, "c1", "BigRetryG", "SomeTopic", "*");
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let mut ns = connect(b.namesrv);
    let mut route = TopicRouteData::default();
    assert!(wait_until(Duration::from_secs(10), || {
        let r = call(&mut ns, &request(105, &[("topic", "%RETRY%BigRetryG")]));
        if r.code == 0 {
            route = serde_json::from_slice(&r.body).unwrap();
        }
        !route.queue_datas.is_empty()
    }));
    assert_eq!(route.queue_datas[0].write_queue_nums, 1);
    assert_eq!(route.queue_datas[0].read_queue_nums, 1);
    send_and_pull_still_work(&b, "AfterLoad");

    // A config asking for more queues than a topic may have is refused at start.
    let other = tempfile::tempdir().unwrap();
    let mut child = Command::new(BROKER)
        .args(["--set", "standalone=true", "--set", "listenPort=0"])
        .args([
            "--set",
            "namesrvListenPort=0",
            "--set",
            "defaultTopicQueueNums=2000",
        ])
        .arg("--set")
        .arg(format!("storePathRootDir={}", other.path().display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    assert!(wait_until(Duration::from_secs(20), || {
        status = child.try_wait().unwrap();
        status.is_some()
    }));
    let _ = child.kill();
    assert!(!status.unwrap().success());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("defaultTopicQueueNums 2000"), "stderr: {err}");
}

#[test]
fn names_that_could_leave_the_store_are_refused_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    let stamp = format!("escaped-{}", std::process::id());
    let evil = format!("../../../../../../../../../{stamp}");
    // Where the retry topic's queue would have landed.
    let landing = resolve(&dir.path().join("consumequeue"), &format!("%RETRY%{evil}"));

    // Item 3: the group is refused, and so is a send-back naming it.
    let body = format!(
        r#"{{"groupName":"{evil}","consumeEnable":true,"retryQueueNums":1,"retryMaxTimes":16}}"#
    );
    assert_refused(&create_group(&mut s, &body), &["illegal characters"]);
    assert_eq!(create_topic(&mut s, "Victim", 1).code, 0);
    assert_eq!(send(&mut s, "Victim", 0, b"m", "", "", &[]).code, 0);
    let msgs = pull_all(&mut s, "VictimGroup", "Victim", 0, "*");
    let offset = msgs[0].commit_log_offset.to_string();
    let r = call(
        &mut s,
        &request(
            36,
            &[("offset", &offset), ("group", &evil), ("delayLevel", "-1")],
        ),
    );
    assert_refused(&r, &["illegal characters", &stamp]);

    // The same rule on every other entry point.
    let bad_topic = format!("%RETRY%{evil}");
    let r = send(&mut s, &bad_topic, 0, b"m", "", "", &[]);
    assert_refused(&r, &["illegal characters"]);
    assert_refused(&send_auto(&mut s, "../x", 4), &["illegal characters"]);
    assert_refused(&create_topic(&mut s, "../Evil", 1), &["illegal characters"]);
    assert_refused(&heartbeat(&mut s, "c1", &evil, "Victim", "*"), &["illegal"]);
    let (r, _) = pull(&mut s, &evil, "Victim", 0, 0, "*", 0);
    assert_refused(&r, &["illegal characters"]);
    let (r, _) = pull(&mut s, "G", "../Victim", 0, 0, "*", 0);
    assert_refused(&r, &["illegal characters"]);
    let upd = [
        ("consumerGroup", evil.as_str()),
        ("topic", "Victim"),
        ("queueId", "0"),
        ("commitOffset", "1"),
    ];
    assert_refused(&call(&mut s, &request(15, &upd)), &["illegal characters"]);
    let del = call(&mut s, &request(215, &[("topic", "../consumequeue")]));
    assert_refused(&del, &["illegal characters"]);
    // Lengths: topics up to 127, groups up to 255.
    let r = create_topic(&mut s, &"t".repeat(128), 1);
    assert_refused(&r, &["max length 127"]);
    let long_group = "g".repeat(256);
    let body = format!(r#"{{"groupName":"{long_group}","retryQueueNums":1}}"#);
    assert_refused(&create_group(&mut s, &body), &["max length 255"]);
    let body = format!(
        r#"{{"groupName":"{}","retryQueueNums":1}}"#,
        "g".repeat(255)
    );
    assert_eq!(create_group(&mut s, &body).code, 0);

    assert!(!landing.exists(), "{} was created", landing.display());
    assert!(!Path::new("/").join(&stamp).exists());
    let cq = dir.path().join("consumequeue");
    for e in std::fs::read_dir(&cq).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        assert!(!name.contains(".."), "queue directory {name}");
    }
    send_and_pull_still_work(&b, "AfterEvil");
}

#[test]
fn a_deleted_topic_comes_back_empty() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    assert_eq!(create_topic(&mut s, "DT", 2).code, 0);
    for i in 0..10 {
        let r = send(&mut s, "DT", 0, format!("old-{i}").as_bytes(), "", "", &[]);
        assert_eq!(r.code, 0);
    }
    let commit = [
        ("consumerGroup", "DG"),
        ("topic", "DT"),
        ("queueId", "0"),
        ("commitOffset", "7"),
    ];
    assert_eq!(call(&mut s, &request(15, &commit)).code, 0);
    let topic_dir = dir.path().join("consumequeue").join("DT");
    assert!(topic_dir.exists());

    // Item 8: a system topic is not deletable; an ordinary one loses its data.
    let r = call(&mut s, &request(215, &[("topic", "SCHEDULE_TOPIC_XXXX")]));
    assert_refused(&r, &["system topic"]);
    let r = call(&mut s, &request(215, &[("topic", "DT")]));
    assert_eq!(r.code, 0, "{:?}", r.remark);
    assert!(!topic_dir.exists(), "queue directory moved away at once");
    assert!(!topic_table(&mut s).topic_config_table.contains_key("DT"));
    let deleted = dir.path().join("deleted");
    assert!(wait_until(Duration::from_secs(10), || {
        count_entries(&deleted) == 0
    }));
    let q = [("consumerGroup", "DG"), ("topic", "DT"), ("queueId", "0")];
    let r = call(&mut s, &request(14, &q));
    assert_ne!(r.ext("offset"), Some("7"), "consumer offsets removed");

    // A send re-creates the topic, which starts at offset 0 with only the new message.
    let r = send(&mut s, "DT", 0, b"new", "", "", &[]);
    assert_eq!(r.code, 0, "{:?}", r.remark);
    assert_eq!(r.ext("queueOffset"), Some("0"));
    let msgs = pull_all(&mut s, "DG2", "DT", 0, "*");
    let bodies: Vec<&[u8]> = msgs.iter().map(|m| &m.body[..]).collect();
    assert_eq!(bodies, vec![&b"new"[..]]);
    // Deleting and re-creating at once, repeatedly, never resurrects old data.
    for round in 0..5 {
        assert_eq!(call(&mut s, &request(215, &[("topic", "DT")])).code, 0);
        assert_eq!(create_topic(&mut s, "DT", 2).code, 0);
        let body = format!("round-{round}");
        let r = send(&mut s, "DT", 0, body.as_bytes(), "", "", &[]);
        assert_eq!(r.ext("queueOffset"), Some("0"), "round {round}");
        let msgs = pull_all(&mut s, "DG3", "DT", 0, "*");
        assert_eq!(msgs.len(), 1, "round {round}");
    }
    send_and_pull_still_work(&b, "AfterDelete");
}
