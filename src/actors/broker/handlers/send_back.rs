//! CONSUMER_SEND_MSG_BACK (36): a consumer failed a message; store a copy on the group's retry
//! topic with a delay level (3 + reconsume times unless the consumer chose one), or on its DLQ once
//! it has been retried `maxReconsumeTimes` times. The decision is `logic::retry::plan_send_back`.

use std::sync::Arc;

use rand::Rng;

use super::send::divert_if_delayed;
use super::{ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::logic::retry::{
    max_reconsume_times, plan_send_back, SendBackInput, SendBackTarget,
};
use crate::actors::namesrv::now_ms;
use crate::error::{OffsetLookup, ServiceError};
use crate::protocol::headers::client::ConsumerSendMsgBackRequestHeader;
use crate::protocol::message::properties::{self as prop, Properties};
use crate::protocol::validate::check_group;
use crate::protocol::RemotingCommand;
use crate::storage::MessageToStore;

pub async fn handle(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let h: ConsumerSendMsgBackRequestHeader = req.header()?;
    // The group names the retry and dead-letter topics, hence directories: check it first.
    check_group(&h.group)?;
    let now = now_ms();
    let Some((group, created)) = ctx.groups.write().get_or_create(&h.group, now) else {
        return Err(ServiceError::SubscriptionGroupNotExist(format!(
            "subscription group not exist, {}",
            h.group
        )));
    };
    if created {
        ctx.groups_changed();
    }
    if !ctx.writeable() {
        return Err(ServiceError::BrokerNotWriteable(
            ctx.cfg.broker_name.clone(),
        ));
    }
    if group.retry_queue_nums <= 0 {
        return Ok(ok(req));
    }
    let stored = ctx
        .store
        .lookup_message(h.offset)
        .ok_or(ServiceError::NoMessageAtOffset {
            offset: h.offset,
            lookup: OffsetLookup::SendBack,
        })?;
    let offset_id = stored.offset_msg_id();
    let plan = plan_send_back(&SendBackInput {
        group: &h.group,
        delay_level: h.delay_level,
        stored_topic: &stored.topic,
        reconsume_times: stored.reconsume_times,
        retry_topic_property: stored.property(prop::RETRY_TOPIC),
        origin_message_id_property: stored.property(prop::ORIGIN_MESSAGE_ID),
        offset_msg_id: &offset_id,
        max_reconsume_times: max_reconsume_times(
            group.retry_max_times,
            h.max_reconsume_times,
            req.version,
        ),
    });

    let mut props = Properties::decode(&stored.properties);
    for (k, v) in &plan.set_properties {
        props.insert(k, v);
    }
    let mut msg = MessageToStore::new("", 0, stored.body.clone(), "");
    match &plan.target {
        SendBackTarget::DeadLetter { topic } => {
            let (_, created) = ctx.topics.write().ensure_dlq_topic(&h.group, now)?;
            if created {
                ctx.topics_changed();
            }
            props.remove(prop::DELAY);
            msg.topic = topic.clone();
            msg.queue_id = 0;
            tracing::info!(group = %h.group, msg = %offset_id, "message moved to the dead-letter queue");
        }
        SendBackTarget::Retry { topic, .. } => {
            let (config, created) =
                ctx.topics
                    .write()
                    .ensure_retry_topic(&h.group, group.retry_queue_nums, 0, now)?;
            if created {
                ctx.topics_changed();
            }
            msg.topic = topic.clone();
            msg.queue_id = rand::thread_rng().gen_range(0..config.write_queue_nums.max(1));
        }
    }
    msg.flag = stored.flag;
    msg.sys_flag = stored.sys_flag;
    msg.born_timestamp = stored.born_timestamp;
    msg.born_host = stored.born_host;
    msg.store_host = ctx.store_host;
    msg.reconsume_times = plan.reconsume_times;
    msg.wait_store_msg_ok = false;
    divert_if_delayed(ctx, &mut msg, &mut props);
    props.remove(prop::WAIT);
    msg.properties = props.encode();
    ctx.store.put_message(msg)?;
    Ok(ok(req))
}
