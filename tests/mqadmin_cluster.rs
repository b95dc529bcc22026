//! The real `mqadmin` binary against a 2-broker cluster (standalone broker + a joined broker,
//! ports 0): the `-c clusterName` variants reach every master, and per-broker commands the right
//! one. Every run of the binary and every wait is bounded.

mod common;

use std::time::Duration;

use common::client::*;
use common::mqadmin::adm;

#[test]
fn cluster_variants_on_two_brokers() {
    let b = start_broker(&[]);
    let b2 = start_joined_broker(&b, "broker-b");
    let ns = b.namesrv_addr();
    let ns = ns.as_str();
    let (a1, a2) = (b.broker.to_string(), b2.broker.to_string());
    assert!(common::wait_until(Duration::from_secs(15), || {
        adm(ns, "clusterList", &["--json"])
            .json()
            .as_array()
            .unwrap()
            .len()
            == 2
    }));
    let rows = adm(ns, "clusterList", &[]).ok();
    assert!(
        rows.contains(&a1) && rows.contains(&a2) && rows.contains("broker-b"),
        "{rows}"
    );

    let out = adm(
        ns,
        "updateTopic",
        &["-c", "DefaultCluster", "-t", "AdmC", "-r", "2", "-w", "2"],
    )
    .ok();
    for a in [&a1, &a2] {
        assert!(
            out.contains(&format!("create topic to {a} success.")),
            "{out}"
        );
    }
    assert!(common::wait_until(Duration::from_secs(15), || {
        adm(ns, "topicRoute", &["-t", "AdmC", "--json"]).json()["queueDatas"]
            .as_array()
            .unwrap()
            .len()
            == 2
    }));
    let table = adm(ns, "topicRoute", &["-t", "AdmC", "-l"]).ok();
    let total: Vec<String> = table
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(total, ["Total:", "2", "4", "4"], "{table}");
    let status = adm(ns, "topicStatus", &["-t", "AdmC"]).ok();
    assert_eq!(
        status
            .lines()
            .filter(|l| l.starts_with("broker-b "))
            .count(),
        2,
        "{status}"
    );
    let list = adm(ns, "topicList", &["-c", "--json"]).json();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["topic"] == "AdmC" && r["clusterName"] == "DefaultCluster"));

    let st = adm(ns, "brokerStatus", &["-c", "DefaultCluster"]).ok();
    for a in [&a1, &a2] {
        assert!(
            st.lines()
                .any(|l| l.starts_with(a.as_str()) && l.contains("brokerVersionDesc")),
            "{st}"
        );
    }
    let j = adm(ns, "brokerStatus", &["-c", "DefaultCluster", "--json"]).json();
    assert_eq!(j[&a2]["brokerName"], "broker-b", "{j}");
    let conf = adm(ns, "getBrokerConfig", &["-c", "DefaultCluster"]).ok();
    for a in [&a1, &a2] {
        assert!(
            conf.contains(&format!("============Master: {a}============")),
            "{conf}"
        );
    }
    let out = adm(
        ns,
        "updateBrokerConfig",
        &[
            "-c",
            "DefaultCluster",
            "-k",
            "flushIntervalCommitLog",
            "-v",
            "800",
        ],
    )
    .ok();
    assert_eq!(
        out.matches("update broker config success").count(),
        2,
        "{out}"
    );
    let j = adm(ns, "getBrokerConfig", &["-c", "DefaultCluster", "--json"]).json();
    assert_eq!(j[&a2]["flushIntervalCommitLog"], "800");

    let out = adm(
        ns,
        "updateSubGroup",
        &["-c", "DefaultCluster", "-g", "AdmCG"],
    )
    .ok();
    assert_eq!(
        out.matches("create subscription group to").count(),
        2,
        "{out}"
    );
    let out = adm(
        ns,
        "deleteSubGroup",
        &["-c", "DefaultCluster", "-g", "AdmCG"],
    )
    .ok();
    for a in [&a1, &a2] {
        assert!(out.contains(&format!("delete subscription group [AdmCG] from broker [{a}] in cluster [DefaultCluster] success.")), "{out}");
    }
    assert!(
        out.contains("delete topic [%DLQ%AdmCG] from NameServer success."),
        "{out}"
    );

    let perm = |name: &str| {
        let r = adm(ns, "topicRoute", &["-t", "AdmC", "--json"]).json();
        r["queueDatas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["brokerName"] == name)
            .unwrap()["perm"]
            .clone()
    };
    adm(ns, "wipeWritePerm", &["-b", "broker-b"]).ok();
    assert_eq!((perm("broker-a"), perm("broker-b")), (6.into(), 4.into()));
    adm(ns, "addWritePerm", &["-b", "broker-b"]).ok();
    assert_eq!(perm("broker-b"), 6);

    adm(ns, "deleteTopic", &["-t", "AdmC", "-c", "DefaultCluster"]).ok();
    adm(ns, "topicStatus", &["-t", "AdmC"]).fails_with("AdmC");
    adm(ns, "updateTopic", &["-c", "NoCluster", "-t", "X"]).fails_with("NoCluster");
}
