//! [`AdminClient`]: the connections of an admin tool (mqadmin, the dashboard) and the calls every
//! other admin file builds on: send a request to a name server or a broker and check its code,
//! the topic route, the cluster table, and RocketMQ's address rules (a broker set's master, else
//! any slave; a cluster's masters). Connections and name-server failover are the client
//! library's [`Net`]; no actor, no background task beyond the connection readers.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use super::error::{AdminError, Result};
use crate::acl::sign::Credentials;
use crate::client::broker_api;
use crate::client::net::{Inbound, Net};
use crate::protocol::body::{
    fastjson, perm, BrokerData, ClusterInfo, MessageQueue, TopicRouteData,
};
use crate::protocol::codes::{request_code as rq, response_code as rc};
use crate::protocol::RemotingCommand;

/// Default per-request timeout (Java's admin `timeoutMillis` is 5 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The master's broker id.
pub const MASTER_ID: i64 = 0;

/// An admin connection set over one name-server list (`host:port;host:port`). Cheap to clone;
/// every method is a plain async call usable from any tokio runtime.
#[derive(Clone)]
pub struct AdminClient {
    pub(crate) net: Net,
    namesrv: Arc<Vec<String>>,
    timeout: Duration,
    /// Requests brokers push to us (none are expected); kept so the channel stays open.
    _inbound: Arc<mpsc::Receiver<Inbound>>,
}

impl AdminClient {
    /// An admin client for `namesrv` (`;`-separated addresses) with the default timeout. No
    /// connection is made until the first call.
    pub fn new(namesrv: &str) -> Result<AdminClient> {
        Self::with_timeout(namesrv, DEFAULT_TIMEOUT)
    }

    /// As [`AdminClient::new`] with `timeout` per request (and per connect).
    pub fn with_timeout(namesrv: &str, timeout: Duration) -> Result<AdminClient> {
        Self::signed(namesrv, timeout, None)
    }

    /// As [`AdminClient::with_timeout`], signing every request with `credentials` when given
    /// (an ACL account, as RocketMQ's tools sign with `conf/tools.yml`).
    pub fn signed(
        namesrv: &str,
        timeout: Duration,
        credentials: Option<Credentials>,
    ) -> Result<AdminClient> {
        let list: Vec<String> = namesrv
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if list.is_empty() {
            return Err(AdminError::Invalid(
                "no name server address (use -n host:port or NAMESRV_ADDR)".into(),
            ));
        }
        if let Some(bad) = list.iter().find(|a| !a.contains(':')) {
            return Err(AdminError::Invalid(format!(
                "name server address '{bad}' is not host:port"
            )));
        }
        let (tx, rx) = mpsc::channel(crate::client::net::INBOUND_QUEUE);
        Ok(AdminClient {
            net: Net::new(namesrv, timeout, tx, credentials),
            namesrv: Arc::new(list),
            timeout,
            _inbound: Arc::new(rx),
        })
    }

    /// Connect with TLS (mqadmin `--tls`; the dashboard with `tlsEnable`). Call before the first
    /// request.
    pub fn with_tls(mut self, tls: Option<crate::tls::TlsClient>) -> Self {
        self.net = self.net.with_tls(tls);
        self
    }

    /// The TLS settings requests connect with (for the producers admin commands start).
    pub fn tls(&self) -> Option<crate::tls::TlsClient> {
        self.net.tls().cloned()
    }

    /// The name-server addresses, in the order given.
    pub fn namesrv_addrs(&self) -> &[String] {
        &self.namesrv
    }

