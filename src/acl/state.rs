//! `AclState`: the rules in force for one server process, the files they come from (`files`:
//! `plainAclFile` and the ACL directory), and the changes the ACL admin codes make.
//!
//! The per-request check loads the current `Rules` from an `ArcSwap` (no lock, no hop). A
//! `acl-watch` thread (never an I/O arbiter) looks at the files every 500 ms, re-reads only those
//! whose content changed (and picks up files added to or removed from the directory), and swaps
//! in new rules; a broken file keeps that file's old rules and is logged at warn once per
//! change. Admin updates (50, 51, 53) run under one mutex on a blocking thread: they change a
//! copy of the one file concerned (the file that defines the account, else `plainAclFile`),
//! compile it (so a bad update is refused and nothing changes), bump that file's data version,
//! write it atomically (temp, fsync, rename) and swap the rules.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use super::error::AclError;
use super::file::AclFile;
use super::files::{AclFiles, FileState, Refresh};
use super::perm;
use super::resource::Need;
use super::rules::{check_account, InvalidRules, Rules};
use super::validator::{check_needs, validate, Denied, Passed};
use crate::protocol::body::DataVersion;
use crate::protocol::headers::PlainAccessConfig;
use crate::protocol::RemotingCommand;

/// How often the watcher looks at the files.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(500);

pub struct AclState {
    path: PathBuf,
    rules: ArcSwap<Rules>,
    files: Mutex<AclFiles>,
    refusal_log: super::log_limit::RefusalLogLimit,
}

/// The rules of all files, with the duplicate access keys logged.
fn build(files: &AclFiles) -> Result<Rules, InvalidRules> {
    let (merged, duplicates) = files.merged();
    for d in duplicates {
        tracing::warn!("ACL: {d}");
    }
    Rules::build(&merged)
}

impl AclState {
    /// Load `path` and the ACL files under `dir` (start-up: a missing `path` or an invalid file
    /// is an error that names the file and the fault; a missing `dir` has no files).
    pub fn load(path: &Path, dir: &Path) -> Result<Arc<Self>, String> {
        let files = AclFiles::load(path, dir)?;
        let rules = build(&files).map_err(|e| e.0)?;
        Ok(Arc::new(AclState {
            path: path.to_path_buf(),
            rules: ArcSwap::from_pointee(rules),
            files: Mutex::new(files),
            refusal_log: Default::default(),
        }))
    }

    /// Load the files and start their watcher thread (which ends when the state is dropped).
    pub fn start(path: &Path, dir: &Path) -> Result<Arc<Self>, String> {
        let state = Self::load(path, dir)?;
        let weak = Arc::downgrade(&state);
        std::thread::Builder::new()
            .name("acl-watch".into())
            .spawn(move || watch(weak))
            .map_err(|e| format!("cannot start the acl-watch thread: {e}"))?;
        Ok(state)
    }

    /// The state a process with `cfg` runs with: `None` when `aclEnable=false`, else the file
    /// loaded and watched (an error names the file and what is wrong with it).
    pub fn from_config(cfg: &crate::config::AclConfig) -> Result<Option<Arc<Self>>, String> {
        if !cfg.acl_enable {
            return Ok(None);
        }
        Self::start(Path::new(&cfg.plain_acl_file), &cfg.acl_dir_path())
            .map(Some)
            .map_err(|e| format!("aclEnable=true but the ACL files are not usable: {e}"))
    }

