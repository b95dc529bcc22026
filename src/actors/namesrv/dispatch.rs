//! The name server's dispatch table: request code -> handler. Runs on the connection's arbiter;
//! each handler decodes its header and body, asks the `NameServer` actor, and builds the reply.
//! With `aclEnable=true` the state-changing codes (`acl::perm::NAMESRV_ADMIN_CODES`) need a
//! signed admin account first (beyond RocketMQ 4.x, whose name server has no ACL); reads stay open.
//! That holds for the hosted controller's codes too: they are checked here before they go to it.

use std::sync::Arc;

use actix::Addr;
use futures::future::LocalBoxFuture;
use futures::FutureExt;

use super::handlers;
use super::handlers::namesrv_config::ConfigState;
use super::messages::ConnectionClosed;
use super::NameServer;
use crate::acl::state::namesrv_admin;
use crate::acl::AclState;
use crate::actors::net::{ConnInfo, Dispatch};
use crate::actors::reply::HandlerResult;
use crate::controller::dispatch::dispatch_controller;
use crate::controller::handlers::is_controller_code;
use crate::controller::Controller;
use crate::error::ServiceError;
use crate::protocol::codes::request_code as code;
use crate::protocol::RemotingCommand;

pub struct NamesrvDispatch {
    ns: Addr<NameServer>,
    config: Arc<ConfigState>,
    acl: Option<Arc<AclState>>,
    /// The hosted controller (`enableControllerInNamesrv=true`): it answers the controller codes.
    controller: Option<Arc<Controller>>,
}

impl NamesrvDispatch {
    pub fn new(ns: Addr<NameServer>, config: Arc<ConfigState>, acl: Option<Arc<AclState>>) -> Self {
        NamesrvDispatch {
            ns,
            config,
            acl,
            controller: None,
        }
    }

    /// Route the controller codes to `controller`.
    pub fn with_controller(mut self, controller: Option<Arc<Controller>>) -> Self {
        self.controller = controller;
        self
    }

    /// The ACL check: only the admin codes are checked, everything else is open.
    fn admit(&self, req: &RemotingCommand, conn: &ConnInfo) -> Result<(), ServiceError> {
        match &self.acl {
            Some(acl) if namesrv_admin(req.code) => {
                acl.admit(req, conn.peer, namesrv_admin)?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

impl Dispatch for NamesrvDispatch {
    fn dispatch(
        &self,
        req: RemotingCommand,
        conn: &ConnInfo,
    ) -> LocalBoxFuture<'static, Option<RemotingCommand>> {
        let admitted = self.admit(&req, conn);
        if let Some(ctl) = &self.controller {
            if is_controller_code(req.code) && admitted.is_ok() {
                return dispatch_controller(ctl, req, conn.id);
            }
        }
        let ns = self.ns.clone();
        let config = self.config.clone();
        let conn_id = conn.id;
        async move {
            let result: HandlerResult = match admitted.map(|()| req.code) {
                Err(e) => Err(e),
                Ok(c) => match c {
                    code::REGISTER_BROKER => {
                        handlers::register_broker::handle(&ns, &req, conn_id).await
                    }
                    code::UNREGISTER_BROKER => handlers::unregister_broker::handle(&ns, &req).await,
                    code::GET_ROUTEINFO_BY_TOPIC => handlers::get_route::handle(&ns, &req).await,
                    code::GET_BROKER_CLUSTER_INFO => {
                        handlers::cluster_info::handle(&ns, &req).await
                    }
                    code::GET_ALL_TOPIC_LIST_FROM_NAMESERVER | code::GET_TOPICS_BY_CLUSTER => {
                        handlers::topic_list::handle(&ns, &req).await
                    }
                    code::PUT_KV_CONFIG
                    | code::GET_KV_CONFIG
                    | code::DELETE_KV_CONFIG
                    | code::GET_KVLIST_BY_NAMESPACE => handlers::kv_config::handle(&ns, &req).await,
                    code::QUERY_DATA_VERSION => handlers::data_version::handle(&ns, &req).await,
                    code::DELETE_TOPIC_IN_NAMESRV
                    | code::WIPE_WRITE_PERM_OF_BROKER
                    | code::ADD_WRITE_PERM_OF_BROKER => {
                        handlers::topic_admin::handle(&ns, &req).await
                    }
                    code::GET_SYSTEM_TOPIC_LIST_FROM_NS => {
                        handlers::topic_list::system_topics(&ns, &req).await
                    }
                    code::GET_NAMESRV_CONFIG => handlers::namesrv_config::get(&config, &req),
                    code::UPDATE_NAMESRV_CONFIG => {
                        handlers::namesrv_config::update(&config, &req).await
                    }
                    other => Err(ServiceError::NotSupported(other)),
                },
            };
            let resp = result.unwrap_or_else(|e| {
                tracing::debug!(error = %e, "request failed");
                e.into_response(&req)
            });
            (!req.is_oneway()).then_some(resp)
        }
        .boxed_local()
    }

    fn connection_closed(&self, conn: &ConnInfo) {
        if let Some(ctl) = &self.controller {
            crate::controller::dispatch::connection_closed(ctl, conn.id);
        }
        self.ns.do_send(ConnectionClosed(conn.id));
    }
}
