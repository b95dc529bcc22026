//! The dashboard with ACL on (`aclEnable=true`, accounts of tests/common/acl_broker.rs): its
//! reads are signed with the process's own account (`accessKey`/`secretKey`), admin actions need
//! a login (checked by the broker: wrong secret and unknown key refused) and run as the
//! logged-in account, so a non-admin account is refused by the broker's rules. With ACL off the
//! login API says so and the admin-password rule is unchanged (tests/dashboard_api.rs).

mod common;

use std::time::Duration;

use serde_json::{json, Value};

use common::acl::{acl_sets, write_acl};
use common::acl_broker::{acl_file_text, ADMIN, USER};
use common::dashboard::{get, post, request, start_dashboard, wait_for, Answer, DashBroker};

fn start_acl_dashboard() -> (DashBroker, tempfile::TempDir) {
    let conf = tempfile::tempdir().unwrap();
    let sets = acl_sets(&write_acl(conf.path(), &acl_file_text()));
    let refs: Vec<&str> = sets.iter().map(String::as_str).collect();
    (start_dashboard(&refs), conf)
}

fn login(d: &DashBroker, ak: &str, sk: &str) -> Answer {
    post(
        d.dashboard,
        "/api/login",
        json!({"accessKey": ak, "secretKey": sk}),
    )
}

fn create_topic(d: &DashBroker, topic: &str, token: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = token.map(|t| ("X-Session", t)).into_iter().collect();
    let body = json!({ "topic": topic });
    request(d.dashboard, "POST", "/api/topics", Some(&body), &headers)
}

fn token_of(a: &Answer) -> String {
    a.ok()["token"].as_str().unwrap().to_string()
}

#[test]
fn admin_actions_need_a_login_and_run_as_that_account() {
    let (d, _conf) = start_acl_dashboard();
    let s = get(d.dashboard, "/api/session").ok();
    assert_eq!(s, json!({"aclEnable": true, "accessKey": Value::Null}));
    // Reads work: the dashboard signs them with the process's account.
    get(d.dashboard, "/api/topics").ok();
    get(d.dashboard, "/api/cluster").ok();

    let a = create_topic(&d, "NoLoginTopic", None);
    assert_eq!(a.status, 401, "{}", a.body);
    assert!(a.body.contains("log in"), "{}", a.body);

    let a = login(&d, USER.0, "wrong-secret");
    assert_eq!(a.status, 401, "{}", a.body);
    assert!(a.body.contains("Check signature failed"), "{}", a.body);
    assert!(!a.body.contains("wrong-secret"), "{}", a.body);
    let a = login(&d, "NoSuchKey", "x");
    assert_eq!(a.status, 401, "{}", a.body);
    assert!(a.body.contains("No acl config for NoSuchKey"), "{}", a.body);
    assert_eq!(login(&d, "", "").status, 400);

    // A non-admin account may log in, but the broker refuses its admin action.
    let user = token_of(&login(&d, USER.0, USER.1));
    let a = create_topic(&d, "UserTopic", Some(&user));
    assert_ne!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("Need admin permission"), "{}", a.body);

    let admin = token_of(&login(&d, ADMIN.0, ADMIN.1));
    let s = request(
        d.dashboard,
        "GET",
        "/api/session",
        None,
        &[("X-Session", &admin)],
    )
    .ok();
    assert_eq!(s["accessKey"], ADMIN.0);
    create_topic(&d, "AdminTopic", Some(&admin)).ok();
    // The list comes from the name server, which learns the topic at the broker's next
    // registration: wait for it.
    let topics = wait_for(Duration::from_secs(15), || {
        let t = get(d.dashboard, "/api/topics").ok().to_string();
        t.contains("AdminTopic").then_some(t)
    })
    .expect("AdminTopic never listed");
    assert!(!topics.contains("UserTopic"), "{topics}");

    let a = request(
        d.dashboard,
        "POST",
        "/api/logout",
        None,
        &[("X-Session", &admin)],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(create_topic(&d, "AfterLogout", Some(&admin)).status, 401);
}

#[test]
fn without_acl_there_is_no_login() {
    let d = start_dashboard(&[]);
    let s = get(d.dashboard, "/api/session").ok();
    assert_eq!(s, json!({"aclEnable": false, "accessKey": Value::Null}));
    assert_eq!(login(&d, ADMIN.0, ADMIN.1).status, 400);
    // Loopback without a password: admin actions stay open, as before.
    create_topic(&d, "OpenTopic", None).ok();
}

/// The login form in headless Chromium (tests/dashboard_acl_pages.cjs).
#[test]
fn login_form_in_the_page() {
    common::dashboard::install_browser();
    let (d, _conf) = start_acl_dashboard();
    let root = env!("CARGO_MANIFEST_DIR");
    let profile = tempfile::tempdir().unwrap();
    let cfg = json!({
        "url": format!("http://{}", d.dashboard),
        "modulePath": format!("{root}/target/browser/node_modules/playwright-core"),
        "userDataDir": profile.path(),
        "admin": [ADMIN.0, ADMIN.1],
        "topic": "PageLoginTopic",
    });
    let script = format!("{root}/tests/dashboard_acl_pages.cjs");
    let (code, out, err) = common::run_to_exit(
        "node",
        &[script.as_str(), &cfg.to_string()],
        std::time::Duration::from_secs(120),
    );
    assert_eq!(code, Some(0), "page run failed:\n{out}\n{err}");
    let summary: Value = serde_json::from_str(out.trim()).expect("summary JSON");
    assert_eq!(summary["passwordBoxGone"], true, "{summary}");
    assert_eq!(summary["account"], ADMIN.0, "{summary}");
    let topics = get(d.dashboard, "/api/topics").ok().to_string();
    assert!(topics.contains("PageLoginTopic"), "{topics}");
}
