//! `consumerProgress`: with `-g`, a group's per-queue broker offset, consumer offset, diff and
//! last consume time, then its TPS and total diff; without, one line per group (every
//! `%RETRY%` topic) with client count, version, type, model, TPS and total diff.

use serde::Serialize;

use std::collections::BTreeMap;

use super::format::{human_s, java_bool, trunc};
use super::target::JsonOpt;
use super::view::version_desc;
use super::Ctx;
use crate::admin::client::route_brokers;
use crate::admin::error::Result;
use crate::client::message::retry_topic;
use crate::protocol::body::{ConsumeType, ConsumerConnection, MessageQueue};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Consumer group name.
    #[arg(short = 'g', long = "groupName")]
    group: Option<String>,
    /// Show the client IP per queue (true|false; needs the clients' running info).
    #[arg(short = 's', long = "showClientIP")]
    show_client_ip: Option<String>,
    #[command(flatten)]
    out: JsonOpt,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QueueRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    client_ip: Option<String>,
    topic: String,
    broker_name: String,
    queue_id: i32,
    broker_offset: i64,
    consumer_offset: i64,
    diff: i64,
    last_timestamp: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupProgress {
    group: String,
    consume_tps: f64,
    diff_total: i64,
    queues: Vec<QueueRow>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupRow {
    group: String,
    count: usize,
    version: String,
    #[serde(rename = "type")]
    consume_type: String,
    model: String,
    tps: i64,
    diff_total: i64,
}

fn group_row(group: &str, cc: Option<&ConsumerConnection>, tps: f64, diff: i64) -> GroupRow {
    let count = cc.map_or(0, |c| c.connection_set.len());
    let (version, ty, model) = match cc {
        Some(c) if count > 0 => {
            let min = c
                .connection_set
                .iter()
                .map(|x| x.version)
                .min()
                .unwrap_or(0);
            let pull = c.consume_type == ConsumeType::ConsumeActively;
            (
                version_desc(min),
                if pull { "PULL" } else { "PUSH" }.to_string(),
                if pull {
                    String::new()
                } else {
                    c.message_model.name().to_string()
                },
            )
        }
        _ => ("OFFLINE".to_string(), String::new(), String::new()),
    };
    GroupRow {
        group: group.to_string(),
        count,
        version,
        consume_type: ty,
        model,
        tps: tps as i64,
        diff_total: diff,
    }
}

/// Which client holds each queue: the clients of the group (203) and their running info (307),
/// the client id cut at `@` as RocketMQ prints it. Clients that do not answer are left out.
async fn queue_owners(ctx: &Ctx, group: &str) -> BTreeMap<MessageQueue, String> {
    let mut owners = BTreeMap::new();
    let Ok(cc) = ctx.admin.group_consumer_connection(group).await else {
        return owners;
    };
    let Ok(route) = ctx.admin.route_of(&retry_topic(group)).await else {
        return owners;
    };
    let Some((_, addr)) = route_brokers(&route).into_iter().next() else {
        return owners;
    };
    for c in &cc.connection_set {
        if let Ok(info) = ctx
            .admin
            .consumer_running_info(&addr, group, &c.client_id, false)
            .await
        {
            let ip = c
                .client_id
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string();
            for mq in info.mq_table.keys() {
                owners.insert(mq.clone(), ip.clone());
            }
        }
    }
    owners
}

impl Args {
    async fn one_group(&self, ctx: &mut Ctx, group: &str) -> Result<()> {
        let stats = ctx.admin.group_consume_stats(group, None).await?;
        let show_ip = self.show_client_ip.as_deref().is_some_and(java_bool);
        let owners = if show_ip {
            queue_owners(ctx, group).await
        } else {
            BTreeMap::new()
        };
        let queues: Vec<QueueRow> = stats
            .offset_table
            .iter()
            .map(|(mq, w)| QueueRow {
                client_ip: show_ip.then(|| owners.get(mq).cloned().unwrap_or_else(|| "N/A".into())),
                topic: mq.topic.clone(),
                broker_name: mq.broker_name.clone(),
                queue_id: mq.queue_id,
                broker_offset: w.broker_offset,
                consumer_offset: w.consumer_offset,
                diff: w.broker_offset - w.consumer_offset,
                last_timestamp: w.last_timestamp,
            })
            .collect();
        let p = GroupProgress {
            group: group.to_string(),
            consume_tps: stats.consume_tps,
            diff_total: queues.iter().map(|q| q.diff).sum(),
            queues,
        };
        if self.out.json {
            ctx.json(&p);
            return Ok(());
        }
        let head = format!(
            "{:<64}  {:<32}  {:<4}  {:<20}  {:<20}  ",
            "#Topic", "#Broker Name", "#QID", "#Broker Offset", "#Consumer Offset"
        );
        if show_ip {
            ctx.line(format!(
                "{head}{:<20} {:<20}  #LastTime",
                "#Client IP", "#Diff"
            ));
        } else {
            ctx.line(format!("{head}{:<20}  #LastTime", "#Diff"));
        }
        for q in &p.queues {
            let last = if q.last_timestamp == 0 {
                "N/A".to_string()
            } else {
                human_s(q.last_timestamp)
            };
            let head = format!(
                "{:<64}  {:<32}  {:<4}  {:<20}  {:<20}  ",
                trunc(&q.topic, 64),
                trunc(&q.broker_name, 32),
                q.queue_id,
                q.broker_offset,
                q.consumer_offset
            );
            match &q.client_ip {
                Some(ip) => ctx.line(format!("{head}{ip:<20} {:<20}  {last}", q.diff)),
                None => ctx.line(format!("{head}{:<20}  {last}", q.diff)),
            }
        }
        ctx.line("");
        ctx.line(format!("Consume TPS: {:.2}", p.consume_tps));
        ctx.line(format!("Diff Total: {}", p.diff_total));
        Ok(())
    }

    async fn all_groups(&self, ctx: &mut Ctx) -> Result<()> {
        let topics = ctx.admin.topic_list().await?.topic_list;
        let mut rows = Vec::new();
        for group in topics.iter().filter_map(|t| t.strip_prefix("%RETRY%")) {
            let stats = ctx.admin.group_consume_stats(group, None).await.ok();
            let cc = ctx.admin.group_consumer_connection(group).await.ok();
            let (tps, diff) = stats
                .as_ref()
                .map_or((0.0, 0), |s| (s.consume_tps, s.total_diff()));
            rows.push(group_row(group, cc.as_ref(), tps, diff));
        }
        if self.out.json {
            ctx.json(&rows);
            return Ok(());
        }
        ctx.line(format!(
            "{:<64}  {:<6}  {:<24} {:<5}  {:<14}  {:<7}  {}",
            "#Group", "#Count", "#Version", "#Type", "#Model", "#TPS", "#Diff Total"
        ));
        for r in rows {
            ctx.line(format!(
                "{:<64}  {:<6}  {:<24} {:<5}  {:<14}  {:<7}  {}",
                trunc(&r.group, 64),
                r.count,
                r.version,
                r.consume_type,
                r.model,
                r.tps,
                r.diff_total
            ));
        }
        Ok(())
    }

    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        match &self.group {
            Some(g) => self.one_group(ctx, g.trim()).await,
            None => self.all_groups(ctx).await,
        }
    }
}
