//! `mqadmin` against a broker with ACL on (accounts in tests/common/acl_broker.rs): it signs with
//! the account of `$ROCKETMQ_HOME/conf/tools.yml` (or `--toolsConfig`, or
//! `MQADMIN_TOOLS_CONFIG`), as RocketMQ's tool does; and RocketMQ 4.9's ACL commands
//! (updateAclConfig, deleteAclConfig, clusterAclConfigVersion, updateGlobalWhiteAddr,
//! getAclConfig) end to end, each refused without the admin account.

mod common;

use std::path::Path;

use actormq::protocol::codes::response_code;
use common::acl_broker::{
    assert_acl_refused, create_topic_as_admin, signed, start_acl_broker, Account, AclBroker,
    ACL_TOPIC, ADMIN, USER,
};
use common::mqadmin::{header, run_with, Run};
use common::{call, connect, rmq};

/// A `$ROCKETMQ_HOME` whose conf/tools.yml holds `account` (RocketMQ's file shape).
fn home_with(account: Account) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("conf")).unwrap();
    std::fs::write(
        home.path().join("conf/tools.yml"),
        format!("accessKey: {}\nsecretKey: {}\n", account.0, account.1),
    )
    .unwrap();
    home
}

/// `mqadmin cmd -n <ns> args` with ROCKETMQ_HOME = `home` when given.
fn adm_as(a: &AclBroker, home: Option<&Path>, cmd: &str, args: &[&str]) -> Run {
    let ns = a.b.namesrv_addr();
    let mut v = vec![cmd, "-n", ns.as_str()];
    v.extend_from_slice(args);
    let home = home.map(|h| h.display().to_string());
    let vars: Vec<(&str, &str)> = home.iter().map(|h| ("ROCKETMQ_HOME", h.as_str())).collect();
    run_with(&v, &vars)
}

#[test]
fn tools_yml_account_signs_admin_commands() {
    let a = start_acl_broker(&[]);
    let addr = a.b.broker.to_string();
    let admin = home_with(ADMIN);
    let user = home_with(USER);
    let create = |home: Option<&Path>, topic: &str| {
        adm_as(&a, home, "updateTopic", &["-b", &addr, "-t", topic])
    };
    let out = create(Some(admin.path()), "ByAdminTopic").ok();
    assert!(out.contains("success"), "{out}");
    // No tools.yml: unsigned, refused with RocketMQ's answer.
    create(None, "AnonTopic").fails_with("AclException");
    create(Some(Path::new("/nonexistent-home")), "AnonTopic").fails_with("AclException");
    // A non-admin account: refused (admin code).
    create(Some(user.path()), "UserTopic").fails_with("Need admin permission");
    // --toolsConfig and MQADMIN_TOOLS_CONFIG name the file directly.
    let file = admin.path().join("conf/tools.yml").display().to_string();
    let ns = a.b.namesrv_addr();
    let args = [
        "updateTopic",
        "-n",
        &ns,
        "-b",
        &addr,
        "-t",
        "ByOption",
        "--toolsConfig",
        &file,
    ];
    run_with(&args, &[]).ok();
    let args = ["updateTopic", "-n", &ns, "-b", &addr, "-t", "ByEnv"];
    run_with(&args, &[("MQADMIN_TOOLS_CONFIG", &file)]).ok();
    // A named file that is missing is an error, not a silent unsigned run.
    run_with(&args, &[("MQADMIN_TOOLS_CONFIG", "/nonexistent/tools.yml")])
        .fails_with("/nonexistent/tools.yml");
    // Reads are admin-signed too.
    let out = adm_as(&a, Some(admin.path()), "topicList", &[]).ok();
    assert!(
        out.contains("ByAdminTopic") && out.contains("ByEnv"),
        "{out}"
    );
}

/// A one-message send to `topic` signed as `account`: its response code.
fn send_as(a: &AclBroker, account: Account, topic: &str) -> actormq::protocol::RemotingCommand {
    let h = rmq::send_header(topic, 0);
    let req = actormq::protocol::RemotingCommand::request_with(10, &h)
        .with_opaque(rmq::next_opaque())
        .with_body(&b"x"[..]);
    call(&mut connect(a.b.broker), &signed(req, account))
}

