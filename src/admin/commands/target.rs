//! `-b brokerAddr | -c clusterName`, the target choice many commands share (exactly one), and
//! how it resolves to broker addresses.

use crate::admin::client::AdminClient;
use crate::admin::error::Result;

/// One broker address or every master of a cluster.
#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
pub struct Target {
    /// Broker address (host:port).
    #[arg(short = 'b', long = "brokerAddr")]
    pub broker_addr: Option<String>,
    /// Cluster name.
    #[arg(short = 'c', long = "clusterName")]
    pub cluster_name: Option<String>,
}

impl Target {
    /// The broker address given, or the masters of the cluster given.
    pub async fn masters(&self, admin: &AdminClient) -> Result<Vec<String>> {
        match (&self.broker_addr, &self.cluster_name) {
            (Some(a), _) => Ok(vec![a.trim().to_string()]),
            (None, Some(c)) => admin.cluster_masters(c.trim()).await,
            (None, None) => Ok(Vec::new()),
        }
    }

    /// The broker address given, or every broker (masters and slaves) of the cluster given.
    pub async fn all_brokers(&self, admin: &AdminClient) -> Result<Vec<String>> {
        match (&self.broker_addr, &self.cluster_name) {
            (Some(a), _) => Ok(vec![a.trim().to_string()]),
            (None, Some(c)) => Ok(admin
                .cluster_brokers(c.trim())
                .await?
                .into_iter()
                .map(|(_, _, addr)| addr)
                .collect()),
            (None, None) => Ok(Vec::new()),
        }
    }
}

/// `-a`: the controllers a RocketMQ 5 controller command talks to (`;`-separated request
/// addresses; with `enableControllerInNamesrv`, the name servers'). Such a command needs no `-n`.
#[derive(clap::Args, Debug, Default)]
pub struct ControllerOpt {
    /// The address of the controller; several `;`-separated, e.g. 192.168.0.1:9878;192.168.0.2:9878.
    #[arg(short = 'a', long = "controllerAddress")]
    pub controller: String,
}

/// `--json`: print machine-readable JSON instead of the table.
#[derive(clap::Args, Debug, Default)]
pub struct JsonOpt {
    /// Print machine-readable JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}
