//! Unit tests of the replicated state and the leader's plans (no actix, no openraft).

use std::collections::{BTreeSet, HashMap};

use super::*;
use crate::controller::live::Liveness;
use crate::controller::plan::{self, ElectPlan};
use crate::protocol::body::controller::SyncStateSet;

/// Liveness from a table: id -> (alive, priority, epoch, maxOffset).
#[derive(Default)]
struct Live(HashMap<i64, (bool, i32, i32, i64)>);

impl Liveness for Live {
    fn is_alive(&self, _: &str, id: i64) -> bool {
        self.0.get(&id).is_some_and(|l| l.0)
    }
    fn rank(&self, _: &str, id: i64) -> (i32, i64, i64) {
        let l = self.0[&id];
        (l.1, -(l.2 as i64), -l.3)
    }
}

fn register(state: &mut ControllerState, ids: &[i64]) {
    for id in ids {
        let cmd = plan::plan_apply_broker_id(state, "c", "b", *id, &format!("a:{id};1")).unwrap();
        state.apply(&cmd).unwrap();
    }
}

fn elect(state: &mut ControllerState, by: i64, live: &Live) -> Result<ElectPlan, E> {
    let p = plan::plan_elect(state, "b", by, false, false, live)?;
    if let ElectPlan::Write(cmd) = &p {
        state.apply(cmd)?;
    }
    Ok(p)
}

fn ids(v: &[i64]) -> BTreeSet<i64> {
    v.iter().copied().collect()
}

#[test]
fn broker_ids_start_at_one_and_are_owned() {
    let mut s = ControllerState::default();
    let e = plan::plan_apply_broker_id(&s, "c", "b", 2, "x;1").unwrap_err();
    assert!(matches!(e, E::BrokerIdInvalid(_)));
    register(&mut s, &[1, 2]);
    assert_eq!(s.set("b").unwrap().next_broker_id(), 3);
    assert!(
        plan::plan_apply_broker_id(&s, "c", "b", 2, "a:2;1").is_ok(),
        "same owner re-applies"
    );
    assert!(matches!(
        plan::plan_apply_broker_id(&s, "c", "b", 2, "other;9"),
        Err(E::BrokerIdInvalid(_))
    ));
    assert_eq!(s.set("b").unwrap().address(2), Some("a:2"));
    let (_, upd) = plan::plan_register(&s, "b", 2, "new:2").unwrap();
    s.apply(&upd.unwrap()).unwrap();
    assert_eq!(s.set("b").unwrap().address(2), Some("new:2"));
    assert!(matches!(
        plan::plan_register(&s, "b", 9, "x"),
        Err(E::NeedToBeRegistered(_))
    ));
}

#[test]
fn first_election_takes_the_asker_then_policy_ranks_the_sync_state_set() {
    let mut s = ControllerState::default();
    register(&mut s, &[1, 2, 3]);
    let mut live = Live::default();
    for id in 1..=3 {
        live.0.insert(id, (true, i32::MAX, 1, 100 * id));
    }
    elect(&mut s, 2, &live).unwrap();
    let set = s.set("b").unwrap().clone();
    assert_eq!(
        (set.master, set.master_epoch, set.sync_state_set_epoch),
        (Some(2), 1, 1)
    );
    // The master alive: it stays.
    assert!(matches!(
        elect(&mut s, 1, &live).unwrap(),
        ElectPlan::StillMaster(_)
    ));
    // Grow the set to {1,2,3}, then the master dies: the best ranked (largest offset) wins.
    let body = SyncStateSet {
        sync_state_set: ids(&[1, 2, 3]),
        sync_state_set_epoch: 1,
    };
    let cmd = plan::plan_alter(&s, "b", 2, 1, &body, &live).unwrap();
    s.apply(&cmd).unwrap();
    live.0.get_mut(&2).unwrap().0 = false;
    assert_eq!(plan::needs_reelect(&s, &live), vec!["b".to_string()]);
    elect(&mut s, -1, &live).unwrap();
    let set = s.set("b").unwrap();
    assert_eq!((set.master, set.master_epoch), (Some(3), 2));
    assert_eq!(set.sync_state_set, ids(&[3]));
    // A designated broker outside the SyncStateSet cannot be made master.
    live.0.insert(2, (true, 1, 1, 0));
    let p = plan::plan_elect(&s, "b", 2, true, false, &live);
    assert!(matches!(p, Err(E::ElectMasterFailed(_))), "{p:?}");
    // Priority beats epoch and offsets.
    let body = SyncStateSet {
        sync_state_set: ids(&[1, 2, 3]),
        sync_state_set_epoch: 3,
    };
    s.apply(&plan::plan_alter(&s, "b", 3, 2, &body, &live).unwrap())
        .unwrap();
    live.0.get_mut(&3).unwrap().0 = false;
    elect(&mut s, -1, &live).unwrap();
    assert_eq!(s.set("b").unwrap().master, Some(2));
}

