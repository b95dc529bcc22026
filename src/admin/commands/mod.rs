//! The `mqadmin` subcommands: RocketMQ's command names, option letters and output columns, each in
//! its own file over the [`AdminClient`] API. This file: the clap command line (global `-n`, per
//! command `-h`, `help <cmd>`, the bare command list), the run context and the one place an error
//! becomes a one-line message and an exit code. Read commands take `--json`.

use std::ffi::OsString;
use std::io::Write;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use super::client::{AdminClient, DEFAULT_TIMEOUT};
use super::error::{AdminError, Result};
use super::tools_config::tools_credentials;

mod broker_status;
mod clean_broker_metadata;
mod clone_group_offset;
mod cluster_acl_config_version;
mod cluster_list;
mod consume_message;
mod consumer_connection;
mod consumer_progress;
mod controller_config;
mod delete_acl_config;
mod delete_sub_group;
mod delete_topic;
mod elect_master;
pub mod format;
mod get_acl_config;
mod get_broker_config;
mod get_broker_epoch;
mod get_controller_meta_data;
mod get_namesrv_config;
mod get_sync_state_set;
mod interval;
mod print_msg;
mod producer_connection;
mod query_msg_by_id;
mod query_msg_by_key;
mod query_msg_by_offset;
mod query_msg_by_unique_key;
mod query_msg_trace_by_id;
mod reset_offset_by_time;
mod send_message;
mod stats_all;
mod target;
mod topic_cluster_list;
mod topic_list;
mod topic_route;
mod topic_status;
mod update_acl_config;
mod update_broker_config;
mod update_global_white_addr;
mod update_namesrv_config;
mod update_sub_group;
mod update_topic;
pub mod view;
mod write_perm;

