//! `SlaveSyncActor`: a slave's metadata sync from its master (RocketMQ's `SlaveSynchronize`,
//! docs/protocol.md §8).
//!
//! - Owns: the remoting connection to the master's broker port, reused while open.
//! - Does: 3 s after start, then every 10 s, when the master's remoting address is known
//!   (`HaShared::master`, learned by the `Registrar`) and is not this broker: asks the master
//!   GET_ALL_TOPIC_CONFIG, GET_ALL_CONSUMER_OFFSET, GET_ALL_DELAY_OFFSET and
//!   GET_ALL_SUBSCRIPTIONGROUP_CONFIG, each bounded by a timeout, and applies what
//!   `logic::slave_sync` decides: the tables in `BrokerCtx` are replaced under their lock and
//!   handed to the `Persister` (topics also re-register and get their queues prepared); the delay
//!   offsets go to the `ScheduleActor` (`ReplaceDelayOffsets`), which owns them. One round at a
//!   time; each of the four succeeds or fails on its own; failures are logged at WARN.
//! - Handles: no messages; started by `startup` on a SLAVE only (in controller mode on every
//!   broker, syncing only while the role is SLAVE), it runs until the system stops.
//! - Runs on: the broker's control arbiter. Network calls are spawned futures; applying a round
//!   is in-memory work (file writes are the `Persister`'s).

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tracing::{debug, info, warn};

use super::context::BrokerCtx;
use super::logic::groups::SubscriptionGroupWrapper;
use super::logic::offsets::ConsumerOffsetTable;
use super::logic::slave_sync::{parse_delay_offsets, parse_groups, parse_topics, SlaveSync};
use super::schedule::{ReplaceDelayOffsets, ScheduleActor};
use crate::clock::now_ms;
use crate::protocol::body::TopicConfigSerializeWrapper;
use crate::protocol::codes::{request_code, response_code};
use crate::protocol::{ProtocolError, RemotingCommand};
use crate::remoting::client::{ClientError, RemotingClient};

/// RocketMQ: `handleSlaveSynchronize` schedules `syncAll` 3 s after start, then every 10 s.
const FIRST: Duration = Duration::from_secs(3);
const PERIOD: Duration = Duration::from_secs(10);
/// Bound of each connect and each request.
const RPC_TIMEOUT: Duration = Duration::from_secs(3);

