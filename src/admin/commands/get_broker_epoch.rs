//! `getBrokerEpoch` (RocketMQ 5): each broker's epoch history (GET_BROKER_EPOCH_CACHE), for the
//! masters and slaves of a broker set (`-b`) or of a cluster (`-c`), in RocketMQ's layout; the
//! open last epoch ends at the broker's CommitLog end, as RocketMQ prints it. `-i` repeats the
//! print (addresses looked up again) every so many seconds until killed, as RocketMQ 5's does.

use super::interval::IntervalOpt;
use super::target::JsonOpt;
use super::Ctx;
use crate::admin::error::{AdminError, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which cluster.
    #[arg(short = 'c', long = "clusterName")]
    cluster: Option<String>,
    /// Which broker set.
    #[arg(short = 'b', long = "brokerName")]
    broker_name: Option<String>,
    #[command(flatten)]
    every: IntervalOpt,
    #[command(flatten)]
    out: JsonOpt,
}

impl Args {
    async fn addresses(&self, ctx: &Ctx) -> Result<Vec<String>> {
        match (&self.broker_name, &self.cluster) {
            (Some(b), _) => {
                let info = ctx.admin.cluster_info().await?;
                let bd = info
                    .broker_addr_table
                    .get(b.trim())
                    .ok_or_else(|| AdminError::NotFound(format!("broker {b} does not exist")))?;
                Ok(bd.broker_addrs.values().cloned().collect())
            }
            (None, Some(c)) => Ok(ctx
                .admin
                .cluster_brokers(c.trim())
                .await?
                .into_iter()
                .map(|(_, _, addr)| addr)
                .collect()),
            (None, None) => Err(AdminError::Invalid(
                "give -b brokerName or -c clusterName".into(),
            )),
        }
    }

    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        self.every
            .repeat(ctx, async |ctx| self.once(ctx).await)
            .await
    }

    /// One query and print.
    async fn once(&self, ctx: &mut Ctx) -> Result<()> {
        let mut all = Vec::new();
        for addr in self.addresses(ctx).await? {
            let mut cache = ctx.admin.broker_epoch_cache(&addr).await?;
            if let Some(last) = cache.epoch_list.last_mut() {
                last.end_offset = cache.max_offset;
            }
            all.push((addr, cache));
        }
        if self.out.json {
            let v: serde_json::Map<String, serde_json::Value> = all
                .iter()
                .map(|(a, c)| (a.clone(), serde_json::to_value(c).expect("serializable")))
                .collect();
            ctx.json(&v);
            return Ok(());
        }
        let mut out = String::new();
        for (addr, c) in &all {
            out += &format!(
                "\n#clusterName\t{}\n#brokerName\t{}\n#brokerAddr\t{addr}\n#brokerId\t{}",
                c.cluster_name, c.broker_name, c.broker_id
            );
            for e in &c.epoch_list {
                out += &format!(
                    "\n#Epoch: EpochEntry{{epoch={}, startOffset={}, endOffset={}}}",
                    e.epoch, e.start_offset, e.end_offset
                );
            }
            out += "\n";
        }
        ctx.text(out);
        Ok(())
    }
}