    /// A standalone broker registers with its own (ACL'd) name server: its `accessKey` must be
    /// an admin account of the file, with the file's secret, or nothing could find it.
    pub fn check_own_account(&self, cfg: &crate::config::AclConfig) -> Result<(), String> {
        let rules = self.rules.load();
        let why = match rules.accounts.get(&cfg.access_key) {
            _ if cfg.access_key.is_empty() => "accessKey/secretKey are not set".to_string(),
            None => format!("accessKey={} is not an account of the file", cfg.access_key),
            Some(a) if !a.admin => format!("accessKey={} is not admin: true", cfg.access_key),
            Some(a) if a.secret_key != cfg.secret_key => {
                format!(
                    "secretKey is not the file's secret of accessKey={}",
                    cfg.access_key
                )
            }
            Some(_) => return Ok(()),
        };
        Err(format!(
            "aclEnable=true on a standalone broker: it registers with its own name server signed \
             with accessKey/secretKey, which must be an admin account of plainAclFile {}: {why}",
            self.path.display()
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The rules in force.
    pub fn rules(&self) -> Arc<Rules> {
        self.rules.load_full()
    }

    /// Check a request; `Ok` carries the account's access key (None when white-listed by address).
    pub fn check(
        &self,
        req: &RemotingCommand,
        peer: IpAddr,
        admin_only: fn(i32) -> bool,
    ) -> Result<Option<String>, Denied> {
        let rules = self.rules.load();
        match validate(&rules, req, peer, admin_only)? {
            Passed::WhiteListed => Ok(None),
            Passed::Account(a) => Ok(Some(a.access_key.clone())),
        }
    }

    /// [`AclState::check`] for a connection's request, logging a refusal at warn (peer, code,
    /// access key, why; at most `log_limit::PER_SECOND` a second, see there) and turning it into
    /// the error the client is answered with.
    pub fn admit(
        &self,
        req: &RemotingCommand,
        peer: std::net::SocketAddr,
        admin_only: fn(i32) -> bool,
    ) -> Result<Option<String>, AclError> {
        self.check(req, peer.ip(), admin_only).map_err(|d| {
            if let Some(unlogged) = self.refusal_log.admit(crate::clock::now_ms()) {
                tracing::warn!(
                    peer = %peer,
                    code = req.code,
                    request = crate::protocol::codes::request_name(req.code).unwrap_or("?"),
                    access_key = d.access_key.as_deref().unwrap_or("-"),
                    unlogged_before = unlogged,
                    "ACL refused the request: {}",
                    d.message
                );
            }
            AclError::Denied(d)
        })
    }

    /// Whether `access_key`/`secret_key` name an account of the rules: `Some(admin)` if so (a
    /// login check, e.g. the dashboard's; compares the secret in constant time).
    pub fn authenticate(&self, access_key: &str, secret_key: &str) -> Option<bool> {
        let rules = self.rules.load();
        let a = rules.accounts.get(access_key)?;
        let (x, y) = (a.secret_key.as_bytes(), secret_key.as_bytes());
        let same = x.len() == y.len() && x.iter().zip(y).fold(0u8, |d, (p, q)| d | (p ^ q)) == 0;
        same.then_some(a.admin)
    }

    /// Check more resources for an account that already passed (a message's topic known only
    /// after it was read). An unknown account (deleted meanwhile) is refused.
    pub fn check_more(&self, access_key: &str, needs: &[Need]) -> Result<(), Denied> {
        let rules = self.rules.load();
        match rules.accounts.get(access_key) {
            Some(a) => check_needs(a, needs),
            None => Err(Denied {
                message: format!("No acl config for {access_key}"),
                access_key: Some(access_key.to_string()),
            }),
        }
    }

    /// Re-read the files whose content changed (and the directory's new or removed files); new
    /// rules are in force when [`Refresh::changed`].
    pub fn reload_if_changed(&self) -> Refresh {
        let mut files = self.files.lock();
        let mut report = files.refresh();
        if report.changed() {
            match build(&files) {
                Ok(rules) => self.rules.store(Arc::new(rules)),
                // Each file compiled alone, so only a merge fault lands here.
                Err(e) => report.broken.push(e.0),
            }
        }
        report
    }

    /// UPDATE_AND_CREATE_ACL_CONFIG (50): create or replace an account. Unset fields of an
    /// existing account keep their values, as RocketMQ merges them.
    pub fn update_account(&self, update: PlainAccessConfig) -> Result<(), InvalidRules> {
        let ak = update.access_key.clone().unwrap_or_default();
        self.change(Target::OwnerOr(&ak), |file| {
            let merged = match file.account(&ak) {
                Some(old) => merge(old, update),
                None => update,
            };
            check_account(&merged)?;
            file.accounts
                .retain(|a| a.access_key.as_deref() != Some(ak.as_str()));
            file.accounts.push(merged);
            Ok(())
        })
    }

    /// DELETE_ACL_CONFIG (51).
    pub fn delete_account(&self, access_key: &str) -> Result<(), InvalidRules> {
        self.change(Target::Owner(access_key), |file| {
            if file.account(access_key).is_none() {
                return Err(InvalidRules(format!("No acl config for {access_key}")));
            }
            file.accounts
                .retain(|a| a.access_key.as_deref() != Some(access_key));
            Ok(())
        })
    }

    /// UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53): the list of the file `file` names (one of the
    /// ACL files; none or empty = `plainAclFile`, as RocketMQ).
    pub fn update_global_white(
        &self,
        addrs: Vec<String>,
        file: Option<&str>,
    ) -> Result<(), InvalidRules> {
        let target = match file.map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => Target::Path(Path::new(f)),
            None => Target::Plain,
        };
        self.change(target, |file| {
            file.global_white_remote_addresses = addrs;
            Ok(())
        })
    }

    /// All files as one, as in force (for GET_BROKER_CLUSTER_ACL_CONFIG; the caller masks
    /// secrets).
    pub fn file(&self) -> AclFile {
        self.files.lock().merged().0
    }

    /// Each file's data version by path (GET_BROKER_CLUSTER_ACL_INFO's `allAclFileVersion`).
    pub fn versions(&self) -> Vec<(String, DataVersion)> {
        self.files.lock().versions()
    }

    fn change(
        &self,
        target: Target,
        edit: impl FnOnce(&mut AclFile) -> Result<(), InvalidRules>,
    ) -> Result<(), InvalidRules> {
        let mut files = self.files.lock();
        let state = target.pick(&files)?;
        let path = state.path.clone();
        let mut file = state.file.clone();
        edit(&mut file)?;
        let mut version: DataVersion = file.data_version;
        version.next(crate::clock::now_ms());
        file.data_version = version;
        Rules::build(&file).map_err(|e| InvalidRules(format!("{}: {e}", path.display())))?;
        let text = file.render();
        // Tried on a copy: nothing changes unless the merged rules build and the file is written.
        let mut trial = files.clone();
        trial.replace(
            FileState {
                path: path.clone(),
                file,
            },
            &text,
        );
        let rules = build(&trial)?;
        crate::storage::metadata::write_atomic(&path, &text)
            .map_err(|e| InvalidRules(format!("cannot write {}: {e}", path.display())))?;
        *files = trial;
        self.rules.store(Arc::new(rules));
        Ok(())
    }
}

/// Which file an ACL admin change goes to.
enum Target<'a> {
    /// The file defining this access key (DELETE_ACL_CONFIG).
    Owner(&'a str),
    /// The file defining this access key, else `plainAclFile` (UPDATE_AND_CREATE_ACL_CONFIG).
    OwnerOr(&'a str),
    Plain,
    /// A file named by the request (UPDATE_GLOBAL_WHITE_ADDRS_CONFIG's `aclFileFullPath`).
    Path(&'a Path),
}

impl Target<'_> {
    fn pick<'f>(&self, files: &'f AclFiles) -> Result<&'f FileState, InvalidRules> {
        let plain = || {
            files
                .get(files.plain())
                .expect("the plain file is always loaded")
        };
        match self {
            Target::Owner(ak) => files
                .owner(ak)
                .ok_or_else(|| InvalidRules(format!("No acl config for {ak}"))),
            Target::OwnerOr(ak) => Ok(files.owner(ak).unwrap_or_else(plain)),
            Target::Plain => Ok(plain()),
            Target::Path(p) => files.get(p).ok_or_else(|| {
                InvalidRules(format!(
                    "{} is not one of the ACL files (plainAclFile or a yml file of aclDir)",
                    p.display()
                ))
            }),
        }
    }
}

/// `update` over `old`: fields the request leaves unset keep the old values.
fn merge(old: &PlainAccessConfig, update: PlainAccessConfig) -> PlainAccessConfig {
    PlainAccessConfig {
        access_key: update.access_key,
        secret_key: update.secret_key.or_else(|| old.secret_key.clone()),
        white_remote_address: update
            .white_remote_address
            .or_else(|| old.white_remote_address.clone()),
        admin: update.admin,
        default_topic_perm: update
            .default_topic_perm
            .or_else(|| old.default_topic_perm.clone()),
        default_group_perm: update
            .default_group_perm
            .or_else(|| old.default_group_perm.clone()),
        topic_perms: if update.topic_perms.is_empty() {
            old.topic_perms.clone()
        } else {
            update.topic_perms
        },
        group_perms: if update.group_perms.is_empty() {
            old.group_perms.clone()
        } else {
            update.group_perms
        },
    }
}

fn watch(state: Weak<AclState>) {
    loop {
        std::thread::sleep(WATCH_INTERVAL);
        let Some(s) = state.upgrade() else { return };
        let report = s.reload_if_changed();
        for f in &report.reloaded {
            tracing::info!(file = %f.display(), "ACL rules reloaded");
        }
        for f in &report.removed {
            tracing::info!(file = %f.display(), "ACL file removed, its accounts are dropped");
        }
        for why in &report.broken {
            tracing::warn!("ACL file not reloaded, its previous rules stay: {why}");
        }
    }
}

/// The broker's admin table, for [`AclState::check`].
pub fn broker_admin(code: i32) -> bool {
    perm::needs_admin(code)
}

/// The name server's admin table, for [`AclState::check`].
pub fn namesrv_admin(code: i32) -> bool {
    perm::namesrv_needs_admin(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str =
        "accounts:\n  - accessKey: RocketMQ\n    secretKey: 12345678\n    defaultTopicPerm: PUB\n";

    fn acct(ak: &str, sk: &str) -> PlainAccessConfig {
        PlainAccessConfig::with_keys(ak, sk)
    }

    #[test]
    fn reload_keeps_old_rules_on_a_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain_acl.yml");
        std::fs::write(&path, FILE).unwrap();
        let s = AclState::load(&path, &dir.path().join("acl")).unwrap();
        assert_eq!(s.reload_if_changed(), Refresh::default());
        std::fs::write(
            &path,
            format!("{FILE}  - accessKey: second1\n    secretKey: 7654321\n"),
        )
        .unwrap();
        assert_eq!(s.reload_if_changed().reloaded, std::slice::from_ref(&path));
        assert!(s.rules().accounts.contains_key("second1"));
        std::fs::write(&path, "accounts: [").unwrap();
        let r = s.reload_if_changed();
        assert!(
            !r.changed() && r.broken[0].contains("plain_acl.yml"),
            "{r:?}"
        );
        assert!(s.rules().accounts.contains_key("second1"));
        // Reported once, not on every poll.
        assert_eq!(s.reload_if_changed(), Refresh::default());
        std::fs::remove_file(&path).unwrap();
        assert!(s.reload_if_changed().broken[0].contains("cannot read"));
        assert_eq!(s.reload_if_changed(), Refresh::default());
        assert!(s.rules().accounts.contains_key("RocketMQ"));
        let none = dir.path().join("none");
        assert!(AclState::load(&path, &none)
            .err()
            .unwrap()
            .contains("cannot read"));
    }

    #[test]
    fn own_account_must_be_an_admin_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain_acl.yml");
        let text = format!(
            "{FILE}  - accessKey: brokerKey1\n    secretKey: brokerSecret1\n    admin: true\n"
        );
        std::fs::write(&path, text).unwrap();
        let s = AclState::load(&path, dir.path()).unwrap();
        let cfg = |ak: &str, sk: &str| crate::config::AclConfig {
            acl_enable: true,
            access_key: ak.into(),
            secret_key: sk.into(),
            ..Default::default()
        };
        assert!(s
            .check_own_account(&cfg("brokerKey1", "brokerSecret1"))
            .is_ok());
        assert_eq!(s.authenticate("brokerKey1", "brokerSecret1"), Some(true));
        assert_eq!(s.authenticate("RocketMQ", "12345678"), Some(false));
        assert_eq!(s.authenticate("RocketMQ", "12345679"), None);
        assert_eq!(s.authenticate("nobody11", "12345678"), None);
        for (ak, sk, why) in [
            ("", "", "not set"),
            ("nobody11", "brokerSecret1", "not an account"),
            ("RocketMQ", "12345678", "not admin"),
            ("brokerKey1", "otherSecret", "secretKey is not"),
        ] {
            let e = s.check_own_account(&cfg(ak, sk)).unwrap_err();
            assert!(e.contains(why) && !e.contains("brokerSecret1"), "{e}");
        }
    }

