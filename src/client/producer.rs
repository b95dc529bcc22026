//! `Producer`: the application's handle for sending. Every method is a plain async fn; the work
//! runs on the client runtime thread (see `instance.rs`). Queue choice is round-robin with
//! latency-based avoidance of slow or failed brokers ([`LatencyFault`]), or the caller's selector
//! (ordered messages: same key, same queue). A failed send is retried on another broker within the
//! overall send timeout. An unknown topic falls back to the broker's auto-create template
//! (TBW102) and fails with [`ClientError::TopicNotExist`] when there is none.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::config::ProducerConfig;
use super::error::{ClientError, Result};
use super::heartbeat::{RegisterProducer, UnregisterGroup};
use super::instance::ClientInstance;
use super::latency::{LatencyFault, FAILURE_LATENCY};
use super::message::{new_uniq_key, Message, MessageQueue, SendResult, SendStatus};
use super::route::{AUTO_CREATE_TOPIC, DEFAULT_TOPIC_QUEUE_NUMS};
use super::trace::{self, hooks::Sent, TraceDispatcher};
use crate::clock::now_ms;
use crate::protocol::codes::{request_code as rq, response_code as rc};
use crate::protocol::headers::{
    SendMessageRequestHeader, SendMessageRequestHeaderV2, SendMessageResponseHeader,
};
use crate::protocol::message::{
    encode_batch, java_string_hash, properties as prop, sys_flag, BatchItem, MAX_TOPIC_LEN,
};
use crate::protocol::RemotingCommand;

/// A cheap-to-clone producer handle.
#[derive(Clone)]
pub struct Producer {
    core: Arc<Core>,
}

struct Core {
    config: ProducerConfig,
    instance: ClientInstance,
    counter: AtomicUsize,
    fault: Mutex<LatencyFault>,
    trace: Option<TraceDispatcher>,
}

/// A prepared request: body, properties and ids, ready for any queue.
struct Prepared {
    topic: String,
    body: bytes::Bytes,
    flag: i32,
    properties: String,
    msg_id: String,
    batch: bool,
    /// TRANSACTION_PREPARED for a half message (property `TRAN_MSG=true`), else 0.
    sys_flag: i32,
}

/// Hash a sharding key to a queue index (Java `SelectMessageQueueByHash`).
pub fn queue_for_key(key: &str, n: usize) -> usize {
    (java_string_hash(key).unsigned_abs() as usize) % n.max(1)
}

fn validate_topic(t: &str) -> Result<()> {
    let ok = !t.is_empty()
        && t.len() <= MAX_TOPIC_LEN
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "%|_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ClientError::InvalidMessage(format!(
            "invalid topic name {t:?}"
        )))
    }
}

impl Producer {
    /// Join (or start) the client instance and register the producer group.
    pub async fn start(config: ProducerConfig) -> Result<Producer> {
        let instance = ClientInstance::get(&config.client)?;
        let _ = instance
            .inner
            .heartbeat
            .send(RegisterProducer(config.group.clone()))
            .await;
        Ok(Producer {
            core: Arc::new(Core {
                trace: trace::producer_dispatcher(&config, &instance),
                config,
                instance,
                counter: AtomicUsize::new(rand::random::<u16>() as usize),
                fault: Mutex::new(LatencyFault::default()),
            }),
        })
    }

    pub fn client_id(&self) -> &str {
        self.core.instance.client_id()
    }

    /// The producer group.
    pub fn group(&self) -> &str {
        &self.core.config.group
    }

    pub(crate) fn instance(&self) -> &ClientInstance {
        &self.core.instance
    }

