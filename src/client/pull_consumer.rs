//! `PullConsumer`: explicit-offset consumption. The application lists a topic's queues, pulls from
//! offsets it chooses and records progress; offsets are kept at the broker (clustering) or in the
//! local file (broadcasting) when it commits. The group is announced by heartbeat so brokers know
//! it (and create its retry topic). Plain async methods over the shared client instance.

use std::sync::Arc;
use std::time::Duration;

use super::broker_api::{self, PullArgs, PullStatus};
use super::config::ConsumerConfig;
use super::consumer::ConsumerCore;
use super::error::{ClientError, Result};
use super::heartbeat::{RegisterConsumer, UnregisterGroup};
use super::message::{prepare_received, MessageExt, MessageQueue};
use crate::protocol::body::ConsumeType;
use crate::protocol::filter::TagFilter;

/// What a pull returned: messages already filtered by tag and ready to use.
#[derive(Debug, Clone)]
pub struct PullResult {
    pub status: PullStatus,
    pub next_begin_offset: i64,
    pub min_offset: i64,
    pub max_offset: i64,
    pub msgs: Vec<MessageExt>,
}

pub struct PullConsumer {
    core: Arc<ConsumerCore>,
}

impl PullConsumer {
    /// Start a pull consumer for `topics` (announced in its heartbeat).
    pub async fn start(config: ConsumerConfig, topics: &[&str]) -> Result<PullConsumer> {
        let core = ConsumerCore::new(config, ConsumeType::ConsumeActively)?;
        for t in topics {
            core.subscribe(t, "*");
        }
        let c = core.clone();
        core.instance
            .run(async move {
                for t in c.topics() {
                    let _ = c.instance.update_route(&t).await;
                }
            })
            .await?;
        let _ = core
            .instance
            .inner
            .heartbeat
            .send(RegisterConsumer(core.consumer_data()))
            .await;
        Ok(PullConsumer { core })
    }

    pub fn client_id(&self) -> &str {
        self.core.instance.client_id()
    }

    /// The readable queues of `topic`.
    pub async fn queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        let c = self.core.clone();
        let t = topic.to_string();
        self.core
            .instance
            .run(async move {
                let mut q = c.instance.inner.routes.read().subscribe_queues(&t);
                if q.is_empty() {
                    if !c.instance.update_route(&t).await? {
                        return Err(ClientError::TopicNotExist(t));
                    }
                    q = c.instance.inner.routes.read().subscribe_queues(&t);
                }
                Ok(q)
            })
            .await?
    }

    /// Pull up to `max_nums` messages matching `expression` from `offset`; with `block` the broker
    /// holds the request up to that long when nothing is there yet. Sent to the broker the last
    /// answer for `mq` suggested, else any broker of its set (a slave while the master is out of
    /// the route).
    pub async fn pull(
        &self,
        mq: &MessageQueue,
        expression: &str,
        offset: i64,
        max_nums: i32,
        block: Option<Duration>,
    ) -> Result<PullResult> {
        let c = self.core.clone();
        let (mq, expr) = (mq.clone(), expression.to_string());
        self.core
            .instance
            .run(async move {
                if c.pull_target(&mq).is_none() {
                    c.instance.update_route(&mq.topic).await?;
                }
                let target = c.pull_target(&mq).ok_or_else(|| {
                    ClientError::State(format!("no address for broker {}", mq.broker_name))
                })?;
                let mut flag = crate::protocol::codes::pull_sys_flag::FLAG_SUBSCRIPTION;
                if block.is_some() {
                    flag |= crate::protocol::codes::pull_sys_flag::FLAG_SUSPEND;
                }
                let suspend = block.unwrap_or(Duration::ZERO);
                let args = PullArgs {
                    group: c.group(),
                    mq: &mq,
                    offset,
                    max_nums,
                    sys_flag: flag,
                    commit_offset: 0,
                    suspend,
                    subscription: &expr,
                    sub_version: 0,
                };
                let timeout = suspend + c.timeout() + Duration::from_secs(5);
                let r =
                    broker_api::pull(&c.instance.inner.net, &target.addr, args, timeout).await?;
                c.pulled_from(&mq, r.suggest_which_broker_id);
                let filter = TagFilter::parse(&expr);
                let msgs = r
                    .msgs
                    .into_iter()
                    .filter(|m| filter.matches_tag(m.tags()))
                    .map(|m| prepare_received(m, c.group()))
                    .collect();
                Ok(PullResult {
                    status: r.status,
                    next_begin_offset: r.next_begin_offset,
                    min_offset: r.min_offset,
                    max_offset: r.max_offset,
                    msgs,
                })
            })
            .await?
    }

    /// The committed offset of `mq` (broker or local file), `None` when there is none.
    pub async fn fetch_consume_offset(&self, mq: &MessageQueue) -> Result<Option<i64>> {
        let c = self.core.clone();
        let mq = mq.clone();
        self.core
            .instance
            .run(async move { c.read_offset(&mq).await })
            .await?
    }

    /// Record progress locally; [`commit`](Self::commit) makes it durable.
    pub fn update_consume_offset(&self, mq: &MessageQueue, offset: i64) {
        self.core.offsets.lock().update(mq, offset, false);
    }

    /// Persist every recorded offset now.
    pub async fn commit(&self) -> Result<()> {
        let c = self.core.clone();
        self.core
            .instance
            .run(async move { c.persist_offsets(None, true).await })
            .await
    }

    pub async fn max_offset(&self, mq: &MessageQueue) -> Result<i64> {
        let c = self.core.clone();
        let mq = mq.clone();
        self.core
            .instance
            .run(async move {
                let addr = c
                    .admin_addr(&mq)
                    .ok_or_else(|| ClientError::State("no broker address".into()))?;
                broker_api::max_offset(&c.instance.inner.net, &addr, &mq, c.timeout()).await
            })
            .await?
    }

    /// Commit offsets and unregister the group.
    pub async fn shutdown(self) -> Result<()> {
        self.commit().await?;
        let msg = UnregisterGroup {
            producer: None,
            consumer: Some(self.core.group().to_string()),
        };
        self.core
            .instance
            .inner
            .heartbeat
            .send(msg)
            .await
            .map_err(|e| ClientError::State(e.to_string()))
    }
}
