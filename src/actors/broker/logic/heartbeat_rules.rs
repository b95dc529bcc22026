//! What a HEART_BEAT may carry, checked before anything is registered or created.
//!
//! RocketMQ puts no bound on a heartbeat: one request may name any number of consumer groups,
//! each with any number of subscriptions, and the broker auto-creates a subscription group and a
//! retry topic for every consumer group. Real clients name a handful of groups, so ours are
//! bounded (`maxGroupsPerClient`, `maxSubscriptionsPerGroup`), and a heartbeat over a bound is
//! refused whole, with a remark naming the bound, before it changes anything.
//!
//! The bound on groups holds per client connection, not just per request: a client that names new
//! groups in each heartbeat is refused once the groups it is registered in would pass the bound
//! (checked by [`super::client_table::ClientTable::heartbeat`]).

use std::collections::BTreeSet;

use thiserror::Error;

use crate::protocol::body::HeartbeatData;

/// The bounds, from the broker config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatLimits {
    /// Consumer groups (and, separately, producer groups) one client connection may be in.
    pub max_groups_per_client: usize,
    /// Subscriptions one consumer group may list in a heartbeat.
    pub max_subscriptions_per_group: usize,
}

impl Default for HeartbeatLimits {
    fn default() -> Self {
        HeartbeatLimits {
            max_groups_per_client: 1_000,
            max_subscriptions_per_group: 1_000,
        }
    }
}

/// Why a heartbeat is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HeartbeatError {
    #[error("heartbeat refused: clientID is missing or blank")]
    MissingClientId,
    #[error(
        "heartbeat refused: client {client} would be in {groups} {kind} groups, more than \
         maxGroupsPerClient {limit}"
    )]
    TooManyGroups {
        client: String,
        kind: &'static str,
        groups: usize,
        limit: usize,
    },
    #[error(
        "heartbeat refused: consumer group {group} lists {subscriptions} subscriptions, more \
         than maxSubscriptionsPerGroup {limit}"
    )]
    TooManySubscriptions {
        group: String,
        subscriptions: usize,
        limit: usize,
    },
}

/// The distinct non-blank consumer group names of a heartbeat.
pub fn consumer_groups(hb: &HeartbeatData) -> BTreeSet<&str> {
    hb.consumer_data_set
        .iter()
        .map(|c| c.group_name.as_str())
        .filter(|g| !g.trim().is_empty())
        .collect()
}

/// The distinct non-blank producer group names of a heartbeat.
pub fn producer_groups(hb: &HeartbeatData) -> BTreeSet<&str> {
    hb.producer_data_set
        .iter()
        .map(|p| p.group_name.as_str())
        .filter(|g| !g.trim().is_empty())
        .collect()
}

/// The checks that need only the heartbeat itself (linear in its size).
pub fn check(hb: &HeartbeatData, limits: &HeartbeatLimits) -> Result<(), HeartbeatError> {
    if hb.client_id.trim().is_empty() {
        return Err(HeartbeatError::MissingClientId);
    }
    let too_many = |kind, groups: usize| {
        (groups > limits.max_groups_per_client).then(|| HeartbeatError::TooManyGroups {
            client: hb.client_id.clone(),
            kind,
            groups,
            limit: limits.max_groups_per_client,
        })
    };
    if let Some(e) = too_many("consumer", consumer_groups(hb).len()) {
        return Err(e);
    }
    if let Some(e) = too_many("producer", producer_groups(hb).len()) {
        return Err(e);
    }
    for c in &hb.consumer_data_set {
        if c.subscription_data_set.len() > limits.max_subscriptions_per_group {
            return Err(HeartbeatError::TooManySubscriptions {
                group: c.group_name.clone(),
                subscriptions: c.subscription_data_set.len(),
                limit: limits.max_subscriptions_per_group,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::body::{ConsumerData, ProducerData, SubscriptionData};

    fn hb(client: &str, groups: usize, subs: usize) -> HeartbeatData {
        HeartbeatData {
            client_id: client.into(),
            consumer_data_set: (0..groups)
                .map(|i| ConsumerData {
                    group_name: format!("G{i}"),
                    subscription_data_set: (0..subs)
                        .map(|j| SubscriptionData {
                            topic: format!("T{j}"),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            producer_data_set: Vec::new(),
        }
    }

    const L: HeartbeatLimits = HeartbeatLimits {
        max_groups_per_client: 3,
        max_subscriptions_per_group: 2,
    };

    #[test]
    fn within_the_bounds_passes() {
        assert_eq!(check(&hb("c", 3, 2), &L), Ok(()));
        assert_eq!(check(&hb("c", 0, 0), &L), Ok(()));
    }

    #[test]
    fn a_blank_client_id_is_refused() {
        assert_eq!(
            check(&hb("", 1, 1), &L),
            Err(HeartbeatError::MissingClientId)
        );
        assert_eq!(
            check(&hb("  ", 0, 0), &L),
            Err(HeartbeatError::MissingClientId)
        );
    }

    #[test]
    fn too_many_groups_names_the_bound() {
        let e = check(&hb("c", 4, 1), &L).unwrap_err();
        assert_eq!(
            e,
            HeartbeatError::TooManyGroups {
                client: "c".into(),
                kind: "consumer",
                groups: 4,
                limit: 3
            }
        );
        assert!(e.to_string().contains("maxGroupsPerClient 3"), "{e}");
        // Repeated names count once.
        let mut h = hb("c", 3, 1);
        h.consumer_data_set.extend(h.consumer_data_set.clone());
        assert_eq!(check(&h, &L), Ok(()));
        let mut h = hb("c", 0, 0);
        h.producer_data_set = (0..4)
            .map(|i| ProducerData {
                group_name: format!("P{i}"),
            })
            .collect();
        assert!(matches!(
            check(&h, &L),
            Err(HeartbeatError::TooManyGroups {
                kind: "producer",
                ..
            })
        ));
    }

    #[test]
    fn too_many_subscriptions_names_the_group() {
        let e = check(&hb("c", 2, 3), &L).unwrap_err();
        assert_eq!(
            e,
            HeartbeatError::TooManySubscriptions {
                group: "G0".into(),
                subscriptions: 3,
                limit: 2
            }
        );
        assert!(e.to_string().contains("maxSubscriptionsPerGroup 2"), "{e}");
    }
}
