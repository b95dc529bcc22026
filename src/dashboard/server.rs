//! Starting the dashboard: bind the listener, build the shared [`AppState`], start the chart
//! collector and the actix-web server (its own worker threads; signals left to the binary).
//! Called from the binaries inside their actix system, after the name server is up.
//!
//! TLS: with `tlsMode` permissive or enforcing the dashboard serves HTTPS only, with the
//! process's certificate (a browser cannot be told apart by its first byte as cheaply as a
//! remoting client, and a dashboard half on HTTP would leak the admin password). Its own
//! connection to the name server uses `tlsEnable` like every outgoing connection.

use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};

use super::auth::AdminGuard;
use super::collector::Collector;
use super::login::Sessions;
use crate::admin::{AdminClient, DEFAULT_TIMEOUT};
use crate::config::{AclConfig, DashboardConfig, TlsConfig, TlsMode};
use crate::tls::TlsSides;

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

/// HTTPS when `tlsMode` is on; TLS towards the name server when `tlsEnable`. The name server
/// of this process refuses plain connections in enforcing mode, so that needs `tlsEnable`.
fn tls_sides(tls: &TlsConfig) -> std::io::Result<TlsSides> {
    let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
    let sides = TlsSides::from_config(tls).map_err(|e| invalid(format!("dashboard: {e}")))?;
    if tls.tls_mode == TlsMode::Enforcing && sides.client.is_none() {
        return Err(invalid(
            "dashboard with tlsMode = enforcing: it reads the name server over TLS, so set \
             tlsEnable = true and tlsClientTrustCertPath"
                .into(),
        ));
    }
    Ok(sides)
}

/// Worker threads of the HTTP server: requests are admin round trips, never CPU-heavy.
const WORKERS: usize = 2;

/// Start the dashboard of `cfg` reading the name servers `namesrv`. Its own reads are signed
/// with its ACL account (`dashboardAccessKey`, else the process's `accessKey`) when one is
/// configured; with
/// `acl.aclEnable` admin actions need an ACL login. `tls` is the process's TLS config: HTTPS
/// when its server side is on, and the admin clients connect as `tlsEnable` says. Must run
/// inside an actix system (the binaries' `System::block_on`).
pub fn start(
    cfg: &DashboardConfig,
    namesrv: &str,
    acl: &AclConfig,
    tls: &TlsConfig,
) -> std::io::Result<Dashboard> {
    let TlsSides {
        server: server_tls,
        client: client_tls,
    } = tls_sides(tls)?;
    let creds = cfg
        .credentials()
        .or_else(|| acl.credentials().map(|c| (*c).clone()));
    if acl.acl_enable && creds.is_none() {
        // Brokers answer the runtime and stats reads the pages show only to admin accounts.
        tracing::warn!(
            "aclEnable=true but no dashboardAccessKey/dashboardSecretKey (nor accessKey/secretKey): \
             the dashboard's reads are unsigned and brokers with ACL on will refuse most of them; \
             configure an admin account for the dashboard"
        );
    }
    let admin_client = || {
        AdminClient::signed(namesrv, DEFAULT_TIMEOUT, creds.clone())
            .map(|a| a.with_tls(client_tls.clone()))
            .map_err(std::io::Error::other)
    };
    let admin = admin_client()?;
    let collector = Collector::new();
    // Its own connections: the collector runs on the binary's runtime, handlers on the workers'.
    collector.spawn(admin_client()?);
    let sessions = acl
        .acl_enable
        .then(|| std::sync::Arc::new(Sessions::new(namesrv, DEFAULT_TIMEOUT, client_tls.clone())));
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
    .shutdown_timeout(2);
    let server = match server_tls {
        Some(t) => server.listen_rustls_0_23(listener, (*t.rustls_config()).clone())?,
        None => server.listen(listener)?,
    }
    .run();
    let handle = server.handle();
    actix_rt::spawn(server);
    Ok(Dashboard { local_addr, handle })
}
