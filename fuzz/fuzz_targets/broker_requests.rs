//! Fuzz the broker's request handling: one real broker per fuzz process (standalone, in-process,
//! on its own actix system and thread), and each input a short sequence of structured requests
//! (see `tests/common/fuzz_requests.rs`) sent over a fresh TCP connection. Every request that must
//! be answered has to be answered within 10 s, and afterwards the connection must still serve
//! GET_BROKER_RUNTIME_INFO; otherwise the target panics. A panic on any broker thread aborts the
//! process (libfuzzer-sys installs an aborting panic hook), so libFuzzer records it as a crash.
#![no_main]

#[path = "../../tests/common/fuzz_requests.rs"]
mod fuzz_requests;

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

use actormq::config::{self, BrokerConfig, Sources};
use libfuzzer_sys::fuzz_target;

use fuzz_requests::{drive, Input, MAX_REQUESTS};

static BROKER: OnceLock<SocketAddr> = OnceLock::new();
static OPAQUE: AtomicI32 = AtomicI32::new(1);
const STORE_PREFIX: &str = "actormq-fuzz-broker-";

/// Remove store directories left by earlier fuzz processes that are gone (libFuzzer exits
/// without running destructors).
fn remove_stale_stores() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(STORE_PREFIX) else {
            continue;
        };
        if !PathBuf::from(format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn broker_config(dir: &std::path::Path) -> BrokerConfig {
    let sets = [
        "standalone=true".to_string(),
        "listenAddr=127.0.0.1".into(),
        "listenPort=0".into(),
        "namesrvListenPort=0".into(),
        "mappedFileSizeCommitLog=8388608".into(),
        "mappedFileSizeConsumeQueue=60000".into(),
        "ioThreads=2".into(),
        format!("storePathRootDir={}", dir.display()),
    ];
    let src = Sources {
        file: None,
        sets: sets.to_vec(),
        env: Vec::new(),
    };
    config::load::<BrokerConfig>(&src)
        .expect("fuzz broker config")
        .0
}

/// Start the broker on a background thread (once per process) and return its address.
fn broker() -> SocketAddr {
    *BROKER.get_or_init(|| {
        remove_stale_stores();
        let dir = std::env::temp_dir().join(format!("{STORE_PREFIX}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = broker_config(&dir);
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("fuzz-broker".into())
            .spawn(move || {
                actix_rt::System::new().block_on(async move {
                    let b = actormq::actors::broker::start(cfg)
                        .await
                        .expect("broker starts");
                    tx.send(b.local_addr).expect("report address");
                    std::future::pending::<()>().await;
                })
            })
            .expect("spawn broker thread");
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("broker started within 30 s");
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    })
}

fuzz_target!(|input: Input| {
    let addr = broker();
    let first = OPAQUE.fetch_add(MAX_REQUESTS as i32 + 1, Ordering::Relaxed);
    let cmds = input.commands(first);
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    if let Err(e) = drive(&mut s, &cmds, first + MAX_REQUESTS as i32) {
        panic!("broker failed: {e}\nrequests: {cmds:#?}");
    }
});
