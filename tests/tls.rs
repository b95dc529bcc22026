//! TLS end to end with the real binaries and certificates made at test time (tests/common/tls.rs):
//! the Rust client's round trip in enforcing mode; plain clients refused in enforcing and
//! accepted in permissive (TLS ones too); the certificate a client sees (rustls always, and
//! `openssl s_client` where openssl is installed); mqadmin over TLS; a master/slave pair
//! replicating over a TLS HA port; the dashboard over HTTPS; a start refused for a missing
//! certificate; the shipped `conf/standalone-tls.toml`.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actormq::client::*;
use actormq::protocol::RemotingCommand;
use actormq::remoting::client::RemotingClient;
use common::client::*;
use common::tls::*;
use common::{call, closed_by_server, connect, rmq, run_to_exit, send, BROKER, NAMESRV};

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// GET_BROKER_RUNTIME_INFO (28).
fn probe() -> RemotingCommand {
    rmq::request(28, &[])
}

/// One request over TLS with `RemotingClient`; the response code.
async fn tls_code(certs: &Certs, addr: SocketAddr, cmd: RemotingCommand) -> i32 {
    let tls = tls_client(certs);
    let c =
        RemotingClient::connect_with(&addr.to_string(), Duration::from_secs(5), None, Some(&tls))
            .await
            .expect("TLS connect");
    c.call(cmd, Duration::from_secs(5))
        .await
        .expect("answer")
        .code
}

