//! GET_CONTROLLER_CONFIG (1010) and UPDATE_CONTROLLER_CONFIG (1009). The get answers the
//! controller keys as properties text (as RocketMQ). The update may change only the two
//! run-time switches, `enableElectUncleanMaster` and `notifyBrokerRoleChanged` (in memory, as
//! RocketMQ); any other key is refused by name (the Raft group's keys need a restart).

use std::sync::atomic::Ordering;

use super::error::ControllerError as E;
use super::node::Controller;
use crate::actors::reply::HandlerResult;
use crate::protocol::body::admin::parse_properties;
use crate::protocol::codes::response_code as rc;
use crate::protocol::header::parse_bool;
use crate::protocol::RemotingCommand;

pub fn get(ctl: &Controller, req: &RemotingCommand) -> HandlerResult {
    let mut cfg = ctl.cfg.clone();
    cfg.enable_elect_unclean_master = ctl.flags.unclean.load(Ordering::Relaxed);
    cfg.notify_broker_role_changed = ctl.flags.notify.load(Ordering::Relaxed);
    let serde_json::Value::Object(map) = serde_json::to_value(&cfg).expect("config serializes")
    else {
        unreachable!("a struct serializes to an object")
    };
    let text: String = map
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => format!("{k}={s}\n"),
            other => format!("{k}={other}\n"),
        })
        .collect();
    Ok(req
        .response_to(rc::SUCCESS, None)
        .with_body(text.into_bytes()))
}

pub fn update(ctl: &Controller, req: &RemotingCommand) -> HandlerResult {
    let pairs = parse_properties(&req.body)?;
    let mut changes = Vec::new();
    for (k, v) in &pairs {
        let flag = match k.as_str() {
            "enableElectUncleanMaster" => &ctl.flags.unclean,
            "notifyBrokerRoleChanged" => &ctl.flags.notify,
            other => {
                return Err(E::InvalidRequest(format!(
                    "config key '{other}' cannot be changed at run time (only enableElectUncleanMaster, notifyBrokerRoleChanged)"
                ))
                .into())
            }
        };
        let value = parse_bool(v).ok_or_else(|| {
            E::InvalidRequest(format!("config key '{k}' = '{v}': expected true or false"))
        })?;
        changes.push((flag, value));
    }
    for (flag, value) in changes {
        flag.store(value, Ordering::Relaxed);
    }
    Ok(req.response_to(rc::SUCCESS, None))
}
