//! `statsAll`: per topic and consuming group, the accumulation (lag), in/out TPS of the last
//! minute and the messages in/out over the last day, from the masters' stats
//! (VIEW_BROKER_STATS_DATA) and consume stats.

use serde::Serialize;

use super::format::trunc;
use super::target::JsonOpt;
use super::Ctx;
use crate::admin::client::MASTER_ID;
use crate::admin::error::Result;
use crate::admin::stats::{BrokerStatsData, GROUP_GET_NUMS, TOPIC_PUT_NUMS};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print active topics only.
    #[arg(short = 'a', long = "activeTopic")]
    active: bool,
    /// Print this topic only.
    #[arg(short = 't', long = "topic")]
    topic: Option<String>,
    #[command(flatten)]
    out: JsonOpt,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    topic: String,
    /// None: the topic has no consumer group.
    consumer_group: Option<String>,
    accumulation: i64,
    in_tps: f64,
    out_tps: f64,
    in_msg_24_hour: i64,
    out_msg_24_hour: i64,
}

/// Java `compute24HourSum`: the day sum, else the hour's, else the minute's.
fn day_sum(d: &BrokerStatsData) -> i64 {
    [d.stats_day.sum, d.stats_hour.sum, d.stats_minute.sum]
        .into_iter()
        .find(|s| *s != 0)
        .unwrap_or(0)
}

impl Args {
    async fn sum(&self, ctx: &Ctx, masters: &[String], name: &str, key: &str) -> (f64, i64) {
        let (mut tps, mut sum) = (0.0, 0);
        for addr in masters {
            if let Ok(d) = ctx.admin.view_stats(addr, name, key).await {
                tps += d.stats_minute.tps;
                sum += day_sum(&d);
            }
        }
        (tps, sum)
    }

    async fn topic_rows(&self, ctx: &Ctx, topic: &str) -> Result<Vec<Row>> {
        let route = ctx.admin.route_of(topic).await?;
        let masters: Vec<String> = route
            .broker_datas
            .iter()
            .filter_map(|b| b.broker_addrs.get(&MASTER_ID).cloned())
            .collect();
        let (in_tps, in_day) = self.sum(ctx, &masters, TOPIC_PUT_NUMS, topic).await;
        let groups = ctx.admin.topic_consumers(topic).await.unwrap_or_default();
        let mut rows = Vec::new();
        if groups.is_empty() && (!self.active || in_day > 0) {
            rows.push(Row {
                topic: topic.to_string(),
                consumer_group: None,
                accumulation: 0,
                in_tps,
                out_tps: 0.0,
                in_msg_24_hour: in_day,
                out_msg_24_hour: 0,
            });
        }
        for g in groups {
            let key = format!("{topic}@{g}");
            let (out_tps, out_day) = self.sum(ctx, &masters, GROUP_GET_NUMS, &key).await;
            let acc = match ctx.admin.group_consume_stats(&g, Some(topic)).await {
                Ok(s) => s.total_diff().max(0),
                Err(_) => 0,
            };
            if !self.active || in_day > 0 || out_day > 0 {
                rows.push(Row {
                    topic: topic.to_string(),
                    consumer_group: Some(g),
                    accumulation: acc,
                    in_tps,
                    out_tps,
                    in_msg_24_hour: in_day,
                    out_msg_24_hour: out_day,
                });
            }
        }
        Ok(rows)
    }

    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let topics = ctx.admin.topic_list().await?.topic_list;
        let mut rows = Vec::new();
        for t in topics
            .iter()
            .filter(|t| !t.starts_with("%RETRY%") && !t.starts_with("%DLQ%"))
            .filter(|t| self.topic.as_deref().is_none_or(|s| s.trim() == t.as_str()))
        {
            if let Ok(r) = self.topic_rows(ctx, t).await {
                rows.extend(r);
            }
        }
        if self.out.json {
            ctx.json(&rows);
            return Ok(());
        }
        ctx.line(format!(
            "{:<64}  {:<64} {:>12} {:>11} {:>11} {:>14} {:>14}",
            "#Topic",
            "#Consumer Group",
            "#Accumulation",
            "#InTPS",
            "#OutTPS",
            "#InMsg24Hour",
            "#OutMsg24Hour"
        ));
        for r in rows {
            let line = match &r.consumer_group {
                Some(g) => format!(
                    "{:<64}  {:<64} {:>12} {:>11.2} {:>11.2} {:>14} {:>14}",
                    trunc(&r.topic, 64),
                    trunc(g, 64),
                    r.accumulation,
                    r.in_tps,
                    r.out_tps,
                    r.in_msg_24_hour,
                    r.out_msg_24_hour
                ),
                None => format!(
                    "{:<64}  {:<64} {:>12} {:>11.2} {:>11} {:>14} {:>14}",
                    trunc(&r.topic, 64),
                    "",
                    0,
                    r.in_tps,
                    "",
                    r.in_msg_24_hour,
                    "NO_CONSUMER"
                ),
            };
            ctx.line(line);
        }
        Ok(())
    }
}
