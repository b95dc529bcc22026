//! `TransactionProducer` against the real standalone broker (short `transactionTimeOut` and
//! `transactionCheckInterval`): a commit is consumed once, a rollback never, an Unknown is checked
//! back through `check_local` and committed; a producer process that dies between the half message
//! and END_TRANSACTION is checked back on another member of its group and the outcome is applied
//! once; 15 Unknown answers end in TRANS_CHECK_MAX_TIME_TOPIC.

mod common;

use std::any::Any;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actormq::client::*;
use common::client::*;
use parking_lot::Mutex;

/// Broker timers of these tests: a half message is checked 1 s after birth, scans every 500 ms.
const TX_SETS: [&str; 2] = ["transactionTimeOut=1000", "transactionCheckInterval=500"];

/// Answers by body: "commit" / "rollback" / anything else Unknown; `check_local` records the
/// body and answers `check_answer`.
struct ByBody {
    checked: Arc<Mutex<Vec<String>>>,
    check_answer: LocalTransactionState,
}

fn body(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl TransactionListener for ByBody {
    fn execute_local(&self, msg: &Message, _: &(dyn Any + Send + Sync)) -> LocalTransactionState {
        match body(&msg.body).as_str() {
            "commit" => LocalTransactionState::Commit,
            "rollback" => LocalTransactionState::Rollback,
            _ => LocalTransactionState::Unknown,
        }
    }
    fn check_local(&self, msg: &MessageExt) -> LocalTransactionState {
        self.checked.lock().push(body(&msg.body));
        self.check_answer
    }
}

fn by_body(answer: LocalTransactionState) -> (ByBody, Arc<Mutex<Vec<String>>>) {
    let checked = Arc::new(Mutex::new(Vec::new()));
    let l = ByBody {
        checked: checked.clone(),
        check_answer: answer,
    };
    (l, checked)
}

/// TRANS_CHECK_MAX_TIME_TOPIC (a broker-local system topic, not routed): queue 0 of the broker
/// serving `topic`, pulled until a message arrives or `limit` passes.
async fn pull_give_up_topic(b: &Standalone, topic: &str, limit: Duration) -> Vec<MessageExt> {
    let pc = PullConsumer::start(consumer_config(b, "check-max", "checker-max"), &[topic])
        .await
        .unwrap();
    let broker = pc.queues(topic).await.unwrap()[0].broker_name.clone();
    let mq = MessageQueue::new("TRANS_CHECK_MAX_TIME_TOPIC", &broker, 0);
    let start = Instant::now();
    let mut out = Vec::new();
    while out.is_empty() && start.elapsed() < limit {
        if let Ok(r) = pc.pull(&mq, "*", 0, 32, None).await {
            out = r.msgs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pc.shutdown().await.unwrap();
    out
}

fn bodies(msgs: &[MessageExt]) -> Vec<String> {
    let mut v: Vec<String> = msgs.iter().map(|m| body(&m.body)).collect();
    v.sort();
    v
}

#[tokio::test]
async fn commit_is_consumed_once_rollback_never_unknown_is_checked_back() {
    let b = start_broker(&TX_SETS);
    let topic = "TxThreeCases";
    create_topic(&b, topic, 4);
    let (l, checked) = by_body(LocalTransactionState::Commit);
    let p = TransactionProducer::start(producer_config(&b, "pg-tx-three"), l)
        .await
        .unwrap();
    for (what, state) in [
        ("commit", LocalTransactionState::Commit),
        ("rollback", LocalTransactionState::Rollback),
        ("unknown", LocalTransactionState::Unknown),
    ] {
        let r = p
            .send_in_transaction(Message::new(topic, what).with_keys(what), 7u32)
            .await
            .unwrap();
        assert_eq!(r.send.status, SendStatus::SendOk);
        assert_eq!(r.local_state, state);
        assert_eq!(r.transaction_id, r.send.msg_id);
    }
    // The commit is visible at once; the unknown after its check-back (>= 1 s).
    let got = pull_topic(&b, topic, 2, Duration::from_secs(20)).await;
    assert_eq!(bodies(&got), ["commit", "unknown"], "committed messages");
    // Nothing more arrives: no double commit, no rollback, no second check-back commit.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = pull_topic(&b, topic, 3, Duration::from_secs(1)).await;
    assert_eq!(bodies(&again), ["commit", "unknown"], "after 3 s more");
    let seen = checked.lock().clone();
    assert!(seen.contains(&"unknown".to_string()), "{seen:?}");
    assert!(
        seen.iter().all(|s| s == "unknown"),
        "only the unknown is checked: {seen:?}"
    );
    // The committed message carries the user's key.
    let unknown = got.iter().find(|m| body(&m.body) == "unknown").unwrap();
    assert_eq!(unknown.property("KEYS"), Some("unknown"));
    p.shutdown().await.unwrap();
}

/// The child process of `a_killed_producer_is_checked_back_on_another_member`: starts member
/// "member-a" of the group and exits inside its local transaction, after the half message was
/// stored and before END_TRANSACTION.
#[tokio::test]
#[ignore = "child process of a_killed_producer_is_checked_back_on_another_member"]
async fn child_dies_inside_local_transaction() {
    struct Die;
    impl TransactionListener for Die {
        fn execute_local(&self, _: &Message, _: &(dyn Any + Send + Sync)) -> LocalTransactionState {
            std::process::exit(0)
        }
        fn check_local(&self, _: &MessageExt) -> LocalTransactionState {
            LocalTransactionState::Unknown
        }
    }
    let ns = std::env::var("TX_CHILD_NAMESRV").expect("run by the parent test only");
    let mut cfg = ProducerConfig::new(&ns, "pg-tx-kill");
    cfg.client.instance_name = "member-a".into();
    cfg.client.client_ip = "127.0.0.1".into();
    let p = TransactionProducer::start(cfg, Die).await.unwrap();
    let _ = p
        .send_in_transaction(Message::new("TxKilled", "orphan"), ())
        .await;
    panic!("execute_local did not run");
}

#[tokio::test]
async fn a_killed_producer_is_checked_back_on_another_member() {
    let b = start_broker(&TX_SETS);
    let topic = "TxKilled";
    create_topic(&b, topic, 4);
    let (l, checked) = by_body(LocalTransactionState::Commit);
    let mut cfg = producer_config(&b, "pg-tx-kill");
    cfg.client.instance_name = "member-b".into();
    let member_b = TransactionProducer::start(cfg, l).await.unwrap();
    // Member B never sends: it knows the broker from the topic's route, and heartbeats it.
    member_b.producer().queues(topic).await.unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_dies_inside_local_transaction",
            "--test-threads=1",
        ])
        .env("TX_CHILD_NAMESRV", b.namesrv_addr())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("child producer did not exit within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        status.success(),
        "child exited inside execute_local: {status}"
    );
    let got = pull_topic(&b, topic, 1, Duration::from_secs(20)).await;
    assert_eq!(bodies(&got), ["orphan"], "committed by the other member");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = pull_topic(&b, topic, 2, Duration::from_secs(1)).await;
    assert_eq!(bodies(&again), ["orphan"], "applied once");
    assert!(checked.lock().contains(&"orphan".to_string()));
    member_b.shutdown().await.unwrap();
}

#[tokio::test]
async fn fifteen_unknown_answers_end_in_trans_check_max_time_topic() {
    let b = start_broker(&["transactionTimeOut=300", "transactionCheckInterval=200"]);
    let topic = "TxNeverKnown";
    create_topic(&b, topic, 4);
    let (l, checked) = by_body(LocalTransactionState::Unknown);
    let p = TransactionProducer::start(producer_config(&b, "pg-tx-max"), l)
        .await
        .unwrap();
    let r = p
        .send_in_transaction(Message::new(topic, "undecided"), ())
        .await
        .unwrap();
    assert_eq!(r.local_state, LocalTransactionState::Unknown);
    let ok = wait_for(Duration::from_secs(60), || checked.lock().len() >= 15).await;
    assert!(ok, "15 check-backs, got {}", checked.lock().len());
    let moved = pull_give_up_topic(&b, topic, Duration::from_secs(20)).await;
    assert_eq!(bodies(&moved), ["undecided"]);
    assert_eq!(moved[0].property("REAL_TOPIC"), Some(topic));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(checked.lock().len(), 15, "no check after the 15th");
    assert!(pull_topic(&b, topic, 1, Duration::from_secs(1))
        .await
        .is_empty());
    p.shutdown().await.unwrap();
}

#[tokio::test]
async fn one_transaction_producer_per_group_and_instance() {
    let b = start_broker(&[]);
    let (l1, _) = by_body(LocalTransactionState::Commit);
    let (l2, _) = by_body(LocalTransactionState::Commit);
    let p = TransactionProducer::start(producer_config(&b, "pg-tx-dup"), l1)
        .await
        .unwrap();
    let dup = TransactionProducer::start(producer_config(&b, "pg-tx-dup"), l2).await;
    assert!(matches!(dup, Err(ClientError::State(_))));
    // Dropping the first frees the group for a new one.
    drop(p);
    let (l3, _) = by_body(LocalTransactionState::Commit);
    let again = TransactionProducer::start(producer_config(&b, "pg-tx-dup"), l3).await;
    assert!(again.is_ok());
}

/// A fake name server + broker on one port, for the client's side alone: routes every topic to
/// itself, answers heartbeats and sends, checks the first heartbeat of `pg-mock` back with a half
/// message, and hands every END_TRANSACTION it receives to the test.
mod mock {
    use std::io::Write;
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::mpsc;

    use actormq::client::transaction::mark_half;
    use actormq::client::{Message, MessageExt};
    use actormq::protocol::body::{BrokerData, HeartbeatData, QueueData, TopicRouteData};
    use actormq::protocol::codes::{request_code as rq, response_code as rc};
    use actormq::protocol::frame;
    use actormq::protocol::headers::*;
    use actormq::protocol::message::encode_offset_msg_id;
    use actormq::protocol::RemotingCommand;
    use bytes::{Bytes, BytesMut};

    use super::common::read_frame_bytes;

    pub const CHECKED_QUEUE_OFFSET: i64 = 5;
    pub const CHECKED_PHYS_OFFSET: i64 = 999;

    pub fn start() -> (SocketAddr, mpsc::Receiver<EndTransactionRequestHeader>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let tx = tx.clone();
                std::thread::spawn(move || serve(s, addr, tx));
            }
        });
        (addr, rx)
    }

    fn write(s: &mut TcpStream, cmd: &RemotingCommand) {
        let mut b = BytesMut::new();
        frame::encode(cmd, &mut b);
        let _ = s.write_all(&b);
    }

    fn route(addr: SocketAddr) -> Vec<u8> {
        let r = TopicRouteData {
            broker_datas: vec![BrokerData {
                broker_addrs: [(0, addr.to_string())].into_iter().collect(),
                broker_name: "mock-broker".into(),
                cluster: "c".into(),
                ..Default::default()
            }],
            queue_datas: vec![QueueData {
                broker_name: "mock-broker".into(),
                perm: 6,
                read_queue_nums: 1,
                write_queue_nums: 1,
                topic_sys_flag: 0,
            }],
            ..Default::default()
        };
        serde_json::to_vec(&r).unwrap()
    }

    fn half_message(addr: SocketAddr) -> Bytes {
        let m = mark_half(Message::new("MockTopic", "mock-body"), "pg-mock");
        MessageExt {
            store_size: 0,
            body_crc: 0,
            queue_id: 0,
            flag: 0,
            queue_offset: CHECKED_QUEUE_OFFSET,
            commit_log_offset: CHECKED_PHYS_OFFSET,
            sys_flag: 0,
            born_timestamp: 1,
            born_host: addr,
            store_timestamp: 2,
            store_host: addr,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: Bytes::from_static(b"mock-body"),
            topic: "RMQ_SYS_TRANS_HALF_TOPIC".into(),
            properties: m.encode_properties("UNIQMOCK"),
        }
        .encode()
        .freeze()
    }

    fn serve(mut s: TcpStream, addr: SocketAddr, tx: mpsc::Sender<EndTransactionRequestHeader>) {
        let mut checked = false;
        while let Ok(bytes) = read_frame_bytes(&mut s) {
            let Ok(cmd) = frame::parse(Bytes::from(bytes)) else {
                return;
            };
            let mut resp = cmd.response_to(rc::SUCCESS, None);
            match cmd.code {
                rq::GET_ROUTEINFO_BY_TOPIC => resp = resp.with_body(route(addr)),
                rq::SEND_MESSAGE_V2 => {
                    let h: SendMessageRequestHeader =
                        cmd.header::<SendMessageRequestHeaderV2>().unwrap().into();
                    let props = h.properties.unwrap_or_default();
                    let half = h.sys_flag & 0x4 != 0
                        && props.contains("TRAN_MSG\u{1}true")
                        && props.contains("PGROUP\u{1}pg-mock");
                    if !half {
                        resp.code = rc::SYSTEM_ERROR;
                    }
                    resp = resp.with_header(&SendMessageResponseHeader {
                        msg_id: encode_offset_msg_id(addr, 4096),
                        queue_id: 0,
                        queue_offset: 7,
                        transaction_id: None,
                        region: "DefaultRegion".into(),
                        trace_on: true,
                    });
                }
                rq::HEART_BEAT => {
                    let hb = HeartbeatData::decode(&cmd.body).unwrap();
                    let member = hb
                        .producer_data_set
                        .iter()
                        .any(|p| p.group_name == "pg-mock");
                    if member && !checked {
                        checked = true;
                        write(&mut s, &resp);
                        let h = CheckTransactionStateRequestHeader {
                            tran_state_table_offset: CHECKED_QUEUE_OFFSET,
                            commit_log_offset: CHECKED_PHYS_OFFSET,
                            msg_id: Some("UNIQMOCK".into()),
                            transaction_id: Some("UNIQMOCK".into()),
                            offset_msg_id: None,
                        };
                        let mut check =
                            RemotingCommand::request_with(rq::CHECK_TRANSACTION_STATE, &h)
                                .with_body(half_message(addr))
                                .with_opaque(1_000_000);
                        check.mark_oneway();
                        write(&mut s, &check);
                        continue;
                    }
                }
                rq::END_TRANSACTION => {
                    let _ = tx.send(cmd.header().unwrap());
                }
                _ => {}
            }
            if !cmd.is_oneway() {
                write(&mut s, &resp);
            }
        }
    }
}

