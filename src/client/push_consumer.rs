//! `PushConsumer`: the application's handle for listener-driven consumption (concurrent or
//! orderly, clustering or broadcasting). Plain async methods; behind them the group's
//! `RebalanceActor` and per-queue tasks run on the client runtime thread.
//!
//! Start order: fetch the subscribed topics' routes, register the rebalancer for notifications,
//! heartbeat (answered only once sent, so the brokers know the group before the first pull), then
//! the first rebalance. Shutdown order: stop pulling, wait for in-flight listener calls (bounded),
//! commit offsets, release orderly locks, unregister from the brokers.

use std::sync::Arc;

use actix::prelude::*;

use super::config::ConsumerConfig;
use super::consumer::{ConsumerCore, Listener};
use super::error::{ClientError, Result};
use super::heartbeat::RegisterConsumer;
use super::instance::RegisterRebalancer;
use super::message::MessageQueue;
use super::rebalance::{Assigned, DoRebalance, RebalanceActor, Shutdown};
use crate::protocol::body::ConsumeType;

pub struct PushConsumer {
    core: Arc<ConsumerCore>,
    rebalancer: Option<Addr<RebalanceActor>>,
}

fn actor_err(e: MailboxError) -> ClientError {
    ClientError::State(format!("rebalance actor: {e}"))
}

impl PushConsumer {
    pub fn new(config: ConsumerConfig) -> Result<PushConsumer> {
        Ok(PushConsumer {
            core: ConsumerCore::new(config, ConsumeType::ConsumePassively)?,
            rebalancer: None,
        })
    }

    pub fn client_id(&self) -> &str {
        self.core.instance.client_id()
    }

    /// Subscribe `topic` with a tag expression (`*`, `TagA`, `TagA || TagB`). After start, the new
    /// subscription is announced by an immediate heartbeat and a rebalance.
    pub async fn subscribe(&self, topic: &str, expression: &str) -> Result<()> {
        self.core.subscribe(topic, expression);
        if let Some(r) = &self.rebalancer {
            let core = self.core.clone();
            let t = topic.to_string();
            self.core
                .instance
                .run(async move { core.instance.update_route(&t).await })
                .await??;
            self.heartbeat().await?;
            r.send(DoRebalance("subscription changed"))
                .await
                .map_err(actor_err)?;
        }
        Ok(())
    }

    async fn heartbeat(&self) -> Result<()> {
        self.core
            .instance
            .inner
            .heartbeat
            .send(RegisterConsumer(self.core.consumer_data()))
            .await
            .map_err(|e| ClientError::State(format!("heartbeat actor: {e}")))
    }

    /// Start consuming with `listener`.
    pub async fn start(&mut self, listener: Listener) -> Result<()> {
        if self.rebalancer.is_some() {
            return Err(ClientError::State("already started".into()));
        }
        if self.core.topics().is_empty() {
            return Err(ClientError::State(
                "subscribe to a topic before start".into(),
            ));
        }
        self.core
            .listener
            .set(listener)
            .map_err(|_| ClientError::State("a consumer starts once".into()))?;
        let core = self.core.clone();
        let addr = self
            .core
            .instance
            .run(async move {
                for t in core.topics() {
                    if let Err(e) = core.instance.update_route(&t).await {
                        tracing::warn!(topic = %t, error = %e, "route fetch at start failed");
                    }
                }
                RebalanceActor::new(core).start()
            })
            .await?;
        self.core
            .instance
            .inner
            .actor
            .send(RegisterRebalancer {
                group: self.core.group().to_string(),
                recipient: addr.clone().recipient(),
                admin: addr.clone().recipient(),
            })
            .await
            .map_err(|e| ClientError::State(format!("instance actor: {e}")))?;
        self.heartbeat().await?;
        addr.send(DoRebalance("start")).await.map_err(actor_err)?;
        self.rebalancer = Some(addr);
        tracing::info!(
            group = self.core.group(),
            client = self.client_id(),
            "push consumer started"
        );
        Ok(())
    }

    /// The queues this member currently owns.
    pub async fn assignment(&self) -> Vec<MessageQueue> {
        match &self.rebalancer {
            Some(r) => r.send(Assigned).await.unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// Rebalance now (normally driven by notifications and the timer).
    pub async fn rebalance(&self) -> Result<()> {
        match &self.rebalancer {
            Some(r) => r.send(DoRebalance("requested")).await.map_err(actor_err),
            None => Err(ClientError::State("not started".into())),
        }
    }

    /// Stop pulling, finish in-flight consumption (bounded), commit offsets, unregister, send the
    /// queued trace records (at most 3 s).
    pub async fn shutdown(mut self) -> Result<()> {
        let r = match self.rebalancer.take() {
            Some(r) => r.send(Shutdown).await.map_err(actor_err),
            None => Ok(()),
        };
        super::trace::flush_on(&self.core.instance, self.core.trace.clone()).await;
        r
    }
}

impl Drop for PushConsumer {
    /// A consumer dropped without `shutdown` still leaves cleanly, in the background.
    fn drop(&mut self) {
        if let Some(r) = self.rebalancer.take() {
            r.do_send(Shutdown);
        }
    }
}
