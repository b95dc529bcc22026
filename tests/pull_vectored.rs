//! Pull replies leave the broker as vectored writes of CommitLog slices (issue 16): the real
//! `broker` binary stores messages of 1 B to 64 KiB (about 10 MiB, so the CommitLog spans two
//! mapped files), and every one comes back byte-exact at its offset, both pulled one reply at a
//! time and with many large replies requested at once, which the peer reads only after all are
//! queued (the socket fills, so the broker's writes end mid-chunk and must resume there). The
//! same over TLS, where the slices are encrypted into TLS records on their way out.

mod common;

use std::collections::HashMap;
use std::net::TcpStream;
use std::time::Duration;

use bytes::Bytes;

use actormq::protocol::frame;
use actormq::protocol::headers::pull::PullMessageRequestHeader;
use actormq::protocol::message::{decode_records, MessageExt};
use actormq::protocol::RemotingCommand;
use actormq::remoting::client::RemotingClient;
use common::rmq::*;
use common::tls::{make_certs, tls_client, tls_sets};
use common::{connect, read_frame_bytes, start_broker, BROKER};

const TOPIC: &str = "PullVectored";
const COUNT: usize = 256;

/// The body of message `i`: sizes from 1 B to 64 KiB, bytes that differ by message and position.
fn body(i: usize) -> Vec<u8> {
    let len = match i % 8 {
        0 => 64 * 1024,
        1 => 1,
        2 => 255,
        3 => 256,
        _ => (i * 7919) % (64 * 1024) + 1,
    };
    (0..len)
        .map(|j| (i as u8).wrapping_mul(31) ^ (j as u8).wrapping_mul(7) ^ (j >> 8) as u8)
        .collect()
}

/// The messages of a FOUND reply to a pull at `from`: the body holds whole records and nothing
/// else, as many as `nextBeginOffset` says, and each is the one stored at its queue offset with
/// its exact body.
fn checked(r: &RemotingCommand, from: i64) -> Vec<MessageExt> {
    assert_eq!(r.code, 0, "pull at {from}: {:?}", r.remark);
    let msgs = decode_records(&r.body);
    assert!(!msgs.is_empty(), "pull at {from} found messages");
    let records: usize = msgs.iter().map(|m| m.store_size as usize).sum();
    assert_eq!(
        records,
        r.body.len(),
        "pull at {from}: the body is whole records"
    );
    let next: i64 = r.ext("nextBeginOffset").unwrap().parse().unwrap();
    assert_eq!(
        next,
        from + msgs.len() as i64,
        "pull at {from}: nextBeginOffset"
    );
    check(&msgs, from);
    msgs
}

/// Each message is the one stored at its queue offset, with its exact body.
fn check(msgs: &[MessageExt], from: i64) {
    for (k, m) in msgs.iter().enumerate() {
        let offset = from + k as i64;
        assert_eq!(m.queue_offset, offset, "offsets contiguous from {from}");
        let want = body(offset as usize);
        assert_eq!(m.body.len(), want.len(), "size of message {offset}");
        assert!(m.body[..] == want[..], "body of message {offset} differs");
    }
}

fn pull_request(offset: i64, max: i32) -> RemotingCommand {
    let h = PullMessageRequestHeader {
        queue_offset: offset,
        max_msg_nums: max,
        ..pull_header("GPV", TOPIC)
    };
    RemotingCommand::request_with(11, &h).with_opaque(next_opaque())
}

/// Store the messages on queue 0, each at the offset of its number.
fn store_all(s: &mut TcpStream) {
    assert_eq!(create_topic(s, TOPIC, 1).code, 0);
    for i in 0..COUNT {
        let r = send(s, TOPIC, 0, &body(i), "", "", &[]);
        assert_eq!(r.code, 0, "send {i}: {:?}", r.remark);
        assert_eq!(r.ext("queueOffset"), Some(i.to_string().as_str()));
    }
}

#[test]
fn every_message_comes_back_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let b = start_broker(BROKER, dir.path(), &[]);
    let mut s = connect(b.addr);
    store_all(&mut s);

    // One reply at a time, following nextBeginOffset.
    let mut offset = 0i64;
    let mut replies = 0;
    while (offset as usize) < COUNT {
        let r = common::call(&mut s, &pull_request(offset, 32));
        offset += checked(&r, offset).len() as i64;
        replies += 1;
    }
    assert_eq!(offset as usize, COUNT);
    assert!(replies > 1, "the messages span several replies");

    // Many large replies requested before any is read: the broker's socket fills and its writes
    // stop mid-chunk. Every reply (matched by opaque) starts at its offset and is exact.
    let mut s = connect(b.addr);
    let mut wanted = HashMap::new();
    let mut wire = Vec::new();
    for offset in (0..COUNT as i64).step_by(4) {
        let req = pull_request(offset, 32);
        wanted.insert(req.opaque, offset);
        wire.extend_from_slice(&common::frame_bytes(&req));
    }
    std::io::Write::write_all(&mut s, &wire).unwrap();
    let mut seen = 0;
    while !wanted.is_empty() {
        let bytes = read_frame_bytes(&mut s).expect("a reply frame");
        let r = frame::parse(Bytes::from(bytes)).expect("a well-formed reply");
        if !r.is_response() {
            continue;
        }
        let offset = wanted
            .remove(&r.opaque)
            .expect("a reply to one of our pulls");
        seen += checked(&r, offset).len();
    }
    assert!(
        seen > COUNT,
        "the replies overlap and cover the queue ({seen})"
    );
}

#[test]
fn large_pull_replies_over_tls() {
    let certs = make_certs();
    let dir = tempfile::tempdir().unwrap();
    let sets = tls_sets(&certs, "permissive");
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    let b = start_broker(BROKER, dir.path(), &sets);
    // Permissive: stored over plain TCP, pulled over TLS.
    store_all(&mut connect(b.addr));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let seen = rt.block_on(async {
        let tls = tls_client(&certs);
        let addr = b.addr.to_string();
        let c = RemotingClient::connect_with(&addr, Duration::from_secs(5), None, Some(&tls))
            .await
            .expect("TLS connect");
        let offsets: Vec<i64> = (0..COUNT as i64).step_by(4).collect();
        let calls = offsets
            .iter()
            .map(|o| c.call(pull_request(*o, 32), Duration::from_secs(30)));
        let replies = futures::future::join_all(calls).await;
        let mut seen = 0;
        for (offset, r) in offsets.iter().zip(replies) {
            seen += checked(&r.expect("a pull reply over TLS"), *offset).len();
        }
        seen
    });
    assert!(
        seen > COUNT,
        "the replies overlap and cover the queue ({seen})"
    );
}
