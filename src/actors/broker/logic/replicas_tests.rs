use super::*;

fn info(id: Option<i64>, epoch: i32, set: Option<(&[i64], i32)>) -> MasterInfo {
    MasterInfo {
        master_id: id,
        master_addr: id.map(|i| format!("10.0.0.{i}:10911")),
        master_epoch: epoch,
        sync_state_set: set.map(|(ids, e)| SyncStateSet {
            sync_state_set: ids.iter().copied().collect(),
            sync_state_set_epoch: e,
        }),
    }
}

fn slave(id: i64, ack: u64, caught_up_ms: i64) -> SlaveProgress {
    SlaveProgress {
        broker_id: id,
        ack,
        caught_up_ms,
        connected: true,
    }
}

fn set(ids: &[i64]) -> BTreeSet<i64> {
    ids.iter().copied().collect()
}

#[test]
fn newer_epochs_switch_roles_and_older_ones_are_ignored() {
    let mut r = Replicas::new(2);
    assert_eq!(r.on_master_info(&info(None, 0, None), 0), Decision::Elect);
    assert_eq!(
        r.on_master_info(&info(Some(1), 1, None), 0),
        Decision::BecomeSlave {
            master_id: 1,
            master_addr: "10.0.0.1:10911".into(),
            epoch: 1
        }
    );
    assert_eq!(r.master_addr(), Some("10.0.0.1:10911"));
    // The same answer again (heartbeat of the periodic replica info), or a late notification of
    // an older epoch: nothing to do.
    assert_eq!(r.on_master_info(&info(Some(1), 1, None), 0), Decision::Keep);
    assert_eq!(
        r.on_master_info(&info(Some(2), 3, Some((&[2], 4))), 10),
        Decision::BecomeMaster { epoch: 3 }
    );
    assert!(r.is_master());
    assert_eq!(r.sync_state_set(), &set(&[2]));
    assert_eq!(
        r.on_master_info(&info(Some(1), 2, None), 0),
        Decision::Keep,
        "epoch 2 is older than the 3 this broker is master of"
    );
    assert!(r.is_master());
    assert_eq!(r.master_epoch(), 3);
    // A newer epoch naming another master demotes it.
    assert!(matches!(
        r.on_master_info(&info(Some(3), 4, None), 0),
        Decision::BecomeSlave {
            master_id: 3,
            epoch: 4,
            ..
        }
    ));
    assert!(!r.is_master());
}

#[test]
fn an_answer_without_a_master_asks_for_an_election_even_after_a_master_was_known() {
    let mut r = Replicas::new(1);
    r.on_master_info(&info(Some(2), 1, None), 0);
    let mut no_addr = info(Some(2), 2, None);
    no_addr.master_addr = Some(String::new());
    assert_eq!(r.on_master_info(&no_addr, 0), Decision::Elect);
    assert_eq!(
        r.master_epoch(),
        1,
        "nothing recorded from an answer without a master"
    );
}

#[test]
fn same_epoch_takes_only_a_newer_sync_state_set() {
    let mut r = Replicas::new(1);
    r.on_master_info(&info(Some(1), 1, Some((&[1], 1))), 0);
    r.on_master_info(&info(Some(1), 1, Some((&[1, 2], 2))), 0);
    assert_eq!(
        (r.sync_state_set(), r.sync_state_set_epoch()),
        (&set(&[1, 2]), 2)
    );
    r.on_master_info(&info(Some(1), 1, Some((&[1], 1))), 0);
    assert_eq!(r.sync_state_set(), &set(&[1, 2]), "an older set is ignored");
}

#[test]
fn a_member_not_caught_up_for_too_long_leaves_the_set() {
    let mut r = Replicas::new(1);
    r.on_master_info(&info(Some(1), 1, Some((&[1, 2, 3], 1))), 1_000);
    let slaves = [slave(2, 500, 5_000), slave(3, 100, 1_500)];
    // 15 s allowed: at 16_600, 3 was last caught up at 1_500 (> 15 s ago), 2 at 5_000.
    assert_eq!(
        r.check_set(16_600, 15_000, 500, &slaves),
        Some(set(&[1, 2]))
    );
    assert_eq!(r.check_set(10_000, 15_000, 500, &slaves), None);
    // A member never seen since this broker became master gets the time it became master.
    assert_eq!(
        r.check_set(16_001, 15_000, 500, &slaves[..1]),
        Some(set(&[1, 2]))
    );
    assert_eq!(r.check_set(16_000, 15_000, 500, &slaves[..1]), None);
}