    #[test]
    fn admin_changes_persist_and_apply() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain_acl.yml");
        std::fs::write(&path, FILE).unwrap();
        let s = AclState::load(&path, &dir.path().join("acl")).unwrap();
        s.update_account(acct("newuser1", "secret99")).unwrap();
        assert!(s.rules().accounts.contains_key("newuser1"));
        let on_disk = AclFile::load(&path).unwrap();
        assert!(on_disk.account("newuser1").is_some());
        assert_eq!(on_disk.data_version.counter, 1);
        // Merge: the secret stays when an update leaves it out.
        let mut upd = acct("newuser1", "");
        upd.secret_key = None;
        upd.topic_perms = vec!["T=SUB".into()];
        s.update_account(upd).unwrap();
        let a = AclFile::load(&path).unwrap();
        assert_eq!(
            a.account("newuser1").unwrap().secret_key.as_deref(),
            Some("secret99")
        );
        assert!(s.update_account(acct("newuser1", "short")).is_err());
        assert!(s.update_account(acct("x", "secret99")).is_err());
        s.update_global_white(vec!["10.1.*".into()], None).unwrap();
        assert_eq!(
            AclFile::load(&path).unwrap().global_white_remote_addresses,
            ["10.1.*"]
        );
        assert!(s.update_global_white(vec!["10.x".into()], None).is_err());
        let e = s
            .update_global_white(vec![], Some("/etc/passwd"))
            .unwrap_err();
        assert!(e.0.contains("not one of the ACL files"), "{e}");
        s.delete_account("newuser1").unwrap();
        assert!(s.delete_account("newuser1").is_err());
        assert!(!s.rules().accounts.contains_key("newuser1"));
        assert_eq!(s.rules().version.counter, 4);
        // Our own write is not seen as a change.
        assert_eq!(s.reload_if_changed(), Refresh::default());
    }

    #[test]
    fn changes_go_to_the_file_that_defines_the_account() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain_acl.yml");
        std::fs::write(&path, FILE).unwrap();
        let acl_dir = dir.path().join("acl");
        std::fs::create_dir(&acl_dir).unwrap();
        let second = acl_dir.join("team.yml");
        std::fs::write(
            &second,
            "accounts:\n  - accessKey: teamUser1\n    secretKey: teamSecret1\n",
        )
        .unwrap();
        let s = AclState::load(&path, &acl_dir).unwrap();
        assert!(s.authenticate("teamUser1", "teamSecret1").is_some());
        let mut upd = acct("teamUser1", "teamSecret2");
        upd.admin = true;
        s.update_account(upd).unwrap();
        let team = AclFile::load(&second).unwrap();
        assert_eq!(
            team.account("teamUser1").unwrap().secret_key.as_deref(),
            Some("teamSecret2")
        );
        assert_eq!(team.data_version.counter, 1);
        assert!(AclFile::load(&path).unwrap().account("teamUser1").is_none());
        // A new account goes to plainAclFile.
        s.update_account(acct("freshUser", "freshSecret")).unwrap();
        assert!(AclFile::load(&path).unwrap().account("freshUser").is_some());
        let versions: std::collections::BTreeMap<_, _> = s.versions().into_iter().collect();
        assert_eq!(versions[&second.display().to_string()].counter, 1);
        assert_eq!(versions[&path.display().to_string()].counter, 1);
        let second_text = second.display().to_string();
        s.update_global_white(vec!["10.2.*".into()], Some(&second_text))
            .unwrap();
        assert_eq!(
            AclFile::load(&second)
                .unwrap()
                .global_white_remote_addresses,
            ["10.2.*"]
        );
        assert!(s
            .file()
            .global_white_remote_addresses
            .contains(&"10.2.*".to_string()));
        s.delete_account("teamUser1").unwrap();
        assert!(AclFile::load(&second).unwrap().accounts.is_empty());
        assert!(s.authenticate("teamUser1", "teamSecret2").is_none());
        assert_eq!(s.reload_if_changed(), Refresh::default());
    }
}
