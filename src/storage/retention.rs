//! Retention and disk space.
//!
//! A thread checks disk usage of the CommitLog's file system every second (cheap `statvfs`; more
//! often if `cleanResourceInterval` is shorter) and
//! runs the clean-up every `cleanResourceInterval`:
//! * expired CommitLog files (modified more than `fileReservedTime` hours ago) are deleted at the
//!   `deleteWhen` hour, or at any hour once usage passes `diskMaxUsedSpaceRatio`;
//! * past `diskSpaceCleanForciblyRatio` the oldest files go even if not expired. That deletes
//!   messages still within their retention, possibly unconsumed, so it is logged at WARN with
//!   the files, the usage and, per consume queue, the offsets no longer readable
//!   ([`deletion_report`]); expired files are logged at INFO;
//! * past `diskSpaceWarningLevelRatio` (the hard watermark) appends are refused with a reason
//!   naming the path, the usage and the threshold. Nothing stored is touched by the refusal.
//!
//! A file is never deleted while anything else holds it (a reader's `Bytes`, the dispatcher, a
//! flush): the queue's own `Arc` must be the only one. The newest file is never deleted. Consume
//! queue and index files that only point below the new CommitLog start go with it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::{Mutex, RwLock};

use super::config::StoreConfig;
use super::store::MessageStore;

/// Disk usage in percent of the file system holding `path` (used blocks / total blocks).
pub fn disk_usage_percent(path: &Path) -> std::io::Result<f64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: statvfs writes into the zeroed struct we pass; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if st.f_blocks == 0 {
        return Ok(0.0);
    }
    Ok((st.f_blocks - st.f_bfree) as f64 * 100.0 / st.f_blocks as f64)
}

/// Whether `hour` is one of `deleteWhen`'s hours ("04" or "03;04").
pub fn is_delete_hour(delete_when: &str, hour: u32) -> bool {
    delete_when
        .split(';')
        .filter_map(|h| h.trim().parse::<u32>().ok())
        .any(|h| h == hour)
}

/// The local hour of `t`.
pub fn local_hour(t: SystemTime) -> u32 {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as libc::time_t)
        .unwrap_or(0);
    // SAFETY: localtime_r writes into the zeroed struct we pass.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&secs, &mut tm) };
    tm.tm_hour as u32
}

/// What a clean-up run should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Delete expired files now.
    pub delete_expired: bool,
    /// Delete the oldest files even if not expired.
    pub force: bool,
}

pub fn plan(cfg: &StoreConfig, usage: f64, delete_hour: bool) -> Plan {
    let full = usage >= cfg.disk_max_used_space_ratio as f64;
    Plan {
        delete_expired: delete_hour || full,
        force: usage >= cfg.disk_space_clean_forcibly_ratio as f64,
    }
}

/// The refusal reason at this usage, if past the hard watermark.
pub fn refusal(cfg: &StoreConfig, path: &Path, usage: f64) -> Option<String> {
    (usage >= cfg.disk_space_warning_level_ratio as f64).then(|| {
        format!(
            "disk full: {} is {usage:.1}% used, above diskSpaceWarningLevelRatio {}%",
            path.display(),
            cfg.disk_space_warning_level_ratio
        )
    })
}

/// The CommitLog files one clean-up pass deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    /// Older than `fileReservedTime`.
    pub expired: Vec<PathBuf>,
    /// Deleted before they expired, because the disk passed `diskSpaceCleanForciblyRatio`.
    pub forced: Vec<PathBuf>,
}

impl Deleted {
    pub fn count(&self) -> usize {
        self.expired.len() + self.forced.len()
    }
}

/// A consume queue's first readable offset before and after a clean-up pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMin {
    pub topic: String,
    pub queue_id: i32,
    pub before: u64,
    pub after: u64,
}

/// Queues listed in one WARN line at most (the rest are counted).
const MAX_QUEUES_LISTED: usize = 50;

