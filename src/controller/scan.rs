//! The liveness scan (RocketMQ 5 `scanNotActiveBroker`): every `scanNotActiveBrokerInterval`,
//! and at once when a broker's connection closes (so a killed master is replaced in well under a
//! second rather than at the next tick), drop brokers whose heartbeats stopped; on the leader, elect a new master for every set whose
//! master is gone while another member lives. A master this node saw go away (timeout or closed
//! connection) is dead at once; one it never heard from is taken as dead only once the node has
//! been up longer than the set's heartbeat timeout (right after a start it may just not have
//! heard it yet).

use std::sync::Arc;
use std::time::Duration;

use super::node::Controller;
use super::plan;
use crate::clock::now_ms;

impl Controller {
    /// The scan loop (runs on the controller's runtime until the process ends).
    pub(super) async fn scan_loop(self: Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = self.scan_now.notified() => {}
            }
            for (name, id) in self.live.lock().expire(now_ms()) {
                tracing::info!(broker = %name, id, "broker inactive: heartbeat timed out");
            }
            if self.is_leader() {
                self.reelect().await;
            }
        }
    }

    /// Elect for the sets whose master is gone.
    async fn reelect(self: &Arc<Self>) {
        let uptime = now_ms() - self.started_ms;
        let due = self.read(|s| {
            let mut live = self.live.lock();
            let live = live.at(now_ms());
            plan::needs_reelect(s, live)
                .into_iter()
                .filter(|name| {
                    let master = s.set(name).and_then(|set| set.master).unwrap_or(-1);
                    live.seen_gone(name, master)
                        || live.max_timeout(name).is_some_and(|t| uptime > t)
                })
                .collect::<Vec<_>>()
        });
        let Ok(due) = due.await else {
            return;
        };
        for name in due {
            match super::handlers::elect(self, &name, -1, false).await {
                Ok(Ok(set)) => tracing::info!(
                    broker = %name, master = ?set.master, epoch = set.master_epoch,
                    "master inactive: elected a new one"
                ),
                Ok(Err(_)) => {}
                Err(e) => {
                    tracing::warn!(broker = %name, error = %e, "master inactive: election failed")
                }
            }
        }
    }
}
