//! The real `mqadmin` binary against the real standalone broker (port 0, temp dir): usage and
//! errors (one stderr line, non-zero exit), the topic, broker and name-server commands with
//! their RocketMQ output columns and `--json` forms. Messages and groups are in
//! `tests/mqadmin_messages.rs`, the `-c` variants on two brokers in `tests/mqadmin_cluster.rs`.
//! Every run of the binary and every wait is bounded.

mod common;

use common::client::*;
use common::mqadmin::{adm, header, mqadmin, run_env};

#[test]
fn bare_help_and_usage_errors() {
    let out = mqadmin(&[]).ok();
    for c in [
        "updateTopic",
        "topicStatus",
        "queryMsgTraceById",
        "updateNamesrvConfig",
    ] {
        assert!(out.contains(c), "{out}");
    }
    let help = mqadmin(&["help", "topicStatus"]).ok();
    assert!(
        help.contains("-t, --topic") && help.contains("--json"),
        "{help}"
    );
    let h = mqadmin(&["updateSubGroup", "-h"]).ok();
    assert!(h.contains("-g, --groupName") && h.contains("-w, --whichBrokerWhenConsumeSlowly"));
    let r = mqadmin(&["topicStatus"]);
    assert_eq!(r.code, Some(2), "missing -t is a usage error: {r:?}");
    let r = mqadmin(&["updateTopic", "-t", "T", "-b", "a:1", "-c", "C"]);
    assert_eq!(r.code, Some(2), "-b and -c together: {r:?}");
    mqadmin(&["topicList"]).fails_with("no name server address");
    run_env(&["topicList"], Some("127.0.0.1:1")).fails_with("127.0.0.1:1");
}

#[test]
fn topic_commands() {
    let b = start_broker(&[]);
    let ns = b.namesrv_addr();
    let ns = ns.as_str();
    let out = adm(
        ns,
        "updateTopic",
        &["-c", "DefaultCluster", "-t", "AdmT", "-r", "4", "-w", "4"],
    )
    .ok();
    assert!(
        out.contains(&format!("create topic to {} success.", b.broker)),
        "{out}"
    );
    assert!(
        out.contains("TopicConfig [topicName=AdmT, readQueueNums=4, writeQueueNums=4, perm=RW-")
    );
    assert!(adm(ns, "topicList", &[]).ok().lines().any(|l| l == "AdmT"));
    let list = run_env(&["topicList", "--json"], Some(ns)).json();
    assert!(
        list.as_array().unwrap().iter().any(|t| t == "AdmT"),
        "{list}"
    );

    let route = adm(ns, "topicRoute", &["-t", "AdmT", "--json"]).json();
    assert_eq!(route["queueDatas"][0]["readQueueNums"], 4, "{route}");
    assert_eq!(
        route["brokerDatas"][0]["brokerAddrs"]["0"],
        b.broker.to_string()
    );
    let table = adm(ns, "topicRoute", &["-t", "AdmT", "-l"]).ok();
    assert_eq!(
        header(&table),
        [
            "#ClusterName",
            "#BrokerName",
            "#BrokerAddrs",
            "#ReadQueue",
            "#WriteQueue",
            "#Perm"
        ]
    );
    assert!(table.contains("broker-a") && table.lines().last().unwrap().starts_with("Total:"));
    assert_eq!(
        adm(ns, "topicClusterList", &["-t", "AdmT"]).ok().trim(),
        "DefaultCluster"
    );

    for i in 0..3 {
        let out = adm(
            ns,
            "sendMessage",
            &["-t", "AdmT", "-p", "hi", "-k", &format!("k{i}")],
        )
        .ok();
        assert_eq!(
            header(&out),
            ["#Broker Name", "#QID", "#Send Result", "#MsgId"]
        );
        assert!(out.contains("SEND_OK"), "{out}");
    }
    let status = adm(ns, "topicStatus", &["-t", "AdmT"]).ok();
    assert_eq!(
        header(&status),
        [
            "#Broker Name",
            "#QID",
            "#Min Offset",
            "#Max Offset",
            "#Last Updated"
        ]
    );
    assert_eq!(status.lines().count(), 5, "{status}");
    let rows = adm(ns, "topicStatus", &["-t", "AdmT", "--json"]).json();
    let total: i64 = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["maxOffset"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 3, "{rows}");

    let out = adm(
        ns,
        "updateTopic",
        &["-b", &b.broker.to_string(), "-t", "AdmO", "-o", "true"],
    )
    .ok();
    assert!(
        out.contains("set cluster orderConf. isOrder=true, orderConf=[broker-a:8]"),
        "{out}"
    );

    let out = adm(ns, "topicList", &["-c"]).ok();
    assert_eq!(header(&out), ["#Cluster Name", "#Topic", "#Consumer Group"]);
    assert!(out
        .lines()
        .any(|l| l.starts_with("DefaultCluster") && l.contains("AdmT")));

    let out = adm(ns, "deleteTopic", &["-t", "AdmT", "-c", "DefaultCluster"]).ok();
    assert!(out.contains("delete topic [AdmT] from cluster [DefaultCluster] success."));
    assert!(out.contains("delete topic [AdmT] from NameServer success."));
    assert!(!adm(ns, "topicList", &[]).ok().lines().any(|l| l == "AdmT"));
    adm(ns, "topicRoute", &["-t", "AdmT"]).fails_with("AdmT");
}

