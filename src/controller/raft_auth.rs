//! Mutual authentication of the Raft connections between controllers with a shared secret
//! (`controllerRaftSecret`; RocketMQ's DLedger controllers have none). Why: anyone who can
//! reach a Raft port could otherwise vote, append entries and so decide which broker is
//! master. Empty secret = no handshake (the old, open transport).
//!
//! On connect, before any frame:
//! 1. server -> client: `MAGIC` (8 bytes) + server nonce (16 random bytes)
//! 2. client -> server: client nonce (16) + HMAC-SHA1(secret, "client" + both nonces) (20)
//! 3. server -> client: HMAC-SHA1(secret, "server" + both nonces) (20)
//!
//! Each side checks the other's MAC (in constant time) and closes on a mismatch, so neither a
//! stranger connecting to a Raft port nor a stranger answering on a peer's address gets
//! through. Fresh nonces on both sides keep a recorded handshake from being replayed. Frames
//! after the handshake are not authenticated one by one: this guards against intruders, not
//! against someone on the path who can take over a TCP connection (use a private network).

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const MAGIC: &[u8; 8] = b"AMQRAFT1";
const NONCE: usize = 16;
const MAC: usize = 20;

/// The shared secret of a controller group.
#[derive(Clone)]
pub struct RaftSecret(Vec<u8>);

impl std::fmt::Debug for RaftSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RaftSecret(******)")
    }
}

impl RaftSecret {
    /// `None` for an empty secret (no authentication).
    pub fn from_config(secret: &str) -> Option<RaftSecret> {
        (!secret.is_empty()).then(|| RaftSecret(secret.as_bytes().to_vec()))
    }

    fn mac(&self, label: &[u8], server: &[u8], client: &[u8]) -> Hmac<Sha1> {
        let mut m = Hmac::<Sha1>::new_from_slice(&self.0).expect("HMAC takes any key length");
        m.update(label);
        m.update(server);
        m.update(client);
        m
    }

    /// The MAC `label`'s side sends for these nonces.
    pub fn tag(&self, label: &[u8], server: &[u8], client: &[u8]) -> [u8; MAC] {
        self.mac(label, server, client)
            .finalize()
            .into_bytes()
            .into()
    }

    /// Whether `tag` is `label`'s MAC for these nonces (constant time).
    pub fn check(&self, label: &[u8], server: &[u8], client: &[u8], tag: &[u8]) -> bool {
        self.mac(label, server, client).verify_slice(tag).is_ok()
    }
}

fn refused(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::PermissionDenied, why.to_string())
}

fn nonce() -> [u8; NONCE] {
    let mut n = [0u8; NONCE];
    rand::rngs::OsRng.fill_bytes(&mut n);
    n
}

/// The accepting side's handshake; an error means the peer must be disconnected.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    secret: &RaftSecret,
) -> std::io::Result<()> {
    let server = nonce();
    let mut hello = MAGIC.to_vec();
    hello.extend_from_slice(&server);
    s.write_all(&hello).await?;
    let mut reply = [0u8; NONCE + MAC];
    s.read_exact(&mut reply).await?;
    let (client, tag) = reply.split_at(NONCE);
    if !secret.check(b"client", &server, client, tag) {
        return Err(refused(
            "the peer does not know controllerRaftSecret (or speaks without it)",
        ));
    }
    s.write_all(&secret.tag(b"server", &server, client)).await
}

/// The connecting side's handshake; an error means the connection must not be used.
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    secret: &RaftSecret,
) -> std::io::Result<()> {
    let mut hello = [0u8; MAGIC.len() + NONCE];
    s.read_exact(&mut hello).await?;
    let (magic, server) = hello.split_at(MAGIC.len());
    if magic != MAGIC {
        return Err(refused(
            "the peer did not open a controllerRaftSecret handshake",
        ));
    }
    let client = nonce();
    let mut reply = client.to_vec();
    reply.extend_from_slice(&secret.tag(b"client", server, &client));
    s.write_all(&reply).await?;
    let mut tag = [0u8; MAC];
    s.read_exact(&mut tag).await?;
    if !secret.check(b"server", server, &client, &tag) {
        return Err(refused("the peer does not know controllerRaftSecret"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pair(a: &str, b: &str) -> (std::io::Result<()>, std::io::Result<()>) {
        let (mut x, mut y) = tokio::io::duplex(256);
        let (sa, sb) = (
            RaftSecret::from_config(a).unwrap(),
            RaftSecret::from_config(b).unwrap(),
        );
        // Each side hangs up when its handshake ends, as the real ones do on a refusal; the
        // whole exchange is bounded so a regression fails instead of hanging.
        let both = async {
            tokio::join!(
                async move {
                    let r = accept(&mut x, &sa).await;
                    drop(x);
                    r
                },
                async move {
                    let r = connect(&mut y, &sb).await;
                    drop(y);
                    r
                }
            )
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), both)
            .await
            .expect("the handshake ended")
    }

    #[tokio::test]
    async fn both_sides_pass_only_with_the_same_secret() {
        let (s, c) = pair("s3cret", "s3cret").await;
        assert!(s.is_ok() && c.is_ok(), "{s:?} {c:?}");
        let (s, c) = pair("s3cret", "other").await;
        assert!(s.is_err(), "the server took a wrong client MAC");
        assert!(c.is_err(), "the client went on without the server's MAC");
    }

    #[tokio::test]
    async fn a_client_refuses_a_server_without_the_handshake() {
        let (mut x, mut y) = tokio::io::duplex(256);
        let secret = RaftSecret::from_config("k").unwrap();
        x.write_all(b"not-a-raft-hello-at-all!").await.unwrap();
        assert!(connect(&mut y, &secret).await.is_err());
        assert!(RaftSecret::from_config("").is_none());
        assert_eq!(format!("{secret:?}"), "RaftSecret(******)");
    }
}