/// The log lines of a clean-up pass. Expired files are routine (INFO). A file deleted before it
/// expired took messages still within their retention, which may not have been consumed: that is
/// data loss, reported at WARN with the disk usage and, per queue, the offsets no longer readable.
pub fn deletion_report(
    deleted: &Deleted,
    usage: f64,
    queues: &[QueueMin],
) -> Vec<(tracing::Level, String)> {
    let mut lines: Vec<(tracing::Level, String)> = deleted
        .expired
        .iter()
        .map(|p| {
            let line = format!("deleted expired CommitLog file {}", p.display());
            (tracing::Level::INFO, line)
        })
        .collect();
    if deleted.forced.is_empty() {
        return lines;
    }
    let files: Vec<String> = deleted
        .forced
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let lost: Vec<&QueueMin> = queues.iter().filter(|q| q.after > q.before).collect();
    let mut ranges: Vec<String> = lost
        .iter()
        .take(MAX_QUEUES_LISTED)
        .map(|q| {
            format!(
                "{}:{} offsets {}..{}",
                q.topic, q.queue_id, q.before, q.after
            )
        })
        .collect();
    if lost.len() > MAX_QUEUES_LISTED {
        ranges.push(format!(
            "and {} more queues",
            lost.len() - MAX_QUEUES_LISTED
        ));
    }
    let what = if ranges.is_empty() {
        "no consume queue lost readable messages".to_string()
    } else {
        format!("messages no longer readable: {}", ranges.join(", "))
    };
    lines.push((
        tracing::Level::WARN,
        format!(
            "forcibly deleted unexpired CommitLog file(s) {} (disk {usage:.1}% used, at or above \
             diskSpaceCleanForciblyRatio): unconsumed data may be lost; {what}",
            files.join(", ")
        ),
    ));
    lines
}

type Probe = Box<dyn Fn(&Path) -> std::io::Result<f64> + Send + Sync>;

/// The current disk verdict, read on every append (one uncontended read lock).
pub struct DiskGuard {
    path: PathBuf,
    refusal: RwLock<Option<String>>,
    usage: Mutex<f64>,
    probe: Mutex<Option<Probe>>,
}

impl DiskGuard {
    pub fn new(cfg: &StoreConfig) -> DiskGuard {
        DiskGuard {
            path: cfg.commit_log_dir(),
            refusal: RwLock::new(None),
            usage: Mutex::new(0.0),
            probe: Mutex::new(None),
        }
    }

    pub fn refusal(&self) -> Option<String> {
        self.refusal.read().clone()
    }

    /// Replace how usage is measured (tests simulate a full disk with it).
    pub fn set_probe(&self, p: Probe) {
        *self.probe.lock() = Some(p);
    }

    /// Measure usage and update the refusal; returns the usage in percent.
    pub fn check(&self, cfg: &StoreConfig) -> f64 {
        let dir = if self.path.exists() {
            self.path.clone()
        } else {
            cfg.store_path_root_dir.clone()
        };
        let measured = match &*self.probe.lock() {
            Some(p) => p(&dir),
            None => disk_usage_percent(&dir),
        };
        let usage = match measured {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!("cannot measure disk usage of {}: {e}", dir.display());
                return *self.usage.lock();
            }
        };
        *self.usage.lock() = usage;
        let r = refusal(cfg, &dir, usage);
        if r.is_some() != self.refusal.read().is_some() {
            match &r {
                Some(reason) => tracing::error!("{reason}; refusing appends"),
                None => tracing::info!(
                    "disk usage of {} back to {usage:.1}%; accepting appends",
                    dir.display()
                ),
            }
        }
        *self.refusal.write() = r;
        usage
    }

    pub fn usage(&self) -> f64 {
        *self.usage.lock()
    }
}

