//! The real C++ push consumer (PyPI `rocketmq==0.4.4`, default settings) across an automatic
//! failover in controller mode (`common::failover`): it reads a first batch from the master, is
//! frozen while the master is SIGKILLed and the controllers elect another, a second batch is
//! sent to the new master, and after SIGCONT it must receive every acknowledged message (at
//! least once). It finds the new master through the name servers' routes (its route poll is
//! 30 s, so the whole run takes up to a minute).

mod common;

use std::time::Duration;

use common::failover::{try_call, try_connect, ReplicaSet, QUEUES};
use common::real_clients::{start_consumer, Client};
use common::rmq::send_request;

const TOPIC: &str = "FailoverCpp";
const WAIT: Duration = Duration::from_secs(30);

/// Send keys `key-from` .. `key-(to-1)` to the route's master; each must end SEND_OK (a send
/// that fails during the election is retried, as a producer would).
fn produce(set: &ReplicaSet, from: usize, to: usize) {
    for i in from..to {
        let key = format!("key-{i}");
        let ok = common::wait_until(WAIT, || {
            let Some(m) = set.route_master(TOPIC) else {
                return false;
            };
            let req = send_request(TOPIC, i as i32 % QUEUES, key.as_bytes(), "T", &key, &[]);
            try_connect(m)
                .and_then(|mut s| try_call(&mut s, &req))
                .is_some_and(|r| r.code == 0)
        });
        assert!(ok, "{key} was never acknowledged");
    }
}

#[test]
fn python_cpp_push_consumer_gets_every_acknowledged_message_across_a_failover() {
    const FIRST: usize = 100;
    const SECOND: usize = 200;
    let mut set = ReplicaSet::start(&[]);
    set.create_topic(TOPIC, WAIT);
    produce(&set, 0, FIRST);
    let mut run = start_consumer(
        Client::PythonCpp,
        &set.namesrv_list(),
        TOPIC,
        FIRST + SECOND,
    );
    run.wait_progress(FIRST, Duration::from_secs(60));
    common::freeze(run.child.id());
    let m = set.wait_master(TOPIC, None, WAIT);
    set.brokers[m].kill();
    let new = set.wait_master(TOPIC, Some(m), WAIT);
    eprintln!("broker {m} killed, broker {new} master");
    produce(&set, FIRST, FIRST + SECOND);
    // SAFETY: signalling our own child.
    assert_eq!(
        unsafe { libc::kill(run.child.id() as i32, libc::SIGCONT) },
        0
    );
    let summary = run.finish();
    eprintln!("consumer summary across the failover: {summary}");
}
