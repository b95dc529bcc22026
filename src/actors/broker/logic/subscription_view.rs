//! What a pull without the SUBSCRIPTION flag needs of the consumer groups, readable without
//! asking the `HeartbeatActor` (docs/protocol.md §7.3, §7.5).
//!
//! Java push consumers send their subscription with every pull only when
//! `postSubscriptionWhenPull` is set; otherwise the broker filters by what the group registered
//! through its heartbeats. The [`ClientTable`](super::client_table::ClientTable) keeps each
//! group's message model and subscriptions in a [`GroupSubscriptions`] behind an `Arc`, changed
//! copy-on-write and only when a heartbeat really changes them. The `HeartbeatActor` publishes a
//! [`SubscriptionSnapshot`] (the table's `Arc`s, keyed by group) into [`SharedSubscriptions`]
//! after every mutation that changed one; the pull handler reads the current snapshot (one brief
//! read lock to clone an `Arc`) and runs [`SubscriptionSnapshot::pull_subscription`], Java's
//! checks in Java's order.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::protocol::body::{MessageModel, SubscriptionData};

/// Why a pull cannot use its group's registered subscription. The message is the remark Java's
/// `PullMessageProcessor` answers with (without its FAQ link); the response code is mapped in
/// `crate::error` (SUBSCRIPTION_NOT_EXIST, NO_PERMISSION, SUBSCRIPTION_NOT_LATEST).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PullSubscriptionError {
    /// No live member of the group has heartbeated (SUBSCRIPTION_NOT_EXIST).
    #[error("the consumer's group info not exist")]
    GroupNotOnline,
    /// The group consumes by broadcast and its config forbids that (NO_PERMISSION); holds the
    /// group name, which Java's remark names.
    #[error("the consumer group[{0}] can not consume by broadcast way")]
    BroadcastForbidden(String),
    /// The group registered no subscription of the topic (SUBSCRIPTION_NOT_EXIST).
    #[error("the consumer's subscription not exist")]
    NotSubscribed,
    /// The registered `subVersion` is older than the pull's (SUBSCRIPTION_NOT_LATEST).
    #[error("the consumer's subscription not latest")]
    NotLatest,
}

/// One consumer group's message model and subscriptions (topic → subscription).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupSubscriptions {
    message_model: MessageModel,
    subscriptions: BTreeMap<String, SubscriptionData>,
}

/// What applying a heartbeat to a [`GroupSubscriptions`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubscriptionChange {
    /// Anything at all (→ publish a new snapshot).
    pub any: bool,
    /// The set of subscribed topics (→ the group's membership changed, members must rebalance).
    pub topics: bool,
}

impl GroupSubscriptions {
    pub fn message_model(&self) -> MessageModel {
        self.message_model
    }

    pub fn subscriptions(&self) -> &BTreeMap<String, SubscriptionData> {
        &self.subscriptions
    }

    /// Java's checks once the group is known to be online: broadcasting only if the group config
    /// allows it, the topic subscribed, and the registered `subVersion` not older than the pull's.
    pub fn pull_subscription(
        &self,
        group: &str,
        topic: &str,
        pull_sub_version: i64,
        consume_broadcast_enable: bool,
    ) -> Result<&SubscriptionData, PullSubscriptionError> {
        if !consume_broadcast_enable && self.message_model == MessageModel::Broadcasting {
            return Err(PullSubscriptionError::BroadcastForbidden(group.to_string()));
        }
        let sub = self
            .subscriptions
            .get(topic)
            .ok_or(PullSubscriptionError::NotSubscribed)?;
        if sub.sub_version < pull_sub_version {
            return Err(PullSubscriptionError::NotLatest);
        }
        Ok(sub)
    }

    /// Set the message model a heartbeat reports; clones the shared value only on a change.
    pub fn set_message_model(this: &mut Arc<Self>, model: MessageModel) -> bool {
        if this.message_model == model {
            return false;
        }
        Arc::make_mut(this).message_model = model;
        true
    }