/// Pull every message of `topic` with a TLS pull consumer until `want` arrived (≤ 15 s).
async fn pull_all(b: &Standalone, certs: &Certs, topic: &str, want: usize) -> Vec<String> {
    let mut cfg = consumer_config(b, "cg-tls", "c-tls");
    cfg.client.tls = Some(tls_client(certs));
    let pc = PullConsumer::start(cfg, &[topic]).await.unwrap();
    let queues = pc.queues(topic).await.unwrap();
    let mut next = vec![0i64; queues.len()];
    let mut out = Vec::new();
    let start = Instant::now();
    while out.len() < want && start.elapsed() < Duration::from_secs(15) {
        for (i, q) in queues.iter().enumerate() {
            let r = pc.pull(q, "*", next[i], 32, None).await.unwrap();
            next[i] = r.next_begin_offset;
            out.extend(
                r.msgs
                    .iter()
                    .map(|m| String::from_utf8_lossy(&m.body).into_owned()),
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pc.shutdown().await.unwrap();
    out.sort();
    out
}

#[tokio::test]
async fn client_round_trip_in_enforcing_mode() {
    let certs = make_certs();
    let b = start_broker(&refs(&tls_sets(&certs, "enforcing")));
    let mut cfg = producer_config(&b, "pg-tls");
    cfg.client.tls = Some(tls_client(&certs));
    let p = Producer::start(cfg).await.unwrap();
    let mut sent: Vec<String> = (0..20).map(|i| format!("tls-{i:02}")).collect();
    for body in &sent {
        let r = p
            .send(Message::new("TlsRoundTrip", body.clone()))
            .await
            .unwrap();
        assert_eq!(r.status, SendStatus::SendOk);
    }
    p.shutdown().await.unwrap();
    sent.sort();
    assert_eq!(pull_all(&b, &certs, "TlsRoundTrip", sent.len()).await, sent);
    // The same client without TLS gets nowhere.
    let plain = Producer::start(producer_config(&b, "pg-plain")).await;
    let refused = match plain {
        Err(_) => true,
        Ok(p) => p.send(Message::new("TlsRoundTrip", "x")).await.is_err(),
    };
    assert!(
        refused,
        "a plain client must not send to an enforcing broker"
    );
}

#[tokio::test]
async fn plain_refused_in_enforcing_accepted_in_permissive() {
    let certs = make_certs();
    let enforcing = start_broker(&refs(&tls_sets(&certs, "enforcing")));
    // GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206) for the name server.
    for (addr, code) in [(enforcing.broker, 28), (enforcing.namesrv, 206)] {
        let mut s = connect(addr);
        send(&mut s, &rmq::request(code, &[]));
        assert!(
            closed_by_server(&mut s, Duration::from_secs(15)),
            "{addr}: plain connection must be closed in enforcing mode"
        );
        let answer = tls_code(&certs, addr, rmq::request(code, &[])).await;
        assert_eq!(answer, 0, "{addr} over TLS");
    }
    let permissive = start_broker(&refs(&tls_sets(&certs, "permissive")));
    let plain = call(&mut connect(permissive.broker), &probe());
    assert_eq!(plain.code, 0, "plain in permissive: {:?}", plain.remark);
    assert_eq!(tls_code(&certs, permissive.broker, probe()).await, 0);
    // A remote request cannot turn TLS off (the keys are in the black lists).
    let off = |code| rmq::request(code, &[]).with_body(b"tlsMode=disabled".to_vec());
    let r = call(&mut connect(permissive.broker), &off(25));
    assert_eq!(
        r.remark.as_deref(),
        Some("Can not update config in black list.")
    );
    let r = call(&mut connect(permissive.namesrv), &off(318));
    assert_eq!(
        r.remark.as_deref(),
        Some("Can not update config in black list.")
    );
    let plain = call(&mut connect(permissive.namesrv), &rmq::request(206, &[]));
    assert_eq!(plain.code, 0, "{:?}", plain.remark);
    assert_eq!(
        tls_code(&certs, permissive.namesrv, rmq::request(206, &[])).await,
        0
    );
}

#[tokio::test]
async fn client_certificates_required() {
    let certs = make_certs();
    let dir = certs.cert.parent().unwrap();
    let mut sets = tls_sets(&certs, "enforcing");
    sets.extend([
        "tlsServerNeedClientAuth=require".to_string(),
        format!("tlsServerTrustCertPath={}", certs.ca.display()),
        // The broker's own registration with its name server presents one too.
        format!("tlsClientCertPath={}", dir.join("client.pem").display()),
        format!("tlsClientKeyPath={}", dir.join("client.key").display()),
    ]);
    let b = start_broker(&refs(&sets));
    let addr = b.broker.to_string();
    let t = Duration::from_secs(5);
    let with = tls_client_with_cert(&certs);
    let c = RemotingClient::connect_with(&addr, t, None, Some(&with))
        .await
        .unwrap();
    assert_eq!(c.call(probe(), t).await.unwrap().code, 0);
    // Without a certificate: the handshake (TLS 1.3: the first read) fails.
    let without = tls_client(&certs);
    let refused = match RemotingClient::connect_with(&addr, t, None, Some(&without)).await {
        Err(_) => true,
        Ok(c) => c.call(probe(), t).await.is_err(),
    };
    assert!(refused, "a client without a certificate was served");
    // The broker registered with its own name server (with its client certificate).
    let mut cfg = producer_config(&b, "pg-mtls");
    cfg.client.tls = Some(with);
    let p = Producer::start(cfg).await.unwrap();
    let r = p.send(Message::new("TlsMutual", "m")).await.unwrap();
    assert_eq!(r.status, SendStatus::SendOk);
    p.shutdown().await.unwrap();
}

#[test]
fn mqbench_over_tls() {
    let certs = make_certs();
    let b = start_broker(&refs(&tls_sets(&certs, "enforcing")));
    let ca = certs.ca.to_string_lossy().into_owned();
    let ns = b.namesrv_addr();
    let args = [
        "producer",
        "--namesrv",
        &ns,
        "-t",
        "TlsBench",
        "--count",
        "200",
        "--duration",
        "0",
        "--timeout-ms",
        "15000",
        "--json",
        "--quiet",
        "--tls-ca",
        &ca,
    ];
    let (code, out, err) = run_to_exit(
        env!("CARGO_BIN_EXE_mqbench"),
        &args,
        Duration::from_secs(60),
    );
    assert_eq!(code, Some(0), "{err}");
    let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(summary["sent"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(
        summary["sent"].as_u64().unwrap() + summary["failed"].as_u64().unwrap(),
        200,
        "{summary}"
    );
}

#[tokio::test]
async fn silent_peers_do_not_hold_up_others() {
    let certs = make_certs();
    for mode in ["enforcing", "permissive"] {
        let b = start_broker(&refs(&tls_sets(&certs, mode)));
        // Connected, never a byte (permissive waits for the first one; enforcing for the
        // ClientHello), and one that starts a handshake and stalls.
        let mut silent: Vec<_> = (0..16).map(|_| connect(b.broker)).collect();
        let mut stalled = connect(b.broker);
        stalled.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).unwrap();
        let start = Instant::now();
        assert_eq!(tls_code(&certs, b.broker, probe()).await, 0, "{mode}");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{mode}: {:?}",
            start.elapsed()
        );
        // Each is dropped after the handshake timeout (10 s).
        silent.push(stalled);
        for s in &mut silent {
            assert!(
                closed_by_server(s, Duration::from_secs(20)),
                "{mode}: still open"
            );
        }
    }
}

#[test]
fn clients_see_our_certificate() {
    let certs = make_certs();
    let b = start_broker(&refs(&tls_sets(&certs, "enforcing")));
    for addr in [b.broker, b.namesrv] {
        assert!(
            presented_cert(&certs, addr) == certs.cert_der,
            "{addr} presented another certificate"
        );
    }
    openssl_sees(&certs, b.broker);
}

/// `openssl s_client` verifies the broker's certificate against the CA and prints it.
fn openssl_sees(certs: &Certs, addr: SocketAddr) {
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        panic!("openssl is needed for this check (and for the README's certificate commands): apt-get install -y openssl");
    }
    let mut child = std::process::Command::new("openssl")
        .args(["s_client", "-connect", &addr.to_string(), "-CAfile"])
        .arg(&certs.ca)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdin.take()); // EOF: s_client quits after the handshake.
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    let pem = std::fs::read_to_string(&certs.cert).unwrap();
    assert!(squash(&text).contains(&squash(&pem)), "{text}");
}

#[test]
fn mqadmin_over_tls() {
    let certs = make_certs();
    let b = start_broker(&refs(&tls_sets(&certs, "enforcing")));
    let ns = b.namesrv_addr();
    let ca = certs.ca.to_string_lossy().into_owned();
    let out = common::mqadmin::adm(&ns, "clusterList", &["--tls-ca", &ca]).ok();
    assert!(out.contains("broker-a"), "{out}");
    common::mqadmin::adm(&ns, "clusterList", &[]).fails_with("");
    common::mqadmin::adm(&ns, "clusterList", &["--tls"]).fails_with("--tls-ca");
    // The commands that start a producer (sendMessage, queryMsgById -s) connect with TLS too.
    let tls = ["--tls-ca", ca.as_str()];
    let sent = common::mqadmin::adm(
        &ns,
        "sendMessage",
        &[&["-t", "TlsAdm", "-p", "over-tls", "--json"][..], &tls].concat(),
    )
    .json();
    assert_eq!(sent["sendResult"], "SEND_OK", "{sent}");
    let id = sent["offsetMsgId"].as_str().unwrap().to_string();
    let resent = common::mqadmin::adm(
        &ns,
        "queryMsgById",
        &[&["-i", id.as_str(), "-s", "true"][..], &tls].concat(),
    )
    .ok();
    assert!(resent.contains("sendStatus=SEND_OK"), "{resent}");
}

#[tokio::test]
async fn master_and_slave_replicate_over_tls() {
    use common::ha::{start_master, start_slave};
    let certs = make_certs();
    let sets = tls_sets(&certs, "enforcing");
    let mut ns_args = common::set_args(&["listenPort=0", "listenAddr=127.0.0.1", "kvConfigPath="]);
    ns_args.extend(common::set_args(&sets));
    let ns = common::start(NAMESRV, &refs(&ns_args));
    let (mdir, sdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (master, ha) = start_master(mdir.path(), ns.addr, &refs(&sets));
    let slave = start_slave(sdir.path(), ns.addr, Some(ha), &refs(&sets));
    let mut cfg = ProducerConfig::new(&ns.addr.to_string(), "pg-ha-tls");
    cfg.client.tls = Some(tls_client(&certs));
    cfg.client.client_ip = "127.0.0.1".into();
    let p = Producer::start(cfg).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    // The route appears once the master has registered (over TLS) with the name server.
    let mut sent = 0;
    while sent < 10 {
        match p.send(Message::new("TlsHa", format!("ha-{sent}"))).await {
            Ok(_) => sent += 1,
            Err(e) => {
                assert!(Instant::now() < deadline, "send never worked: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    p.shutdown().await.unwrap();
    let offset = |addr: SocketAddr| {
        let certs = &certs;
        async move {
            let tls = tls_client(certs);
            let c = RemotingClient::connect_with(
                &addr.to_string(),
                Duration::from_secs(5),
                None,
                Some(&tls),
            )
            .await
            .unwrap();
            let r = c.call(probe(), Duration::from_secs(5)).await.unwrap();
            let t: actormq::protocol::body::KvTable = serde_json::from_slice(&r.body).unwrap();
            t.table["commitLogMaxOffset"].parse::<i64>().unwrap()
        }
    };
    let want = offset(master.addr).await;
    assert!(want > 0);
    let start = Instant::now();
    while offset(slave.addr).await != want {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the slave never caught up over TLS"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn permissive_master_replicates_to_a_plain_slave() {
    use common::ha::{max_offset, start_master, start_namesrv, start_slave};
    let certs = make_certs();
    let ns = start_namesrv();
    let (mdir, sdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server_only = [
        "tlsMode=permissive".to_string(),
        format!("tlsServerCertPath={}", certs.cert.display()),
        format!("tlsServerKeyPath={}", certs.key.display()),
    ];
    let (master, ha) = start_master(mdir.path(), ns.addr, &refs(&server_only));
    // The HA port in permissive mode speaks TLS to a TLS client ...
    assert!(presented_cert(&certs, ha) == certs.cert_der);
    // ... and replicates to a slave without any TLS.
    let slave = start_slave(sdir.path(), ns.addr, Some(ha), &[]);
    let mut cfg = ProducerConfig::new(&ns.addr.to_string(), "pg-ha-plain");
    cfg.client.client_ip = "127.0.0.1".into();
    let p = Producer::start(cfg).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while p.send(Message::new("PlainHa", "x")).await.is_err() {
        assert!(Instant::now() < deadline, "send never worked");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    p.shutdown().await.unwrap();
    let want = max_offset(master.addr);
    assert!(want > 0);
    let caught_up = tokio::task::spawn_blocking(move || {
        common::wait_until(Duration::from_secs(20), || max_offset(slave.addr) == want)
    });
    assert!(caught_up.await.unwrap(), "the plain slave never caught up");
}

#[test]
fn dashboard_serves_https() {
    let certs = make_certs();
    let d = common::dashboard::start_dashboard(&refs(&tls_sets(&certs, "enforcing")));
    let got = common::dashboard::wait_for(Duration::from_secs(15), || {
        let (status, body) = https_get(&certs, d.dashboard, "/api/cluster");
        (status == 200 && body.contains("broker-a")).then_some(body)
    });
    assert!(
        got.is_some(),
        "GET /api/cluster over HTTPS never named broker-a"
    );
    // Plain HTTP gets no HTTP answer.
    let mut s = connect(d.dashboard);
    s.write_all(b"GET /api/cluster HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    assert!(!raw.starts_with(b"HTTP/1.1 200"), "plain HTTP answered");
}

#[test]
fn missing_certificate_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.pem").display().to_string();
    let sets = [
        "standalone=true".to_string(),
        "listenPort=0".into(),
        "namesrvListenPort=0".into(),
        format!("storePathRootDir={}", dir.path().display()),
        "tlsMode=enforcing".into(),
        format!("tlsServerCertPath={missing}"),
        format!("tlsServerKeyPath={missing}"),
        "tlsEnable=true".into(),
        format!("tlsClientTrustCertPath={missing}"),
    ];
    let args = common::set_args(&sets);
    let (code, _, err) = run_to_exit(BROKER, &refs(&args), Duration::from_secs(20));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("tlsServerCertPath") && err.contains(&missing),
        "{err}"
    );
    // No path at all: the config is refused before anything starts.
    let args = common::set_args(&["listenPort=0", "tlsMode=enforcing"]);
    let (code, _, err) = run_to_exit(NAMESRV, &refs(&args), Duration::from_secs(20));
    assert_ne!(code, Some(0));
    assert!(
        err.contains("tlsServerCertPath") && err.contains("enforcing"),
        "{err}"
    );
}

/// The README's `openssl` lines (section "Security"), run by `sh` in `dir`; false (with the
/// reason printed) when openssl is not installed.
fn readme_openssl_certs(dir: &std::path::Path) -> bool {
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        println!("openssl not installed: the README's openssl commands are not run; rcgen makes the files");
        return false;
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let lines: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("mkdir -p data/tls") || l.starts_with("openssl "))
        .collect();
    assert_eq!(
        lines.len(),
        4,
        "the README's certificate commands: {lines:?}"
    );
    for line in lines {
        let out = std::process::Command::new("sh")
            .args(["-c", line])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    true
}

/// The broker's listening lines (name -> address) until the `vip channel` one (≤ 20 s).
fn ready_lines(
    lines: &std::sync::mpsc::Receiver<String>,
) -> std::collections::BTreeMap<String, SocketAddr> {
    let mut seen = std::collections::BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !seen.contains_key("vip") && Instant::now() < deadline {
        if let Ok(l) = lines.recv_timeout(Duration::from_millis(200)) {
            let name = l.split(' ').next().unwrap_or_default().to_string();
            seen.insert(name, common::listening_addr(&l));
        }
    }
    seen
}

#[test]
fn shipped_tls_conf_starts_in_enforcing_mode() {
    let dir = tempfile::tempdir().unwrap();
    let conf = concat!(env!("CARGO_MANIFEST_DIR"), "/conf/standalone-tls.toml");
    std::fs::copy(conf, dir.path().join("standalone-tls.toml")).unwrap();
    // The paths the file names, relative to where the broker runs (README "Security").
    let tls = dir.path().join("data/tls");
    let (ca, cert, key) = (
        tls.join("ca.pem"),
        tls.join("server.pem"),
        tls.join("server.key"),
    );
    if !readme_openssl_certs(dir.path()) {
        write_certs(&ca, &cert, &key);
    }
    use rustls::pki_types::pem::PemObject;
    let der = rustls::pki_types::CertificateDer::from_pem_file(&cert)
        .unwrap()
        .to_vec();
    let args = common::set_args(&["listenPort=0", "namesrvListenPort=0"]);
    let mut child = std::process::Command::new(BROKER)
        .current_dir(dir.path())
        .arg("-c")
        .arg("standalone-tls.toml")
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ready = ready_lines(&common::line_channel(child.stdout.take().unwrap()));
    let certs = Certs {
        ca,
        cert,
        key,
        cert_der: der,
        dir,
    };
    // Every port of the process: name server, broker, HA, VIP.
    for port in ["namesrv", "broker", "ha", "vip"] {
        let addr = *ready
            .get(port)
            .unwrap_or_else(|| panic!("no {port} line: {ready:?}"));
        assert!(presented_cert(&certs, addr) == certs.cert_der, "{port}");
        let mut s = connect(addr);
        send(&mut s, &probe());
        assert!(
            closed_by_server(&mut s, Duration::from_secs(15)),
            "{port} took plain TCP"
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}