#[test]
fn a_connected_slave_joins_once_it_reaches_the_confirm_offset() {
    let mut r = Replicas::new(1);
    r.on_master_info(&info(Some(1), 1, Some((&[1], 1))), 0);
    // The set is the master alone: the confirm offset is the master's end.
    assert_eq!(r.confirm_offset(1_000, &[slave(2, 900, 0)]), 1_000);
    assert_eq!(r.check_set(1, 15_000, 1_000, &[slave(2, 900, 0)]), None);
    let mut gone = slave(2, 1_000, 0);
    gone.connected = false;
    assert_eq!(
        r.check_set(1, 15_000, 1_000, &[gone]),
        None,
        "not connected"
    );
    assert_eq!(
        r.check_set(1, 15_000, 1_000, &[slave(2, 1_000, 1)]),
        Some(set(&[1, 2]))
    );
    // With 2 in the set, 3 joins when it reaches what 2 has acknowledged.
    r.begin_alter(set(&[1, 2]));
    r.altered(2);
    let slaves = [slave(2, 800, 1), slave(3, 700, 1)];
    assert_eq!(r.confirm_offset(1_000, &slaves), 800);
    assert_eq!(r.check_set(2, 15_000, 1_000, &slaves), None);
    let slaves = [slave(2, 800, 1), slave(3, 800, 1)];
    assert_eq!(
        r.check_set(2, 15_000, 1_000, &slaves),
        Some(set(&[1, 2, 3]))
    );
}

#[test]
fn while_a_change_is_with_the_controller_sends_wait_for_both_sets() {
    let mut r = Replicas::new(1);
    r.on_master_info(&info(Some(1), 1, Some((&[1, 2], 1))), 0);
    assert_eq!(r.required_acks(), set(&[2]));
    r.begin_alter(set(&[1, 3]));
    assert_eq!(r.required_acks(), set(&[2, 3]));
    assert_eq!(
        r.check_set(100_000, 1, 0, &[]),
        None,
        "one proposal at a time"
    );
    r.altered(2);
    assert_eq!(
        (r.required_acks(), r.sync_state_set_epoch()),
        (set(&[3]), 2)
    );
    r.begin_alter(set(&[1]));
    r.alter_failed();
    assert_eq!(
        r.required_acks(),
        set(&[3]),
        "a failed proposal changes nothing"
    );
    // A slave checks nothing.
    let mut s = Replicas::new(2);
    s.on_master_info(&info(Some(1), 1, None), 0);
    assert_eq!(s.check_set(100_000, 1, 0, &[slave(3, 9, 0)]), None);
}

#[test]
fn the_identity_file_round_trips_and_refuses_another_set() {
    let id = BrokerIdentity {
        cluster: "DefaultCluster".into(),
        broker_name: "broker-a".into(),
        broker_id: 3,
    };
    assert_eq!(id.encode(), "DefaultCluster#broker-a#3");
    assert_eq!(
        BrokerIdentity::decode("DefaultCluster#broker-a#3\n"),
        Ok(id.clone())
    );
    assert!(id.check("DefaultCluster", "broker-a").is_ok());
    let e = id.check("DefaultCluster", "broker-b").unwrap_err();
    assert!(e.contains("broker-a") && e.contains(IDENTITY_FILE), "{e}");
    for bad in ["", "a#b", "a#b#x", "a#b#0", "#b#1", "a#b#1#2"] {
        assert!(BrokerIdentity::decode(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_leader_is_what_the_metadata_answer_names() {
    let mut c = ControllerAddrs::parse("a:1; b:2;;c:3");
    assert_eq!(c.all(), ["a:1", "b:2", "c:3"]);
    assert_eq!(c.on_metadata("a:1", false, Some("b:2")), Some("b:2"));
    assert_eq!(c.on_metadata("b:2", true, None), Some("b:2"));
    assert_eq!(c.on_metadata("c:3", false, Some("")), None);
    c.on_metadata("a:1", true, None);
    c.forget_leader();
    assert_eq!(c.leader(), None);
}
