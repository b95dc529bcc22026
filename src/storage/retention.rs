//! Retention and disk space.
//!
//! A thread checks disk usage of the CommitLog's file system every second (cheap `statvfs`; more
//! often if `cleanResourceInterval` is shorter) and
//! runs the clean-up every `cleanResourceInterval`:
//! * expired CommitLog files (modified more than `fileReservedTime` hours ago) are deleted at the
//!   `deleteWhen` hour, or at any hour once usage passes `diskMaxUsedSpaceRatio`;
//! * past `diskSpaceCleanForciblyRatio` the oldest files go even if not expired;
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
                    let hour =
                        is_delete_hour(&s.config().delete_when, local_hour(SystemTime::now()));
                    let p = plan(s.config(), usage, hour);
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
        let cfg = self.config();
        let keep = Duration::from_secs(cfg.file_reserved_time * 3600);
        let cl = self.commit_log();
        let mut deleted = 0;
        // At most 10 files per pass, as RocketMQ; the newest file is never a candidate.
        while deleted < 10 {
            let popped = cl.files().pop_first_if(|f| {
                let expired = f.modified() + keep <= now;
                Arc::strong_count(f) == 1 && (expired || plan.force)
            });
            let Some(f) = popped else { break };
            let path = f.path().to_path_buf();
            drop(f);
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::error!("cannot delete {}: {e}", path.display());
            } else {
                tracing::info!("deleted expired CommitLog file {}", path.display());
            }
            deleted += 1;
            if plan.force {
                break; // forced: one file per pass, then re-measure
            }
            if cfg.delete_commit_log_files_interval > 0 {
                std::thread::sleep(Duration::from_millis(
                    cfg.delete_commit_log_files_interval.min(1000),
                ));
            }
        }
        if deleted > 0 {
            let min_phys = cl.min_offset();
            for cq in self.all_queues() {
                cq.delete_expired(min_phys);
            }
            if let Some(ix) = self.index() {
                ix.delete_expired(min_phys as i64);
            }
        }
        deleted
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
}
