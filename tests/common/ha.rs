//! Master/slave deployments from the real binaries: a name server of its own (so killing the
//! master leaves routing up), a master printing its HA address, and slaves.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use super::{listening_addr, set_args, start, Server, BROKER, NAMESRV};

/// A name server on a free port (no KV file).
pub fn start_namesrv() -> Server {
    start_namesrv_with(&[])
}

/// A name server with `extra` settings (`key=value`) on top of the defaults above.
pub fn start_namesrv_with(extra: &[&str]) -> Server {
    let mut sets = vec!["listenPort=0", "listenAddr=127.0.0.1", "kvConfigPath="];
    sets.extend_from_slice(extra);
    let args = set_args(&sets);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    start(NAMESRV, &refs)
}

/// Settings every broker of a test deployment shares: free ports, `dir` as its store, quick
/// registration and HA heartbeats. `extra` comes last, so it overrides.
fn broker_sets(dir: &Path, namesrv: SocketAddr, extra: &[&str]) -> Vec<String> {
    let mut sets = vec![
        "listenAddr=127.0.0.1".to_string(),
        "listenPort=0".into(),
        format!("storePathRootDir={}", dir.display()),
        format!("namesrvAddr={namesrv}"),
        "mappedFileSizeCommitLog=8388608".into(),
        "mappedFileSizeConsumeQueue=60000".into(),
        "flushConsumerOffsetInterval=200".into(),
        "registerNameServerPeriod=1000".into(),
        "haSendHeartbeatInterval=200".into(),
    ];
    sets.extend(extra.iter().map(|s| s.to_string()));
    sets
}

fn start_with(sets: &[String]) -> Server {
    let args = set_args(sets);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    start(BROKER, &refs)
}

/// A master (ASYNC_MASTER unless `extra` says `brokerRole=SYNC_MASTER`) registered with
/// `namesrv`; returns it and its HA address (its second ready line).
pub fn start_master(dir: &Path, namesrv: SocketAddr, extra: &[&str]) -> (Server, SocketAddr) {
    let mut sets = broker_sets(dir, namesrv, &["haListenPort=0"]);
    sets.extend(extra.iter().map(|s| s.to_string()));
    let master = start_with(&sets);
    let line = master
        .stdout_lines
        .recv_timeout(Duration::from_secs(20))
        .expect("the master printed its HA line");
    assert!(line.starts_with("ha listening on "), "{line}");
    let ha = listening_addr(&line);
    (master, ha)
}

/// A slave (brokerId 1 unless `extra` says otherwise) of the master whose HA address is `ha`;
/// `None` lets it learn the address from the name server.
pub fn start_slave(
    dir: &Path,
    namesrv: SocketAddr,
    ha: Option<SocketAddr>,
    extra: &[&str],
) -> Server {
    let mut sets = broker_sets(dir, namesrv, &["brokerRole=SLAVE", "brokerId=1"]);
    if let Some(ha) = ha {
        sets.push(format!("haMasterAddress={ha}"));
    }
    sets.extend(extra.iter().map(|s| s.to_string()));
    start_with(&sets)
}

/// GET_BROKER_RUNTIME_INFO (28) of the broker at `addr`, as its key/value table.
pub fn runtime_info(addr: SocketAddr) -> std::collections::BTreeMap<String, String> {
    let mut s = super::connect(addr);
    let r = super::call(&mut s, &super::rmq::request(28, &[]));
    assert_eq!(r.code, 0, "{:?}", r.remark);
    serde_json::from_slice::<actormq::protocol::body::KvTable>(&r.body)
        .unwrap()
        .table
}

/// The broker's CommitLog end (`commitLogMaxOffset` of GET_BROKER_RUNTIME_INFO).
pub fn max_offset(addr: SocketAddr) -> i64 {
    runtime_info(addr)["commitLogMaxOffset"].parse().unwrap()
}