    /// The writable queues of `topic` (fetching its route if needed).
    pub async fn queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        let core = self.core.clone();
        let t = topic.to_string();
        self.core
            .instance
            .run(async move { core.publish_queues(&t).await })
            .await?
    }

    /// Send and wait for the broker's answer, retrying on another broker on failure.
    pub async fn send(&self, msg: Message) -> Result<SendResult> {
        let core = self.core.clone();
        self.core
            .instance
            .run(async move { core.send(msg, None).await })
            .await?
    }

    /// Start sending now; the returned future yields the result (it need not be polled for the
    /// send to proceed).
    pub fn send_async(
        &self,
        msg: Message,
    ) -> impl std::future::Future<Output = Result<SendResult>> + Send + 'static {
        let core = self.core.clone();
        let rx = self
            .core
            .instance
            .spawn(async move { core.send(msg, None).await });
        async move {
            rx.await
                .map_err(|_| ClientError::State("client runtime stopped".into()))?
        }
    }

    /// Callback form of [`send_async`](Self::send_async): `cb` runs on the client runtime thread
    /// when the send completes (keep it short).
    pub fn send_with_callback<F>(&self, msg: Message, cb: F)
    where
        F: FnOnce(Result<SendResult>) + Send + 'static,
    {
        let core = self.core.clone();
        // The receiver is not needed: the callback gets the result.
        drop(
            self.core
                .instance
                .spawn(async move { cb(core.send(msg, None).await) }),
        );
    }

    /// Fire and forget: no answer is awaited (errors before the write are still reported).
    pub async fn send_oneway(&self, msg: Message) -> Result<()> {
        let core = self.core.clone();
        self.core
            .instance
            .run(async move { core.send_oneway(msg).await })
            .await?
    }

    /// Send to the queue `selector(queues, msg)` picks; no retry on another queue (ordering).
    pub async fn send_with_selector<F>(&self, msg: Message, selector: F) -> Result<SendResult>
    where
        F: FnOnce(&[MessageQueue], &Message) -> usize + Send + 'static,
    {
        let core = self.core.clone();
        self.core
            .instance
            .run(async move {
                let queues = core.publish_queues(&msg.topic).await?;
                let i = selector(&queues, &msg) % queues.len();
                core.send(msg, Some(queues[i].clone())).await
            })
            .await?
    }

    /// Ordered send: every message with the same `sharding_key` goes to the same queue.
    pub async fn send_orderly(&self, msg: Message, sharding_key: &str) -> Result<SendResult> {
        let key = sharding_key.to_string();
        self.send_with_selector(msg, move |qs, _| queue_for_key(&key, qs.len()))
            .await
    }

    /// Send to one given queue.
    pub async fn send_to_queue(&self, msg: Message, mq: MessageQueue) -> Result<SendResult> {
        let core = self.core.clone();
        self.core
            .instance
            .run(async move { core.send(msg, Some(mq)).await })
            .await?
    }

    /// Send messages of one topic as one batch (one queue, consecutive offsets).
    pub async fn send_batch(&self, msgs: Vec<Message>) -> Result<SendResult> {
        let core = self.core.clone();
        self.core
            .instance
            .run(async move { core.send_batch(msgs).await })
            .await?
    }

    /// The trace dispatcher (`None` without `enable_trace`): the transaction producer adds its
    /// EndTransaction records to it.
    pub(crate) fn trace_dispatcher(&self) -> Option<&TraceDispatcher> {
        self.core.trace.as_ref()
    }

    /// Counters of the trace dispatcher (`None` without `enable_trace`).
    pub fn trace_stats(&self) -> Option<trace::TraceStats> {
        self.core.trace.as_ref().map(|t| t.stats())
    }

    /// Send the queued trace records (at most 3 s), then unregister the producer group.
    pub async fn shutdown(self) -> Result<()> {
        trace::flush_on(&self.core.instance, self.core.trace.clone()).await;
        let hb = self.core.instance.inner.heartbeat.clone();
        let msg = UnregisterGroup {
            producer: Some(self.core.config.group.clone()),
            consumer: None,
        };
        hb.send(msg)
            .await
            .map_err(|e| ClientError::State(e.to_string()))
    }
}

