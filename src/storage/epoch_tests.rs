//! Unit tests of `epoch.rs`: the truncation point over the histories a failover can produce, and
//! the epoch file's persistence rules.

use super::*;

fn e(epoch: i32, start: u64) -> EpochEntry {
    entry(epoch, start)
}

/// The truncation point for a slave history (`local`, ending at `lmax`) against a master's
/// (`master`, ending at `mmax`).
fn point(local: &[EpochEntry], lmax: u64, master: &[EpochEntry], mmax: u64) -> Option<u64> {
    slave_truncation_point(&spans_of(local, lmax), &spans_of(master, mmax))
}

#[test]
fn spans_end_at_the_next_start_or_the_store_end() {
    let ends = |v: Vec<EpochEntry>| v.iter().map(|x| x.end_offset).collect::<Vec<_>>();
    assert_eq!(
        ends(spans_of(&[e(1, 0), e(2, 100), e(3, 100)], 250)),
        vec![100, 100, 250]
    );
    // Reported ends (a Java master sends Long.MAX_VALUE for the last) only shorten a span.
    let mut reported = vec![e(1, 0), e(2, 100)];
    reported[0].end_offset = 90;
    assert_eq!(ends(spans_of(&reported, 150)), vec![90, 150]);
    // A start beyond the store's end: the span ends there, before it starts.
    assert_eq!(ends(spans_of(&[e(5, 300)], 200)), vec![200]);
}

#[test]
fn identical_histories_keep_everything() {
    let h = [e(1, 0), e(2, 100)];
    assert_eq!(point(&h, 300, &h, 300), Some(300));
}

#[test]
fn a_slave_behind_in_the_same_epoch_keeps_all_it_has() {
    let h = [e(1, 0), e(2, 100)];
    assert_eq!(point(&h, 180, &h, 300), Some(180));
    assert_eq!(point(&[e(1, 0)], 40, &h, 300), Some(40));
}

#[test]
fn an_old_master_drops_the_tail_the_new_master_never_had() {
    // The old master wrote 100..260 in epoch 2; the new master had only 100..200 of it when it
    // was elected with epoch 3.
    let old = [e(1, 0), e(2, 100)];
    let new = [e(1, 0), e(2, 100), e(3, 200)];
    assert_eq!(point(&old, 260, &new, 500), Some(200));
    // The new master had none of epoch 2.
    let new = [e(1, 0), e(3, 100)];
    assert_eq!(point(&old, 260, &new, 500), Some(100));
}

#[test]
fn a_slave_with_its_own_later_epoch_goes_back_to_the_common_one() {
    // The slave was itself master in epoch 3 (never replicated) and the master moved on with 4.
    let slave = [e(1, 0), e(2, 100), e(3, 220)];
    let master = [e(1, 0), e(2, 100), e(4, 200)];
    assert_eq!(point(&slave, 300, &master, 400), Some(200));
}

#[test]
fn a_master_with_newer_epochs_lets_the_slave_keep_its_prefix() {
    let slave = [e(1, 0), e(2, 100)];
    let master = [e(1, 0), e(2, 100), e(3, 300), e(4, 350)];
    assert_eq!(point(&slave, 250, &master, 500), Some(250));
    assert_eq!(point(&slave, 320, &master, 500), Some(300));
}

#[test]
fn entries_starting_beyond_the_local_end_are_not_held() {
    // Epoch 3 was adopted from a master, but its data never arrived (slave ends at 120).
    let slave = [e(1, 0), e(2, 100), e(3, 150)];
    let master = [e(1, 0), e(2, 100), e(4, 130)];
    assert_eq!(point(&slave, 120, &master, 400), Some(120));
    let same = [e(1, 0), e(2, 100), e(3, 150)];
    assert_eq!(point(&slave, 120, &same, 400), Some(120));
}

#[test]
fn an_empty_epoch_is_an_empty_span() {
    // Epoch 3 was a master that wrote nothing.
    let slave = [e(1, 0), e(2, 100), e(3, 200)];
    let master = [e(1, 0), e(2, 100), e(3, 200), e(4, 200)];
    assert_eq!(point(&slave, 200, &master, 260), Some(200));
}

#[test]
fn no_common_epoch_means_start_empty() {
    assert_eq!(point(&[], 0, &[e(1, 0)], 100), None);
    assert_eq!(
        point(&[], 500, &[e(1, 0)], 100),
        None,
        "data without a history"
    );
    assert_eq!(point(&[e(1, 0)], 50, &[e(2, 0)], 100), None);
    // Same epoch number, different start: not the same master's data.
    assert_eq!(point(&[e(1, 0), e(2, 50)], 80, &[e(2, 60)], 100), None);
    assert_eq!(point(&[e(1, 0)], 80, &[], 0), None);
}

