//! `ConsumerCore`: the state one consumer group shares between its handle, its `RebalanceActor`,
//! its pull loops and its listener tasks: configuration, subscriptions (with their tag filters),
//! the listener, the offset table and how it is persisted (broker for clustering, local file for
//! broadcasting), the stop flag and the count of listener calls in flight. Also the start-offset
//! rule of a newly assigned queue (consumeFromWhere, docs/protocol.md §7.4).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use tokio::sync::Semaphore;

use super::broker_api;
use super::broker_select::{FoundBroker, PullFromWhichNode};
use super::config::ConsumerConfig;
use super::error::{ClientError, Result};
use super::instance::ClientInstance;
use super::message::{retry_topic, ConsumeResult, MessageExt, MessageQueue};
use super::offset_store::{LocalOffsetFile, OffsetTable};
use super::trace::TraceDispatcher;
use crate::clock::now_ms;
use crate::protocol::body::{
    ConsumeFromWhere, ConsumeType, ConsumerData, MessageModel, SubscriptionData,
};
use crate::protocol::filter::{build_subscription, TagFilter};

/// A listener: gets one batch (one message by default) and the queue it came from.
pub type ListenerFn = Arc<dyn Fn(&[MessageExt], &MessageQueue) -> ConsumeResult + Send + Sync>;

/// How messages are handed to the application.
#[derive(Clone)]
pub enum Listener {
    /// Many messages at once, any order; `Later` sends the message back for redelivery.
    Concurrent(ListenerFn),
    /// One message at a time per queue, in queue order, while holding the queue's broker lock;
    /// `Later` suspends the queue a moment and retries the same message.
    Orderly(ListenerFn),
}

impl Listener {
    pub fn concurrent<F>(f: F) -> Listener
    where
        F: Fn(&[MessageExt], &MessageQueue) -> ConsumeResult + Send + Sync + 'static,
    {
        Listener::Concurrent(Arc::new(f))
    }
    pub fn orderly<F>(f: F) -> Listener
    where
        F: Fn(&[MessageExt], &MessageQueue) -> ConsumeResult + Send + Sync + 'static,
    {
        Listener::Orderly(Arc::new(f))
    }
}

pub struct Subscription {
    pub data: SubscriptionData,
    pub filter: TagFilter,
}

pub(crate) struct ConsumerCore {
    pub config: ConsumerConfig,
    pub instance: ClientInstance,
    pub consume_type: ConsumeType,
    pub listener: OnceLock<Listener>,
    pub subscriptions: RwLock<BTreeMap<String, Subscription>>,
    pub offsets: Mutex<OffsetTable>,
    /// Per queue, the broker id the last pull answer suggested.
    pub pull_from: Mutex<PullFromWhichNode>,
    pub local_file: Option<LocalOffsetFile>,
    pub stopping: AtomicBool,
    pub in_flight: AtomicUsize,
    pub consume_slots: Arc<Semaphore>,
    /// SubBefore / SubAfter records when `enable_trace`.
    pub trace: Option<TraceDispatcher>,
}

impl ConsumerCore {
    pub fn new(config: ConsumerConfig, consume_type: ConsumeType) -> Result<Arc<ConsumerCore>> {
        let instance = ClientInstance::get(&config.client)?;
        let local_file = (config.message_model == MessageModel::Broadcasting).then(|| {
            LocalOffsetFile::new(
                &config.offset_store_dir,
                &config.client.instance_name,
                &config.group,
            )
        });
        let mut offsets = OffsetTable::default();
        if let Some(f) = &local_file {
            for (mq, o) in f.load()? {
                offsets.update(&mq, o, false);
            }
            offsets.take_dirty();
        }
        Ok(Arc::new(ConsumerCore {
            trace: super::trace::consumer_dispatcher(&config, &instance),
            consume_slots: Arc::new(Semaphore::new(config.consume_thread_max.max(1))),
            config,
            instance,
            consume_type,
            listener: OnceLock::new(),
            subscriptions: RwLock::new(BTreeMap::new()),
            offsets: Mutex::new(offsets),
            pull_from: Mutex::new(PullFromWhichNode::default()),
            local_file,
            stopping: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
        }))
    }

