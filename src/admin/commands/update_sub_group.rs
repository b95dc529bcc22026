//! `updateSubGroup`: create or update a subscription group on one broker or every master of a
//! cluster. Like RocketMQ's command, broadcast and from-min default to false here.

use super::format::java_bool;
use super::target::Target;
use super::Ctx;
use crate::admin::error::Result;
use crate::protocol::body::SubscriptionGroupConfig;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Consumer group name.
    #[arg(short = 'g', long = "groupName")]
    group: String,
    /// Consume enable (true|false).
    #[arg(short = 's', long = "consumeEnable")]
    consume_enable: Option<String>,
    /// Consume from the min offset (true|false).
    #[arg(short = 'm', long = "consumeFromMinEnable")]
    from_min: Option<String>,
    /// Broadcast (true|false).
    #[arg(short = 'd', long = "consumeBroadcastEnable")]
    broadcast: Option<String>,
    /// Retry queue nums.
    #[arg(short = 'q', long = "retryQueueNums")]
    retry_queue_nums: Option<i32>,
    /// Retry max times.
    #[arg(short = 'r', long = "retryMaxTimes")]
    retry_max_times: Option<i32>,
    /// Consume from which broker id.
    #[arg(short = 'i', long = "brokerId")]
    broker_id: Option<i64>,
    /// Which broker id when consuming slowly.
    #[arg(short = 'w', long = "whichBrokerWhenConsumeSlowly")]
    slow_broker_id: Option<i64>,
    /// Notify consumer ids changed (true|false).
    #[arg(short = 'a', long = "notifyConsumerIdsChanged")]
    notify: Option<String>,
}

/// Java `SubscriptionGroupConfig.toString()`.
pub fn group_config_text(c: &SubscriptionGroupConfig) -> String {
    format!(
        "SubscriptionGroupConfig [groupName={}, consumeEnable={}, consumeFromMinEnable={}, consumeBroadcastEnable={}, retryQueueNums={}, retryMaxTimes={}, brokerId={}, whichBrokerWhenConsumeSlowly={}, notifyConsumerIdsChangedEnable={}]",
        c.group_name,
        c.consume_enable,
        c.consume_from_min_enable,
        c.consume_broadcast_enable,
        c.retry_queue_nums,
        c.retry_max_times,
        c.broker_id,
        c.which_broker_when_consume_slowly,
        c.notify_consumer_ids_changed_enable
    )
}

impl Args {
    fn config(&self) -> SubscriptionGroupConfig {
        let mut c = SubscriptionGroupConfig::new(self.group.trim());
        c.consume_broadcast_enable = false;
        c.consume_from_min_enable = false;
        let flag = |o: &Option<String>, d: bool| o.as_deref().map_or(d, java_bool);
        c.consume_enable = flag(&self.consume_enable, c.consume_enable);
        c.consume_from_min_enable = flag(&self.from_min, false);
        c.consume_broadcast_enable = flag(&self.broadcast, false);
        c.notify_consumer_ids_changed_enable =
            flag(&self.notify, c.notify_consumer_ids_changed_enable);
        c.retry_queue_nums = self.retry_queue_nums.unwrap_or(c.retry_queue_nums);
        c.retry_max_times = self.retry_max_times.unwrap_or(c.retry_max_times);
        c.broker_id = self.broker_id.unwrap_or(c.broker_id);
        c.which_broker_when_consume_slowly = self
            .slow_broker_id
            .unwrap_or(c.which_broker_when_consume_slowly);
        c
    }

    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let config = self.config();
        for addr in self.target.masters(&ctx.admin).await? {
            ctx.admin.create_subscription_group(&addr, &config).await?;
            ctx.line(format!("create subscription group to {addr} success."));
        }
        ctx.line(group_config_text(&config));
        Ok(())
    }
}
