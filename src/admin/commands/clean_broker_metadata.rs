//! `cleanBrokerMetadata` (RocketMQ 5's CleanControllerBrokerMetaSubCommand): ask the controller
//! leader to forget broker ids of a broker set (CLEAN_BROKER_DATA 1011), e.g. a replica whose
//! host is gone for good, so the set's next id and its member list no longer carry it. The
//! controller refuses to forget a broker it still hears from unless `-l` is given.

use super::target::ControllerOpt;
use super::Ctx;
use crate::admin::error::{AdminError, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub ctl: ControllerOpt,
    /// The broker ids to clean, `;`-separated (e.g. `1;2;3`); without it, the whole set.
    #[arg(short = 'b', long = "brokerControllerIdsToClean")]
    ids: Option<String>,
    /// The broker set (RocketMQ's option is `-bn`; `--bn` and `--brokerName` here).
    #[arg(long = "brokerName", visible_alias = "bn")]
    broker_name: String,
    /// The cluster of the broker set (required unless `-l`).
    #[arg(short = 'c', long = "clusterName")]
    cluster: Option<String>,
    /// Clean brokers that are still alive too.
    #[arg(short = 'l', long = "cleanLivingBroker")]
    clean_living: bool,
}

impl Args {
    pub async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        let ids = self.ids.as_deref().map(str::trim);
        if let Some(text) = ids {
            if text.split(';').any(|id| id.trim().parse::<i64>().is_err()) {
                return Err(AdminError::Invalid(format!(
                    "brokerControllerIdsToClean '{text}' is not a ';'-separated list of broker ids"
                )));
            }
        }
        let cluster = self
            .cluster
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        if !self.clean_living && cluster.is_none() {
            return Err(AdminError::Invalid(
                "without -l (cleanLivingBroker) the clusterName option (-c) is required".into(),
            ));
        }
        let name = self.broker_name.trim();
        ctx.admin
            .clean_broker_data(
                self.ctl.controller.trim(),
                cluster,
                name,
                ids,
                self.clean_living,
            )
            .await?;
        ctx.line(format!(
            "clear broker {name} metadata from controller success! "
        ));
        Ok(())
    }
}