#[test]
fn acl_commands_end_to_end() {
    let a = start_acl_broker(&[]);
    create_topic_as_admin(&a.b, ACL_TOPIC);
    let addr = a.b.broker.to_string();
    let admin = home_with(ADMIN);
    let home = Some(admin.path());
    let new: Account = ("NewUser", "new-secret-1");
    assert_acl_refused(&send_as(&a, new, ACL_TOPIC), "before the account exists");

    let version = |a: &AclBroker| -> i64 {
        let out = adm_as(
            a,
            home,
            "clusterAclConfigVersion",
            &["-c", "DefaultCluster"],
        )
        .ok();
        assert_eq!(
            header(&out),
            [
                "#Cluster Name",
                "#Broker Name",
                "#Broker Addr",
                "#AclFilePath",
                "#AclConfigVersionNum",
                "#AclLastUpdateTime"
            ]
        );
        let row = out.lines().nth(1).unwrap_or_default().to_string();
        assert!(
            row.contains("DefaultCluster") && row.contains(&addr),
            "{out}"
        );
        row.split_whitespace().nth(4).unwrap().parse().unwrap()
    };
    let v0 = version(&a);

    let out = adm_as(
        &a,
        home,
        "updateAclConfig",
        &[
            "-b", &addr, "-a", new.0, "-s", new.1, "-i", "DENY", "-u", "SUB",
        ]
        .into_iter()
        .chain([
            "-t",
            &format!("{ACL_TOPIC}=PUB"),
            "-g",
            "GroupA=DENY",
            "-m",
            "false",
        ])
        .collect::<Vec<_>>(),
    )
    .ok();
    assert!(out.contains(&format!(
        "create or update plain access config to {addr} success."
    )));
    assert!(!out.contains(new.1), "the secret is not printed: {out}");
    let r = send_as(&a, new, ACL_TOPIC);
    assert_eq!(r.code, response_code::SUCCESS, "{:?}", r.remark);
    let file = std::fs::read_to_string(&a.acl_file).unwrap();
    assert!(file.contains("NewUser"), "persisted: {file}");
    assert!(version(&a) > v0);

    let out = adm_as(&a, home, "getAclConfig", &["-b", &addr]).ok();
    assert!(out.contains("accounts:"), "{out}");
    assert!(out.contains("accessKey         : NewUser"), "{out}");
    assert!(
        out.contains(&format!("topicPerms        : [{ACL_TOPIC}=PUB]")),
        "{out}"
    );

    let out = adm_as(
        &a,
        home,
        "updateGlobalWhiteAddr",
        &["-b", &addr, "-g", "10.1.1.*,10.2.*.*"],
    )
    .ok();
    assert!(out.contains(&format!(
        "update global white remote addresses to {addr} success."
    )));
    let out = adm_as(&a, home, "getAclConfig", &["-c", "DefaultCluster"]).ok();
    assert!(
        out.contains("globalWhiteRemoteAddresses: [10.1.1.*, 10.2.*.*]"),
        "{out}"
    );

    let out = adm_as(&a, home, "clusterAclConfigVersion", &["-b", &addr]).ok();
    assert!(
        out.contains("get broker's plain access config version success."),
        "{out}"
    );

    let out = adm_as(&a, home, "deleteAclConfig", &["-b", &addr, "-a", new.0]).ok();
    assert!(out.contains(&format!(
        "delete plain access config account from {addr} success."
    )));
    assert!(out.contains("account's accesskey is:NewUser"), "{out}");
    assert_acl_refused(&send_as(&a, new, ACL_TOPIC), "after delete");
    let file = std::fs::read_to_string(&a.acl_file).unwrap();
    assert!(!file.contains("NewUser"), "{file}");
}

#[test]
fn acl_commands_need_the_admin_account() {
    let a = start_acl_broker(&[]);
    let addr = a.b.broker.to_string();
    let user = home_with(USER);
    for home in [None, Some(user.path())] {
        for (cmd, args) in [
            (
                "updateAclConfig",
                vec!["-b", &addr, "-a", "X1", "-s", "12345678"],
            ),
            ("deleteAclConfig", vec!["-b", &addr, "-a", USER.0]),
            ("clusterAclConfigVersion", vec!["-b", &addr]),
            ("updateGlobalWhiteAddr", vec!["-b", &addr, "-g", "*"]),
            ("getAclConfig", vec!["-b", &addr]),
        ] {
            adm_as(&a, home, cmd, &args).fails_with("AclException");
        }
    }
    // Exactly one of -b and -c, as RocketMQ's option group.
    adm_as(&a, None, "getAclConfig", &[]).fails_usage();
    adm_as(&a, None, "deleteAclConfig", &["-b", &addr]).fails_usage();
}