/// Why one of the four requests brought nothing.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No connection to the master (each of the four reports it).
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    Client(#[from] ClientError),
    #[error("the master answered code {code}: {remark}")]
    Refused { code: i32, remark: String },
    #[error("{0}")]
    Body(#[from] ProtocolError),
}

/// What one round brought from the master.
struct Fetched {
    client: Option<RemotingClient>,
    topics: Result<TopicConfigSerializeWrapper, SyncError>,
    offsets: Result<ConsumerOffsetTable, SyncError>,
    delay: Result<std::collections::BTreeMap<i32, i64>, SyncError>,
    groups: Result<SubscriptionGroupWrapper, SyncError>,
}

pub struct SlaveSyncActor {
    ctx: Arc<BrokerCtx>,
    schedule: Addr<ScheduleActor>,
    plan: SlaveSync,
    client: Option<RemotingClient>,
    running: bool,
}

impl SlaveSyncActor {
    pub fn new(ctx: Arc<BrokerCtx>, schedule: Addr<ScheduleActor>) -> Self {
        let plan = SlaveSync::new(ctx.broker_addr.clone());
        SlaveSyncActor {
            ctx,
            schedule,
            plan,
            client: None,
            running: false,
        }
    }

    fn round(&mut self, ctx: &mut Context<Self>) {
        // Controller mode: this broker may be master for a while.
        if self.running || !self.ctx.role.is_slave() {
            return;
        }
        let Some(master) = self.plan.master_to_sync(&self.ctx.ha.master.read()) else {
            debug!("slave sync: master not known yet");
            return;
        };
        let reuse = self
            .client
            .take()
            .filter(|c| c.is_open() && c.addr() == master);
        self.running = true;
        ctx.spawn(
            fetch_all(
                master.clone(),
                reuse,
                self.ctx.tls_client.clone(),
                self.ctx.cfg.acl.credentials(),
            )
            .into_actor(self)
            .map(move |fetched, act, _| {
                act.running = false;
                act.client = fetched.client.clone();
                act.apply(&master, fetched);
            }),
        );
    }

    fn apply(&mut self, master: &str, f: Fetched) {
        let warn_of = |what: &str, e: &SyncError| {
            warn!(master = %master, error = %e, "slave sync: {what} not synced");
        };
        match f.topics {
            Ok(w) => self.apply_topics(master, w),
            Err(e) => warn_of("topic config", &e),
        }
        match f.offsets {
            Ok(o) => self.apply_offsets(&o),
            Err(e) => warn_of("consumer offsets", &e),
        }
        match f.delay {
            Ok(d) => self.schedule.do_send(ReplaceDelayOffsets(d)),
            Err(e) => warn_of("delay offsets", &e),
        }
        match f.groups {
            Ok(g) => self.apply_groups(master, g),
            Err(e) => warn_of("subscription groups", &e),
        }
    }

    fn apply_topics(&self, master: &str, w: TopicConfigSerializeWrapper) {
        let replaced = {
            let mut topics = self.ctx.topics.write();
            let r = self.plan.topics(&topics, w, now_ms());
            r.map(|r| {
                *topics = r.table;
                (r.added, r.refused)
            })
        };
        let Some((added, refused)) = replaced else {
            return;
        };
        for (topic, why) in refused {
            warn!(master = %master, topic = %topic, "slave sync: topic left out: {why}");
        }
        for t in &added {
            self.ctx.prepare_queues(t);
        }
        info!(master = %master, new_topics = added.len(), "slave sync: topic config updated from the master");
        self.ctx.topics_changed();
    }

    fn apply_offsets(&self, master_table: &ConsumerOffsetTable) {
        let changed = {
            let mut offsets = self.ctx.offsets.lock();
            match self.plan.offsets(&offsets, master_table) {
                Some(merged) => {
                    *offsets = merged;
                    true
                }
                None => false,
            }
        };
        if changed {
            debug!("slave sync: consumer offsets updated from the master");
            self.ctx.persist_offsets();
        }
    }

    fn apply_groups(&self, master: &str, w: SubscriptionGroupWrapper) {
        let refused = {
            let mut groups = self.ctx.groups.write();
            let auto_create = groups.auto_create();
            match self.plan.groups(&groups, auto_create, w, now_ms()) {
                Some(r) => {
                    *groups = r.table;
                    r.refused
                }
                None => return,
            }
        };
        for (group, why) in refused {
            warn!(master = %master, group = %group, "slave sync: group left out: {why}");
        }
        info!(master = %master, "slave sync: subscription groups updated from the master");
        self.ctx.groups_changed();
    }
}

impl Actor for SlaveSyncActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_later(FIRST, |act, ctx| {
            act.round(ctx);
            ctx.run_interval(PERIOD, |act, ctx| act.round(ctx));
        });
    }
}

/// One round: connect (or reuse) and ask the four questions in turn.
async fn fetch_all(
    master: String,
    reuse: Option<RemotingClient>,
    tls: Option<crate::tls::TlsClient>,
    creds: Option<Arc<crate::acl::Credentials>>,
) -> Fetched {
    let client = match reuse {
        Some(c) => Ok(c),
        // Signed with our account: the master's ACL lets only admin accounts read these tables.
        None => RemotingClient::connect_with(&master, RPC_TIMEOUT, None, tls.as_ref())
            .await
            .map(|c| c.signed_with(creds)),
    };
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            let reason = e.to_string();
            let err = || SyncError::Unreachable(reason.clone());
            return Fetched {
                client: None,
                topics: Err(err()),
                offsets: Err(err()),
                delay: Err(err()),
                groups: Err(err()),
            };
        }
    };
    let topics = ask(&client, request_code::GET_ALL_TOPIC_CONFIG)
        .await
        .and_then(|b| Ok(parse_topics(&b)?));
    let offsets = ask(&client, request_code::GET_ALL_CONSUMER_OFFSET)
        .await
        .and_then(|b| Ok(ConsumerOffsetTable::from_json(&b)?));
    let delay = ask(&client, request_code::GET_ALL_DELAY_OFFSET)
        .await
        .and_then(|b| Ok(parse_delay_offsets(&b)?));
    let groups = ask(&client, request_code::GET_ALL_SUBSCRIPTIONGROUP_CONFIG)
        .await
        .and_then(|b| Ok(parse_groups(&b)?));
    Fetched {
        client: client.is_open().then_some(client),
        topics,
        offsets,
        delay,
        groups,
    }
}

/// One request without a header; the body of a SUCCESS answer.
async fn ask(client: &RemotingClient, code: i32) -> Result<bytes::Bytes, SyncError> {
    let resp = client
        .call(RemotingCommand::request(code), RPC_TIMEOUT)
        .await?;
    if resp.code != response_code::SUCCESS {
        return Err(SyncError::Refused {
            code: resp.code,
            remark: resp.remark.unwrap_or_default(),
        });
    }
    Ok(resp.body)
}
