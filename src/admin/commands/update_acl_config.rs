//! `updateAclConfig`: create or update one ACL account on a broker, or on every broker (masters
//! and slaves) of a cluster, with RocketMQ's option letters.

use super::format::java_bool;
use super::target::Target;
use super::Ctx;
use crate::admin::error::Result;
use crate::protocol::headers::{split_list, PlainAccessConfig};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Access key of the account.
    #[arg(short = 'a', long = "accessKey")]
    access_key: String,
    /// Secret key of the account.
    #[arg(short = 's', long = "secretKey")]
    secret_key: String,
    /// Addresses the account may connect from without a signature check (e.g. 192.168.1.*).
    #[arg(short = 'w', long = "whiteRemoteAddress")]
    white_remote_address: Option<String>,
    /// Permission on topics not listed in -t (DENY, PUB, SUB, PUB|SUB).
    #[arg(short = 'i', long = "defaultTopicPerm")]
    default_topic_perm: Option<String>,
    /// Permission on groups not listed in -g.
    #[arg(short = 'u', long = "defaultGroupPerm")]
    default_group_perm: Option<String>,
    /// Topic permissions, e.g. topicA=DENY,topicD=SUB.
    #[arg(short = 't', long = "topicPerms")]
    topic_perms: Option<String>,
    /// Group permissions, e.g. groupA=DENY,groupD=SUB.
    #[arg(short = 'g', long = "groupPerms")]
    group_perms: Option<String>,
    /// Admin account (true/false).
    #[arg(short = 'm', long = "admin")]
    admin: Option<String>,
}

impl Args {
    fn config(&self) -> PlainAccessConfig {
        let trimmed = |o: &Option<String>| o.as_deref().map(|s| s.trim().to_string());
        PlainAccessConfig {
            access_key: Some(self.access_key.trim().to_string()),
            secret_key: Some(self.secret_key.trim().to_string()),
            white_remote_address: trimmed(&self.white_remote_address),
            admin: self.admin.as_deref().is_some_and(java_bool),
            default_topic_perm: trimmed(&self.default_topic_perm),
            default_group_perm: trimmed(&self.default_group_perm),
            topic_perms: split_list(self.topic_perms.as_deref()),
            group_perms: split_list(self.group_perms.as_deref()),
        }
    }

    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let config = self.config();
        for addr in self.target.all_brokers(&ctx.admin).await? {
            ctx.admin.update_acl_config(&addr, &config).await?;
            ctx.line(format!(
                "create or update plain access config to {addr} success."
            ));
        }
        ctx.line(describe(&config));
        Ok(())
    }
}

/// The account as one line, without its secret key.
fn describe(c: &PlainAccessConfig) -> String {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    format!(
        "PlainAccessConfig{{accessKey='{}', whiteRemoteAddress='{}', admin={}, \
         defaultTopicPerm='{}', defaultGroupPerm='{}', topicPerms={:?}, groupPerms={:?}}}",
        opt(&c.access_key),
        opt(&c.white_remote_address),
        c.admin,
        opt(&c.default_topic_perm),
        opt(&c.default_group_perm),
        c.topic_perms,
        c.group_perms
    )
}
