//! The connections to the broker, reopened when they break.
//!
//! A run holds one [`Link`]: the target broker and `--connections` pipelined connections to it.
//! A task whose request failed on a closed connection calls [`Link::repair`]: the first caller
//! asks the name server for the topic's route again (unless `--broker` fixed the address) and
//! reconnects, retrying with exponential backoff (100 ms doubling to 2 s); the other callers wait
//! for it, so a broker restart costs the requests in flight when it went away, not a stream of
//! failures. What happens is written to the notes the progress lines print.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};

use super::args::CommonArgs;
use super::net::{self, Target};
use crate::acl::sign::Credentials;
use crate::remoting::client::RemotingClient;
use crate::tls::TlsClient;

/// First and largest wait between reconnect attempts.
pub const BACKOFF_FIRST: Duration = Duration::from_millis(100);
pub const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// One generation of connections.
pub struct Conns {
    /// Bumped by every reconnect.
    pub generation: u64,
    pub target: Target,
    pub clients: Vec<RemotingClient>,
}

/// How to (re)connect: where the route comes from and how many connections to open.
struct Dial {
    namesrv: String,
    broker: Option<String>,
    topic: String,
    connections: usize,
    timeout: Duration,
    require_topic: bool,
    tls: Option<TlsClient>,
    credentials: Option<Arc<Credentials>>,
}

impl Dial {
    async fn connect(&self) -> Result<(Target, Vec<RemotingClient>), String> {
        let target = net::resolve(
            &self.namesrv,
            self.broker.as_deref(),
            &self.topic,
            self.timeout,
            self.require_topic,
            self.tls.as_ref(),
            self.credentials.clone(),
        )
        .await?;
        let clients = net::connect_all(
            &target.broker,
            self.connections,
            self.timeout,
            self.tls.as_ref(),
            self.credentials.clone(),
        )
        .await?;
        Ok((target, clients))
    }
}

/// The broker connections of a run (see the module docs).
pub struct Link {
    dial: Dial,
    current: RwLock<Arc<Conns>>,
    repairing: tokio::sync::Mutex<()>,
    notes: Mutex<Vec<String>>,
}

/// The wait after `attempt` failed attempts (1-based).
pub fn backoff(attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(10);
    (BACKOFF_FIRST * factor).min(BACKOFF_MAX)
}

impl Link {
    /// Resolve the broker (see [`net::resolve`]; `require_topic` for a consumer) and open the
    /// connections.
    pub async fn open(common: &CommonArgs, require_topic: bool) -> Result<Link, String> {
        let dial = Dial {
            namesrv: common.namesrv.clone(),
            broker: common.broker.clone(),
            topic: common.topic.clone(),
            connections: common.connections.max(1),
            timeout: common.timeout(),
            require_topic,
            tls: common.tls.client().map_err(|e| e.to_string())?,
            credentials: common.credentials(),
        };
        let (target, clients) = dial.connect().await?;
        Ok(Link {
            dial,
            current: RwLock::new(Arc::new(Conns {
                generation: 1,
                target,
                clients,
            })),
            repairing: tokio::sync::Mutex::new(()),
            notes: Mutex::new(Vec::new()),
        })
    }

    /// The current connections.
    pub fn current(&self) -> Arc<Conns> {
        self.current.read().clone()
    }

    /// Connection `i` (modulo their number) and its generation.
    pub fn client(&self, i: usize) -> (u64, RemotingClient) {
        let c = self.current.read();
        (c.generation, c.clients[i % c.clients.len()].clone())
    }

    /// Notes written since the last call (reconnects and their failures).
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.notes.lock())
    }

    fn note(&self, s: String) {
        self.notes.lock().push(s);
    }

    /// A request on generation `generation` failed: if any of its connections is closed and no
    /// one has reconnected since, reconnect (route asked again, backoff between attempts) until
    /// it works or `until` passes. Returns whether live connections are there now.
    pub async fn repair(&self, generation: u64, until: Instant) -> bool {
        let _only_one = self.repairing.lock().await;
        if Instant::now() >= until {
            return false;
        }
        let cur = self.current();
        if cur.generation != generation || cur.clients.iter().all(|c| c.is_open()) {
            return true;
        }
        let lost = Instant::now();
        self.note(format!(
            "connection to broker {} lost; reconnecting{}",
            cur.target.broker,
            match &self.dial.broker {
                Some(_) => String::new(),
                None => format!(" (route of {} from {})", self.dial.topic, self.dial.namesrv),
            }
        ));
        drop(cur);
        let mut attempt = 0u32;
        while Instant::now() < until {
            attempt += 1;
            match self.dial.connect().await {
                Ok((target, clients)) => {
                    self.note(format!(
                        "reconnected to broker {} after {:.1} s ({attempt} attempt{})",
                        target.broker,
                        lost.elapsed().as_secs_f64(),
                        if attempt == 1 { "" } else { "s" }
                    ));
                    *self.current.write() = Arc::new(Conns {
                        generation: generation + 1,
                        target,
                        clients,
                    });
                    return true;
                }
                Err(e) => {
                    let wait = backoff(attempt);
                    self.note(format!(
                        "reconnect attempt {attempt} failed: {e}; next in {} ms",
                        wait.as_millis()
                    ));
                    let left = until.saturating_duration_since(Instant::now());
                    tokio::time::sleep(wait.min(left)).await;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(4), Duration::from_millis(800));
        assert_eq!(backoff(5), Duration::from_millis(1600));
        assert_eq!(backoff(6), Duration::from_secs(2));
        assert_eq!(backoff(1000), Duration::from_secs(2));
    }
}