#[test]
fn no_candidate_fails_or_clears_the_master() {
    let mut s = ControllerState::default();
    register(&mut s, &[1, 2]);
    let mut live = Live::default();
    live.0.insert(1, (true, 0, 0, 0));
    live.0.insert(2, (true, 0, 0, 0));
    elect(&mut s, 1, &live).unwrap();
    live.0.insert(1, (false, 0, 0, 0));
    assert!(matches!(
        elect(&mut s, 2, &live),
        Err(E::ElectMasterFailed(_))
    ));
    // Unclean election may pick 2, which is outside the SyncStateSet {1}.
    let p = plan::plan_elect(&s, "b", 2, false, true, &live).unwrap();
    assert!(matches!(
        p,
        ElectPlan::Write(Command::ElectMaster {
            new_master: Some(2),
            ..
        })
    ));
    // The controller's own attempt clears the master and bumps the epoch.
    elect(&mut s, -1, &live).unwrap();
    let set = s.set("b").unwrap();
    assert_eq!((set.master, set.master_epoch), (None, 2));
    assert_eq!(set.sync_state_set, ids(&[1]));
}

#[test]
fn alter_is_fenced_by_master_and_epochs() {
    let mut s = ControllerState::default();
    register(&mut s, &[1, 2]);
    let mut live = Live::default();
    live.0.insert(1, (true, 0, 0, 0));
    live.0.insert(2, (true, 0, 0, 0));
    elect(&mut s, 1, &live).unwrap();
    let body = |v: &[i64], e| SyncStateSet {
        sync_state_set: ids(v),
        sync_state_set_epoch: e,
    };
    let alter =
        |s: &ControllerState, m, me, b: &SyncStateSet| plan::plan_alter(s, "b", m, me, b, &live);
    assert!(matches!(
        alter(&s, 2, 1, &body(&[1, 2], 1)),
        Err(E::InvalidMaster(_))
    ));
    assert!(matches!(
        alter(&s, 1, 0, &body(&[1, 2], 1)),
        Err(E::FencedMasterEpoch(_))
    ));
    assert!(matches!(
        alter(&s, 1, 1, &body(&[1, 2], 0)),
        Err(E::FencedSyncStateSetEpoch(_))
    ));
    assert!(matches!(
        alter(&s, 1, 1, &body(&[2], 1)),
        Err(E::AlterSyncStateSetFailed(_))
    ));
    assert!(matches!(
        alter(&s, 1, 1, &body(&[1, 7], 1)),
        Err(E::InvalidReplicas(_))
    ));
    assert!(matches!(
        alter(&s, 1, 1, &body(&[1], 1)),
        Err(E::AlterSyncStateSetFailed(_))
    ));
    // Two plans on the same state: the second is fenced when applied.
    let a = alter(&s, 1, 1, &body(&[1, 2], 1)).unwrap();
    let b = a.clone();
    assert_eq!(s.apply(&a).unwrap().unwrap().sync_state_set_epoch, 2);
    assert!(matches!(s.apply(&b), Err(E::FencedSyncStateSetEpoch(_))));
}

#[test]
fn clean_refuses_living_brokers_and_removes_ids() {
    let mut s = ControllerState::default();
    register(&mut s, &[1, 2]);
    let mut live = Live::default();
    live.0.insert(2, (true, 0, 0, 0));
    assert!(matches!(
        plan::plan_clean(&s, "b", Some("2"), false, &live),
        Err(E::InvalidCleanBrokerMetadata(_))
    ));
    assert!(matches!(
        plan::plan_clean(&s, "b", Some("x"), false, &live),
        Err(E::InvalidCleanBrokerMetadata(_))
    ));
    let cmd = plan::plan_clean(&s, "b", Some("1"), false, &live).unwrap();
    assert_eq!(s.apply(&cmd).unwrap().unwrap().brokers.len(), 1);
    let cmd = plan::plan_clean(&s, "b", None, true, &live).unwrap();
    assert_eq!(s.apply(&cmd).unwrap(), None);
    assert!(s.set("b").is_none());
}
