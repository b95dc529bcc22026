//! `topicList`: every topic the name servers know, one per line; with `-c` also its cluster and
//! the groups consuming it (`#Cluster Name  #Topic  #Consumer Group`).

use serde::Serialize;

use super::format::trunc;
use super::target::JsonOpt;
use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Cluster mode: print each topic's cluster and consumer groups.
    #[arg(short = 'c', long = "clusterModel")]
    cluster_model: bool,
    #[command(flatten)]
    out: JsonOpt,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    cluster_name: String,
    topic: String,
    consumer_group: String,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let topics = ctx.admin.topic_list().await?.topic_list;
        if !self.cluster_model {
            if self.out.json {
                ctx.json(&topics);
            } else {
                for t in &topics {
                    ctx.line(t);
                }
            }
            return Ok(());
        }
        let mut rows = Vec::new();
        for topic in topics
            .iter()
            .filter(|t| !t.starts_with("%RETRY%") && !t.starts_with("%DLQ%"))
        {
            let cluster = match ctx.admin.route(topic).await {
                Ok(Some(r)) => r
                    .broker_datas
                    .first()
                    .map(|b| b.cluster.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            let mut groups = ctx.admin.topic_consumers(topic).await.unwrap_or_default();
            if groups.is_empty() {
                groups.push(String::new());
            }
            for g in groups {
                rows.push(Row {
                    cluster_name: cluster.clone(),
                    topic: topic.clone(),
                    consumer_group: g,
                });
            }
        }
        if self.out.json {
            ctx.json(&rows);
            return Ok(());
        }
        ctx.line(format!(
            "{:<20}  {:<48}  {:<48}",
            "#Cluster Name", "#Topic", "#Consumer Group"
        ));
        for r in rows {
            ctx.line(format!(
                "{:<20}  {:<64}  {:<64}",
                trunc(&r.cluster_name, 20),
                trunc(&r.topic, 64),
                trunc(&r.consumer_group, 64)
            ));
        }
        Ok(())
    }
}
