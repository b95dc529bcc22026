//! The real `namesrv` binary on port 0, driven with raw remoting frames over TCP.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use actormq::protocol::body::{
    ClusterInfo, DataVersion, KvTable, RegisterBrokerBody, TopicConfig,
    TopicConfigSerializeWrapper, TopicList, TopicRouteData,
};
use actormq::protocol::{RemotingCommand, SerializeType};
use common::*;

fn register_cmd(
    name: &str,
    addr: &str,
    id: i64,
    version: i64,
    topics: &[(&str, i32)],
    compressed: bool,
) -> RemotingCommand {
    let mut table = BTreeMap::new();
    for (t, q) in topics {
        table.insert(t.to_string(), TopicConfig::new(t, *q));
    }
    let body = RegisterBrokerBody {
        filter_server_list: vec![],
        topic_config_serialize_wrapper: TopicConfigSerializeWrapper {
            data_version: DataVersion {
                state_version: 0,
                counter: version,
                timestamp: 1,
            },
            topic_config_table: table,
        },
    };
    let bytes = if compressed {
        body.encode_compressed()
    } else {
        body.encode_json()
    };
    let mut c = RemotingCommand::request(103)
        .with_opaque(1)
        .with_body(bytes.clone());
    c.set_ext("brokerName", name);
    c.set_ext("brokerAddr", addr);
    c.set_ext("clusterName", "DefaultCluster");
    c.set_ext("haServerAddr", format!("{addr}-ha"));
    c.set_ext("brokerId", id);
    c.set_ext("compressed", compressed);
    c.set_ext("bodyCrc32", (crc32fast::hash(&bytes) & 0x7FFF_FFFF) as i32);
    c
}

fn route_cmd(topic: &str, opaque: i32) -> RemotingCommand {
    let mut c = RemotingCommand::request(105).with_opaque(opaque);
    c.set_ext("topic", topic);
    c
}

fn start_ns(extra: &[&str]) -> Server {
    let mut args = vec![
        "--set",
        "listenPort=0",
        "--set",
        "listenAddr=127.0.0.1",
        "--set",
        "kvConfigPath=",
    ];
    args.extend_from_slice(extra);
    start(NAMESRV, &args)
}