/// The client side alone, against a fake broker: the half message goes out with sysFlag
/// PREPARED, TRAN_MSG and PGROUP; END_TRANSACTION carries the send's offsets; a
/// CHECK_TRANSACTION_STATE runs `check_local` off the client I/O thread and is answered with
/// END_TRANSACTION `fromTransactionCheck=true` and the offsets the broker gave.
#[tokio::test]
async fn client_side_against_a_fake_broker() {
    struct Recorder(Arc<Mutex<Vec<String>>>);
    impl TransactionListener for Recorder {
        fn execute_local(
            &self,
            _: &Message,
            arg: &(dyn Any + Send + Sync),
        ) -> LocalTransactionState {
            assert_eq!(arg.downcast_ref::<&str>(), Some(&"the-arg"));
            LocalTransactionState::Rollback
        }
        fn check_local(&self, msg: &MessageExt) -> LocalTransactionState {
            let thread = std::thread::current().name().unwrap_or("").to_string();
            self.0
                .lock()
                .push(format!("{} on {thread}", body(&msg.body)));
            LocalTransactionState::Commit
        }
    }
    let (addr, ends) = mock::start();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut cfg = ProducerConfig::new(&addr.to_string(), "pg-mock");
    cfg.client.instance_name = "mock".into();
    let p = TransactionProducer::start(cfg, Recorder(seen.clone()))
        .await
        .unwrap();
    // Started: TBW102's route was fetched, the heartbeat went out, the fake broker checked back.
    let end = ends
        .recv_timeout(Duration::from_secs(10))
        .expect("check answered");
    assert_eq!(end.from_transaction_check, Some(true));
    assert_eq!(end.commit_or_rollback, 8);
    assert_eq!(end.tran_state_table_offset, mock::CHECKED_QUEUE_OFFSET);
    assert_eq!(end.commit_log_offset, mock::CHECKED_PHYS_OFFSET);
    assert_eq!(end.msg_id, "UNIQMOCK");
    assert_eq!(end.producer_group, "pg-mock");
    assert_eq!(
        seen.lock().clone(),
        ["mock-body on mq-tx-check-pg-mock"],
        "check_local ran on the checker thread"
    );
    let r = p
        .send_in_transaction(Message::new("MockTopic", "x"), "the-arg")
        .await
        .unwrap();
    assert_eq!(r.local_state, LocalTransactionState::Rollback);
    let end = ends
        .recv_timeout(Duration::from_secs(10))
        .expect("END_TRANSACTION");
    assert_eq!(end.from_transaction_check, Some(false));
    assert_eq!(end.commit_or_rollback, 12);
    assert_eq!(
        (end.tran_state_table_offset, end.commit_log_offset),
        (7, 4096)
    );
    assert_eq!(end.msg_id, r.send.msg_id);
    p.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_sigkilled_broker_checks_pending_transactions_back_once_after_restart() {
    // One store across both runs (a later `--set` wins over start_broker's temp dir).
    let store = tempfile::tempdir().unwrap();
    let root = format!("storePathRootDir={}", store.path().display());
    let topic = "TxBrokerKilled";
    let mut b = start_broker(&[
        "transactionTimeOut=600000",
        "transactionCheckInterval=500",
        &root,
    ]);
    create_topic(&b, topic, 4);
    let (l, checked_before) = by_body(LocalTransactionState::Commit);
    let p = TransactionProducer::start(producer_config(&b, "pg-tx-restart"), l)
        .await
        .unwrap();
    for what in ["commit", "open-1", "open-2", "open-3"] {
        p.send_in_transaction(Message::new(topic, what), ())
            .await
            .unwrap();
    }
    assert_eq!(
        bodies(&pull_topic(&b, topic, 1, Duration::from_secs(10)).await),
        ["commit"]
    );
    b.child.kill().unwrap(); // SIGKILL, with three transactions open
    let _ = b.child.wait();
    drop(p);
    assert!(
        store.path().join("commitlog").exists(),
        "the store was in {root}"
    );

    let b = start_broker(&[
        "transactionTimeOut=1000",
        "transactionCheckInterval=500",
        &root,
    ]);
    let (l, checked) = by_body(LocalTransactionState::Commit);
    let p = TransactionProducer::start(producer_config(&b, "pg-tx-restart"), l)
        .await
        .unwrap();
    p.producer().queues(topic).await.unwrap();
    let want = ["commit", "open-1", "open-2", "open-3"];
    let got = pull_topic(&b, topic, 4, Duration::from_secs(30)).await;
    assert_eq!(
        bodies(&got),
        want,
        "every pending one committed after the restart"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = pull_topic(&b, topic, 5, Duration::from_secs(1)).await;
    assert_eq!(bodies(&again), want, "none committed twice");
    let seen = checked.lock().clone();
    assert!(seen.iter().all(|s| s.starts_with("open-")), "{seen:?}");
    assert!(checked_before.lock().is_empty());
    p.shutdown().await.unwrap();
}

/// With `enable_trace`, every END_TRANSACTION leaves an EndTransaction trace record (Java's
/// EndTransactionTraceHookImpl): state, transaction id, whether it answered a check-back.
#[tokio::test]
async fn traced_transactions_leave_end_transaction_records() {
    use actormq::client::trace::{msg_type, TraceType};
    let b = start_broker(&["traceTopicEnable=true", TX_SETS[0], TX_SETS[1]]);
    let topic = "TxTraced";
    create_topic(&b, topic, 2);
    let (l, _) = by_body(LocalTransactionState::Commit);
    let mut pc = producer_config(&b, "pg-tx-trace");
    pc.enable_trace = true;
    let p = TransactionProducer::start(pc, l).await.unwrap();
    let mut ids = Vec::new();
    for what in ["commit", "unknown"] {
        let m = Message::new(topic, what).with_tags("TagT").with_keys(what);
        ids.push(p.send_in_transaction(m, 0u32).await.unwrap().transaction_id);
    }
    // The unknown one is committed by its check-back: two records, the second from the check.
    let ends = |records: Vec<TraceRecord>| -> Vec<(String, bool)> {
        let mut v: Vec<_> = records
            .iter()
            .filter(|r| r.trace_type == TraceType::EndTransaction)
            .map(|r| {
                let b = r.bean();
                assert_eq!((b.topic.as_str(), b.tags.as_str()), (topic, "TagT"));
                assert_eq!(b.msg_type, msg_type::TRANS_COMMIT);
                assert_eq!(r.group_name, "pg-tx-trace");
                (b.transaction_state.clone(), b.from_transaction_check)
            })
            .collect();
        v.sort();
        v
    };
    let inst = ClientInstance::get(&client_config(&b, "q-tx-trace")).unwrap();
    let mut last = (Vec::new(), Vec::new());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        last = (
            ends(query_trace(&inst, &ids[0]).await.unwrap_or_default()),
            ends(query_trace(&inst, &ids[1]).await.unwrap_or_default()),
        );
        if last.1.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let s = |x: &str, c: bool| (x.to_string(), c);
    assert_eq!(last.0, [s("COMMIT_MESSAGE", false)]);
    assert_eq!(last.1, [s("COMMIT_MESSAGE", true), s("UNKNOW", false)]);
    p.shutdown().await.unwrap();
}
