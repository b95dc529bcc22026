//! Talking to the cluster before the run: route lookup through the name server, topic creation,
//! queue offsets. Raw remoting requests over [`RemotingClient`], nothing from `crate::client`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::acl::sign::Credentials;
use crate::protocol::body::TopicRouteData;
use crate::protocol::codes::{request_code, response_code};
use crate::protocol::headers::{
    CreateTopicRequestHeader, GetMaxOffsetRequestHeader, GetRouteInfoRequestHeader,
    OffsetResponseHeader,
};
use crate::protocol::RemotingCommand;
use crate::remoting::client::RemotingClient;
use crate::tls::TlsClient;

/// Where to send and how many queues the topic has there (when the route said so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub broker: String,
    pub read_queues: Option<u32>,
    pub write_queues: Option<u32>,
}

/// Microseconds since the Unix epoch.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// The master address and queue counts of `topic` in a route (first broker with a master).
pub fn target_from_route(route: &TopicRouteData) -> Option<Target> {
    let bd = route
        .broker_datas
        .iter()
        .find(|b| b.broker_addrs.contains_key(&0))?;
    let qd = route
        .queue_datas
        .iter()
        .find(|q| q.broker_name == bd.broker_name);
    Some(Target {
        broker: bd.broker_addrs[&0].clone(),
        read_queues: qd.map(|q| q.read_queue_nums.max(0) as u32),
        write_queues: qd.map(|q| q.write_queue_nums.max(0) as u32),
    })
}

async fn route_of(
    ns: &RemotingClient,
    topic: &str,
    timeout: Duration,
) -> Result<Option<TopicRouteData>, String> {
    let req = RemotingCommand::request_with(
        request_code::GET_ROUTEINFO_BY_TOPIC,
        &GetRouteInfoRequestHeader {
            topic: topic.to_string(),
            accept_standard_json_only: Some(true),
        },
    );
    let resp = ns.call(req, timeout).await.map_err(|e| e.to_string())?;
    match resp.code {
        response_code::SUCCESS => serde_json::from_slice(&resp.body)
            .map(Some)
            .map_err(|e| format!("route of {topic}: bad JSON: {e}")),
        response_code::TOPIC_NOT_EXIST => Ok(None),
        c => Err(format!("route of {topic}: code {c} {:?}", resp.remark)),
    }
}

/// Resolve the broker for `topic`: `broker` if given, else the topic's route from the name
/// server, else (topic not created yet) the broker serving the `TBW102` template topic; retried
/// for up to `timeout` while neither is known. With `require_topic` the `TBW102` fallback is only
/// used once `timeout` has passed without a route for the topic itself. Name-server requests
/// are signed with `credentials` when given.
pub async fn resolve(
    namesrv: &str,
    broker: Option<&str>,
    topic: &str,
    timeout: Duration,
    require_topic: bool,
    tls: Option<&TlsClient>,
    credentials: Option<Arc<Credentials>>,
) -> Result<Target, String> {
    if let Some(b) = broker {
        return Ok(Target {
            broker: b.to_string(),
            read_queues: None,
            write_queues: None,
        });
    }
    let ns = RemotingClient::connect_with(namesrv, timeout, None, tls)
        .await
        .map_err(|e| e.to_string())?
        .signed_with(credentials);
    // A broker that has just started may not have registered yet: ask again until `timeout`.
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(t) = route_of(&ns, topic, timeout)
            .await?
            .as_ref()
            .and_then(target_from_route)
        {
            return Ok(t);
        }
        let waiting = require_topic && tokio::time::Instant::now() < deadline;
        if waiting {
            // A consumer needs the topic's own queue count: wait for its route first.
        } else if let Some(t) = route_of(&ns, "TBW102", timeout)
            .await?
            .as_ref()
            .and_then(target_from_route)
        {
            return Ok(Target {
                broker: t.broker,
                read_queues: None,
                write_queues: None,
            });
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!("no route for {topic} nor TBW102 at {namesrv}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// UPDATE_AND_CREATE_TOPIC with `queues` read and write queues, perm RW.
pub async fn create_topic(
    c: &RemotingClient,
    topic: &str,
    queues: u32,
    timeout: Duration,
) -> Result<(), String> {
    let req = RemotingCommand::request_with(
        request_code::UPDATE_AND_CREATE_TOPIC,
        &CreateTopicRequestHeader {
            topic: topic.to_string(),
            default_topic: "TBW102".into(),
            read_queue_nums: queues as i32,
            write_queue_nums: queues as i32,
            perm: 6,
            topic_filter_type: "SINGLE_TAG".into(),
            topic_sys_flag: Some(0),
            order: Some(false),
        },
    );
    let resp = c.call(req, timeout).await.map_err(|e| e.to_string())?;
    if resp.code == response_code::SUCCESS {
        Ok(())
    } else {
        Err(format!(
            "create topic {topic}: code {} {:?}",
            resp.code, resp.remark
        ))
    }
}

/// GET_MAX_OFFSET of one queue (the offset the next message will get).
pub async fn max_offset(
    c: &RemotingClient,
    topic: &str,
    queue_id: i32,
    timeout: Duration,
) -> Result<i64, String> {
    let req = RemotingCommand::request_with(
        request_code::GET_MAX_OFFSET,
        &GetMaxOffsetRequestHeader {
            topic: topic.to_string(),
            queue_id,
            bname: None,
        },
    );
    let resp = c.call(req, timeout).await.map_err(|e| e.to_string())?;
    if resp.code != response_code::SUCCESS {
        return Err(format!(
            "max offset of {topic}/{queue_id}: code {}",
            resp.code
        ));
    }
    resp.header::<OffsetResponseHeader>()
        .map(|h| h.offset)
        .map_err(|e| e.to_string())
}

/// Open `n` connections to `addr`, signing with `credentials` when given.
pub async fn connect_all(
    addr: &str,
    n: usize,
    timeout: Duration,
    tls: Option<&TlsClient>,
    credentials: Option<Arc<Credentials>>,
) -> Result<Vec<RemotingClient>, String> {
    let mut out = Vec::with_capacity(n.max(1));
    for _ in 0..n.max(1) {
        out.push(
            RemotingClient::connect_with(addr, timeout, None, tls)
                .await
                .map_err(|e| e.to_string())?
                .signed_with(credentials.clone()),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::body::{BrokerData, QueueData};
    use std::collections::BTreeMap;

    #[test]
    fn target_picks_the_master_and_its_queues() {
        let mut addrs = BTreeMap::new();
        addrs.insert(1, "10.0.0.2:10911".to_string());
        let slave_only = BrokerData {
            broker_addrs: addrs,
            broker_name: "b".into(),
            cluster: "C".into(),
            ..Default::default()
        };
        let mut addrs = BTreeMap::new();
        addrs.insert(0, "10.0.0.1:10911".to_string());
        let master = BrokerData {
            broker_addrs: addrs,
            broker_name: "a".into(),
            cluster: "C".into(),
            ..Default::default()
        };
        let route = TopicRouteData {
            broker_datas: vec![slave_only, master],
            queue_datas: vec![QueueData {
                broker_name: "a".into(),
                perm: 6,
                read_queue_nums: 8,
                topic_sys_flag: 0,
                write_queue_nums: 4,
            }],
            ..Default::default()
        };
        assert_eq!(
            target_from_route(&route),
            Some(Target {
                broker: "10.0.0.1:10911".into(),
                read_queues: Some(8),
                write_queues: Some(4)
            })
        );
        assert_eq!(target_from_route(&TopicRouteData::default()), None);
    }
}