    pub fn group(&self) -> &str {
        &self.config.group
    }
    pub fn clustering(&self) -> bool {
        self.config.message_model == MessageModel::Clustering
    }
    pub fn orderly(&self) -> bool {
        matches!(self.listener.get(), Some(Listener::Orderly(_)))
    }
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }
    pub fn timeout(&self) -> Duration {
        self.config.client.request_timeout
    }

    /// Add (or replace) a subscription; clustering groups also subscribe their retry topic.
    pub fn subscribe(&self, topic: &str, expr: &str) {
        let mut subs = self.subscriptions.write();
        let version = now_ms();
        subs.insert(
            topic.to_string(),
            Subscription {
                data: build_subscription(topic, expr, version),
                filter: TagFilter::parse(expr),
            },
        );
        if self.clustering() && self.consume_type == ConsumeType::ConsumePassively {
            let rt = retry_topic(self.group());
            subs.entry(rt.clone()).or_insert_with(|| Subscription {
                data: build_subscription(&rt, "*", version),
                filter: TagFilter::parse("*"),
            });
        }
    }

    pub fn topics(&self) -> Vec<String> {
        self.subscriptions.read().keys().cloned().collect()
    }

    /// (expression, version, filter) of `topic`'s subscription.
    pub fn subscription(&self, topic: &str) -> Option<(String, i64, TagFilter)> {
        self.subscriptions.read().get(topic).map(|s| {
            (
                s.data.sub_string.clone(),
                s.data.sub_version,
                s.filter.clone(),
            )
        })
    }

    pub fn consumer_data(&self) -> ConsumerData {
        ConsumerData {
            consume_from_where: self.config.consume_from_where,
            consume_type: self.consume_type,
            group_name: self.group().to_string(),
            message_model: self.config.message_model,
            subscription_data_set: self
                .subscriptions
                .read()
                .values()
                .map(|s| s.data.clone())
                .collect(),
            unit_mode: false,
        }
    }

    /// The master of `mq`'s broker set (sends-back and queue locks).
    pub fn broker_addr(&self, mq: &MessageQueue) -> Option<String> {
        self.instance
            .inner
            .routes
            .read()
            .master_addr(&mq.broker_name)
    }

    /// The broker to pull `mq` from: the one the last pull answer suggested, else any broker of
    /// the set (the slave while the master is out of the route).
    pub fn pull_target(&self, mq: &MessageQueue) -> Option<FoundBroker> {
        let id = self.pull_from.lock().which(mq);
        self.instance
            .inner
            .routes
            .read()
            .subscribe_addr(&mq.broker_name, id)
    }

    /// Remember the broker id a pull answer suggested for `mq`.
    pub fn pulled_from(&self, mq: &MessageQueue, suggested: i64) {
        self.pull_from.lock().update(mq, suggested);
    }

    /// The broker for `mq`'s offsets: the master, else any broker of the set.
    pub fn admin_addr(&self, mq: &MessageQueue) -> Option<String> {
        self.instance
            .inner
            .routes
            .read()
            .admin_addr(&mq.broker_name)
            .map(|f| f.addr)
    }

    fn addr_of(&self, mq: &MessageQueue) -> Result<String> {
        self.admin_addr(mq)
            .ok_or_else(|| ClientError::State(format!("no address for broker {}", mq.broker_name)))
    }

    /// The stored offset of `mq`: local table (broadcasting) or broker (clustering).
    pub async fn read_offset(&self, mq: &MessageQueue) -> Result<Option<i64>> {
        if !self.clustering() {
            return Ok(self.offsets.lock().get(mq));
        }
        let addr = self.addr_of(mq)?;
        broker_api::query_offset(
            &self.instance.inner.net,
            &addr,
            self.group(),
            mq,
            self.timeout(),
        )
        .await
    }

    /// Where a newly assigned queue starts: the stored offset, else per consumeFromWhere.
    pub async fn start_offset(&self, mq: &MessageQueue) -> Result<i64> {
        let stored = self.read_offset(mq).await?;
        let is_retry = mq.topic.starts_with("%RETRY%");
        let net = &self.instance.inner.net;
        let t = self.timeout();
        match initial_offset(self.config.consume_from_where, is_retry, stored) {
            StartAt::Offset(o) => Ok(o),
            StartAt::Max => broker_api::max_offset(net, &self.addr_of(mq)?, mq, t).await,
            StartAt::Timestamp => {
                let ts = self
                    .config
                    .consume_timestamp
                    .unwrap_or_else(|| now_ms() - 30 * 60 * 1000);
                broker_api::search_offset(net, &self.addr_of(mq)?, mq, ts, t).await
            }
        }
    }

    /// Commit offsets: `only` = these queues (given away), else every changed one; `all` forces
    /// every entry (shutdown). Clustering commits to the brokers, broadcasting writes the file.
    pub async fn persist_offsets(&self, only: Option<&[MessageQueue]>, all: bool) {
        if let Some(f) = &self.local_file {
            let snapshot = {
                let mut t = self.offsets.lock();
                t.take_dirty();
                t.all()
            };
            // File I/O off the arbiter thread.
            let f = f.clone();
            let saved = tokio::task::spawn_blocking(move || f.save(&snapshot)).await;
            if let Ok(Err(e)) = saved {
                tracing::warn!(group = self.group(), error = %e, "saving local offsets failed");
            }
            return;
        }
        let entries: Vec<(MessageQueue, i64)> = {
            let mut t = self.offsets.lock();
            match only {
                Some(mqs) => mqs
                    .iter()
                    .filter_map(|m| t.get(m).map(|o| (m.clone(), o)))
                    .collect(),
                None if all => {
                    t.take_dirty();
                    t.all().into_iter().collect()
                }
                None => t.take_dirty(),
            }
        };
        let mut failed = Vec::new();
        for (mq, off) in entries {
            let r = match self.admin_addr(&mq) {
                Some(addr) => {
                    broker_api::update_offset(
                        &self.instance.inner.net,
                        &addr,
                        self.group(),
                        &mq,
                        off,
                        self.timeout(),
                    )
                    .await
                }
                None => Err(ClientError::State("no broker address".into())),
            };
            if let Err(e) = r {
                tracing::warn!(group = self.group(), ?mq, error = %e, "offset commit failed");
                failed.push(mq);
            }
        }
        self.offsets.lock().mark_dirty(failed);
    }

    /// Wait (bounded) until no listener call is running.
    pub async fn await_in_flight(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while self.in_flight.load(Ordering::Acquire) > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

/// Where a newly assigned queue starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    Offset(i64),
    /// The queue's max offset (GET_MAX_OFFSET): only new messages.
    Max,
    /// SEARCH_OFFSET_BY_TIMESTAMP with the configured timestamp.
    Timestamp,
}

