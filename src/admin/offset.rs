//! Offsets: queue min/max/by-time (29, 30, 31), a group's stored offset (14, 15), reset by time
//! (INVOKE_BROKER_TO_RESET_OFFSET 222 with RocketMQ's fallback when no consumer is online) and
//! copying a group's offsets to another group. Per-queue calls reuse the client library's
//! [`broker_api`] functions.

use std::collections::BTreeMap;

use super::client::{route_brokers, AdminClient};
use super::error::{AdminError, Result};
use crate::client::broker_api;
use crate::protocol::body::{MessageQueue, ResetOffsetBody};
use crate::protocol::codes::{request_code as rq, response_code as rc};
use crate::protocol::headers::ResetOffsetRequestHeader;
use crate::protocol::RemotingCommand;

/// Timestamp meaning "to the max offset" in a reset (`now` on the command line).
pub const RESET_TO_MAX: i64 = -1;

/// How a reset by time was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ResetMode {
    /// The brokers pushed the new offsets to the online consumers (222 -> 220).
    Online,
    /// No consumer was online: the offsets were written to the brokers directly (15).
    Offline,
}

/// One queue of an offline reset (Java `RollbackStats`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackStats {
    pub broker_name: String,
    pub queue_id: i32,
    pub broker_offset: i64,
    pub consumer_offset: i64,
    /// The offset the timestamp resolved to.
    pub timestamp_offset: i64,
    /// The offset written.
    pub rollback_offset: i64,
}

/// The outcome of [`AdminClient::reset_offset_by_time`]: the new offset of every queue, and
/// for an offline reset the per-queue details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetResult {
    pub mode: ResetMode,
    pub offsets: BTreeMap<MessageQueue, i64>,
    /// Filled for [`ResetMode::Offline`] only, in queue order.
    pub rollback: Vec<RollbackStats>,
}

impl AdminClient {
    pub async fn max_offset(&self, addr: &str, mq: &MessageQueue) -> Result<i64> {
        Ok(broker_api::max_offset(&self.net, addr, mq, self.timeout()).await?)
    }

    pub async fn min_offset(&self, addr: &str, mq: &MessageQueue) -> Result<i64> {
        Ok(broker_api::min_offset(&self.net, addr, mq, self.timeout()).await?)
    }

    /// SEARCH_OFFSET_BY_TIMESTAMP (29): the first offset stored at or after `ts` (ms).
    pub async fn search_offset(&self, addr: &str, mq: &MessageQueue, ts: i64) -> Result<i64> {
        Ok(broker_api::search_offset(&self.net, addr, mq, ts, self.timeout()).await?)
    }

    /// QUERY_CONSUMER_OFFSET (14): `group`'s stored offset of `mq`, `None` when it has none.
    pub async fn consumer_offset(
        &self,
        addr: &str,
        group: &str,
        mq: &MessageQueue,
    ) -> Result<Option<i64>> {
        Ok(broker_api::query_offset(&self.net, addr, group, mq, self.timeout()).await?)
    }

    /// UPDATE_CONSUMER_OFFSET (15): store `offset` as `group`'s offset of `mq`.
    pub async fn update_consumer_offset(
        &self,
        addr: &str,
        group: &str,
        mq: &MessageQueue,
        offset: i64,
    ) -> Result<()> {
        Ok(broker_api::update_offset(&self.net, addr, group, mq, offset, self.timeout()).await?)
    }

    /// INVOKE_BROKER_TO_RESET_OFFSET (222) on the broker at `addr`: the broker computes the
    /// offsets for `timestamp` (or the max with [`RESET_TO_MAX`]) and pushes them to the online
    /// consumers of `group`. CONSUMER_NOT_ONLINE when none is online.
    pub async fn reset_offset(
        &self,
        addr: &str,
        topic: &str,
        group: &str,
        timestamp: i64,
        force: bool,
    ) -> Result<ResetOffsetBody> {
        let h = ResetOffsetRequestHeader {
            topic: topic.to_string(),
            group: group.to_string(),
            timestamp,
            is_force: force,
        };
        let cmd = RemotingCommand::request_with(rq::INVOKE_BROKER_TO_RESET_OFFSET, &h);
        let resp = self.call_ok(addr, cmd).await?;
        if resp.body.is_empty() {
            return Ok(ResetOffsetBody::default());
        }
        Ok(ResetOffsetBody::from_fastjson(&resp.body)?)
    }