/// `mqadmin`: RocketMQ's admin tool for actormq and Apache RocketMQ 4.x clusters.
#[derive(Parser, Debug)]
#[command(name = "mqadmin", version, about = "RocketMQ admin tool (actormq)")]
pub struct Cli {
    /// Name server address list, e.g. '192.168.0.1:9876;192.168.0.2:9876' (default: env
    /// NAMESRV_ADDR).
    #[arg(short = 'n', long = "namesrvAddr", global = true)]
    pub namesrv: Option<String>,
    #[command(flatten)]
    pub tls: crate::tls::args::TlsArgs,
    /// The file with the ACL account to sign requests with (`accessKey`, `secretKey`); default:
    /// env MQADMIN_TOOLS_CONFIG, else $ROCKETMQ_HOME/conf/tools.yml if present, else unsigned.
    #[arg(long = "toolsConfig", global = true, value_name = "FILE")]
    pub tools_config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Every subcommand, named as RocketMQ names it.
#[derive(Subcommand, Debug)]
pub enum Command {
    #[command(name = "updateTopic", about = "Update or create topic")]
    UpdateTopic(update_topic::Args),
    #[command(
        name = "deleteTopic",
        about = "Delete topic from broker and NameServer"
    )]
    DeleteTopic(delete_topic::Args),
    #[command(name = "topicList", about = "Fetch all topic list from name server")]
    TopicList(topic_list::Args),
    #[command(name = "topicRoute", about = "Examine topic route info")]
    TopicRoute(topic_route::Args),
    #[command(name = "topicStatus", about = "Examine topic Status info")]
    TopicStatus(topic_status::Args),
    #[command(name = "topicClusterList", about = "Get cluster info for topic")]
    TopicClusterList(topic_cluster_list::Args),
    #[command(name = "updateSubGroup", about = "Update or create subscription group")]
    UpdateSubGroup(update_sub_group::Args),
    #[command(
        name = "deleteSubGroup",
        about = "Delete subscription group from broker"
    )]
    DeleteSubGroup(delete_sub_group::Args),
    #[command(name = "consumerProgress", about = "Query consumers's progress, speed")]
    ConsumerProgress(consumer_progress::Args),
    #[command(
        name = "consumerConnection",
        about = "Query consumer's socket connection, client version and subscription"
    )]
    ConsumerConnection(consumer_connection::Args),
    #[command(
        name = "producerConnection",
        about = "Query producer's socket connection and client version"
    )]
    ProducerConnection(producer_connection::Args),
    #[command(name = "clusterList", about = "List all of clusters")]
    ClusterList(cluster_list::Args),
    #[command(name = "brokerStatus", about = "Fetch broker runtime status data")]
    BrokerStatus(broker_status::Args),
    #[command(
        name = "getBrokerConfig",
        about = "Get broker config by cluster or special broker"
    )]
    GetBrokerConfig(get_broker_config::Args),
    #[command(name = "updateBrokerConfig", about = "Update broker's config")]
    UpdateBrokerConfig(update_broker_config::Args),
    #[command(name = "getBrokerEpoch", about = "Fetch broker epoch entries")]
    GetBrokerEpoch(get_broker_epoch::Args),
    #[command(
        name = "getControllerMetaData",
        about = "Get controller cluster's metadata"
    )]
    GetControllerMetaData(get_controller_meta_data::Args),
    #[command(
        name = "getSyncStateSet",
        about = "Fetch syncStateSet for target brokers"
    )]
    GetSyncStateSet(get_sync_state_set::Args),
    #[command(
        name = "electMaster",
        about = "Re-elect the specified broker as master"
    )]
    ElectMaster(elect_master::Args),
    #[command(
        name = "cleanBrokerMetadata",
        about = "Clean metadata of broker on controller"
    )]
    CleanBrokerMetadata(clean_broker_metadata::Args),
    #[command(name = "getControllerConfig", about = "Get controller config")]
    GetControllerConfig(controller_config::GetArgs),
    #[command(name = "updateControllerConfig", about = "Update controller config")]
    UpdateControllerConfig(controller_config::UpdateArgs),
    #[command(name = "queryMsgById", about = "Query Message by Id")]
    QueryMsgById(query_msg_by_id::Args),
    #[command(name = "queryMsgByKey", about = "Query Message by Key")]
    QueryMsgByKey(query_msg_by_key::Args),
    #[command(name = "queryMsgByUniqueKey", about = "Query Message by Unique key")]
    QueryMsgByUniqueKey(query_msg_by_unique_key::Args),
    #[command(name = "queryMsgByOffset", about = "Query Message by offset")]
    QueryMsgByOffset(query_msg_by_offset::Args),
    #[command(name = "queryMsgTraceById", about = "Query a message trace")]
    QueryMsgTraceById(query_msg_trace_by_id::Args),
    #[command(name = "printMsg", about = "Print Message Detail")]
    PrintMsg(print_msg::Args),
    #[command(name = "sendMessage", about = "Send a message")]
    SendMessage(send_message::Args),
    #[command(name = "consumeMessage", about = "Consume message")]
    ConsumeMessage(consume_message::Args),
    #[command(
        name = "resetOffsetByTime",
        about = "Reset consumer offset by timestamp (without client restart)"
    )]
    ResetOffsetByTime(reset_offset_by_time::Args),
    #[command(name = "cloneGroupOffset", about = "Clone offset from other group")]
    CloneGroupOffset(clone_group_offset::Args),
    #[command(name = "statsAll", about = "Topic and Consumer tps stats")]
    StatsAll(stats_all::Args),
    #[command(
        name = "wipeWritePerm",
        about = "Wipe write perm of broker in all name server"
    )]
    WipeWritePerm(write_perm::Args),
    #[command(
        name = "addWritePerm",
        about = "Add write perm of broker in all name server"
    )]
    AddWritePerm(write_perm::Args),
    #[command(name = "getNamesrvConfig", about = "Get configs of name server")]
    GetNamesrvConfig(get_namesrv_config::Args),
    #[command(name = "updateNamesrvConfig", about = "Update configs of name server")]
    UpdateNamesrvConfig(update_namesrv_config::Args),
    #[command(
        name = "updateAclConfig",
        alias = "updateAccessConfig",
        about = "Update acl config yaml file in broker"
    )]
    UpdateAclConfig(update_acl_config::Args),
    #[command(
        name = "deleteAclConfig",
        alias = "deleteAccessConfig",
        about = "Delete Acl Config Account in broker"
    )]
    DeleteAclConfig(delete_acl_config::Args),
    #[command(
        name = "clusterAclConfigVersion",
        about = "List all of acl config version information in cluster"
    )]
    ClusterAclConfigVersion(cluster_acl_config_version::Args),
    #[command(
        name = "updateGlobalWhiteAddr",
        about = "Update global white address for acl Config File in broker"
    )]
    UpdateGlobalWhiteAddr(update_global_white_addr::Args),
    #[command(
        name = "getAclConfig",
        alias = "getAccessConfigSubCommand",
        about = "List all of acl config information in cluster"
    )]
    GetAclConfig(get_acl_config::Args),
}

