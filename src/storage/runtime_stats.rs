//! Store figures for GET_BROKER_RUNTIME_INFO and the metrics endpoint (RocketMQ's
//! DefaultMessageStore runtime info): how far dispatch and flush trail the CommitLog's end, the
//! oldest stored message's time, the disk's size and free space. Reads of atomics and one
//! `statvfs`; called by admin requests and scrapes, never by the send or pull path.

use std::path::Path;

use super::store::MessageStore;

/// A file system's size, its free space, and the space an unprivileged writer may still use
/// (bytes), as Java's `File.getTotalSpace` / `getFreeSpace` / `getUsableSpace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSpace {
    pub total: u64,
    pub free: u64,
    pub usable: u64,
}

pub fn disk_space(path: &Path) -> std::io::Result<DiskSpace> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: statvfs writes into the zeroed struct we pass; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let frag = st.f_frsize as u64;
    Ok(DiskSpace {
        total: st.f_blocks as u64 * frag,
        free: st.f_bfree as u64 * frag,
        usable: st.f_bavail as u64 * frag,
    })
}

impl MessageStore {
    /// CommitLog bytes not yet dispatched to the consume queues and the index.
    pub fn dispatch_behind_bytes(&self) -> u64 {
        (self.commit_log_max_offset().max(0) as u64).saturating_sub(self.dispatcher.position())
    }

    /// CommitLog bytes written but not yet flushed to disk.
    pub fn flush_behind_bytes(&self) -> u64 {
        (self.commit_log_max_offset().max(0) as u64).saturating_sub(self.flusher.flushed_offset())
    }

    /// Store time of the oldest message in the CommitLog (`None` when it is empty).
    pub fn earliest_message_time(&self) -> Option<i64> {
        let min = self.commit_log_min_offset();
        if min >= self.commit_log_max_offset() {
            return None;
        }
        self.lookup_message(min).map(|m| m.store_timestamp)
    }

    /// Bytes the CommitLog files take on disk.
    pub fn commit_log_bytes(&self) -> u64 {
        (self.commit_log_max_offset() - self.commit_log_min_offset()).max(0) as u64
    }
}
