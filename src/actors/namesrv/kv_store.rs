//! Keeps the name server's KV config on disk (`kvConfigPath`, RocketMQ's `kvConfig.json`), so
//! ORDER_TOPIC_CONFIG and other entries survive a restart. Writes happen on a dedicated thread
//! (temp file, fsync, rename, previous kept as `.bak`), never on the actor's arbiter; snapshots
//! that queue up are coalesced to the newest.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use super::kv_config::KvConfig;
use crate::storage::metadata::{read_with_fallback, write_atomic};

pub struct KvStore {
    tx: mpsc::Sender<String>,
}

impl KvStore {
    /// Read the saved config (blocking: call it off the arbiters); missing file = empty.
    pub fn load(path: &Path) -> Result<KvConfig, String> {
        Ok(read_with_fallback(path, KvConfig::from_json)
            .map_err(|e| e.to_string())?
            .unwrap_or_default())
    }

    /// Start the writer thread for `path`.
    pub fn start(path: PathBuf) -> KvStore {
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::Builder::new()
            .name("namesrv-kv-persist".into())
            .spawn(move || {
                while let Ok(mut latest) = rx.recv() {
                    for newer in rx.try_iter() {
                        latest = newer;
                    }
                    if let Err(e) = write_atomic(&path, &latest) {
                        tracing::warn!(error = %e, "saving the KV config failed");
                    }
                }
            })
            .expect("spawn kv persist thread");
        KvStore { tx }
    }

    /// Save this snapshot (asynchronously).
    pub fn save(&self, json: String) {
        let _ = self.tx.send(json);
    }
}
