//! `clusterList`: every broker of every cluster with its version, in/out TPS, queue waits, page
//! cache wait, hours of messages kept and disk ratio (GET_BROKER_RUNTIME_INFO per address); `-m`
//! prints yesterday's and today's in/out totals instead; `-i N` repeats every N seconds.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::target::JsonOpt;
use super::Ctx;
use crate::admin::error::Result;
use crate::clock::now_ms;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print more stats (message totals).
    #[arg(short = 'm', long = "moreStats")]
    more: bool,
    /// Repeat every this many seconds.
    #[arg(short = 'i', long = "interval")]
    interval: Option<u64>,
    #[command(flatten)]
    out: JsonOpt,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Broker {
    cluster_name: String,
    broker_name: String,
    broker_id: i64,
    addr: String,
    /// The runtime KV table (empty when the broker did not answer).
    runtime: BTreeMap<String, String>,
}

fn first_f64(kv: &BTreeMap<String, String>, k: &str) -> f64 {
    kv.get(k)
        .and_then(|v| v.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn int(kv: &BTreeMap<String, String>, k: &str) -> i64 {
    kv.get(k).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

/// `%-16s  %-22s  %-4s  %-22s %-16s %19s %19s %10s %5s %6s`.
fn base_row(c: [&str; 10]) -> String {
    format!(
        "{:<16}  {:<22}  {:<4}  {:<22} {:<16} {:>19} {:>19} {:>10} {:>5} {:>6}",
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]
    )
}

impl Args {
    async fn collect(&self, ctx: &mut Ctx) -> Result<Vec<Broker>> {
        let info = ctx.admin.cluster_info().await?;
        let mut out = Vec::new();
        for (cluster, names) in &info.cluster_addr_table {
            for name in names {
                let Some(bd) = info.broker_addr_table.get(name) else {
                    continue;
                };
                for (id, addr) in &bd.broker_addrs {
                    let runtime = ctx
                        .admin
                        .runtime_info(addr)
                        .await
                        .map(|t| t.table)
                        .unwrap_or_default();
                    out.push(Broker {
                        cluster_name: cluster.clone(),
                        broker_name: name.clone(),
                        broker_id: *id,
                        addr: addr.clone(),
                        runtime,
                    });
                }
            }
        }
        Ok(out)
    }

    fn print_base(ctx: &mut Ctx, brokers: &[Broker]) {
        ctx.line(base_row([
            "#Cluster Name",
            "#Broker Name",
            "#BID",
            "#Addr",
            "#Version",
            "#InTPS(LOAD)",
            "#OutTPS(LOAD)",
            "#PCWait(ms)",
            "#Hour",
            "#SPACE",
        ]));
        for b in brokers {
            let kv = &b.runtime;
            let get = |k: &str| kv.get(k).cloned().unwrap_or_default();
            let earliest = int(kv, "earliestMessageTimeStamp");
            let hour = if earliest > 0 {
                (now_ms() - earliest) as f64 / 3_600_000.0
            } else {
                0.0
            };
            ctx.line(base_row([
                &b.cluster_name,
                &b.broker_name,
                &b.broker_id.to_string(),
                &b.addr,
                &get("brokerVersionDesc"),
                &format!(
                    "{:9.2}({},{}ms)",
                    first_f64(kv, "putTps"),
                    get("sendThreadPoolQueueSize"),
                    get("sendThreadPoolQueueHeadWaitTimeMills")
                ),
                &format!(
                    "{:9.2}({},{}ms)",
                    first_f64(kv, "getTransferedTps"),
                    get("pullThreadPoolQueueSize"),
                    get("pullThreadPoolQueueHeadWaitTimeMills")
                ),
                &get("pageCacheLockTimeMills"),
                &format!("{hour:.2}"),
                &format!("{:.4}", first_f64(kv, "commitLogDiskRatio")),
            ]));
        }
    }

    fn print_more(ctx: &mut Ctx, brokers: &[Broker]) {
        let row = |c: &str, b: &str, w: [&str; 4]| {
            format!(
                "{c:<16}  {b:<32} {:>14} {:>14} {:>14} {:>14}",
                w[0], w[1], w[2], w[3]
            )
        };
        ctx.line(row(
            "#Cluster Name",
            "#Broker Name",
            [
                "#InTotalYest",
                "#OutTotalYest",
                "#InTotalToday",
                "#OutTotalToday",
            ],
        ));
        for b in brokers {
            let kv = &b.runtime;
            let d = |a: &str, z: &str| (int(kv, a) - int(kv, z)).to_string();
            ctx.line(row(
                &b.cluster_name,
                &b.broker_name,
                [
                    &d("msgPutTotalTodayMorning", "msgPutTotalYesterdayMorning"),
                    &d("msgGetTotalTodayMorning", "msgGetTotalYesterdayMorning"),
                    &d("msgPutTotalTodayNow", "msgPutTotalTodayMorning"),
                    &d("msgGetTotalTodayNow", "msgGetTotalTodayMorning"),
                ],
            ));
        }
    }

    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        loop {
            let brokers = self.collect(ctx).await?;
            if self.out.json {
                ctx.json(&brokers);
            } else if self.more {
                Self::print_more(ctx, &brokers);
            } else {
                Self::print_base(ctx, &brokers);
            }
            match self.interval {
                Some(s) if s > 0 => tokio::time::sleep(Duration::from_secs(s)).await,
                _ => return Ok(()),
            }
        }
    }
}