    /// Apply a heartbeat's subscription list, which is the group's whole list (as in Java: topics
    /// it lacks are removed; a newer `subVersion` replaces a subscription, an older or equal one
    /// is ignored). Clones the shared value only when something changes, so a snapshot holding
    /// it stays as it was.
    pub fn apply_subscriptions(
        this: &mut Arc<Self>,
        subs: &[SubscriptionData],
    ) -> SubscriptionChange {
        let wanted: BTreeSet<&str> = subs.iter().map(|s| s.topic.as_str()).collect();
        let current = &this.subscriptions;
        let newer = subs.iter().any(|s| {
            current
                .get(&s.topic)
                .is_none_or(|old| s.sub_version > old.sub_version)
        });
        let dropped = current.keys().any(|t| !wanted.contains(t.as_str()));
        if !newer && !dropped {
            return SubscriptionChange::default();
        }
        let me = Arc::make_mut(this);
        let mut topics = false;
        for sub in subs {
            match me.subscriptions.get(&sub.topic) {
                None => {
                    me.subscriptions.insert(sub.topic.clone(), sub.clone());
                    topics = true;
                }
                Some(old) if sub.sub_version > old.sub_version => {
                    me.subscriptions.insert(sub.topic.clone(), sub.clone());
                }
                Some(_) => {}
            }
        }
        let before = me.subscriptions.len();
        me.subscriptions
            .retain(|topic, _| wanted.contains(topic.as_str()));
        SubscriptionChange {
            any: true,
            topics: topics || me.subscriptions.len() != before,
        }
    }
}

/// The online consumer groups' subscriptions at one moment; immutable once built.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionSnapshot {
    groups: HashMap<Arc<str>, Arc<GroupSubscriptions>>,
}

impl SubscriptionSnapshot {
    pub fn new(groups: HashMap<Arc<str>, Arc<GroupSubscriptions>>) -> Self {
        SubscriptionSnapshot { groups }
    }

    pub fn group(&self, group: &str) -> Option<&GroupSubscriptions> {
        self.groups.get(group).map(|g| &**g)
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The subscription a pull without the SUBSCRIPTION flag filters by, with Java's checks in
    /// Java's order: the group online (else SUBSCRIPTION_NOT_EXIST), then
    /// [`GroupSubscriptions::pull_subscription`].
    pub fn pull_subscription(
        &self,
        group: &str,
        topic: &str,
        pull_sub_version: i64,
        consume_broadcast_enable: bool,
    ) -> Result<&SubscriptionData, PullSubscriptionError> {
        self.group(group)
            .ok_or(PullSubscriptionError::GroupNotOnline)?
            .pull_subscription(group, topic, pull_sub_version, consume_broadcast_enable)
    }
}

/// The published snapshot: the `HeartbeatActor` stores, pull handlers load. The lock is held only
/// to clone or swap the `Arc`, never while a snapshot is used.
#[derive(Debug, Default)]
pub struct SharedSubscriptions(RwLock<Arc<SubscriptionSnapshot>>);

impl SharedSubscriptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// The current snapshot.
    pub fn load(&self) -> Arc<SubscriptionSnapshot> {
        self.0.read().clone()
    }

    /// Replace the snapshot (the old one lives on while a pull still holds it).
    pub fn store(&self, snapshot: SubscriptionSnapshot) {
        let new = Arc::new(snapshot);
        let old = std::mem::replace(&mut *self.0.write(), new);
        drop(old); // outside the lock: freeing a large snapshot does not block readers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(topic: &str, expr: &str, version: i64) -> SubscriptionData {
        SubscriptionData {
            sub_string: expr.to_string(),
            sub_version: version,
            topic: topic.to_string(),
            ..Default::default()
        }
    }

    fn group(model: MessageModel, subs: &[SubscriptionData]) -> Arc<GroupSubscriptions> {
        let mut g = Arc::new(GroupSubscriptions::default());
        GroupSubscriptions::set_message_model(&mut g, model);
        GroupSubscriptions::apply_subscriptions(&mut g, subs);
        g
    }

    fn snapshot(groups: &[(&str, Arc<GroupSubscriptions>)]) -> SubscriptionSnapshot {
        SubscriptionSnapshot::new(
            groups
                .iter()
                .map(|(n, g)| (Arc::from(*n), g.clone()))
                .collect(),
        )
    }

