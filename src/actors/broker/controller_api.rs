//! The requests a controller-mode broker sends (RocketMQ 5's `BrokerOuterAPI` controller part):
//! to the controllers (metadata, broker id, register, elect, heartbeat, replica info, SyncStateSet)
//! and to a new master's broker port (its epoch cache and its HA address). One connection per
//! address, reused while open, signed with the broker's `accessKey`/`secretKey` when set (as its
//! name-server registrations; an ACL'd name server hosting controllers wants an admin account);
//! every call bounded by a timeout. Used by the `ReplicasActor`'s
//! spawned futures, so it is cheap to clone and holds no actor state.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::logic::replicas::MasterInfo;
use crate::clock::now_ms;
use crate::protocol::body::controller::{ElectMasterResponseBody, EpochEntryCache, SyncStateSet};
use crate::protocol::codes::{request_code, response_code};
use crate::protocol::headers::controller::*;
use crate::protocol::RemotingCommand;
use crate::remoting::client::RemotingClient;

const RPC_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a call brought no answer to act on.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{addr}: {reason}")]
    Unreachable { addr: String, reason: String },
    #[error("{addr} answered code {code}: {remark}")]
    Refused {
        addr: String,
        code: i32,
        remark: String,
    },
    #[error("{addr}: unreadable answer: {reason}")]
    Garbled { addr: String, reason: String },
}