#[test]
fn the_point_never_exceeds_either_end() {
    let h = [e(1, 0), e(2, 100), e(3, 200)];
    for lmax in [0u64, 50, 100, 150, 200, 250] {
        for mmax in [0u64, 50, 100, 150, 200, 250] {
            if let Some(p) = point(&h, lmax, &h, mmax) {
                assert!(p <= lmax && p <= mmax, "{lmax} {mmax} -> {p}");
            }
        }
    }
}

#[test]
fn the_file_round_trips_in_rocketmq_layout() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("epochFileCheckpoint");
    let mut f = EpochFile::load(&p).unwrap();
    assert!(f.entries().is_empty());
    f.append(e(1, 0)).unwrap();
    f.append(e(2, 4096)).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    let lines = "1-0\n2-4096\n";
    assert_eq!(text, format!("2\n{}\n{lines}", lines_crc(lines)));
    let again = EpochFile::load(&p).unwrap();
    assert_eq!(again.entries(), &[e(1, 0), e(2, 4096)]);
    // RocketMQ's "do not check" CRC is accepted.
    std::fs::write(&p, "1\n0\n7-99\n").unwrap();
    assert_eq!(EpochFile::load(&p).unwrap().entries(), &[e(7, 99)]);
}

#[test]
fn appends_need_a_larger_epoch_and_no_earlier_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = EpochFile::load(&dir.path().join("ep")).unwrap();
    f.append(e(3, 100)).unwrap();
    assert!(matches!(f.append(e(3, 200)), Err(StoreError::Epoch(_))));
    assert!(matches!(f.append(e(2, 200)), Err(StoreError::Epoch(_))));
    assert!(matches!(f.append(e(4, 99)), Err(StoreError::Epoch(_))));
    f.append(e(4, 100)).unwrap();
    assert_eq!(f.last(), Some(e(4, 100)));
    assert_eq!(EpochFile::load(f.path()).unwrap().entries().len(), 2);
}

#[test]
fn replace_and_truncate_persist_the_new_history() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ep");
    let mut f = EpochFile::load(&p).unwrap();
    for x in [e(1, 0), e(2, 100), e(3, 200)] {
        f.append(x).unwrap();
    }
    f.replace_from(200, &[e(4, 200), e(5, 300)]).unwrap();
    assert_eq!(f.entries(), &[e(1, 0), e(2, 100), e(4, 200), e(5, 300)]);
    // A refused tail changes nothing.
    assert!(f.replace_from(150, &[e(1, 150)]).is_err());
    assert_eq!(f.entries().len(), 4);
    f.truncate_after(250).unwrap();
    assert_eq!(f.entries(), &[e(1, 0), e(2, 100), e(4, 200)]);
    assert_eq!(EpochFile::load(&p).unwrap().entries(), f.entries());
    f.replace_from(0, &[]).unwrap();
    assert!(EpochFile::load(&p).unwrap().entries().is_empty());
}

#[test]
fn a_damaged_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("epochFileCheckpoint");
    for bad in [
        "x\n0\n",
        "2\n0\n1-0\n",
        "1\n12345\n1-0\n",
        "1\n0\n1:0\n",
        "2\n0\n2-0\n1-5\n",
        "2\n0\n1-10\n2-5\n",
    ] {
        std::fs::write(&p, bad).unwrap();
        let err = EpochFile::load(&p).unwrap_err().to_string();
        assert!(err.contains("epochFileCheckpoint"), "{bad:?}: {err}");
    }
}

#[test]
fn a_java_masters_cache_compares_like_ours() {
    let java = br#"{"brokerId":0,"brokerName":"b","clusterName":"c","epochList":[{"endOffset":100,"epoch":1,"startOffset":0},{"endOffset":9223372036854775807,"epoch":2,"startOffset":100}],"maxOffset":250}"#;
    let c = EpochEntryCache::decode(java).unwrap();
    let theirs = spans_of(&c.epoch_list, c.max_offset as u64);
    assert_eq!(theirs[1].end_offset, 250);
    let local = spans_of(&[e(1, 0), e(2, 100)], 400);
    assert_eq!(slave_truncation_point(&local, &theirs), Some(250));
}