impl Core {
    async fn publish_queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        validate_topic(topic)?;
        let inst = &self.instance;
        let cached = inst.inner.routes.read().publish_queues(topic, false);
        if !cached.is_empty() {
            return Ok(cached);
        }
        if inst.update_route(topic).await? {
            let q = inst.inner.routes.read().publish_queues(topic, false);
            if !q.is_empty() {
                return Ok(q);
            }
        }
        let template = inst.inner.routes.read().publish_queues(topic, true);
        if !template.is_empty() {
            return Ok(template);
        }
        if inst.update_route(AUTO_CREATE_TOPIC).await? {
            let q = inst.inner.routes.read().publish_queues(topic, true);
            if !q.is_empty() {
                return Ok(q);
            }
        }
        Err(ClientError::TopicNotExist(topic.to_string()))
    }

    fn prepare(&self, msg: &Message) -> Result<Prepared> {
        validate_topic(&msg.topic)?;
        if msg.body.is_empty() {
            return Err(ClientError::InvalidMessage("empty body".into()));
        }
        if msg.body.len() > self.config.max_message_size {
            return Err(ClientError::BodyTooLarge {
                size: msg.body.len(),
                max: self.config.max_message_size,
            });
        }
        let msg_id = new_uniq_key();
        let half = msg.properties.get(prop::TRAN_MSG).map(String::as_str) == Some("true");
        Ok(Prepared {
            sys_flag: if half {
                sys_flag::TRANSACTION_PREPARED_TYPE
            } else {
                0
            },
            topic: msg.topic.clone(),
            body: msg.body.clone(),
            flag: msg.flag,
            properties: msg.encode_properties(&msg_id),
            msg_id,
            batch: false,
        })
    }

    fn request(&self, p: &Prepared, mq: &MessageQueue) -> RemotingCommand {
        let h = SendMessageRequestHeader {
            producer_group: self.config.group.clone(),
            topic: p.topic.clone(),
            default_topic: AUTO_CREATE_TOPIC.to_string(),
            default_topic_queue_nums: DEFAULT_TOPIC_QUEUE_NUMS,
            queue_id: mq.queue_id,
            sys_flag: p.sys_flag,
            born_timestamp: now_ms(),
            flag: p.flag,
            properties: Some(p.properties.clone()),
            reconsume_times: Some(0),
            unit_mode: Some(false),
            batch: Some(p.batch),
            max_reconsume_times: None,
            bname: None,
        };
        let code = if p.batch {
            rq::SEND_BATCH_MESSAGE
        } else {
            rq::SEND_MESSAGE_V2
        };
        RemotingCommand::request_with(code, &SendMessageRequestHeaderV2::from(h))
            .with_body(p.body.clone())
    }

    async fn send(&self, msg: Message, fixed: Option<MessageQueue>) -> Result<SendResult> {
        let p = self.prepare(&msg)?;
        self.send_prepared(p, fixed).await
    }

    async fn send_batch(&self, msgs: Vec<Message>) -> Result<SendResult> {
        let first = msgs
            .first()
            .ok_or_else(|| ClientError::InvalidMessage("empty batch".into()))?;
        let topic = first.topic.clone();
        let mut items = Vec::with_capacity(msgs.len());
        let mut ids = Vec::with_capacity(msgs.len());
        for m in &msgs {
            if m.topic != topic {
                return Err(ClientError::InvalidMessage(
                    "a batch must have one topic".into(),
                ));
            }
            if m.delay_level > 0 {
                return Err(ClientError::InvalidMessage(
                    "delayed messages cannot be batched".into(),
                ));
            }
            let p = self.prepare(m)?;
            ids.push(p.msg_id.clone());
            items.push(BatchItem {
                flag: p.flag,
                body: p.body,
                properties: p.properties,
            });
        }
        let body = encode_batch(&items).freeze();
        if body.len() > self.config.max_message_size {
            return Err(ClientError::BodyTooLarge {
                size: body.len(),
                max: self.config.max_message_size,
            });
        }
        let p = Prepared {
            topic,
            body,
            flag: 0,
            properties: String::new(),
            msg_id: ids.join(","),
            batch: true,
            sys_flag: 0,
        };
        self.send_prepared(p, None).await
    }

    async fn send_prepared(&self, p: Prepared, fixed: Option<MessageQueue>) -> Result<SendResult> {
        let started = Instant::now();
        let timeout = self.config.send_timeout;
        let remaining = |what: &str| {
            timeout
                .checked_sub(started.elapsed())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| ClientError::Timeout {
                    what: what.to_string(),
                    millis: timeout.as_millis(),
                })
        };
        let queues = match &fixed {
            Some(q) => {
                if self
                    .instance
                    .inner
                    .routes
                    .read()
                    .master_addr(&q.broker_name)
                    .is_none()
                {
                    self.publish_queues(&p.topic).await?;
                }
                vec![q.clone()]
            }
            None => tokio::time::timeout(remaining("route lookup")?, self.publish_queues(&p.topic))
                .await
                .map_err(|_| ClientError::Timeout {
                    what: format!("route lookup of {}", p.topic),
                    millis: timeout.as_millis(),
                })??,
        };
        let attempts = if fixed.is_some() {
            1
        } else {
            1 + self.config.retry_times
        };
        let mut last_broker: Option<String> = None;
        let mut last_err = None;
        for _ in 0..attempts {
            let left = match remaining(&format!("send to {}", p.topic)) {
                Ok(d) => d,
                Err(e) => return Err(last_err.unwrap_or(e)),
            };
            let c = self.counter.fetch_add(1, Ordering::Relaxed);
            let mq = {
                let f = self.fault.lock();
                let avoid = if self.config.latency_fault_enable {
                    f.select(&queues, c, last_broker.as_deref(), now_ms())
                } else {
                    LatencyFault::default().select(&queues, c, last_broker.as_deref(), 0)
                };
                avoid.cloned().expect("queues not empty")
            };
            let t0 = Instant::now();
            let r = self.send_once(&p, &mq, left).await;
            let latency = match &r {
                Ok(_) => t0.elapsed().as_millis() as i64,
                Err(_) => FAILURE_LATENCY,
            };
            if self.config.latency_fault_enable {
                self.fault.lock().update(&mq.broker_name, latency, now_ms());
            }
            match r {
                Ok(res) => return Ok(res),
                Err(e) if e.retriable() => {
                    tracing::warn!(broker = %mq.broker_name, error = %e, "send failed; retrying");
                    last_broker = Some(mq.broker_name.clone());
                    last_err = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| ClientError::State("no send attempt".into())))
    }

    async fn send_once(
        &self,
        p: &Prepared,
        mq: &MessageQueue,
        timeout: Duration,
    ) -> Result<SendResult> {
        let t0 = Instant::now();
        let addr = self
            .instance
            .inner
            .routes
            .read()
            .master_addr(&mq.broker_name)
            .ok_or_else(|| {
                ClientError::State(format!("no address for broker {}", mq.broker_name))
            })?;
        let resp = self
            .instance
            .inner
            .net
            .call(&addr, self.request(p, mq), timeout)
            .await?;
        let status = match resp.code {
            rc::SUCCESS => SendStatus::SendOk,
            rc::FLUSH_DISK_TIMEOUT => SendStatus::FlushDiskTimeout,
            rc::FLUSH_SLAVE_TIMEOUT => SendStatus::FlushSlaveTimeout,
            rc::SLAVE_NOT_AVAILABLE => SendStatus::SlaveNotAvailable,
            c => return Err(ClientError::broker(c, resp.remark.as_deref())),
        };
        let h = resp.header::<SendMessageResponseHeader>()?;
        let res = SendResult {
            status,
            msg_id: p.msg_id.clone(),
            offset_msg_id: h.msg_id,
            queue: MessageQueue::new(&mq.topic, &mq.broker_name, h.queue_id),
            queue_offset: h.queue_offset,
        };
        if let Some(t) = &self.trace {
            t.on_sent(&Sent {
                group: &self.config.group,
                properties: &p.properties,
                store_host: &addr,
                body_length: p.body.len(),
                batch: p.batch,
                started: t0,
                region: &h.region,
                trace_on: h.trace_on,
                topic: &res.queue.topic,
                msg_id: &res.msg_id,
                offset_msg_id: &res.offset_msg_id,
                send_ok: res.status == SendStatus::SendOk,
            });
        }
        Ok(res)
    }

    async fn send_oneway(&self, msg: Message) -> Result<()> {
        let p = self.prepare(&msg)?;
        let queues = self.publish_queues(&p.topic).await?;
        let c = self.counter.fetch_add(1, Ordering::Relaxed);
        let mq = self
            .fault
            .lock()
            .select(&queues, c, None, now_ms())
            .cloned()
            .expect("queues");
        let addr = self
            .instance
            .inner
            .routes
            .read()
            .master_addr(&mq.broker_name)
            .ok_or_else(|| {
                ClientError::State(format!("no address for broker {}", mq.broker_name))
            })?;
        self.instance
            .inner
            .net
            .oneway(&addr, self.request(&p, &mq))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hash_selection_is_stable_and_in_range() {
        for n in 1..9 {
            for k in ["order-1", "order-2", "", "polygenelubricants"] {
                let a = queue_for_key(k, n);
                assert!(a < n);
                assert_eq!(a, queue_for_key(k, n));
            }
        }
        // Java: Math.abs("order-1".hashCode()) % 4
        let h = java_string_hash("order-1");
        assert_eq!(queue_for_key("order-1", 4), (h.unsigned_abs() % 4) as usize);
    }

    #[test]
    fn topic_names_are_checked() {
        assert!(validate_topic("Topic_A-1").is_ok());
        assert!(validate_topic("%RETRY%g").is_ok());
        assert!(validate_topic("").is_err());
        assert!(validate_topic("a b").is_err());
        assert!(validate_topic(&"x".repeat(128)).is_err());
    }
}