#[test]
fn register_then_route_in_json_and_binary_headers() {
    let ns = start_ns(&[]);
    let mut s = connect(ns.addr);
    let r = call(
        &mut s,
        &register_cmd(
            "broker-a",
            "127.0.0.1:10911",
            0,
            1,
            &[("TopicTest", 4)],
            false,
        ),
    );
    assert_eq!(r.code, 0, "{:?}", r.remark);

    // JSON request -> JSON response with the route.
    let r = call(&mut s, &route_cmd("TopicTest", 2));
    assert_eq!(r.code, 0);
    assert_eq!(r.serialize_type, SerializeType::Json);
    let route: TopicRouteData = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(route.queue_datas[0].write_queue_nums, 4);
    assert_eq!(route.broker_datas[0].broker_addrs[&0], "127.0.0.1:10911");
    // Standard JSON: quoted numeric keys.
    assert!(std::str::from_utf8(&r.body)
        .unwrap()
        .contains(r#""brokerAddrs":{"0":"127.0.0.1:10911"}"#));
    // RocketMQ 5.x fields, which strict 5.x clients require.
    assert!(std::str::from_utf8(&r.body)
        .unwrap()
        .contains(r#""enableActingMaster":false,"zoneName":""#));

    // Binary (ROCKETMQ) header request -> binary response, same answer.
    let mut b = route_cmd("TopicTest", 3);
    b.serialize_type = SerializeType::RocketMq;
    let r = call(&mut s, &b);
    assert_eq!(r.code, 0);
    assert_eq!(r.serialize_type, SerializeType::RocketMq);
    assert_eq!(
        serde_json::from_slice::<TopicRouteData>(&r.body).unwrap(),
        route
    );

    // Unknown topic: TOPIC_NOT_EXIST with a remark naming it.
    let r = call(&mut s, &route_cmd("Nope", 4));
    assert_eq!(r.code, 17);
    assert!(r.remark.unwrap().contains("Nope"));
}

#[test]
fn raw_java_json_bytes_get_a_raw_json_answer() {
    let ns = start_ns(&[]);
    let mut s = connect(ns.addr);
    call(
        &mut s,
        &register_cmd("broker-a", "127.0.0.1:10911", 0, 1, &[("T1", 2)], true),
    );
    // A request exactly as a Java 4.9.8 client writes it.
    let header = br#"{"code":105,"extFields":{"topic":"T1"},"flag":0,"language":"JAVA","opaque":77,"serializeTypeCurrentRPC":"JSON","version":409}"#;
    let mut frame = Vec::new();
    frame.extend_from_slice(&((4 + header.len()) as u32).to_be_bytes());
    frame.extend_from_slice(&(header.len() as u32).to_be_bytes());
    frame.extend_from_slice(header);
    s.write_all(&frame).unwrap();
    let resp = read_frame_bytes(&mut s).unwrap();
    let total = u32::from_be_bytes(resp[0..4].try_into().unwrap()) as usize;
    assert_eq!(total + 4, resp.len());
    let hword = u32::from_be_bytes(resp[4..8].try_into().unwrap());
    assert_eq!(hword >> 24, 0, "JSON serialize type");
    let hlen = (hword & 0xFF_FFFF) as usize;
    let header: serde_json::Value = serde_json::from_slice(&resp[8..8 + hlen]).unwrap();
    assert_eq!(header["code"], 0);
    assert_eq!(header["opaque"], 77);
    assert_eq!(header["flag"], 1);
    let body: serde_json::Value = serde_json::from_slice(&resp[8 + hlen..]).unwrap();
    assert_eq!(body["queueDatas"][0]["brokerName"], "broker-a");
    assert_eq!(body["queueDatas"][0]["readQueueNums"], 2);
}

#[test]
fn silent_broker_expires_with_short_timers() {
    let ns = start_ns(&[
        "--set",
        "scanNotActiveBrokerInterval=100",
        "--set",
        "brokerChannelExpiredTime=800",
    ]);
    let mut broker = connect(ns.addr);
    let mut client = connect(ns.addr);
    call(
        &mut broker,
        &register_cmd("b", "127.0.0.1:1", 0, 1, &[("E", 1)], false),
    );
    assert_eq!(call(&mut client, &route_cmd("E", 1)).code, 0);
    let start = Instant::now();
    let mut op = 2;
    let gone = wait_until(Duration::from_secs(5), || {
        op += 1;
        call(&mut client, &route_cmd("E", op)).code == 17
    });
    assert!(gone, "broker not expired within 5 s");
    assert!(
        start.elapsed() >= Duration::from_millis(700),
        "expired too early: {:?}",
        start.elapsed()
    );
    drop(broker);
}

#[test]
fn re_registration_keeps_a_broker_alive() {
    let ns = start_ns(&[
        "--set",
        "scanNotActiveBrokerInterval=100",
        "--set",
        "brokerChannelExpiredTime=800",
    ]);
    let mut broker = connect(ns.addr);
    let mut client = connect(ns.addr);
    for i in 0..12 {
        call(
            &mut broker,
            &register_cmd("b", "127.0.0.1:1", 0, 1, &[("E", 1)], false),
        );
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(
            call(&mut client, &route_cmd("E", i)).code,
            0,
            "dropped while registering"
        );
    }
}

#[test]
fn closed_connection_drops_broker_at_once() {
    let ns = start_ns(&[]);
    let mut client = connect(ns.addr);
    {
        let mut broker = connect(ns.addr);
        call(
            &mut broker,
            &register_cmd("b", "127.0.0.1:2", 0, 1, &[("C", 1)], false),
        );
        assert_eq!(call(&mut client, &route_cmd("C", 1)).code, 0);
    }
    let mut op = 2;
    assert!(
        wait_until(Duration::from_secs(3), || {
            op += 1;
            call(&mut client, &route_cmd("C", op)).code == 17
        }),
        "broker still routed after its connection closed"
    );
}

#[test]
fn unregister_cluster_info_topic_list_and_kv() {
    let ns = start_ns(&[]);
    let mut s = connect(ns.addr);
    call(
        &mut s,
        &register_cmd("a", "127.0.0.1:3", 0, 1, &[("X", 4), ("Y", 4)], false),
    );
    call(&mut s, &register_cmd("a", "127.0.0.1:4", 1, 1, &[], false));

    let r = call(&mut s, &RemotingCommand::request(106).with_opaque(5));
    let ci: ClusterInfo = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(ci.broker_addr_table["a"].broker_addrs.len(), 2);
    assert!(ci.cluster_addr_table["DefaultCluster"].contains("a"));

    let r = call(&mut s, &RemotingCommand::request(206).with_opaque(6));
    let tl: TopicList = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        tl.topic_list.into_iter().collect::<Vec<_>>(),
        vec!["X", "Y"]
    );

    // KV config: put, get, list, delete, get -> QUERY_NOT_FOUND.
    let mut put = RemotingCommand::request(100).with_opaque(7);
    put.set_ext("namespace", "ORDER_TOPIC_CONFIG");
    put.set_ext("key", "X");
    put.set_ext("value", "a:4");
    assert_eq!(call(&mut s, &put).code, 0);
    let mut get = RemotingCommand::request(101).with_opaque(8);
    get.set_ext("namespace", "ORDER_TOPIC_CONFIG");
    get.set_ext("key", "X");
    let r = call(&mut s, &get);
    assert_eq!((r.code, r.ext("value")), (0, Some("a:4")));
    let route: TopicRouteData =
        serde_json::from_slice(&call(&mut s, &route_cmd("X", 9)).body).unwrap();
    assert_eq!(route.order_topic_conf.as_deref(), Some("a:4"));
    let mut list = RemotingCommand::request(219).with_opaque(10);
    list.set_ext("namespace", "ORDER_TOPIC_CONFIG");
    let kv: KvTable = serde_json::from_slice(&call(&mut s, &list).body).unwrap();
    assert_eq!(kv.table["X"], "a:4");
    let mut del = get.clone();
    del.code = 102;
    assert_eq!(call(&mut s, &del).code, 0);
    assert_eq!(call(&mut s, &get).code, 22);

    // Slave leaves: master still routed; master leaves: topic gone.
    let mut un = RemotingCommand::request(104).with_opaque(11);
    un.set_ext("brokerName", "a");
    un.set_ext("brokerAddr", "127.0.0.1:4");
    un.set_ext("clusterName", "DefaultCluster");
    un.set_ext("brokerId", 1);
    assert_eq!(call(&mut s, &un).code, 0);
    assert_eq!(call(&mut s, &route_cmd("X", 12)).code, 0);
    un.set_ext("brokerAddr", "127.0.0.1:3");
    un.set_ext("brokerId", 0);
    assert_eq!(call(&mut s, &un).code, 0);
    assert_eq!(call(&mut s, &route_cmd("X", 13)).code, 17);
}

#[test]
fn errors_are_answered_with_codes_and_remarks() {
    let ns = start_ns(&[]);
    let mut s = connect(ns.addr);
    // Unknown code.
    let r = call(&mut s, &RemotingCommand::request(9999).with_opaque(1));
    assert_eq!(r.code, 3);
    assert!(r.remark.unwrap().contains("9999"));
    // Missing header field: the remark names it.
    let r = call(&mut s, &RemotingCommand::request(105).with_opaque(2));
    assert_eq!(r.code, 1);
    assert!(r.remark.unwrap().contains("topic"));
    // Bad body CRC.
    let mut reg = register_cmd("a", "127.0.0.1:5", 0, 1, &[("Z", 1)], false);
    reg.set_ext("bodyCrc32", 12345);
    let r = call(&mut s, &reg);
    assert_eq!(r.code, 1);
    assert!(r.remark.unwrap().contains("crc32"));
    // Undecodable body.
    let mut reg = register_cmd("a", "127.0.0.1:5", 0, 1, &[], true);
    reg.body = bytes::Bytes::from_static(b"not zlib");
    reg.set_ext("bodyCrc32", 0);
    assert_eq!(call(&mut s, &reg).code, 1);
    // A oneway request gets no answer: the next response on the wire is for the next request.
    let mut oneway = route_cmd("Z", 50);
    oneway.mark_oneway();
    send(&mut s, &oneway);
    let r = call(&mut s, &route_cmd("Z", 51));
    assert_eq!(r.opaque, 51);
}

/// Send `bytes` on a fresh connection, half-close it, and wait (bounded) until the server closes
/// it. The socket is then reset rather than left in TIME_WAIT, so thousands of these in a row do
/// not run the client out of ports.
fn closed_after(addr: std::net::SocketAddr, bytes: &[u8]) -> bool {
    use std::os::fd::AsRawFd;
    let mut s = connect(addr);
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut buf = [0u8; 4096];
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket fd we own, with a correctly sized linger struct.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    closed
}

#[test]
fn garbage_and_oversize_frames_close_only_their_connection() {
    let ns = start_ns(&["--set", "frameMaxLength=65536"]);
    let mut keep = connect(ns.addr);
    assert_eq!(call(&mut keep, &route_cmd("none", 1)).code, 17);

    // Oversize length word.
    assert!(closed_after(ns.addr, &0x7FFF_FFFFu32.to_be_bytes()));
    assert!(closed_after(ns.addr, &70_000u32.to_be_bytes()));
    // Too small, header past frame, garbage header, unknown serialize type.
    assert!(closed_after(ns.addr, &[0, 0, 0, 2, 0, 0]));
    assert!(closed_after(
        ns.addr,
        &[0, 0, 0, 8, 0, 0, 0, 100, 1, 2, 3, 4]
    ));
    assert!(closed_after(
        ns.addr,
        b"\x00\x00\x00\x0a\x00\x00\x00\x06{{{{{{"
    ));
    assert!(closed_after(ns.addr, b"\x00\x00\x00\x06\x07\x00\x00\x02{}"));

    // Thousands of random frames on fresh connections.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let started = Instant::now();
    let n = 2000;
    for i in 0..n {
        let len = (rnd() % 64) as usize;
        let mut f: Vec<u8> = (0..len).map(|_| rnd() as u8).collect();
        if i % 2 == 0 {
            // A plausible length word so the header parser sees the garbage.
            let body = f.clone();
            f = ((body.len() + 4) as u32).to_be_bytes().to_vec();
            f.extend_from_slice(&((rnd() % 40) as u32).to_be_bytes());
            f.extend_from_slice(&body);
        }
        assert!(
            closed_after(ns.addr, &f),
            "connection {i} not closed by the server"
        );
    }
    eprintln!(
        "{n} random frames on fresh connections in {:?}",
        started.elapsed()
    );
    // The server still answers, on the old connection and on a new one.
    assert_eq!(call(&mut keep, &route_cmd("none", 2)).code, 17);
    let mut fresh = connect(ns.addr);
    assert_eq!(call(&mut fresh, &route_cmd("none", 3)).code, 17);
}

#[test]
fn config_errors_and_print_config() {
    let out = std::process::Command::new(NAMESRV)
        .args(["--set", "listenPort=1234", "--print-config"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let cfg: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cfg["listenPort"], 1234);
    assert_eq!(cfg["brokerChannelExpiredTime"], 120000);

    let out = std::process::Command::new(NAMESRV)
        .args(["--set", "noSuchKey=1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("noSuchKey"));

    // A RocketMQ namesrv.conf (properties) loads; its Java-only keys are accepted.
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("namesrv.conf");
    std::fs::write(
        &conf,
        "listenPort=0\nrocketmqHome=/opt/rocketmq\n# comment\n",
    )
    .unwrap();
    let out = std::process::Command::new(NAMESRV)
        .args(["-c", conf.to_str().unwrap(), "--print-config"])
        .env("ACTORMQ_SCANNOTACTIVEBROKERINTERVAL", "5000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cfg: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cfg["listenPort"], 0);
    assert_eq!(cfg["scanNotActiveBrokerInterval"], 5000);

    // The shipped example configs load.
    for file in ["conf/namesrv.toml", "conf/namesrv.conf"] {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + file;
        let out = std::process::Command::new(NAMESRV)
            .args(["-c", &path, "--print-config"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cfg: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(cfg["listenPort"], 9876, "{file}");
    }
}

#[test]
fn kv_config_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kvConfig.json");
    let set = format!("kvConfigPath={}", path.display());
    let get = {
        let mut c = RemotingCommand::request(101).with_opaque(2);
        c.set_ext("namespace", "ORDER_TOPIC_CONFIG");
        c.set_ext("key", "T");
        c
    };
    {
        let ns = start_ns(&["--set", &set]);
        let mut s = connect(ns.addr);
        let mut put = RemotingCommand::request(100).with_opaque(1);
        put.set_ext("namespace", "ORDER_TOPIC_CONFIG");
        put.set_ext("key", "T");
        put.set_ext("value", "broker-a:8");
        assert_eq!(call(&mut s, &put).code, 0);
        assert!(wait_until(Duration::from_secs(3), || path.exists()));
    }
    let ns = start_ns(&["--set", &set]);
    let mut s = connect(ns.addr);
    let r = call(&mut s, &get);
    assert_eq!((r.code, r.ext("value")), (0, Some("broker-a:8")));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("configTable"), "{text}");
}
