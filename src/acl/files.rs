//! The ACL files of one process, as RocketMQ 4.9.3+ keeps them: `plainAclFile` plus every
//! `*.yml` / `*.yaml` file under the ACL directory (`aclDir`; RocketMQ's fixed
//! `$ROCKETMQ_HOME/conf/acl`, searched recursively, `tools.yml` skipped as it holds mqadmin's
//! own keys). Each file keeps its own content, hash and data version, so a change to one file
//! is re-read alone and a broken file keeps that file's previous accounts.
//!
//! Merging: the global white lists add up; an access key belongs to the first file that has it,
//! in this order: `plainAclFile`, then the directory's files by path (RocketMQ takes the
//! directory listing's order, which the file system decides; a fixed order makes the owner of a
//! duplicate key predictable). A duplicate in a later file is ignored and reported.
//! Plain structs and file reads: callers run it on a blocking thread (the watcher, the ACL
//! admin codes' `spawn_blocking`).

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use super::file::AclFile;
use super::rules::Rules;
use crate::protocol::body::DataVersion;

/// One file as last read (or written by an ACL admin code).
#[derive(Debug, Clone)]
pub struct FileState {
    pub path: PathBuf,
    pub file: AclFile,
}

/// What a [`AclFiles::refresh`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Refresh {
    /// Files read anew (changed or new), in force now.
    pub reloaded: Vec<PathBuf>,
    /// Files gone from the directory: their accounts are dropped.
    pub removed: Vec<PathBuf>,
    /// Files that changed but cannot be used (path and fault): their previous rules stay.
    pub broken: Vec<String>,
}

impl Refresh {
    /// Whether the rules in force must be rebuilt.
    pub fn changed(&self) -> bool {
        !self.reloaded.is_empty() || !self.removed.is_empty()
    }
}

/// The set of files.
#[derive(Clone)]
pub struct AclFiles {
    plain: PathBuf,
    dir: PathBuf,
    /// `plain` first, then the directory's files by path.
    files: Vec<FileState>,
    /// Hash of each listed file's content as last seen, usable or not (so a broken file is
    /// reported once); 0 when it could not be read.
    seen: HashMap<PathBuf, u64>,
}

pub fn hash_of(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Parse a file's content and check that it compiles on its own.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<AclFile, String> {
    let text = String::from_utf8_lossy(bytes);
    let file = AclFile::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Rules::build(&file).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(file)
}

fn is_acl_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    (name.ends_with(".yml") || name.ends_with(".yaml")) && name != "tools.yml"
}

/// The directory's ACL files, recursively, sorted by path, without `plain`. A missing
/// directory has none.
fn list_dir(dir: &Path, plain: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            list_dir(&path, plain, out);
        } else if is_acl_file(&path) && !same_file(&path, plain) {
            out.push(path);
        }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

impl AclFiles {
    /// Read every file (start-up: any missing or invalid file is an error naming it).
    pub fn load(plain: &Path, dir: &Path) -> Result<Self, String> {
        let (mut files, mut seen) = (Vec::new(), HashMap::new());
        for path in Self::paths(plain, dir) {
            let bytes = read(&path)?;
            let file = parse(&path, &bytes)?;
            seen.insert(path.clone(), hash_of(&bytes));
            files.push(FileState { path, file });
        }
        Ok(AclFiles {
            plain: plain.to_path_buf(),
            dir: dir.to_path_buf(),
            files,
            seen,
        })
    }

    fn paths(plain: &Path, dir: &Path) -> Vec<PathBuf> {
        let mut in_dir = Vec::new();
        list_dir(dir, plain, &mut in_dir);
        in_dir.sort();
        std::iter::once(plain.to_path_buf()).chain(in_dir).collect()
    }

    pub fn plain(&self) -> &Path {
        &self.plain
    }

    pub fn files(&self) -> &[FileState] {
        &self.files
    }

    /// The file `path` names, if it is one of ours.
    pub fn get(&self, path: &Path) -> Option<&FileState> {
        self.files.iter().find(|f| same_file(&f.path, path))
    }

    /// The file an access key belongs to (the first that has it).
    pub fn owner(&self, access_key: &str) -> Option<&FileState> {
        self.files
            .iter()
            .find(|f| f.file.account(access_key).is_some())
    }

    /// Put `state` in force for its file after an ACL admin code wrote `text` there (so the
    /// watcher does not take its own write for a change).
    pub fn replace(&mut self, state: FileState, text: &str) {
        self.seen
            .insert(state.path.clone(), hash_of(text.as_bytes()));
        match self.files.iter_mut().find(|f| f.path == state.path) {
            Some(f) => *f = state,
            None => self.files.push(state),
        }
    }

    /// Each file's data version, by path.
    pub fn versions(&self) -> Vec<(String, DataVersion)> {
        self.files
            .iter()
            .map(|f| (f.path.display().to_string(), f.file.data_version))
            .collect()
    }

