//! `getAclConfig`: the ACL global white list and accounts of a broker or of every master of a
//! cluster (GET_BROKER_CLUSTER_ACL_CONFIG, RocketMQ 4.7-4.9.7), one `field: value` line each.

use super::target::{JsonOpt, Target};
use super::Ctx;
use crate::admin::error::Result;
use crate::protocol::headers::PlainAccessConfig;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let mut all = Vec::new();
        for addr in self.target.masters(&ctx.admin).await? {
            all.push((addr.clone(), ctx.admin.acl_config(&addr).await?));
        }
        if self.out.json {
            let v: Vec<_> = all
                .iter()
                .map(|(a, c)| serde_json::json!({"brokerAddr": a, "aclConfig": c}))
                .collect();
            ctx.json(&v);
            return Ok(());
        }
        for (_, config) in &all {
            ctx.line("");
            ctx.line(format!(
                "{:<20}: [{}]",
                "globalWhiteRemoteAddresses",
                config.global_white_addrs.join(", ")
            ));
            ctx.line("");
            ctx.line("accounts:");
            for account in &config.plain_access_configs {
                for (k, v) in fields(account) {
                    ctx.line(format!("{:<1} {:<18}: {}", "", k, v));
                }
                ctx.line("");
            }
        }
        Ok(())
    }
}

/// The account's fields in RocketMQ's declaration order, as Java prints them (lists as `[a, b]`).
fn fields(c: &PlainAccessConfig) -> [(&'static str, String); 8] {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    [
        ("accessKey", opt(&c.access_key)),
        ("secretKey", opt(&c.secret_key)),
        ("whiteRemoteAddress", opt(&c.white_remote_address)),
        ("admin", c.admin.to_string()),
        ("defaultTopicPerm", opt(&c.default_topic_perm)),
        ("defaultGroupPerm", opt(&c.default_group_perm)),
        ("topicPerms", format!("[{}]", c.topic_perms.join(", "))),
        ("groupPerms", format!("[{}]", c.group_perms.join(", "))),
    ]
}
