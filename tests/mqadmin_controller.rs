//! RocketMQ 5's controller commands of mqadmin against the real binaries: three name servers
//! hosting one controller Raft group (`enableControllerInNamesrv`) and three controller-mode
//! brokers of `broker-a` (tests/common/failover.rs). getControllerMetaData, getSyncStateSet (by
//! broker name and by cluster, once and every `-i` seconds), electMaster (the route follows the designated broker),
//! getBrokerEpoch (the brokers' epoch histories, also with `-i`),
//! getControllerConfig and updateControllerConfig, cleanBrokerMetadata (refused for a living
//! broker, then a SIGKILLed replica's id is forgotten). Every wait is bounded.

mod common;

use std::time::{Duration, Instant};

use common::failover::{topic_probe, ReplicaSet, BROKER_NAME};
use common::mqadmin::{adm, mqadmin, repeating};
use common::wait_until;

const LIMIT: Duration = Duration::from_secs(40);

#[test]
fn controller_commands() {
    let mut set = ReplicaSet::start(&[]);
    let ns = set.namesrv_list();
    let ctl = set.namesrvs[0].addr.to_string();
    let master = set.wait_master(topic_probe(), None, LIMIT);
    assert!(
        wait_until(LIMIT, || set.sync_state_set().is_some_and(|s| s.len() == 3)),
        "SyncStateSet never reached 3: {:?}",
        set.sync_state_set()
    );

    let meta = mqadmin(&["getControllerMetaData", "-a", &ctl]).ok();
    assert!(
        meta.starts_with("\n#ControllerGroup\tgroup1\n#ControllerLeaderId\tn"),
        "{meta}"
    );
    assert!(
        meta.contains("\n#ControllerLeaderAddress\t127.0.0.1:"),
        "{meta}"
    );
    assert_eq!(meta.matches("\n#Peer:\tn").count(), 3, "{meta}");

    let sss = |args: &[&str]| {
        let mut all = vec!["getSyncStateSet", "-a", ctl.as_str()];
        all.extend_from_slice(args);
        mqadmin(&all).ok()
    };
    let out = sss(&["-b", BROKER_NAME]);
    let master_addr = set.brokers[master].addr.to_string();
    assert!(
        out.starts_with(&format!("\n#brokerName\t{BROKER_NAME}\n#MasterBrokerId\t")),
        "{out}"
    );
    assert!(
        out.contains(&format!("\n#MasterAddr\t{master_addr}\n")),
        "{out}"
    );
    assert!(out.contains("\n#SyncStateSetNums\t3\n"), "{out}");
    assert_eq!(
        out.matches("\nInSyncReplica:\tReplicaIdentity{brokerName='broker-a', brokerId=")
            .count(),
        3,
        "{out}"
    );
    let by_cluster = adm(
        &ns,
        "getSyncStateSet",
        &["-a", &ctl, "-c", "FailoverCluster"],
    )
    .ok();
    assert!(
        by_cluster.contains(&format!("#MasterAddr\t{master_addr}")),
        "{by_cluster}"
    );
    mqadmin(&["getSyncStateSet", "-a", &ctl]).fails_with("-b brokerName or -c clusterName");
    repeat_and_bad_intervals(&ctl, &ns);

    // electMaster: designate another in-sync broker; the route follows.
    let j = mqadmin(&["getSyncStateSet", "-a", &ctl, "-b", BROKER_NAME, "--json"]).json();
    let replicas = j["replicasInfoTable"][BROKER_NAME]["inSyncReplicas"]
        .as_array()
        .unwrap()
        .clone();
    let target = replicas
        .iter()
        .find(|r| r["brokerAddress"].as_str() != Some(master_addr.as_str()))
        .unwrap_or_else(|| panic!("{j}"));
    let (id, addr) = (
        target["brokerId"].as_i64().unwrap().to_string(),
        target["brokerAddress"].as_str().unwrap().to_string(),
    );
    let out = mqadmin(&[
        "electMaster",
        "-a",
        &ctl,
        "-b",
        &id,
        "--bn",
        BROKER_NAME,
        "-c",
        "FailoverCluster",
    ])
    .ok();
    // RocketMQ's print: the new master, both epochs one up, then every member of the set.
    let before = &j["replicasInfoTable"][BROKER_NAME];
    let epoch = |k: &str| before[k].as_i64().unwrap_or_else(|| panic!("{k}: {j}")) + 1;
    let head = format!(
        "\n#ClusterName\tFailoverCluster\n#BrokerName\t{BROKER_NAME}\n#BrokerMasterAddr\t{addr}\n\
         #MasterEpoch\t{}\n#SyncStateSetEpoch\t{}\n",
        epoch("masterEpoch"),
        epoch("syncStateSetEpoch")
    );
    let members: String = set
        .brokers
        .iter()
        .map(|b| b.addr.to_string())
        .map(|a| {
            let r = replicas.iter().find(|r| r["brokerAddress"] == a.as_str());
            (
                r.unwrap_or_else(|| panic!("{a}: {j}"))["brokerId"]
                    .as_i64()
                    .unwrap(),
                a,
            )
        })
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .map(|(id, a)| format!("\t#Broker\t{id}\t{a}\n"))
        .collect();
    assert_eq!(out, format!("{head}{members}"));
    assert!(out.contains(&format!("\t#Broker\t{id}\t{addr}\n")), "{out}");
    let new_master = set.wait_master(topic_probe(), Some(master), LIMIT);
    assert_eq!(set.brokers[new_master].addr.to_string(), addr);
    mqadmin(&[
        "electMaster",
        "-a",
        &ctl,
        "-b",
        "99",
        "--bn",
        BROKER_NAME,
        "-c",
        "FailoverCluster",
    ])
    .fails_with("CONTROLLER");

    // getBrokerEpoch: every replica of the set, the open epoch ending at the CommitLog end.
    let epochs = adm(&ns, "getBrokerEpoch", &["-b", BROKER_NAME]).ok();
    let head = "\n#clusterName\tFailoverCluster\n#brokerName\tbroker-a\n#brokerAddr\t";
    assert_eq!(epochs.matches(head).count(), 3, "{epochs}");
    assert!(epochs.contains("\n#Epoch: EpochEntry{epoch="), "{epochs}");
    let j = adm(&ns, "getBrokerEpoch", &["-c", "FailoverCluster", "--json"]).json();
    let caches = j.as_object().unwrap();
    assert_eq!(caches.len(), 3, "{j}");
    for c in caches.values() {
        let list = c["epochList"].as_array().unwrap();
        assert_eq!(list.last().unwrap()["endOffset"], c["maxOffset"], "{j}");
    }
    adm(&ns, "getBrokerEpoch", &[]).fails_with("-b brokerName or -c clusterName");

    // Controller config: read every controller of the list, change a run-time switch.
    let list = format!("{ctl};{}", set.namesrvs[1].addr);
    let conf = mqadmin(&["getControllerConfig", "-a", &list]).ok();
    assert!(
        conf.starts_with(&format!("============{ctl}============\n")),
        "{conf}"
    );
    assert_eq!(conf.matches("============").count(), 4, "{conf}");
    let out = mqadmin(&[
        "updateControllerConfig",
        "-a",
        &list,
        "-k",
        "enableElectUncleanMaster",
        "-v",
        "true",
    ])
    .ok();
    assert!(
        out.starts_with("update controller config success!"),
        "{out}"
    );
    let j = mqadmin(&["getControllerConfig", "-a", &ctl, "--json"]).json();
    assert_eq!(j[&ctl]["enableElectUncleanMaster"], "true", "{j}");
    mqadmin(&[
        "updateControllerConfig",
        "-a",
        &ctl,
        "-k",
        "controllerDLegerGroup",
        "-v",
        "x",
    ])
    .fails_with("controllerDLegerGroup");

    // cleanBrokerMetadata: refused while the broker lives; once it is SIGKILLed its id is gone.
    let victim = (0..set.brokers.len()).find(|&i| i != new_master).unwrap();
    let victim_addr = set.brokers[victim].addr.to_string();
    let victim_id = replicas
        .iter()
        .find(|r| r["brokerAddress"].as_str() == Some(victim_addr.as_str()))
        .unwrap_or_else(|| panic!("{victim_addr} not in {replicas:?}"))["brokerId"]
        .to_string();
    let clean = |extra: &[&str]| {
        let mut all = vec![
            "cleanBrokerMetadata",
            "-a",
            ctl.as_str(),
            "--bn",
            BROKER_NAME,
        ];
        all.extend_from_slice(extra);
        mqadmin(&all)
    };
    clean(&["-c", "FailoverCluster", "-b", &victim_id]).fails_with("still alive");
    clean(&["-b", &victim_id]).fails_with("clusterName");
    clean(&["-c", "FailoverCluster", "-b", "1;x"]).fails_with("brokerControllerIdsToClean");
    set.brokers[victim].kill();
    let sync_json =
        || mqadmin(&["getSyncStateSet", "-a", &ctl, "-b", BROKER_NAME, "--json"]).json();
    let before = sync_json();
    assert!(before.to_string().contains(&victim_addr), "{before}");
    let mut last = String::new();
    assert!(
        wait_until(LIMIT, || {
            let r = clean(&["-c", "FailoverCluster", "-b", &victim_id]);
            last = format!("{r:?}");
            r.code == Some(0)
        }),
        "the killed broker's metadata was never cleaned: {last}"
    );
    assert!(
        last.contains("clear broker broker-a metadata from controller success! "),
        "{last}"
    );
    let j = mqadmin(&["getSyncStateSet", "-a", &ctl, "-b", BROKER_NAME, "--json"]).json();
    assert!(
        !j.to_string().contains(&victim_addr),
        "{victim_addr} still in {j}"
    );
}

