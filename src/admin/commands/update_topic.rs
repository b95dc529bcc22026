//! `updateTopic`: create or update a topic on one broker (`-b`) or every master of a cluster
//! (`-c`); with `-o true` also records the order conf (KV namespace ORDER_TOPIC_CONFIG).

use super::format::java_bool;
use super::target::Target;
use super::Ctx;
use crate::admin::error::Result;
use crate::protocol::body::{perm, TopicConfig};

/// KV namespace of order-topic configs (`NamesrvUtil.NAMESPACE_ORDER_TOPIC_CONFIG`).
pub const ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    topic: String,
    /// Read queue nums.
    #[arg(short = 'r', long = "readQueueNums", default_value_t = 8)]
    read_queue_nums: i32,
    /// Write queue nums.
    #[arg(short = 'w', long = "writeQueueNums", default_value_t = 8)]
    write_queue_nums: i32,
    /// Topic permission (2|4|6): 2 = W, 4 = R, 6 = RW.
    #[arg(short = 'p', long = "perm", default_value_t = 6)]
    perm: i32,
    /// Order topic (true|false).
    #[arg(short = 'o', long = "order")]
    order: Option<String>,
    /// Unit topic (true|false).
    #[arg(short = 'u', long = "unit")]
    unit: Option<String>,
    /// Has unit subscription (true|false).
    #[arg(short = 's', long = "hasUnitSub")]
    has_unit_sub: Option<String>,
}

/// `PermName.perm2String`: `R`/`W`/`X` or `-` per bit.
pub fn perm_string(p: i32) -> String {
    let bit = |set: bool, c: char| if set { c } else { '-' };
    [
        bit(perm::readable(p), 'R'),
        bit(perm::writeable(p), 'W'),
        bit(perm::inherited(p), 'X'),
    ]
    .iter()
    .collect()
}

/// Java `TopicConfig.toString()`.
pub fn topic_config_text(c: &TopicConfig) -> String {
    format!(
        "TopicConfig [topicName={}, readQueueNums={}, writeQueueNums={}, perm={}, topicFilterType={}, topicSysFlag={}, order={}]",
        c.topic_name,
        c.read_queue_nums,
        c.write_queue_nums,
        perm_string(c.perm),
        c.topic_filter_type,
        c.topic_sys_flag,
        c.order
    )
}

impl Args {
    fn config(&self) -> TopicConfig {
        let unit = self.unit.as_deref().is_some_and(java_bool);
        let unit_sub = self.has_unit_sub.as_deref().is_some_and(java_bool);
        TopicConfig {
            topic_name: self.topic.trim().to_string(),
            read_queue_nums: self.read_queue_nums,
            write_queue_nums: self.write_queue_nums,
            perm: self.perm,
            order: self.order.as_deref().is_some_and(java_bool),
            topic_sys_flag: i32::from(unit) | (i32::from(unit_sub) << 1),
            ..TopicConfig::default()
        }
    }

    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let config = self.config();
        let mut order_conf = Vec::new();
        let info = ctx.admin.cluster_info().await?;
        for addr in self.target.masters(&ctx.admin).await? {
            ctx.admin.create_topic(&addr, &config).await?;
            ctx.line(format!("create topic to {addr} success."));
            let name = info
                .broker_addr_table
                .values()
                .find(|b| b.broker_addrs.values().any(|a| *a == addr))
                .map(|b| b.broker_name.clone());
            if let Some(name) = name {
                order_conf.push(format!("{name}:{}", config.write_queue_nums));
            }
        }
        if config.order {
            order_conf.sort();
            let conf = order_conf.join(";");
            ctx.admin
                .put_kv_config(ORDER_TOPIC_CONFIG, &config.topic_name, &conf)
                .await?;
            ctx.line(format!(
                "set cluster orderConf. isOrder={}, orderConf=[{conf}]",
                config.order
            ));
        }
        ctx.line(topic_config_text(&config));
        Ok(())
    }
}
