//! GET_NAMESRV_CONFIG (319) and UPDATE_NAMESRV_CONFIG (318), mqadmin getNamesrvConfig /
//! updateNamesrvConfig: the same rules as the broker's 26/25. The answer to 319 is the effective
//! config as properties text. An update is checked as a start would check it (unknown key or bad
//! value: SYSTEM_ERROR naming it; RocketMQ's black list `configBlackList`, `configStorePath`,
//! `kvConfigPath`: NO_PERMISSION "Can not update config in black list."), saved next to the KV
//! config as `namesrv.properties` (temp + fsync + rename, on a blocking thread; not saved when
//! `kvConfigPath` is empty, which the remark says) and loaded over the config at every start.
//! No name-server key applies while it runs: each takes effect at the next start.

use std::path::PathBuf;

use parking_lot::Mutex;

use super::HandlerResult;
use crate::actors::admin_error::AdminError;
use crate::clock::now_ms;
use crate::config::update::{load_overrides, RuntimeConfig};
use crate::config::NamesrvConfig;
use crate::protocol::body::admin::parse_properties;
use crate::protocol::codes::response_code;
use crate::protocol::RemotingCommand;

/// Keys UPDATE_NAMESRV_CONFIG refuses: RocketMQ's `configBlackList` default and, beyond it, the
/// hosted controller's identity and Raft membership, which a remote request must not change even
/// for the next start (new peers would hand the group to others).
pub const BLACK_LIST: &[&str] = &[
    "configBlackList",
    "configStorePath",
    "kvConfigPath",
    "enableControllerInNamesrv",
    "controllerDLegerGroup",
    "controllerDLegerPeers",
    "controllerDLegerSelfId",
    "controllerStorePath",
];

/// The saved changes, beside the KV config file.
pub const OVERRIDE_FILE: &str = "namesrv.properties";

/// One update at a time (check, save, apply): no change lost, no older file over a newer one.
static UPDATES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The name server's config as it runs and where its changes are saved.
pub struct ConfigState {
    runtime: Mutex<RuntimeConfig<NamesrvConfig>>,
    file: Option<PathBuf>,
}

impl ConfigState {
    /// `cfg` with the saved changes applied (blocking read; at start only).
    pub fn load(cfg: &NamesrvConfig) -> std::io::Result<ConfigState> {
        let file = Some(PathBuf::from(&cfg.kv_config_path))
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| p.with_file_name(OVERRIDE_FILE));
        let (effective, overrides) = match &file {
            Some(f) => load_overrides(cfg.clone(), f).map_err(std::io::Error::other)?,
            None => (cfg.clone(), Default::default()),
        };
        Ok(ConfigState {
            runtime: Mutex::new(RuntimeConfig::new(effective, overrides, now_ms())),
            file,
        })
    }

    pub fn effective(&self) -> NamesrvConfig {
        self.runtime.lock().effective().clone()
    }
}

pub fn get(state: &ConfigState, req: &RemotingCommand) -> HandlerResult {
    let text = state.runtime.lock().properties_text();
    Ok(req
        .response_to(response_code::SUCCESS, None)
        .with_body(text.into_bytes()))
}

pub async fn update(state: &ConfigState, req: &RemotingCommand) -> HandlerResult {
    let pairs = parse_properties(&req.body)?;
    let _one_at_a_time = UPDATES.lock().await;
    let mut candidate = state.runtime.lock().clone();
    let updated = candidate
        .update(
            &pairs,
            &crate::config::with_security_keys(BLACK_LIST),
            now_ms(),
        )
        .map_err(AdminError::Config)?;
    let remark = match &state.file {
        Some(file) => {
            let (file, text) = (file.clone(), updated.overrides_text.clone());
            tokio::task::spawn_blocking(move || {
                if let Some(dir) = file.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                }
                crate::storage::metadata::write_atomic(&file, &text).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| AdminError::Persist(e.to_string()))?
            .map_err(AdminError::Persist)?;
            "saved; takes effect at the next start"
        }
        None => "not saved (kvConfigPath is empty); takes effect at the next start",
    };
    *state.runtime.lock() = candidate;
    tracing::info!(changed = ?updated.changed, "name server config updated: {remark}");
    Ok(req.response_to(response_code::SUCCESS, Some(remark.to_string())))
}