#[test]
fn broker_and_namesrv_commands() {
    let b = start_broker(&[]);
    let ns = b.namesrv_addr();
    let ns = ns.as_str();
    let addr = b.broker.to_string();
    let out = adm(ns, "clusterList", &[]).ok();
    assert_eq!(
        header(&out),
        [
            "#Cluster Name",
            "#Broker Name",
            "#BID",
            "#Addr",
            "#Version",
            "#InTPS(LOAD)",
            "#OutTPS(LOAD)",
            "#PCWait(ms)",
            "#Hour",
            "#SPACE"
        ]
    );
    let row = out.lines().nth(1).unwrap();
    assert!(
        row.starts_with("DefaultCluster") && row.contains("broker-a") && row.contains(&addr),
        "{out}"
    );
    let more = adm(ns, "clusterList", &["-m"]).ok();
    assert_eq!(
        header(&more),
        [
            "#Cluster Name",
            "#Broker Name",
            "#InTotalYest",
            "#OutTotalYest",
            "#InTotalToday",
            "#OutTotalToday"
        ]
    );
    let j = adm(ns, "clusterList", &["--json"]).json();
    assert_eq!(j[0]["brokerName"], "broker-a");
    assert_eq!(j[0]["runtime"]["brokerVersionDesc"], "V4_9_8", "{j}");

    let status = adm(ns, "brokerStatus", &["-b", &addr]).ok();
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("brokerVersionDesc") && l.contains(": V4_9_8")),
        "{status}"
    );
    let j = adm(ns, "brokerStatus", &["-b", &addr, "--json"]).json();
    assert_eq!(j["brokerVersionDesc"], "V4_9_8");

    let conf = adm(ns, "getBrokerConfig", &["-b", &addr]).ok();
    assert!(
        conf.starts_with(&format!("============{addr}============\n")),
        "{conf}"
    );
    assert!(
        conf.lines()
            .any(|l| l.starts_with("brokerName") && l.ends_with("=  broker-a")),
        "{conf}"
    );
    let out = adm(
        ns,
        "updateBrokerConfig",
        &["-b", &addr, "-k", "flushIntervalCommitLog", "-v", "700"],
    )
    .ok();
    assert!(out.contains(&format!("update broker config success, {addr}")));
    let j = adm(ns, "getBrokerConfig", &["-b", &addr, "--json"]).json();
    assert_eq!(j["flushIntervalCommitLog"], "700");
    adm(
        ns,
        "updateBrokerConfig",
        &["-b", &addr, "-k", "brokerConfigPath", "-v", "/x"],
    )
    .fails_with("NO_PERMISSION");

    let nsconf = adm(ns, "getNamesrvConfig", &[]).ok();
    assert!(
        nsconf.starts_with(&format!("============{ns}============")),
        "{nsconf}"
    );
    // One `key  =  value` line per key; rewrite a plain (not black-listed) key with its value.
    let line = nsconf
        .lines()
        .find(|l| l.starts_with("scanNotActiveBrokerInterval"))
        .unwrap_or_else(|| panic!("{nsconf}"));
    let key = line.split('=').next().unwrap().trim().to_string();
    let value = line.split("=  ").nth(1).unwrap().to_string();
    let out = adm(ns, "updateNamesrvConfig", &["-k", &key, "-v", &value]).ok();
    assert!(
        out.starts_with(&format!("update name server config success![{ns}]\n")),
        "{out}"
    );
    adm(ns, "updateNamesrvConfig", &["-k", "noSuchKey", "-v", "1"]).fails_with("noSuchKey");
    let j = adm(ns, "getNamesrvConfig", &["--json"]).json();
    assert_eq!(j[ns][&key], value.as_str());

    create_topic(&b, "AdmW", 1);
    let perm =
        || adm(ns, "topicRoute", &["-t", "AdmW", "--json"]).json()["queueDatas"][0]["perm"].clone();
    let out = adm(ns, "wipeWritePerm", &["-b", "broker-a"]).ok();
    assert!(
        out.contains(&format!(
            "wipe write perm of broker[broker-a] in name server[{ns}] OK,"
        )),
        "{out}"
    );
    assert_eq!(perm(), 4);
    let out = adm(ns, "addWritePerm", &["-b", "broker-a"]).ok();
    assert!(out.contains("add write perm of broker[broker-a]") && out.contains("OK,"));
    assert_eq!(perm(), 6);
}
