//! The dashboard's own ACL account (`dashboardAccessKey`/`dashboardSecretKey`) through the real
//! binaries: a name server serving the dashboard (ACL off there, as in RocketMQ 4.x) and a
//! broker of the cluster with `aclEnable=true`. With an admin account the API answers with the
//! broker's data; without one the broker's refusal is shown, named as the ACL's, per broker in
//! the cluster page and as the error of a page that needs the broker.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::acl::{write_acl, ACL_FILE};
use common::dashboard::get;
use common::ha::{start_master, start_namesrv_with};
use common::{listening_addr, Server};

const LIMIT: Duration = Duration::from_secs(20);
/// The dashboard's account, an admin of the broker's file.
const DASH: (&str, &str) = ("dashKey01", "dashSecret1");

/// A name server with its dashboard on a free port, signing as `account`; the dashboard address.
fn start_namesrv_dashboard(account: Option<(&str, &str)>) -> (Server, SocketAddr) {
    let mut sets = vec![
        "dashboardEnable=true".to_string(),
        "dashboardListenPort=0".into(),
    ];
    if let Some((ak, sk)) = account {
        sets.push(format!("dashboardAccessKey={ak}"));
        sets.push(format!("dashboardSecretKey={sk}"));
    }
    let refs: Vec<&str> = sets.iter().map(String::as_str).collect();
    let ns = start_namesrv_with(&refs);
    let deadline = Instant::now() + LIMIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = ns
            .stdout_lines
            .recv_timeout(left)
            .expect("the name server printed its dashboard line");
        if line.starts_with("dashboard listening on") {
            let addr = listening_addr(&line);
            return (ns, addr);
        }
    }
}

/// A broker with ACL on (the common accounts plus the dashboard's admin account) registered
/// with `namesrv`.
fn start_acl_broker(dir: &std::path::Path, namesrv: SocketAddr) -> Server {
    let text = format!(
        "{ACL_FILE}  - accessKey: {}\n    secretKey: {}\n    admin: true\n",
        DASH.0, DASH.1
    );
    let file = write_acl(dir, &text);
    let store = dir.join("store");
    let acl = format!("plainAclFile={}", file.display());
    start_master(&store, namesrv, &["aclEnable=true", &acl]).0
}

/// The cluster page's row of the broker, once it is registered.
fn broker_row(dashboard: SocketAddr) -> Value {
    let mut row = None;
    let found = common::wait_until(LIMIT, || {
        let a = get(dashboard, "/api/cluster");
        row = (a.status == 200)
            .then(|| a.json()["brokers"][0].clone())
            .filter(|r| !r.is_null());
        row.is_some()
    });
    assert!(found, "the broker never showed in /api/cluster");
    row.unwrap()
}

#[test]
fn with_its_admin_account_the_pages_have_data() {
    let dir = tempfile::tempdir().unwrap();
    let (ns, dashboard) = start_namesrv_dashboard(Some(DASH));
    let _b = start_acl_broker(dir.path(), ns.addr);
    let row = broker_row(dashboard);
    assert!(row["error"].is_null(), "{row}");
    assert!(!row["version"].as_str().unwrap().is_empty(), "{row}");
    let groups = get(dashboard, "/api/groups");
    assert_eq!(groups.status, 200, "{}", groups.body);
    assert!(groups.json()["groups"].is_array(), "{}", groups.body);
}

#[test]
fn without_an_account_the_refusal_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let (ns, dashboard) = start_namesrv_dashboard(None);
    let _b = start_acl_broker(dir.path(), ns.addr);
    let row = broker_row(dashboard);
    let error = row["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("AclException") && error.contains("No accessKey is configured"),
        "{row}"
    );
    let groups = get(dashboard, "/api/groups");
    assert_ne!(groups.status, 200, "{}", groups.body);
    assert!(
        groups.body.contains("No accessKey is configured"),
        "{}",
        groups.body
    );
}