    /// The account requests are signed with, if any (for the producers admin commands start).
    pub fn credentials(&self) -> Option<Credentials> {
        self.net.credentials().cloned()
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Send `cmd` to `addr` and return the response whatever its code.
    pub async fn call(&self, addr: &str, cmd: RemotingCommand) -> Result<RemotingCommand> {
        Ok(self.net.call(addr, cmd, self.timeout).await?)
    }

    /// Send `cmd` to `addr`; a response code other than SUCCESS is an error.
    pub async fn call_ok(&self, addr: &str, cmd: RemotingCommand) -> Result<RemotingCommand> {
        success(self.call(addr, cmd).await?)
    }

    /// Send `cmd` to the name servers (the first that answers); non-SUCCESS is an error.
    pub async fn namesrv_ok(&self, cmd: RemotingCommand) -> Result<RemotingCommand> {
        success(self.net.call_namesrv(cmd, self.timeout).await?)
    }

    /// Send `cmd` to every name server; one result per address, in list order.
    pub async fn each_namesrv(
        &self,
        cmd: RemotingCommand,
    ) -> Vec<(String, Result<RemotingCommand>)> {
        let mut out = Vec::new();
        for addr in self.namesrv.iter() {
            let r = self.call_ok(addr, cmd.clone()).await;
            out.push((addr.clone(), r));
        }
        out
    }

    /// GET_ROUTEINFO_BY_TOPIC (105): the topic's route, `None` when the name servers do not
    /// know the topic.
    pub async fn route(&self, topic: &str) -> Result<Option<TopicRouteData>> {
        Ok(broker_api::get_route(&self.net, topic, self.timeout).await?)
    }

    /// The topic's route; an unknown topic is [`AdminError::NotFound`].
    pub async fn route_of(&self, topic: &str) -> Result<TopicRouteData> {
        self.route(topic).await?.ok_or_else(|| {
            AdminError::NotFound(format!("topic {topic} has no route (TOPIC_NOT_EXIST)"))
        })
    }

    /// GET_BROKER_CLUSTER_INFO (106): broker sets and clusters known to the name servers.
    pub async fn cluster_info(&self) -> Result<ClusterInfo> {
        let resp = self
            .namesrv_ok(RemotingCommand::request(rq::GET_BROKER_CLUSTER_INFO))
            .await?;
        json_body("cluster info", &resp.body)
    }

    /// The master addresses of `cluster` (Java `CommandUtil.fetchMasterAddrByClusterName`);
    /// an unknown cluster is [`AdminError::NotFound`].
    pub async fn cluster_masters(&self, cluster: &str) -> Result<Vec<String>> {
        let info = self.cluster_info().await?;
        Ok(masters_of(&info, cluster)?
            .into_iter()
            .map(|(_, addr)| addr)
            .collect())
    }

    /// Every address (masters and slaves) of `cluster` with its broker name and id, sorted.
    pub async fn cluster_brokers(&self, cluster: &str) -> Result<Vec<(String, i64, String)>> {
        let info = self.cluster_info().await?;
        let names = info
            .cluster_addr_table
            .get(cluster)
            .ok_or_else(|| AdminError::NotFound(format!("cluster {cluster} does not exist")))?;
        let mut out = Vec::new();
        for name in names {
            if let Some(bd) = info.broker_addr_table.get(name) {
                for (id, addr) in &bd.broker_addrs {
                    out.push((name.clone(), *id, addr.clone()));
                }
            }
        }
        Ok(out)
    }

    /// The master address of broker set `broker_name` (from the cluster table).
    pub async fn broker_master(&self, broker_name: &str) -> Result<String> {
        let info = self.cluster_info().await?;
        info.broker_addr_table
            .get(broker_name)
            .and_then(|b| b.broker_addrs.get(&MASTER_ID).cloned())
            .ok_or_else(|| AdminError::NotFound(format!("broker {broker_name} has no master")))
    }
}

/// The response if its code is SUCCESS, else the refusal as an error.
pub fn success(resp: RemotingCommand) -> Result<RemotingCommand> {
    if resp.code == rc::SUCCESS {
        Ok(resp)
    } else {
        Err(AdminError::refused(resp.code, resp.remark.as_deref()))
    }
}

/// Decode a JSON body (fastjson quirks such as bare numeric keys accepted).
pub fn json_body<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T> {
    let text = fastjson::normalize_keys(body)?;
    serde_json::from_str(&text).map_err(|e| {
        AdminError::Client(crate::client::ClientError::Protocol(format!("{what}: {e}")))
    })
}

/// `BrokerData.selectBrokerAddr`: the master, else any slave (lowest id).
pub fn select_broker_addr(bd: &BrokerData) -> Option<String> {
    bd.broker_addrs
        .get(&MASTER_ID)
        .or_else(|| bd.broker_addrs.values().next())
        .cloned()
}

/// (broker name, address) of each broker set of a route, via [`select_broker_addr`].
pub fn route_brokers(route: &TopicRouteData) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = route
        .broker_datas
        .iter()
        .filter_map(|b| select_broker_addr(b).map(|a| (b.broker_name.clone(), a)))
        .collect();
    v.sort();
    v
}