    /// Reset `group`'s offsets of `topic` to `timestamp` on every broker of the route (Java
    /// `ResetOffsetByTimeCommand`). When no consumer is online the offsets are computed here and
    /// written with UPDATE_CONSUMER_OFFSET (Java `resetOffsetByTimeOld`); `force` = false keeps
    /// an offset already before the target.
    pub async fn reset_offset_by_time(
        &self,
        topic: &str,
        group: &str,
        timestamp: i64,
        force: bool,
    ) -> Result<ResetResult> {
        let route = self.route_of(topic).await?;
        let mut offsets = BTreeMap::new();
        for (_, addr) in route_brokers(&route) {
            match self
                .reset_offset(&addr, topic, group, timestamp, force)
                .await
            {
                Ok(b) => offsets.extend(b.offset_table),
                Err(e) if e.code() == Some(rc::CONSUMER_NOT_ONLINE) => {
                    return self.reset_offline(topic, group, timestamp, force).await;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(ResetResult {
            mode: ResetMode::Online,
            offsets,
            rollback: Vec::new(),
        })
    }

    async fn reset_offline(
        &self,
        topic: &str,
        group: &str,
        timestamp: i64,
        force: bool,
    ) -> Result<ResetResult> {
        let stats = self.group_consume_stats(group, Some(topic)).await?;
        let route = self.route_of(topic).await?;
        let addrs: BTreeMap<String, String> = route_brokers(&route).into_iter().collect();
        let mut offsets = BTreeMap::new();
        let mut rollback = Vec::new();
        for (mq, w) in stats
            .offset_table
            .iter()
            .filter(|(mq, _)| mq.topic == topic)
        {
            let addr = addrs.get(&mq.broker_name).ok_or_else(|| {
                AdminError::NotFound(format!("broker {} left the route", mq.broker_name))
            })?;
            let target = if timestamp == RESET_TO_MAX {
                self.max_offset(addr, mq).await?
            } else {
                self.search_offset(addr, mq, timestamp).await?
            };
            let offset = if force || target < w.consumer_offset {
                target
            } else {
                w.consumer_offset
            };
            self.update_consumer_offset(addr, group, mq, offset).await?;
            offsets.insert(mq.clone(), offset);
            rollback.push(RollbackStats {
                broker_name: mq.broker_name.clone(),
                queue_id: mq.queue_id,
                broker_offset: w.broker_offset,
                consumer_offset: w.consumer_offset,
                timestamp_offset: target,
                rollback_offset: offset,
            });
        }
        Ok(ResetResult {
            mode: ResetMode::Offline,
            offsets,
            rollback,
        })
    }

    /// Copy `src_group`'s offsets of `topic` to `dest_group` on every broker of the route (Java
    /// `CloneGroupOffsetCommand`: consume stats of the source, then UPDATE_CONSUMER_OFFSET per
    /// queue). Returns the offsets written.
    pub async fn clone_group_offset(
        &self,
        src_group: &str,
        dest_group: &str,
        topic: &str,
    ) -> Result<BTreeMap<MessageQueue, i64>> {
        let stats = self.group_consume_stats(src_group, Some(topic)).await?;
        let route = self.route_of(topic).await?;
        let addrs: BTreeMap<String, String> = route_brokers(&route).into_iter().collect();
        let mut out = BTreeMap::new();
        for (mq, w) in stats
            .offset_table
            .iter()
            .filter(|(mq, _)| mq.topic == topic)
        {
            if let Some(addr) = addrs.get(&mq.broker_name) {
                self.update_consumer_offset(addr, dest_group, mq, w.consumer_offset)
                    .await?;
                out.insert(mq.clone(), w.consumer_offset);
            }
        }
        Ok(out)
    }
}