/// The retention thread: disk check every second, clean-up every `cleanResourceInterval`.
pub fn start(store: Weak<MessageStore>, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("store-retention".into())
        .spawn(move || {
            let mut last_clean = Instant::now();
            let period = match store.upgrade() {
                Some(s) => {
                    Duration::from_millis(s.config().clean_resource_interval.clamp(10, 1000))
                }
                None => return,
            };
            while !stop.load(Ordering::Acquire) {
                std::thread::park_timeout(period);
                if stop.load(Ordering::Acquire) {
                    return;
                }
                let Some(s) = store.upgrade() else { return };
                let usage = s.disk.check(s.config());
                if last_clean.elapsed() >= Duration::from_millis(s.config().clean_resource_interval)
                {
                    last_clean = Instant::now();
                    let cfg = s.tunables.overlay(s.config());
                    let hour = is_delete_hour(&cfg.delete_when, local_hour(SystemTime::now()));
                    let p = plan(&cfg, usage, hour);
                    s.run_retention(SystemTime::now(), p);
                }
            }
        })
        .expect("spawn retention")
}

impl MessageStore {
    /// One clean-up pass at time `now` following `plan`; returns the CommitLog files deleted.
    /// Public so the broker's admin commands and tests can trigger it.
    pub fn run_retention(&self, now: SystemTime, plan: Plan) -> usize {
        if !plan.delete_expired && !plan.force {
            return 0;
        }
        let hours = self.tunables.file_reserved_time.load(Ordering::Relaxed);
        let keep = Duration::from_secs(hours * 3600);
        let cl = self.commit_log();
        let mut deleted = Deleted::default();
        let mut popped_files = 0;
        // At most 10 files per pass, as RocketMQ; the newest file is never a candidate.
        while popped_files < 10 {
            let popped = cl.files().pop_first_if(|f| {
                let expired = f.modified() + keep <= now;
                Arc::strong_count(f) == 1 && (expired || plan.force)
            });
            let Some(f) = popped else { break };
            let expired = f.modified() + keep <= now;
            let path = f.path().to_path_buf();
            drop(f);
            popped_files += 1;
            match std::fs::remove_file(&path) {
                Err(e) => tracing::error!("cannot delete {}: {e}", path.display()),
                Ok(()) if expired => deleted.expired.push(path),
                Ok(()) => deleted.forced.push(path),
            }
            if plan.force {
                break; // forced: one file per pass, then re-measure
            }
            if self.config().delete_commit_log_files_interval > 0 {
                std::thread::sleep(Duration::from_millis(
                    self.config().delete_commit_log_files_interval.min(1000),
                ));
            }
        }
        if popped_files == 0 {
            return 0;
        }
        let min_phys = cl.min_offset();
        let mut queues = Vec::new();
        for cq in self.all_queues() {
            let before = cq.min_offset();
            cq.delete_expired(min_phys);
            queues.push(QueueMin {
                topic: cq.topic().to_string(),
                queue_id: cq.queue_id(),
                before,
                after: cq.min_offset(),
            });
        }
        if let Some(ix) = self.index() {
            ix.delete_expired(min_phys as i64);
        }
        for (level, line) in deletion_report(&deleted, self.disk_usage(), &queues) {
            match level {
                tracing::Level::WARN => tracing::warn!("{line}"),
                _ => tracing::info!("{line}"),
            }
        }
        popped_files
    }

    /// Replace the disk-usage probe and re-check now (tests simulate a full disk with it).
    pub fn set_disk_usage_probe(
        &self,
        p: impl Fn(&Path) -> std::io::Result<f64> + Send + Sync + 'static,
    ) {
        self.disk.set_probe(Box::new(p));
        self.disk.check(self.config());
    }

