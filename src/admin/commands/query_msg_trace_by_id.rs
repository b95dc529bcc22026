//! `queryMsgTraceById`: a message's trace (Pub, then Sub rows per consumer group) from the trace
//! topic.

use std::collections::BTreeMap;

use serde::Serialize;

use super::format::human_s;
use super::target::JsonOpt;
use super::Ctx;
use crate::admin::error::Result;
use crate::client::trace::{TraceType, TRACE_TOPIC};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Message id.
    #[arg(short = 'i', long = "msgId")]
    msg_id: String,
    /// Trace topic.
    #[arg(short = 't', long = "traceTopic", default_value = TRACE_TOPIC)]
    trace_topic: String,
    #[command(flatten)]
    out: JsonOpt,
}

/// Java `TraceView`: one record of the message.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TraceView {
    msg_type: &'static str,
    group_name: String,
    client_host: String,
    time_stamp: i64,
    cost_time: i64,
    status: &'static str,
}

fn row(a: &str, b: &str, c: &str, d: &str, e: &str, f: &str) -> String {
    format!("{a:<10} {b:<20} {c:<20} {d:<20} {e:<10} {f:<10}")
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let records = ctx
            .admin
            .query_trace(self.trace_topic.trim(), self.msg_id.trim())
            .await?;
        let views: Vec<TraceView> = records
            .iter()
            .filter(|r| matches!(r.trace_type, TraceType::Pub | TraceType::SubAfter))
            .map(|r| TraceView {
                msg_type: r.trace_type.as_str(),
                group_name: r.group_name.clone(),
                client_host: r.bean().client_host.clone(),
                time_stamp: r.time_stamp,
                cost_time: r.cost_time,
                status: if r.success { "success" } else { "failed" },
            })
            .collect();
        if self.out.json {
            ctx.json(&views);
            return Ok(());
        }
        let mut subs: BTreeMap<&str, Vec<&TraceView>> = BTreeMap::new();
        for v in &views {
            if v.msg_type == "Pub" {
                ctx.line(row(
                    "#Type",
                    "#ProducerGroup",
                    "#ClientHost",
                    "#SendTime",
                    "#CostTimes",
                    "#Status",
                ));
                ctx.line(row(
                    "Pub",
                    &v.group_name,
                    &v.client_host,
                    &human_s(v.time_stamp),
                    &format!("{}ms", v.cost_time),
                    v.status,
                ));
                ctx.line("");
            } else {
                subs.entry(&v.group_name).or_default().push(v);
            }
        }
        for list in subs.values() {
            ctx.line(row(
                "#Type",
                "#ConsumerGroup",
                "#ClientHost",
                "#ConsumerTime",
                "#CostTimes",
                "#Status",
            ));
            for v in list {
                ctx.line(row(
                    "Sub",
                    &v.group_name,
                    &v.client_host,
                    &human_s(v.time_stamp),
                    &format!("{}ms", v.cost_time),
                    v.status,
                ));
            }
            ctx.line("");
        }
        Ok(())
    }
}
