//! The `controller` binary's request routing: every controller code goes to
//! [`handlers::handle`]; anything else is REQUEST_CODE_NOT_SUPPORTED. Runs on the connection's
//! arbiter; a closed connection removes the brokers that heartbeated on it from the liveness table
//! at once (RocketMQ 5 does the same on channel inactive).

use std::sync::Arc;

use futures::future::LocalBoxFuture;
use futures::FutureExt;

use super::handlers;
use super::node::Controller;
use crate::actors::net::{ConnInfo, Dispatch};
use crate::error::ServiceError;
use crate::protocol::RemotingCommand;

pub struct ControllerDispatch {
    ctl: Arc<Controller>,
}

impl ControllerDispatch {
    pub fn new(ctl: Arc<Controller>) -> Self {
        ControllerDispatch { ctl }
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
    let listener = crate::actors::net::bind(&cfg.listen_addr, cfg.listen_port).await?;
    let local_addr = listener.local_addr()?;
    // The binary has no account or TLS keys (RocketMQ's controller has none either): its
    // role-change pushes go unsigned over plain TCP.
    let controller = Controller::start(
        &cfg.controller,
        local_addr.port(),
        cfg.scan_not_active_broker_interval,
        crate::controller::node::Outbound::default(),
    )
    .await?;
    let dispatch = Arc::new(ControllerDispatch::new(controller.clone()));
    let opts = crate::actors::net::ServerOptions::from(&cfg.net);
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