    /// Last measured disk usage (percent) of the CommitLog's file system.
    pub fn disk_usage(&self) -> f64 {
        self.disk.usage()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_plans_and_refusals() {
        assert!(is_delete_hour("04", 4));
        assert!(is_delete_hour("03;04", 3));
        assert!(!is_delete_hour("04", 5));
        let cfg = StoreConfig::with_root("/data/store");
        assert_eq!(
            plan(&cfg, 10.0, false),
            Plan {
                delete_expired: false,
                force: false
            }
        );
        assert_eq!(
            plan(&cfg, 10.0, true),
            Plan {
                delete_expired: true,
                force: false
            }
        );
        assert_eq!(
            plan(&cfg, 80.0, false),
            Plan {
                delete_expired: true,
                force: false
            }
        );
        assert_eq!(
            plan(&cfg, 86.0, false),
            Plan {
                delete_expired: true,
                force: true
            }
        );
        assert!(refusal(&cfg, Path::new("/data/store/commitlog"), 89.9).is_none());
        let r = refusal(&cfg, Path::new("/data/store/commitlog"), 93.25).unwrap();
        assert!(
            r.contains("/data/store/commitlog") && r.contains("93.2") && r.contains("90%"),
            "{r}"
        );
        let u = disk_usage_percent(Path::new("/")).unwrap();
        assert!((0.0..=100.0).contains(&u));
        assert!(local_hour(SystemTime::now()) < 24);
    }

    fn qmin(topic: &str, queue_id: i32, before: u64, after: u64) -> QueueMin {
        QueueMin {
            topic: topic.into(),
            queue_id,
            before,
            after,
        }
    }

    #[test]
    fn expired_deletions_are_routine() {
        let d = Deleted {
            expired: vec![PathBuf::from("/s/commitlog/00000000000000000000")],
            forced: vec![],
        };
        let lines = deletion_report(&d, 80.0, &[qmin("T", 0, 0, 10)]);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].0, tracing::Level::INFO);
        assert!(lines[0].1.contains("expired") && lines[0].1.contains("00000000000000000000"));
    }

    #[test]
    fn forced_deletions_warn_with_the_queues_and_offsets_lost() {
        let d = Deleted {
            expired: vec![PathBuf::from("/s/commitlog/a")],
            forced: vec![PathBuf::from("/s/commitlog/b")],
        };
        let queues = [qmin("T", 0, 0, 120), qmin("T", 1, 5, 5), qmin("U", 3, 7, 9)];
        let lines = deletion_report(&d, 88.25, &queues);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].0, tracing::Level::INFO);
        let (level, warn) = &lines[1];
        assert_eq!(*level, tracing::Level::WARN);
        assert!(!warn.contains("deleted expired"), "{warn}");
        assert!(warn.contains("/s/commitlog/b") && !warn.contains("/s/commitlog/a"));
        assert!(
            warn.contains("88.2%") && warn.contains("unconsumed"),
            "{warn}"
        );
        assert!(warn.contains("T:0 offsets 0..120") && warn.contains("U:3 offsets 7..9"));
        assert!(
            !warn.contains("T:1"),
            "a queue that lost nothing is not listed: {warn}"
        );
    }

    #[test]
    fn a_long_list_of_lost_queues_is_capped() {
        let d = Deleted {
            expired: vec![],
            forced: vec![PathBuf::from("/s/commitlog/b")],
        };
        let queues: Vec<QueueMin> = (0..60).map(|q| qmin("T", q, 0, 1)).collect();
        let lines = deletion_report(&d, 90.0, &queues);
        assert!(lines[0].1.contains("and 10 more queues"), "{}", lines[0].1);
        assert!(!lines[0].1.contains("T:50 "));
        let none = deletion_report(&d, 90.0, &[]);
        assert!(none[0]
            .1
            .contains("no consume queue lost readable messages"));
    }

    #[test]
    fn disk_usage_is_a_percentage() {
        let u = disk_usage_percent(Path::new("/")).unwrap();
        assert!((0.0..=100.0).contains(&u));
        assert!(local_hour(SystemTime::now()) < 24);
    }
}
