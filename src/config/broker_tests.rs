//! Tests of `config::broker` (in their own file to keep that one short).

use super::*;
use crate::config::{load, load_sets, Sources};

#[test]
fn a_rocketmq_broker_conf_loads() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broker.conf");
    std::fs::write(
        &p,
        "brokerClusterName = DefaultCluster\nbrokerName = broker-a\nbrokerId = 0\n\
         deleteWhen = 04\nfileReservedTime = 48\nbrokerRole = ASYNC_MASTER\n\
         flushDiskType = SYNC_FLUSH\nnamesrvAddr=127.0.0.1:9876;127.0.0.1:9877\nbrokerIP1=10.0.0.5\n\
         rocketmqHome=/opt/rmq\n",
    )
    .unwrap();
    let (c, ignored) = load::<BrokerConfig>(&Sources {
        file: Some(p),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(c.store.file_reserved_time, 48);
    assert_eq!(
        c.store.flush_disk_type,
        crate::storage::FlushDiskType::SyncFlush
    );
    assert_eq!(c.namesrv_addrs().len(), 2);
    assert_eq!(c.broker_ip1, "10.0.0.5");
    assert_eq!(ignored, vec!["rocketmqHome"]);
}

#[test]
fn out_of_range_values_name_the_key_and_the_range() {
    let load_one = |set: &str| load_sets::<BrokerConfig>(&[set]);
    for (set, key, allowed) in [
        (
            "diskMaxUsedSpaceRatio=1",
            "diskMaxUsedSpaceRatio",
            "10..=95",
        ),
        (
            "diskMaxUsedSpaceRatio=96",
            "diskMaxUsedSpaceRatio",
            "10..=95",
        ),
        (
            "diskSpaceWarningLevelRatio=0",
            "diskSpaceWarningLevelRatio",
            "10..=95",
        ),
        (
            "diskSpaceCleanForciblyRatio=1",
            "diskSpaceCleanForciblyRatio",
            "10..=95",
        ),
        (
            "registerNameServerPeriod=10",
            "registerNameServerPeriod",
            "1000..=60000",
        ),
        ("clientScanInterval=0", "clientScanInterval", "10 or more"),
        (
            "flushConsumerOffsetInterval=5",
            "flushConsumerOffsetInterval",
            "100 or more",
        ),
        (
            "maxInflightPerConnection=0",
            "maxInflightPerConnection",
            "1 or more",
        ),
        ("maxGroupsPerClient=0", "maxGroupsPerClient", "1 or more"),
        (
            "maxSubscriptionsPerGroup=0",
            "maxSubscriptionsPerGroup",
            "1 or more",
        ),
    ] {
        let e = load_one(set).unwrap_err().to_string();
        assert!(e.contains(key) && e.contains(allowed), "{set}: {e}");
    }
    for ok in ["diskMaxUsedSpaceRatio=10", "diskSpaceWarningLevelRatio=95"] {
        assert!(load_one(ok).is_ok(), "{ok}");
    }
}

#[test]
fn roles_ids_and_ha_keys() {
    let load_sets = load_sets::<BrokerConfig>;
    let (c, _) = load_sets(&[
        "brokerRole=SLAVE",
        "brokerId=1",
        "haMasterAddress=10.0.0.1:10912",
        "haTransferBatchSize=65536",
    ])
    .unwrap();
    assert_eq!(
        (c.broker_role, c.ha_transfer_batch_size),
        (BrokerRole::Slave, 65536)
    );
    for (sets, key) in [
        (&["brokerRole=SLAVE", "brokerId=1"][..], "'haMasterAddress'"),
        (&["haMasterAddress=nohost"][..], "'haMasterAddress'"),
        (&["slaveTimeout=0"][..], "slaveTimeout"),
        (&["haTransferBatchSize=4194304"][..], "haTransferBatchSize"),
        (
            &["accessMessageInMemoryMaxRatio=101"][..],
            "accessMessageInMemoryMaxRatio",
        ),
        (
            &["brokerRole=SLAVE", "haMasterAddress=h:1"][..],
            "'brokerId' = '0'",
        ),
        (&["brokerId=2"][..], "'brokerId' = '2'"),
        (
            &["brokerRole=SYNC_MASTER", "brokerId=1"][..],
            "'brokerId' = '1'",
        ),
        (&["haListenPort=70000"][..], "haListenPort"),
        (&["haTransferBatchSize=0"][..], "haTransferBatchSize"),
    ] {
        let e = load_sets(sets).unwrap_err().to_string();
        assert!(e.contains(key), "{sets:?}: {e}");
    }
    let port = |sets: &[&str]| load_sets(sets).unwrap().0.ha_bind_port();
    assert_eq!(port(&[]), 10912);
    assert_eq!(port(&["listenPort=0"]), 0, "a free port for a free port");
    assert_eq!(port(&["haListenPort=0"]), 0);
    assert_eq!(port(&["listenPort=20000", "haListenPort=7"]), 7);
}

#[test]
fn store_keys_are_settable_and_unknown_keys_named() {
    let (c, _) =
        load_sets::<BrokerConfig>(&["mappedFileSizeCommitLog=65536", "storePathRootDir=/tmp/x"])
            .unwrap();
    assert_eq!(c.store.mapped_file_size_commit_log, 65536);
    assert_eq!(
        c.store.store_path_root_dir,
        std::path::PathBuf::from("/tmp/x")
    );
    let e = load_sets::<BrokerConfig>(&["flushDiskTyp=SYNC_FLUSH"]).unwrap_err();
    assert!(e.to_string().contains("flushDiskTyp"));
    let e = load_sets::<BrokerConfig>(&["flushDiskType=FAST"]).unwrap_err();
    assert!(e.to_string().contains("flushDiskType"), "{e}");
}
