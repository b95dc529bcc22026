//! `topicRoute`: a topic's route as pretty JSON, or with `-l` as a table
//! (`#ClusterName #BrokerName #BrokerAddrs #ReadQueue #WriteQueue #Perm` and a `Total:` row).

use super::target::JsonOpt;
use super::Ctx;
use crate::admin::error::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    topic: String,
    /// Print as a table.
    #[arg(short = 'l', long = "list")]
    list: bool,
    #[command(flatten)]
    out: JsonOpt,
}

fn row(c: &str, b: &str, a: &str, r: &str, w: &str, p: &str) -> String {
    format!("{c:<45} {b:<32} {a:<50} {r:<10} {w:<11} {p:<5}")
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let route = ctx.admin.route_of(self.topic.trim()).await?;
        if self.out.json || !self.list {
            ctx.json(&route);
            return Ok(());
        }
        ctx.line(row(
            "#ClusterName",
            "#BrokerName",
            "#BrokerAddrs",
            "#ReadQueue",
            "#WriteQueue",
            "#Perm",
        ));
        let mut brokers = route.broker_datas.clone();
        brokers.sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
        let (mut total_r, mut total_w, mut n) = (0, 0, 0);
        for b in &brokers {
            let Some(q) = route
                .queue_datas
                .iter()
                .find(|q| q.broker_name == b.broker_name)
            else {
                continue;
            };
            n += 1;
            total_r += q.read_queue_nums;
            total_w += q.write_queue_nums;
            let addrs: Vec<String> = b
                .broker_addrs
                .iter()
                .map(|(id, a)| format!("{id}={a}"))
                .collect();
            ctx.line(row(
                &b.cluster,
                &b.broker_name,
                &format!("{{{}}}", addrs.join(", ")),
                &q.read_queue_nums.to_string(),
                &q.write_queue_nums.to_string(),
                &q.perm.to_string(),
            ));
        }
        ctx.line("-".repeat(158));
        ctx.line(row(
            "Total:",
            &n.to_string(),
            "",
            &total_r.to_string(),
            &total_w.to_string(),
            "",
        ));
        Ok(())
    }
}