    /// Re-list the directory and re-read the files whose content changed.
    pub fn refresh(&mut self) -> Refresh {
        let mut report = Refresh::default();
        let mut next = Vec::new();
        let mut seen = HashMap::new();
        for path in Self::paths(&self.plain, &self.dir) {
            let old = self.files.iter().position(|f| f.path == path);
            let old = old.map(|i| self.files.swap_remove(i));
            // 0 stands for "unreadable", so a missing file is reported once too.
            let content = read(&path);
            let hash = content.as_ref().map_or(0, |b| hash_of(b));
            let unchanged = self.seen.get(&path) == Some(&hash);
            seen.insert(path.clone(), hash);
            if unchanged {
                next.extend(old);
                continue;
            }
            match content.and_then(|bytes| parse(&path, &bytes)) {
                Ok(file) => {
                    report.reloaded.push(path.clone());
                    next.push(FileState { path, file });
                }
                Err(why) => {
                    report.broken.push(why);
                    next.extend(old);
                }
            }
        }
        // Left over: files gone from the directory (the plain file is always listed).
        report.removed = self.files.drain(..).map(|f| f.path).collect();
        self.files = next;
        self.seen = seen;
        let plain = self.plain.clone();
        self.files
            .sort_by(|a, b| (a.path != plain, &a.path).cmp(&(b.path != plain, &b.path)));
        report
    }

    /// All files as one: the global white lists added up, each access key from the first file
    /// that has it, the plain file's data version. Also the duplicates that were left out.
    pub fn merged(&self) -> (AclFile, Vec<String>) {
        let mut out = AclFile::default();
        let mut duplicates = Vec::new();
        for f in &self.files {
            for a in &f.file.global_white_remote_addresses {
                if !out.global_white_remote_addresses.contains(a) {
                    out.global_white_remote_addresses.push(a.clone());
                }
            }
            for a in &f.file.accounts {
                let ak = a.access_key.as_deref().unwrap_or("");
                match self.owner(ak) {
                    Some(owner) if owner.path != f.path => duplicates.push(format!(
                        "accessKey={ak} of {} is ignored: {} defines it first",
                        f.path.display(),
                        owner.path.display()
                    )),
                    _ => out.accounts.push(a.clone()),
                }
            }
            if f.path == self.plain {
                out.data_version = f.file.data_version;
            }
        }
        (out, duplicates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(ak: &str, sk: &str) -> String {
        format!("  - accessKey: {ak}\n    secretKey: {sk}\n")
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn directory_files_merge_first_definition_wins() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain_acl.yml");
        let acl = dir.path().join("acl");
        write(
            &plain,
            &format!(
                "globalWhiteRemoteAddresses: [10.1.*]\naccounts:\n{}",
                account("plainUser", "secret11")
            ),
        );
        write(
            &acl.join("b.yml"),
            &format!(
                "globalWhiteRemoteAddresses: [10.2.*]\naccounts:\n{}{}",
                account("bUser11", "secret22"),
                account("plainUser", "other999")
            ),
        );
        write(
            &acl.join("nested/c.yaml"),
            &format!("accounts:\n{}", account("cUser11", "secret33")),
        );
        write(&acl.join("tools.yml"), "accessKey: x\nsecretKey: y\n");
        write(&acl.join("notes.txt"), "not yaml: [");
        let files = AclFiles::load(&plain, &acl).unwrap();
        let names: Vec<_> = files.files().iter().map(|f| f.path.clone()).collect();
        assert_eq!(
            names,
            [plain.clone(), acl.join("b.yml"), acl.join("nested/c.yaml")]
        );
        let (merged, dups) = files.merged();
        let keys: Vec<_> = merged
            .accounts
            .iter()
            .map(|a| a.access_key.clone().unwrap())
            .collect();
        assert_eq!(keys, ["plainUser", "bUser11", "cUser11"]);
        assert_eq!(merged.global_white_remote_addresses, ["10.1.*", "10.2.*"]);
        assert_eq!(
            merged.account("plainUser").unwrap().secret_key.as_deref(),
            Some("secret11")
        );
        assert!(
            dups.len() == 1 && dups[0].contains("plainUser") && dups[0].contains("b.yml"),
            "{dups:?}"
        );
        assert_eq!(files.owner("bUser11").unwrap().path, acl.join("b.yml"));
    }

    #[test]
    fn refresh_rereads_only_changed_files_and_follows_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain_acl.yml");
        let acl = dir.path().join("acl");
        write(
            &plain,
            &format!("accounts:\n{}", account("plainUser", "secret11")),
        );
        let b = acl.join("b.yml");
        write(
            &b,
            &format!("accounts:\n{}", account("bUser11", "secret22")),
        );
        let mut files = AclFiles::load(&plain, &acl).unwrap();
        assert_eq!(files.refresh(), Refresh::default());
        write(
            &b,
            &format!("accounts:\n{}", account("bUser22", "secret22")),
        );
        assert_eq!(files.refresh().reloaded, std::slice::from_ref(&b));
        // A broken file keeps its accounts; the others still reload.
        write(&b, "accounts: [");
        let c = acl.join("c.yml");
        write(
            &c,
            &format!("accounts:\n{}", account("cUser11", "secret33")),
        );
        let r = files.refresh();
        assert_eq!(r.reloaded, std::slice::from_ref(&c));
        assert!(
            r.broken.len() == 1 && r.broken[0].contains("b.yml"),
            "{r:?}"
        );
        assert!(files.owner("bUser22").is_some());
        assert_eq!(files.refresh(), Refresh::default());
        std::fs::remove_file(&c).unwrap();
        assert_eq!(files.refresh().removed, [c]);
        assert!(files.owner("cUser11").is_none());
        // A new broken file is reported once and adds nothing.
        write(&acl.join("d.yml"), "accounts: 3");
        assert_eq!(files.refresh().broken.len(), 1);
        assert_eq!(files.refresh(), Refresh::default());
        assert_eq!(files.files().len(), 2);
    }
}
