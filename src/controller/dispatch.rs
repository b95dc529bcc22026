//! The `controller` binary's request routing: every controller code goes to
//! [`handlers::handle`]; anything else is REQUEST_CODE_NOT_SUPPORTED. With `aclEnable=true` the
//! state-changing codes need a signed admin account first (the same rule as a name server
//! hosting a controller; reads stay open). Runs on the connection's
//! arbiter; a closed connection removes the brokers that heartbeated on it from the liveness table
//! at once (RocketMQ 5 does the same on channel inactive).

use std::sync::Arc;

use futures::future::LocalBoxFuture;
use futures::FutureExt;

use super::handlers;
use super::node::Controller;
use crate::acl::state::namesrv_admin;
use crate::acl::AclState;
use crate::actors::net::{ConnInfo, Dispatch};
use crate::error::ServiceError;
use crate::protocol::RemotingCommand;

pub struct ControllerDispatch {
    ctl: Arc<Controller>,
    acl: Option<Arc<AclState>>,
}

impl ControllerDispatch {
    pub fn new(ctl: Arc<Controller>, acl: Option<Arc<AclState>>) -> Self {
        ControllerDispatch { ctl, acl }
    }
}

/// Answer `req` if it is a controller code (`None` for other codes).
pub fn dispatch_controller(
    ctl: &Arc<Controller>,
    req: RemotingCommand,
    conn_id: u64,
) -> LocalBoxFuture<'static, Option<RemotingCommand>> {
    let ctl = ctl.clone();
    async move {
        let result = if handlers::is_controller_code(req.code) {
            handlers::handle(&ctl, &req, conn_id).await
        } else {
            Err(ServiceError::NotSupported(req.code))
        };
        let resp = result.unwrap_or_else(|e| {
            tracing::debug!(error = %e, code = req.code, "controller request failed");
            e.into_response(&req)
        });
        (!req.is_oneway()).then_some(resp)
    }
    .boxed_local()
}

/// The liveness side of a closed connection.
pub fn connection_closed(ctl: &Controller, conn_id: u64) {
    let gone = ctl.live.lock().connection_closed(conn_id);
    for (name, id) in &gone {
        tracing::info!(broker = %name, id, "broker inactive: its connection closed");
    }
    if !gone.is_empty() {
        ctl.scan_now.notify_one();
    }
}

impl Dispatch for ControllerDispatch {
    fn dispatch(
        &self,
        req: RemotingCommand,
        conn: &ConnInfo,
    ) -> LocalBoxFuture<'static, Option<RemotingCommand>> {
        if let Some(acl) = self.acl.as_ref().filter(|_| namesrv_admin(req.code)) {
            if let Err(e) = acl.admit(&req, conn.peer, namesrv_admin) {
                let resp = ServiceError::from(e).into_response(&req);
                return futures::future::ready((!req.is_oneway()).then_some(resp)).boxed_local();
            }
        }
        dispatch_controller(&self.ctl, req, conn.id)
    }

    fn connection_closed(&self, conn: &ConnInfo) {
        connection_closed(&self.ctl, conn.id);
    }
}

/// A running standalone controller.
pub struct ControllerHandle {
    pub local_addr: std::net::SocketAddr,
    pub controller: Arc<Controller>,
}

/// Start the `controller` binary's parts on the current actix system: bind the request port
/// (`listenPort` 0 = a free port), start the Raft node, serve requests.
pub async fn start(
    cfg: &crate::config::ControllerServerConfig,
) -> std::io::Result<ControllerHandle> {
    crate::config::ConfigKeys::validate(cfg)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    // Every file `tlsMode`, `tlsEnable` and `aclEnable` name is read before anything starts.
    let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
    let tls = crate::tls::TlsSides::from_config(&cfg.tls).map_err(|e| invalid(e.to_string()))?;
    let acl = AclState::from_config(&cfg.acl).map_err(invalid)?;
    let listener = crate::actors::net::bind(&cfg.listen_addr, cfg.listen_port).await?;
    let local_addr = listener.local_addr()?;
    // Beyond RocketMQ, whose controller has no account or TLS: the role-change pushes are
    // signed with `accessKey`/`secretKey` and go over TLS with `tlsEnable`, so brokers with
    // `aclEnable=true` or `tlsMode=enforcing` take them.
    let outbound = crate::controller::node::Outbound {
        credentials: cfg.acl.credentials(),
        tls: tls.client.clone(),
    };
    let controller = Controller::start(
        &cfg.controller,
        local_addr.port(),
        cfg.scan_not_active_broker_interval,
        outbound,
    )
    .await?;
    let dispatch = Arc::new(ControllerDispatch::new(controller.clone(), acl));
    let opts = crate::actors::net::ServerOptions::from(&cfg.net).with_tls(tls.server);
    actix_rt::spawn(crate::actors::net::serve(
        listener,
        Vec::new(),
        dispatch,
        opts,
    ));
    Ok(ControllerHandle {
        local_addr,
        controller,
    })
}
