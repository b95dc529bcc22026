//! CONSUMER_SEND_MSG_BACK (36): a consumer failed a message; store a copy on the group's retry
//! topic with a delay level (3 + reconsume times unless the consumer chose one), or on its DLQ once
//! it has been retried `maxReconsumeTimes` times. The decision and the copy's place and
//! properties are `logic::retry` (`plan_send_back`, `SendBackPlan::store_plan`); this handler
//! looks up the message and the group, creates the target topic and appends.

use std::sync::Arc;

use rand::Rng;

use super::{ok, HandlerResult};
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::logic::retry::{
    max_reconsume_times, plan_send_back, retry_queue_id, SendBackInput, SendBackTarget,
};
use crate::clock::now_ms;
use crate::error::{OffsetLookup, ServiceError};
use crate::protocol::headers::client::ConsumerSendMsgBackRequestHeader;
use crate::protocol::message::properties as prop;
use crate::protocol::validate::check_group;
use crate::protocol::RemotingCommand;
use crate::storage::MessageOrigin;

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
    if ctx.role.is_slave() {
        return Err(ServiceError::SlaveRefusesWrites(
            ctx.cfg.broker_name.clone(),
        ));
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

    // Create the target topic; a retry goes to a random queue of it.
    let retry_queue = match &plan.target {
        SendBackTarget::DeadLetter { .. } => {
            let (_, created) = ctx.topics.write().ensure_dlq_topic(&h.group, now)?;
            if created {
                ctx.topics_changed();
            }
            tracing::info!(group = %h.group, msg = %offset_id, "message moved to the dead-letter queue");
            0
        }
        SendBackTarget::Retry { .. } => {
            let (config, created) =
                ctx.topics
                    .write()
                    .ensure_retry_topic(&h.group, group.retry_queue_nums, 0, now)?;
            if created {
                ctx.topics_changed();
            }
            retry_queue_id(rand::thread_rng().gen(), config.write_queue_nums)
        }
    };
    let origin = MessageOrigin {
        store_host: ctx.store_host,
        reconsume_times: plan.reconsume_times,
        ..MessageOrigin::of_record(&stored)
    };
    let msg = plan
        .store_plan(&stored.properties, retry_queue, &ctx.delay, now)
        .into_message(origin, stored.body.clone(), false);
    ctx.store.put_message(msg)?;
    let topic = stored.property(prop::RETRY_TOPIC).unwrap_or(&stored.topic);
    let to_dlq = matches!(plan.target, SendBackTarget::DeadLetter { .. });
    ctx.stats.on_send_back(topic, &h.group, to_dlq);
    Ok(ok(req))
}
