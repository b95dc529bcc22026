//! For `tests/tls.rs`: test certificates made at test time with rcgen (a CA and a server
//! certificate for 127.0.0.1 and localhost, written to a temp dir: no private key is committed),
//! the `--set` pairs that turn TLS on, the matching `TlsClient`, a blocking rustls client that
//! returns the certificate the server presented, and an HTTPS GET. Every wait is bounded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use actormq::tls::TlsClient;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// Files of one test PKI in a temp dir.
pub struct Certs {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The server certificate as DER, to compare with what a server presents.
    pub cert_der: Vec<u8>,
}

/// A CA and a server certificate signed by it (names: 127.0.0.1, localhost), written as PEM
/// files `ca.pem`, `server.pem`, `server.key` under a new temp dir (and a client certificate,
/// see [`write_certs`]).
pub fn make_certs() -> Certs {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = (
        dir.path().join("ca.pem"),
        dir.path().join("server.pem"),
        dir.path().join("server.key"),
    );
    let der = write_certs(&ca, &cert, &key);
    Certs {
        dir,
        ca,
        cert,
        key,
        cert_der: der,
    }
}

/// Write a fresh CA certificate to `ca` and a server certificate and key signed by it to
/// `cert` and `key`, and a client certificate signed by the same CA to `client.pem` and
/// `client.key` beside `cert`; returns the server certificate's DER.
pub fn write_certs(ca: &Path, cert: &Path, key: &Path) -> Vec<u8> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "actormq test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let mut params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "actormq test server");
    let server_key = KeyPair::generate().unwrap();
    let server = params.signed_by(&server_key, &ca_cert, &ca_key).unwrap();
    for dir in [ca, cert, key].iter().filter_map(|p| p.parent()) {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(ca, ca_cert.pem()).unwrap();
    std::fs::write(cert, server.pem()).unwrap();
    std::fs::write(key, server_key.serialize_pem()).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "actormq test client");
    let client_key = KeyPair::generate().unwrap();
    let client = params.signed_by(&client_key, &ca_cert, &ca_key).unwrap();
    let dir = cert.parent().unwrap();
    std::fs::write(dir.join("client.pem"), client.pem()).unwrap();
    std::fs::write(dir.join("client.key"), client_key.serialize_pem()).unwrap();
    server.der().to_vec()
}

/// The server keys for `mode` (`permissive` / `enforcing`) plus the client side (`tlsEnable`
/// with the CA), so a broker's own connections use TLS too.
pub fn tls_sets(c: &Certs, mode: &str) -> Vec<String> {
    vec![
        format!("tlsMode={mode}"),
        format!("tlsServerCertPath={}", c.cert.display()),
        format!("tlsServerKeyPath={}", c.key.display()),
        "tlsEnable=true".into(),
        format!("tlsClientTrustCertPath={}", c.ca.display()),
    ]
}

/// A client trusting the test CA and presenting the test client certificate.
pub fn tls_client_with_cert(c: &Certs) -> TlsClient {
    let dir = c.cert.parent().unwrap();
    let (cert, key) = (dir.join("client.pem"), dir.join("client.key"));
    let pair = (&*cert.to_string_lossy(), &*key.to_string_lossy());
    TlsClient::from_files(&c.ca.to_string_lossy(), Some(pair)).unwrap()
}

/// A client trusting the test CA.
pub fn tls_client(c: &Certs) -> TlsClient {
    TlsClient::from_files(&c.ca.to_string_lossy(), None).unwrap()
}

/// One request to `addr` over TLS (trusting the test CA) on a fresh connection, at most 3 s;
/// `None` when it cannot be made.
pub fn call_over_tls(
    c: &Certs,
    addr: std::net::SocketAddr,
    cmd: actormq::protocol::RemotingCommand,
) -> Option<actormq::protocol::RemotingCommand> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tls = tls_client(c);
    rt.block_on(async {
        let limit = std::time::Duration::from_secs(3);
        let client = actormq::remoting::client::RemotingClient::connect_with(
            &addr.to_string(),
            limit,
            None,
            Some(&tls),
        )
        .await
        .ok()?;
        client.call(cmd, limit).await.ok()
    })
}

/// A blocking rustls connection to `addr` verified against the test CA.
fn connect_blocking(
    c: &Certs,
    addr: SocketAddr,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let conn = rustls::ClientConnection::new(tls_client(c).rustls_config(), name).unwrap();
    let sock = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    sock.set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    rustls::StreamOwned::new(conn, sock)
}

/// Handshake with `addr` and return the leaf certificate it presented (DER).
pub fn presented_cert(c: &Certs, addr: SocketAddr) -> Vec<u8> {
    let mut tls = connect_blocking(c, addr);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).expect("TLS handshake");
    }
    let certs = tls
        .conn
        .peer_certificates()
        .expect("the server sent certificates");
    certs[0].to_vec()
}

/// `GET path` over HTTPS; returns the status and the body.
pub fn https_get(c: &Certs, addr: SocketAddr, path: &str) -> (u16, String) {
    let mut tls = connect_blocking(c, addr);
    let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tls.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    // A peer that closes without close_notify ends with UnexpectedEof after the data.
    if let Err(e) = tls.read_to_end(&mut raw) {
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}");
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line: {head}"));
    (status, body.to_string())
}
