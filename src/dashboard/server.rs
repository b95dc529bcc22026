//! Starting the dashboard: bind the listener, build the shared [`AppState`], start the chart
//! collector and the actix-web server (its own worker threads; signals left to the binary).
//! Called from the binaries inside their actix system, after the name server is up.

use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};

use super::auth::AdminGuard;
use super::collector::Collector;
use super::login::Sessions;
use crate::admin::{AdminClient, DEFAULT_TIMEOUT};
use crate::config::{AclConfig, DashboardConfig};

/// What every handler shares.
pub struct AppState {
    pub admin: AdminClient,
    pub collector: Collector,
    pub guard: AdminGuard,
}

/// A running dashboard.
pub struct Dashboard {
    pub local_addr: SocketAddr,
    handle: ServerHandle,
}

impl Dashboard {
    /// Stop accepting and finish the requests in flight.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// Worker threads of the HTTP server: requests are admin round trips, never CPU-heavy.
const WORKERS: usize = 2;

/// Start the dashboard of `cfg` reading the name servers `namesrv`. Its own reads are signed
/// with the process's ACL account (`acl.accessKey`) when one is configured; with
/// `acl.aclEnable` admin actions need an ACL login. Must run inside an actix system (the
/// binaries' `System::block_on`).
pub fn start(cfg: &DashboardConfig, namesrv: &str, acl: &AclConfig) -> std::io::Result<Dashboard> {
    let creds = acl.credentials().map(|c| (*c).clone());
    if acl.acl_enable && creds.is_none() {
        // Brokers answer the runtime and stats reads the pages show only to admin accounts.
        tracing::warn!(
            "aclEnable=true but no accessKey/secretKey: the dashboard's reads are unsigned and \
             brokers will refuse most of them; configure an admin account for this process"
        );
    }
    let admin_client = || {
        AdminClient::signed(namesrv, DEFAULT_TIMEOUT, creds.clone()).map_err(std::io::Error::other)
    };
    let admin = admin_client()?;
    let collector = Collector::new();
    // Its own connections: the collector runs on the binary's runtime, handlers on the workers'.
    collector.spawn(admin_client()?);
    let sessions = acl
        .acl_enable
        .then(|| std::sync::Arc::new(Sessions::new(namesrv, DEFAULT_TIMEOUT)));
    let state = web::Data::new(AppState {
        admin,
        collector,
        guard: AdminGuard {
            password: Some(cfg.dashboard_admin_password.clone()).filter(|p| !p.is_empty()),
            loopback: cfg.is_loopback(),
            sessions,
        },
    });
    let addr = format!(
        "{}:{}",
        cfg.dashboard_listen_addr, cfg.dashboard_listen_port
    );
    let listener = std::net::TcpListener::bind(&addr)
        .map_err(|e| std::io::Error::new(e.kind(), format!("dashboard bind {addr}: {e}")))?;
    let local_addr = listener.local_addr()?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::JsonConfig::default().error_handler(|e, _| {
                super::api::error::ApiError::bad_request(format!("bad JSON body: {e}")).into()
            }))
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                super::api::error::ApiError::bad_request(format!("bad query: {e}")).into()
            }))
            .configure(super::api::routes)
            .configure(super::assets::routes)
    })
    .workers(WORKERS)
    .disable_signals()
    .shutdown_timeout(2)
    .listen(listener)?
    .run();
    let handle = server.handle();
    actix_rt::spawn(server);
    Ok(Dashboard { local_addr, handle })
}