/// `-i 1`: getSyncStateSet and getBrokerEpoch print again a second later and keep running;
/// `-i x` / `-i 0` / `-i -1` fail with one clear line before asking anything.
fn repeat_and_bad_intervals(ctl: &str, ns: &str) {
    let t0 = Instant::now();
    let sss = ["getSyncStateSet", "-a", ctl, "-b", BROKER_NAME, "-i", "1"];
    let lines = repeating(&sss, &format!("#brokerName\t{BROKER_NAME}"), 2, LIMIT);
    assert!(t0.elapsed() >= Duration::from_secs(1), "{lines:?}");
    assert!(
        lines.contains(&"#SyncStateSetNums\t3".to_string()),
        "{lines:?}"
    );
    let epochs = ["getBrokerEpoch", "-n", ns, "-b", BROKER_NAME, "-i", "1"];
    let lines = repeating(&epochs, "#brokerAddr\t127.0.0.1:", 6, LIMIT);
    assert!(
        lines
            .iter()
            .filter(|l| l.starts_with("#Epoch: EpochEntry{epoch="))
            .count()
            >= 3,
        "{lines:?}"
    );
    for bad in ["x", "0", "-1"] {
        mqadmin(&["getSyncStateSet", "-a", ctl, "-b", BROKER_NAME, "-i", bad])
            .fails_with("-i interval");
        adm(ns, "getBrokerEpoch", &["-b", BROKER_NAME, "-i", bad]).fails_with("-i interval");
    }
}