impl CallError {
    pub fn code(&self) -> Option<i32> {
        match self {
            CallError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The controller asked is not the leader (or is gone): look for the leader again.
    pub fn lost_leader(&self) -> bool {
        !matches!(self, CallError::Refused { code, .. } if *code != response_code::CONTROLLER_NOT_LEADER)
    }
}

/// Who this broker is, as the controller knows it.
#[derive(Clone, Debug)]
pub struct Me {
    pub cluster: String,
    pub broker_name: String,
    pub broker_addr: String,
}

#[derive(Clone)]
pub struct ControllerApi {
    clients: Arc<Mutex<HashMap<String, RemotingClient>>>,
    tls: Option<crate::tls::TlsClient>,
    creds: Option<Arc<crate::acl::Credentials>>,
    pub me: Me,
}

impl ControllerApi {
    pub fn new(
        me: Me,
        tls: Option<crate::tls::TlsClient>,
        creds: Option<Arc<crate::acl::Credentials>>,
    ) -> Self {
        ControllerApi {
            clients: Arc::default(),
            tls,
            creds,
            me,
        }
    }

    async fn client(&self, addr: &str) -> Result<RemotingClient, CallError> {
        let open = self
            .clients
            .lock()
            .get(addr)
            .filter(|c| c.is_open())
            .cloned();
        if let Some(c) = open {
            return Ok(c);
        }
        let c = RemotingClient::connect_with(addr, RPC_TIMEOUT, None, self.tls.as_ref())
            .await
            .map_err(|e| CallError::Unreachable {
                addr: addr.into(),
                reason: e.to_string(),
            })?
            .signed_with(self.creds.clone());
        self.clients.lock().insert(addr.to_string(), c.clone());
        Ok(c)
    }

    /// Send `req` to `addr`; anything but SUCCESS is an error.
    pub async fn call(
        &self,
        addr: &str,
        req: RemotingCommand,
    ) -> Result<RemotingCommand, CallError> {
        let c = self.client(addr).await?;
        let resp = c.call(req, RPC_TIMEOUT).await.map_err(|e| {
            self.clients.lock().remove(addr);
            CallError::Unreachable {
                addr: addr.into(),
                reason: e.to_string(),
            }
        })?;
        if resp.code != response_code::SUCCESS {
            return Err(CallError::Refused {
                addr: addr.into(),
                code: resp.code,
                remark: resp.remark.unwrap_or_default(),
            });
        }
        Ok(resp)
    }

    fn garbled(addr: &str, e: impl std::fmt::Display) -> CallError {
        CallError::Garbled {
            addr: addr.into(),
            reason: e.to_string(),
        }
    }

    /// CONTROLLER_GET_METADATA_INFO: (is_leader, the leader's address).
    pub async fn metadata(&self, addr: &str) -> Result<(bool, Option<String>), CallError> {
        let req = RemotingCommand::request(request_code::CONTROLLER_GET_METADATA_INFO);
        let resp = self.call(addr, req).await?;
        let h: GetMetaDataResponseHeader = resp.header().map_err(|e| Self::garbled(addr, e))?;
        Ok((h.is_leader, h.controller_leader_address))
    }

    /// CONTROLLER_GET_NEXT_BROKER_ID.
    pub async fn next_broker_id(&self, leader: &str) -> Result<i64, CallError> {
        let req = RemotingCommand::request_with(
            request_code::CONTROLLER_GET_NEXT_BROKER_ID,
            &GetNextBrokerIdRequestHeader {
                cluster_name: self.me.cluster.clone(),
                broker_name: self.me.broker_name.clone(),
            },
        );
        let resp = self.call(leader, req).await?;
        let h: GetNextBrokerIdResponseHeader =
            resp.header().map_err(|e| Self::garbled(leader, e))?;
        h.next_broker_id
            .ok_or_else(|| Self::garbled(leader, "no nextBrokerId"))
    }

    /// CONTROLLER_APPLY_BROKER_ID: claim `id` (check code `address;timestamp`, as RocketMQ).
    pub async fn apply_broker_id(&self, leader: &str, id: i64) -> Result<(), CallError> {
        let req = RemotingCommand::request_with(
            request_code::CONTROLLER_APPLY_BROKER_ID,
            &ApplyBrokerIdRequestHeader {
                cluster_name: self.me.cluster.clone(),
                broker_name: self.me.broker_name.clone(),
                applied_broker_id: id,
                register_check_code: format!("{};{}", self.me.broker_addr, now_ms()),
            },
        );
        self.call(leader, req).await.map(|_| ())
    }

    /// CONTROLLER_REGISTER_BROKER: the set's master as the controller knows it.
    pub async fn register(&self, leader: &str, id: i64) -> Result<MasterInfo, CallError> {
        let req = RemotingCommand::request_with(
            request_code::CONTROLLER_REGISTER_BROKER,
            &RegisterBrokerToControllerRequestHeader {
                cluster_name: self.me.cluster.clone(),
                broker_name: self.me.broker_name.clone(),
                broker_id: id,
                broker_address: self.me.broker_addr.clone(),
                invoke_time: Some(now_ms()),
            },
        );
        let resp = self.call(leader, req).await?;
        let h: RegisterBrokerToControllerResponseHeader =
            resp.header().map_err(|e| Self::garbled(leader, e))?;
        let set = sync_state_set(&resp.body, h.sync_state_set_epoch);
        Ok(MasterInfo {
            master_id: h.master_broker_id,
            master_addr: h.master_address,
            master_epoch: h.master_epoch.unwrap_or(0),
            sync_state_set: set,
        })
    }

    /// CONTROLLER_ELECT_MASTER (not designated: the controller's policy decides). A set whose
    /// master is still alive answers CONTROLLER_MASTER_STILL_EXIST with that master: taken too.
    pub async fn elect(&self, leader: &str, id: i64) -> Result<MasterInfo, CallError> {
        let req = RemotingCommand::request_with(
            request_code::CONTROLLER_ELECT_MASTER,
            &ElectMasterRequestHeader {
                cluster_name: self.me.cluster.clone(),
                broker_name: self.me.broker_name.clone(),
                broker_id: id,
                designate_elect: Some(false),
                invoke_time: Some(now_ms()),
            },
        );
        let c = self.client(leader).await?;
        let resp = c
            .call(req, RPC_TIMEOUT)
            .await
            .map_err(|e| CallError::Unreachable {
                addr: leader.into(),
                reason: e.to_string(),
            })?;
        if resp.code != response_code::SUCCESS
            && resp.code != response_code::CONTROLLER_MASTER_STILL_EXIST
        {
            return Err(CallError::Refused {
                addr: leader.into(),
                code: resp.code,
                remark: resp.remark.unwrap_or_default(),
            });
        }
        let h: ElectMasterResponseHeader = resp.header().map_err(|e| Self::garbled(leader, e))?;
        let set = ElectMasterResponseBody::decode(&resp.body)
            .ok()
            .map(|b| SyncStateSet {
                sync_state_set: b.sync_state_set,
                sync_state_set_epoch: h.sync_state_set_epoch.unwrap_or(0),
            });
        Ok(MasterInfo {
            master_id: h.master_broker_id,
            master_addr: h.master_address,
            master_epoch: h.master_epoch.unwrap_or(0),
            sync_state_set: set,
        })
    }

    /// CONTROLLER_GET_REPLICA_INFO.
    pub async fn replica_info(&self, leader: &str) -> Result<MasterInfo, CallError> {
        let req = RemotingCommand::request_with(
            request_code::CONTROLLER_GET_REPLICA_INFO,
            &GetReplicaInfoRequestHeader {
                broker_name: self.me.broker_name.clone(),
            },
        );
        let resp = self.call(leader, req).await?;
        let h: GetReplicaInfoResponseHeader =
            resp.header().map_err(|e| Self::garbled(leader, e))?;
        Ok(MasterInfo {
            master_id: h.master_broker_id,
            master_addr: h.master_address,
            master_epoch: h.master_epoch.unwrap_or(0),
            sync_state_set: SyncStateSet::decode(&resp.body).ok(),
        })
    }

    /// CONTROLLER_ALTER_SYNC_STATE_SET: the new set's epoch.
    pub async fn alter_sync_state_set(
        &self,
        leader: &str,
        id: i64,
        master_epoch: i32,
        set: SyncStateSet,
    ) -> Result<i32, CallError> {
        let req = RemotingCommand::request_with(
            request_code::CONTROLLER_ALTER_SYNC_STATE_SET,
            &AlterSyncStateSetRequestHeader {
                broker_name: self.me.broker_name.clone(),
                master_broker_id: id,
                master_epoch,
                invoke_time: Some(now_ms()),
            },
        )
        .with_body(set.encode());
        let resp = self.call(leader, req).await?;
        let h: AlterSyncStateSetResponseHeader =
            resp.header().map_err(|e| Self::garbled(leader, e))?;
        Ok(h.new_sync_state_set_epoch)
    }

    /// BROKER_HEARTBEAT to one controller (answers are not needed).
    pub async fn heartbeat(&self, addr: &str, h: BrokerHeartbeatRequestHeader) {
        let req = RemotingCommand::request_with(request_code::BROKER_HEARTBEAT, &h);
        if let Err(e) = self.call(addr, req).await {
            tracing::debug!(error = %e, "controller heartbeat");
        }
    }

    /// GET_BROKER_EPOCH_CACHE from a master's broker port.
    pub async fn epoch_cache(&self, master: &str) -> Result<EpochEntryCache, CallError> {
        let req = RemotingCommand::request(request_code::GET_BROKER_EPOCH_CACHE);
        let resp = self.call(master, req).await?;
        EpochEntryCache::decode(&resp.body).map_err(|e| Self::garbled(master, e))
    }

    /// A master's HA address: the `haServerAddr` of its GET_BROKER_RUNTIME_INFO table (a
    /// controller-mode broker reports it there).
    pub async fn ha_address(&self, master: &str) -> Result<String, CallError> {
        let req = RemotingCommand::request(request_code::GET_BROKER_RUNTIME_INFO);
        let resp = self.call(master, req).await?;
        let kv: crate::protocol::body::KvTable =
            serde_json::from_slice(&resp.body).map_err(|e| Self::garbled(master, e))?;
        kv.table
            .get("haServerAddr")
            .filter(|a| !a.is_empty())
            .cloned()
            .ok_or_else(|| Self::garbled(master, "no haServerAddr in its runtime info"))
    }
}

/// A SyncStateSet body, when there is a readable one.
fn sync_state_set(body: &[u8], epoch: Option<i32>) -> Option<SyncStateSet> {
    let mut s = SyncStateSet::decode(body).ok()?;
    if let Some(e) = epoch {
        s.sync_state_set_epoch = s.sync_state_set_epoch.max(e);
    }
    Some(s)
}