    #[test]
    fn checks_run_in_javas_order() {
        use PullSubscriptionError::*;
        let s = snapshot(&[
            (
                "cg",
                group(MessageModel::Clustering, &[sub("T", "a||b", 100)]),
            ),
            ("bc", group(MessageModel::Broadcasting, &[sub("T", "*", 5)])),
        ]);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.pull_subscription("none", "T", 0, true),
            Err(GroupNotOnline)
        );
        // A group that is not online fails first, whatever the other inputs.
        assert_eq!(
            s.pull_subscription("none", "U", 999, false),
            Err(GroupNotOnline)
        );
        let ok = s.pull_subscription("cg", "T", 100, false).unwrap();
        assert_eq!((ok.sub_string.as_str(), ok.sub_version), ("a||b", 100));
        assert!(s.pull_subscription("cg", "T", 0, false).is_ok());
        assert_eq!(s.pull_subscription("cg", "T", 101, true), Err(NotLatest));
        assert_eq!(s.pull_subscription("cg", "U", 0, true), Err(NotSubscribed));
        // Broadcasting is checked before the topic and the version.
        assert_eq!(
            s.pull_subscription("bc", "U", 999, false),
            Err(BroadcastForbidden("bc".into()))
        );
        assert!(s.pull_subscription("bc", "T", 5, true).is_ok());
        assert_eq!(s.pull_subscription("bc", "U", 0, true), Err(NotSubscribed));
    }

    #[test]
    fn remarks_are_javas() {
        use PullSubscriptionError::*;
        assert_eq!(
            GroupNotOnline.to_string(),
            "the consumer's group info not exist"
        );
        assert_eq!(
            BroadcastForbidden("g1".into()).to_string(),
            "the consumer group[g1] can not consume by broadcast way"
        );
        assert_eq!(
            NotSubscribed.to_string(),
            "the consumer's subscription not exist"
        );
        assert_eq!(
            NotLatest.to_string(),
            "the consumer's subscription not latest"
        );
    }

    #[test]
    fn codes_are_javas() {
        use crate::error::ServiceError;
        use crate::protocol::codes::response_code::*;
        use PullSubscriptionError::*;
        let code = |e: PullSubscriptionError| ServiceError::from(e).code();
        assert_eq!(code(GroupNotOnline), SUBSCRIPTION_NOT_EXIST);
        assert_eq!(code(NotSubscribed), SUBSCRIPTION_NOT_EXIST);
        assert_eq!(code(NotLatest), SUBSCRIPTION_NOT_LATEST);
        assert_eq!(code(BroadcastForbidden("g".into())), NO_PERMISSION);
        assert_eq!((SUBSCRIPTION_NOT_EXIST, SUBSCRIPTION_NOT_LATEST), (24, 25));
        let req = crate::protocol::RemotingCommand::request(11);
        let r = ServiceError::from(NotLatest).into_response(&req);
        assert_eq!(
            (r.code, r.remark.as_deref()),
            (25, Some("the consumer's subscription not latest"))
        );
    }

    #[test]
    fn unchanged_heartbeats_leave_the_shared_value_alone() {
        let mut g = group(
            MessageModel::Clustering,
            &[sub("T", "a", 10), sub("U", "*", 1)],
        );
        let published = g.clone();
        // Same list, or older versions: nothing changes and no copy is made.
        let same = [sub("T", "a", 10), sub("U", "*", 1)];
        assert_eq!(
            GroupSubscriptions::apply_subscriptions(&mut g, &same),
            SubscriptionChange::default()
        );
        let older = [sub("U", "*", 0), sub("T", "b", 9)];
        assert!(!GroupSubscriptions::apply_subscriptions(&mut g, &older).any);
        assert!(!GroupSubscriptions::set_message_model(
            &mut g,
            MessageModel::Clustering
        ));
        assert!(Arc::ptr_eq(&g, &published));

        // A newer version: a change but not of the topic set; the published value is untouched.
        let newer = [sub("T", "b", 11), sub("U", "*", 1)];
        let c = GroupSubscriptions::apply_subscriptions(&mut g, &newer);
        assert_eq!(
            c,
            SubscriptionChange {
                any: true,
                topics: false
            }
        );
        assert!(!Arc::ptr_eq(&g, &published));
        assert_eq!(g.subscriptions()["T"].sub_string, "b");
        assert_eq!(published.subscriptions()["T"].sub_string, "a");

        // A dropped topic and a new one change the topic set.
        let c = GroupSubscriptions::apply_subscriptions(&mut g, &[sub("V", "*", 1)]);
        assert_eq!(
            c,
            SubscriptionChange {
                any: true,
                topics: true
            }
        );
        assert_eq!(g.subscriptions().keys().collect::<Vec<_>>(), ["V"]);
        assert!(GroupSubscriptions::set_message_model(
            &mut g,
            MessageModel::Broadcasting
        ));
        assert_eq!(g.message_model(), MessageModel::Broadcasting);
        assert_eq!(published.message_model(), MessageModel::Clustering);
    }

    #[test]
    fn shared_snapshot_swaps_while_readers_keep_theirs() {
        let shared = SharedSubscriptions::new();
        let first = shared.load();
        assert!(first.is_empty());
        shared.store(snapshot(&[(
            "cg",
            group(MessageModel::Clustering, &[sub("T", "*", 1)]),
        )]));
        let second = shared.load();
        assert!(first.pull_subscription("cg", "T", 0, true).is_err());
        assert!(second.pull_subscription("cg", "T", 0, true).is_ok());
        shared.store(SubscriptionSnapshot::default());
        assert!(second.group("cg").is_some());
        assert!(shared.load().group("cg").is_none());
    }
}
