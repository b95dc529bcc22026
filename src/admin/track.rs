//! Message tracking (Java `DefaultMQAdminExtImpl.messageTrackDetail`): for a stored message,
//! every group consuming its topic and whether that group has consumed it yet, judged from the
//! group's committed offset of the message's queue.

use serde::Serialize;

use super::client::AdminClient;
use super::error::Result;
use crate::protocol::body::ConsumeType;
use crate::protocol::codes::response_code as rc;
use crate::protocol::message::MessageExt;

/// `TrackType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrackType {
    Consumed,
    NotConsumeYet,
    NotOnline,
    Pull,
    Unknown,
}

/// `MessageTrack`: one group's view of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageTrack {
    pub consumer_group: String,
    pub track_type: TrackType,
    pub exception_desc: Option<String>,
}

impl std::fmt::Display for MessageTrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = serde_json::to_value(self.track_type).expect("serializable");
        write!(
            f,
            "MessageTrack [consumerGroup={}, trackType={}, exceptionDesc={}]",
            self.consumer_group,
            t.as_str().unwrap_or_default(),
            self.exception_desc.as_deref().unwrap_or("null")
        )
    }
}

impl AdminClient {
    /// How every group consuming `msg.topic` stands with `msg`.
    pub async fn message_track(&self, msg: &MessageExt) -> Result<Vec<MessageTrack>> {
        let mut out = Vec::new();
        for group in self.topic_consumers(&msg.topic).await? {
            let track = |t: TrackType, e: Option<String>| MessageTrack {
                consumer_group: group.clone(),
                track_type: t,
                exception_desc: e,
            };
            let cc = match self.group_consumer_connection(&group).await {
                Ok(cc) => cc,
                Err(e) if e.code() == Some(rc::CONSUMER_NOT_ONLINE) => {
                    out.push(track(TrackType::NotOnline, Some(e.to_string())));
                    continue;
                }
                Err(e) => {
                    out.push(track(TrackType::Unknown, Some(e.to_string())));
                    continue;
                }
            };
            if cc.consume_type == ConsumeType::ConsumeActively {
                out.push(track(TrackType::Pull, None));
                continue;
            }
            let t = match self.consumed(msg, &group).await {
                Ok(true) => track(TrackType::Consumed, None),
                Ok(false) => track(TrackType::NotConsumeYet, None),
                Err(e) => track(TrackType::Unknown, Some(e.to_string())),
            };
            out.push(t);
        }
        Ok(out)
    }

    /// Whether `group`'s committed offset of the message's queue is past the message.
    async fn consumed(&self, msg: &MessageExt, group: &str) -> Result<bool> {
        let stats = self.group_consume_stats(group, Some(&msg.topic)).await?;
        let info = self.cluster_info().await?;
        let store = msg.store_host.to_string();
        let broker = info
            .broker_addr_table
            .values()
            .find(|b| b.broker_addrs.values().any(|a| *a == store))
            .map(|b| b.broker_name.clone());
        Ok(stats.offset_table.iter().any(|(mq, w)| {
            mq.topic == msg.topic
                && mq.queue_id == msg.queue_id
                && broker.as_deref().is_none_or(|b| b == mq.broker_name)
                && w.consumer_offset > msg.queue_offset
        }))
    }
}
