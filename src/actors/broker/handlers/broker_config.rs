//! GET_BROKER_CONFIG (26) and UPDATE_BROKER_CONFIG (25), mqadmin getBrokerConfig /
//! updateBrokerConfig and the dashboard's Config view.
//!
//! 26 answers the effective config as properties text with its `DataVersion` in the `version`
//! header. 25 takes properties text: every key must be a declared key with a value a start would
//! accept (else SYSTEM_ERROR naming it); black-listed keys get NO_PERMISSION "Can not update
//! config in black list." (RocketMQ's list, plus `storePathRootDir`, which locates the saved
//! overrides). Accepted changes are saved to `<storePathRootDir>/config/broker.properties`
//! (temp + fsync + rename, on a blocking thread) before they are applied, and loaded over the
//! config at every start. The keys RocketMQ 4.9 reads each time it uses them apply at once
//! ([`hot_keys`]: `brokerPermission` re-registers with the name servers, auto-creation switches
//! go to the topic and group tables, the rest are atomics read on their paths); every other key
//! takes effect at the next start, which the answer's remark and the log say (RocketMQ answers
//! SUCCESS with no remark and applies such keys silently at the next start).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{ok, HandlerResult};
use crate::actors::admin_error::AdminError;
use crate::actors::broker::context::BrokerCtx;
use crate::actors::broker::registrar::RegisterNow;
use crate::actors::broker::tunables::HOT_BROKER_KEYS;
use crate::clock::now_ms;
use crate::config::update::Updated;
use crate::config::BrokerConfig;
use crate::protocol::body::admin::parse_properties;
use crate::protocol::headers::admin::GetBrokerConfigResponseHeader;
use crate::protocol::RemotingCommand;
use crate::storage::tunables::HOT_STORE_KEYS;

/// Keys UPDATE_BROKER_CONFIG refuses.
pub const BLACK_LIST: &[&str] = &[
    "configBlackList",
    "brokerConfigPath",
    "rocketmqHome",
    "storePathRootDir",
];

/// The file the accepted changes are kept in, under the store's config directory.
pub const OVERRIDE_FILE: &str = "broker.properties";

/// One update at a time (check, save, apply), so concurrent updates neither lose a change nor
/// write an older file over a newer one.
static UPDATES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Keys the handler applies itself (the tables' switches and the permission).
const HOT_HERE: &[&str] = &[
    "brokerPermission",
    "autoCreateTopicEnable",
    "autoCreateSubscriptionGroup",
];

/// Whether a change of `key` applies while the broker runs (else at the next start).
pub fn hot_keys(key: &str) -> bool {
    HOT_HERE.contains(&key) || HOT_BROKER_KEYS.contains(&key) || HOT_STORE_KEYS.contains(&key)
}

pub fn get(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let (text, version) = {
        let rc = ctx.runtime_config.lock();
        (rc.properties_text(), rc.version())
    };
    let version = serde_json::to_string(&version).expect("serializable");
    Ok(ok(req)
        .with_header(&GetBrokerConfigResponseHeader { version })
        .with_body(text.into_bytes()))
}

pub async fn update(ctx: &Arc<BrokerCtx>, req: &RemotingCommand) -> HandlerResult {
    let pairs = parse_properties(&req.body)?;
    if pairs.is_empty() {
        return Ok(ok(req));
    }
    let _one_at_a_time = UPDATES.lock().await;
    // Checked and saved first; applied only once on disk, so memory and file never disagree.
    let mut candidate = ctx.runtime_config.lock().clone();
    let updated = candidate
        .update(
            &pairs,
            &crate::config::with_security_keys(BLACK_LIST),
            now_ms(),
        )
        .map_err(AdminError::Config)?;
    save(ctx, &updated).await?;
    *ctx.runtime_config.lock() = candidate.clone();
    let (hot, later): (Vec<_>, Vec<_>) = updated
        .changed
        .iter()
        .map(|(k, _)| k.as_str())
        .partition(|k| hot_keys(k));
    if !hot.is_empty() {
        apply_hot(ctx, candidate.effective());
    }
    let remark = if later.is_empty() {
        format!("applied: {}", hot.join(", "))
    } else {
        format!(
            "saved; {} take effect at the next start{}",
            later.join(", "),
            if hot.is_empty() {
                String::new()
            } else {
                format!("; applied now: {}", hot.join(", "))
            }
        )
    };
    tracing::info!(changed = ?updated.changed, "broker config updated: {remark}");
    let mut resp = ok(req);
    resp.remark = Some(remark);
    Ok(resp)
}

/// Make the running broker follow the hot keys of `eff` (the others are left as started).
fn apply_hot(ctx: &Arc<BrokerCtx>, eff: &BrokerConfig) {
    ctx.hot.apply(eff);
    ctx.store.tunables.apply(&eff.store);
    ctx.topics
        .write()
        .set_auto_create_topic_enable(eff.auto_create_topic_enable);
    ctx.groups
        .write()
        .set_auto_create(eff.auto_create_subscription_group);
    let perm = eff.broker_permission as i64;
    if ctx.broker_perm.swap(perm, Ordering::AcqRel) != perm {
        ctx.topics.write().bump_version(now_ms());
        if let Some(r) = ctx.registrar.get() {
            r.do_send(RegisterNow);
        }
    }
}

async fn save(ctx: &Arc<BrokerCtx>, updated: &Updated) -> Result<(), AdminError> {
    let dir = ctx.cfg.store.config_dir();
    let text = updated.overrides_text.clone();
    tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        crate::storage::metadata::write_atomic(&dir.join(OVERRIDE_FILE), &text)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| AdminError::Persist(e.to_string()))?
    .map_err(AdminError::Persist)
}