/// What a command runs with: the admin client, the name-server list it was built from, and
/// stdout (a closed pipe ends the output quietly).
pub struct Ctx {
    pub admin: AdminClient,
    pub namesrv: String,
    out: std::io::Stdout,
    closed: bool,
}

impl Command {
    /// For the controller commands that talk to controllers only (as RocketMQ's, they need no
    /// `-n`): the `-a` list, which then stands in as the client's address list (never dialled as
    /// a name server by these commands).
    fn controllers_only(&self) -> Option<&str> {
        match self {
            Command::GetControllerMetaData(a) => Some(&a.ctl.controller),
            Command::GetSyncStateSet(a) => a.controllers_only(),
            Command::ElectMaster(a) => Some(&a.ctl.controller),
            Command::CleanBrokerMetadata(a) => Some(&a.ctl.controller),
            Command::GetControllerConfig(a) => Some(&a.ctl.controller),
            Command::UpdateControllerConfig(a) => Some(&a.ctl.controller),
            _ => None,
        }
    }
}

impl Ctx {
    /// Print `s` and a newline.
    pub fn line(&mut self, s: impl AsRef<str>) {
        self.text(format!("{}\n", s.as_ref()));
    }

    /// Print `s` as is.
    pub fn text(&mut self, s: impl AsRef<str>) {
        if !self.closed && self.out.write_all(s.as_ref().as_bytes()).is_err() {
            self.closed = true;
        }
    }

    /// Print the `--json` form of `v`.
    pub fn json<T: serde::Serialize>(&mut self, v: &T) {
        self.text(format::json(v));
    }
}