/// Java's `computePullFromWhere`: a stored offset wins; without one, FIRST (and MIN) start at 0,
/// TIMESTAMP searches by time, LAST (and MAX) start at the end; a retry topic always starts at 0
/// except for TIMESTAMP, where it starts at the end.
pub fn initial_offset(cfw: ConsumeFromWhere, is_retry: bool, stored: Option<i64>) -> StartAt {
    if let Some(o) = stored.filter(|o| *o >= 0) {
        return StartAt::Offset(o);
    }
    match cfw {
        ConsumeFromWhere::ConsumeFromFirstOffset | ConsumeFromWhere::ConsumeFromMinOffset => {
            StartAt::Offset(0)
        }
        ConsumeFromWhere::ConsumeFromTimestamp if is_retry => StartAt::Max,
        ConsumeFromWhere::ConsumeFromTimestamp => StartAt::Timestamp,
        _ if is_retry => StartAt::Offset(0),
        _ => StartAt::Max,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConsumeFromWhere::*;

    #[test]
    fn start_offset_rules_follow_the_java_client() {
        assert_eq!(
            initial_offset(ConsumeFromLastOffset, false, Some(42)),
            StartAt::Offset(42)
        );
        assert_eq!(
            initial_offset(ConsumeFromTimestamp, false, Some(0)),
            StartAt::Offset(0)
        );
        assert_eq!(
            initial_offset(ConsumeFromLastOffset, false, None),
            StartAt::Max
        );
        assert_eq!(
            initial_offset(ConsumeFromLastOffset, true, None),
            StartAt::Offset(0)
        );
        assert_eq!(
            initial_offset(ConsumeFromFirstOffset, false, None),
            StartAt::Offset(0)
        );
        assert_eq!(
            initial_offset(ConsumeFromTimestamp, false, None),
            StartAt::Timestamp
        );
        assert_eq!(
            initial_offset(ConsumeFromTimestamp, true, None),
            StartAt::Max
        );
        assert_eq!(
            initial_offset(ConsumeFromFirstOffset, false, Some(-1)),
            StartAt::Offset(0)
        );
    }
}