/// The readable queues of `topic` in `route`, each with the address to read it from
/// ([`select_broker_addr`]), sorted.
pub fn route_queues(route: &TopicRouteData, topic: &str) -> Vec<(MessageQueue, String)> {
    let addrs: std::collections::BTreeMap<String, String> =
        route_brokers(route).into_iter().collect();
    let mut v: Vec<(MessageQueue, String)> = route
        .queue_datas
        .iter()
        .filter(|q| perm::readable(q.perm))
        .filter_map(|q| {
            let addr = addrs.get(&q.broker_name)?;
            Some(
                (0..q.read_queue_nums)
                    .map(move |i| (MessageQueue::new(topic, &q.broker_name, i), addr.clone())),
            )
        })
        .flatten()
        .collect();
    v.sort();
    v
}

/// (broker name, master address) of every broker set of `cluster`.
pub fn masters_of(info: &ClusterInfo, cluster: &str) -> Result<Vec<(String, String)>> {
    let names = info
        .cluster_addr_table
        .get(cluster)
        .ok_or_else(|| AdminError::NotFound(format!("cluster {cluster} does not exist")))?;
    Ok(names
        .iter()
        .filter_map(|n| {
            let bd = info.broker_addr_table.get(n)?;
            Some((n.clone(), bd.broker_addrs.get(&MASTER_ID)?.clone()))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_follow_rocketmqs_rules() {
        let info: ClusterInfo = json_body(
            "t",
            br#"{"brokerAddrTable":{"a":{"brokerAddrs":{0:"h:1",1:"h:2"},"brokerName":"a","cluster":"C"},
                "b":{"brokerAddrs":{1:"h:3"},"brokerName":"b","cluster":"C"}},
                "clusterAddrTable":{"C":["a","b"]}}"#,
        )
        .unwrap();
        assert_eq!(
            masters_of(&info, "C").unwrap(),
            vec![("a".into(), "h:1".into())]
        );
        assert!(matches!(
            masters_of(&info, "X"),
            Err(AdminError::NotFound(_))
        ));
        let b = &info.broker_addr_table["b"];
        assert_eq!(select_broker_addr(b).as_deref(), Some("h:3"));
        let route = TopicRouteData {
            broker_datas: info.broker_addr_table.values().cloned().collect(),
            queue_datas: vec![
                crate::protocol::body::QueueData {
                    broker_name: "a".into(),
                    perm: perm::READ | perm::WRITE,
                    read_queue_nums: 2,
                    write_queue_nums: 2,
                    topic_sys_flag: 0,
                },
                crate::protocol::body::QueueData {
                    broker_name: "b".into(),
                    perm: perm::WRITE,
                    read_queue_nums: 2,
                    write_queue_nums: 2,
                    topic_sys_flag: 0,
                },
            ],
            ..Default::default()
        };
        let qs = route_queues(&route, "T");
        assert_eq!(qs.len(), 2, "b is write-only: {qs:?}");
        assert_eq!(qs[1], (MessageQueue::new("T", "a", 1), "h:1".to_string()));
        assert_eq!(
            route_brokers(&route),
            vec![("a".into(), "h:1".into()), ("b".into(), "h:3".into())]
        );
        assert!(AdminClient::new(" ; ").is_err());
        assert!(AdminClient::new("nohost").is_err());
    }
}