impl Command {
    async fn run(&self, ctx: &mut Ctx) -> Result<()> {
        match self {
            Command::UpdateTopic(a) => a.run(ctx).await,
            Command::GetBrokerEpoch(a) => a.run(ctx).await,
            Command::GetControllerMetaData(a) => a.run(ctx).await,
            Command::GetSyncStateSet(a) => a.run(ctx).await,
            Command::ElectMaster(a) => a.run(ctx).await,
            Command::CleanBrokerMetadata(a) => a.run(ctx).await,
            Command::GetControllerConfig(a) => a.run(ctx).await,
            Command::UpdateControllerConfig(a) => a.run(ctx).await,
            Command::DeleteTopic(a) => a.run(ctx).await,
            Command::TopicList(a) => a.run(ctx).await,
            Command::TopicRoute(a) => a.run(ctx).await,
            Command::TopicStatus(a) => a.run(ctx).await,
            Command::TopicClusterList(a) => a.run(ctx).await,
            Command::UpdateSubGroup(a) => a.run(ctx).await,
            Command::DeleteSubGroup(a) => a.run(ctx).await,
            Command::ConsumerProgress(a) => a.run(ctx).await,
            Command::ConsumerConnection(a) => a.run(ctx).await,
            Command::ProducerConnection(a) => a.run(ctx).await,
            Command::ClusterList(a) => a.run(ctx).await,
            Command::BrokerStatus(a) => a.run(ctx).await,
            Command::GetBrokerConfig(a) => a.run(ctx).await,
            Command::UpdateBrokerConfig(a) => a.run(ctx).await,
            Command::QueryMsgById(a) => a.run(ctx).await,
            Command::QueryMsgByKey(a) => a.run(ctx).await,
            Command::QueryMsgByUniqueKey(a) => a.run(ctx).await,
            Command::QueryMsgByOffset(a) => a.run(ctx).await,
            Command::QueryMsgTraceById(a) => a.run(ctx).await,
            Command::PrintMsg(a) => a.run(ctx).await,
            Command::SendMessage(a) => a.run(ctx).await,
            Command::ConsumeMessage(a) => a.run(ctx).await,
            Command::ResetOffsetByTime(a) => a.run(ctx).await,
            Command::CloneGroupOffset(a) => a.run(ctx).await,
            Command::StatsAll(a) => a.run(ctx).await,
            Command::WipeWritePerm(a) => a.run(ctx, false).await,
            Command::AddWritePerm(a) => a.run(ctx, true).await,
            Command::GetNamesrvConfig(a) => a.run(ctx).await,
            Command::UpdateNamesrvConfig(a) => a.run(ctx).await,
            Command::UpdateAclConfig(a) => a.run(ctx).await,
            Command::DeleteAclConfig(a) => a.run(ctx).await,
            Command::ClusterAclConfigVersion(a) => a.run(ctx).await,
            Command::UpdateGlobalWhiteAddr(a) => a.run(ctx).await,
            Command::GetAclConfig(a) => a.run(ctx).await,
        }
    }
}

/// Run `mqadmin` with `args` (program name first); returns the exit code. Parse errors and help
/// go through clap (exit 2 / 0); a failed command prints `mqadmin <cmd>: <error>` on stderr and
/// exits 1.
pub fn main_with(args: Vec<OsString>) -> i32 {
    let parsed = Cli::command().try_get_matches_from(args).and_then(|m| {
        Ok((
            m.subcommand_name().unwrap_or("").to_string(),
            Cli::from_arg_matches(&m)?,
        ))
    });
    let (name, cli) = match parsed {
        Ok(p) => p,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    let Some(command) = cli.command else {
        let _ = Cli::command().print_help();
        return 0;
    };
    let namesrv = cli
        .namesrv
        .or_else(|| std::env::var("NAMESRV_ADDR").ok())
        .or_else(|| command.controllers_only().map(str::to_string))
        .unwrap_or_default();
    // The options win; without them, RocketMQ's way: `-Dtls.enable=true` in JAVA_OPT.
    let tls = if cli.tls.tls || cli.tls.tls_ca.is_some() || cli.tls.tls_insecure {
        cli.tls
            .client()
            .map_err(|e| AdminError::Invalid(e.to_string()))
    } else {
        crate::admin::tls_props::tls_from_java_opt()
    };
    let result = tls
        .and_then(|tls| {
            let creds = tools_credentials(cli.tools_config.as_deref())?;
            Ok(AdminClient::signed(&namesrv, DEFAULT_TIMEOUT, creds)?.with_tls(tls))
        })
        .and_then(|admin| {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| AdminError::Invalid(format!("cannot start the runtime: {e}")))?;
            let mut ctx = Ctx {
                admin,
                namesrv,
                out: std::io::stdout(),
                closed: false,
            };
            let r = rt.block_on(command.run(&mut ctx));
            let _ = ctx.out.flush();
            rt.shutdown_timeout(std::time::Duration::from_millis(200));
            r
        });
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("mqadmin {name}: {e}");
            1
        }
    }
}
