//! Queue allocation strategies of a clustering consumer group (docs/protocol.md §7.6). Pure functions
//! over the sorted queue and client-id lists, written to give exactly the Java client's results
//! (`AllocateMessageQueueAveragely`, `AllocateMessageQueueAveragelyByCircle`), so a group mixing
//! this client with Java/C++/Go members splits the queues without overlap or gaps.

use crate::protocol::body::MessageQueue;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AllocateStrategy {
    /// Contiguous blocks; the first `n mod c` clients get one extra queue.
    #[default]
    Averagely,
    /// Queue `i` goes to client `i mod c`.
    AveragelyByCircle,
}

impl AllocateStrategy {
    pub fn name(self) -> &'static str {
        match self {
            AllocateStrategy::Averagely => "AVG",
            AllocateStrategy::AveragelyByCircle => "AVG_BY_CIRCLE",
        }
    }

    /// The queues `current` owns. Both lists must already be sorted (callers use [`sorted`]); an
    /// unknown `current` owns nothing.
    pub fn allocate(
        self,
        current: &str,
        mq_all: &[MessageQueue],
        cid_all: &[String],
    ) -> Vec<MessageQueue> {
        let Some(index) = cid_all.iter().position(|c| c == current) else {
            return Vec::new();
        };
        if mq_all.is_empty() {
            return Vec::new();
        }
        let (n, c) = (mq_all.len(), cid_all.len());
        match self {
            AllocateStrategy::Averagely => {
                let m = n % c;
                let size = if n <= c {
                    1
                } else if m > 0 && index < m {
                    n / c + 1
                } else {
                    n / c
                };
                let start = if m > 0 && index < m {
                    index * size
                } else {
                    index * size + m
                };
                let range = size.min(n.saturating_sub(start));
                (0..range)
                    .map(|i| mq_all[(start + i) % n].clone())
                    .collect()
            }
            AllocateStrategy::AveragelyByCircle => {
                (index..n).step_by(c).map(|i| mq_all[i].clone()).collect()
            }
        }
    }
}

/// Sort queues (topic, broker name, queue id) and client ids (string order) as Java does.
pub fn sorted(
    mut mqs: Vec<MessageQueue>,
    mut cids: Vec<String>,
) -> (Vec<MessageQueue>, Vec<String>) {
    mqs.sort();
    mqs.dedup();
    cids.sort();
    cids.dedup();
    (mqs, cids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mqs(n: i32) -> Vec<MessageQueue> {
        (0..n)
            .map(|i| MessageQueue::new("T", "broker-a", i))
            .collect()
    }
    fn cids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("cid-{i}")).collect()
    }
    fn ids(s: AllocateStrategy, me: usize, n: i32, c: usize) -> Vec<i32> {
        s.allocate(&format!("cid-{me}"), &mqs(n), &cids(c))
            .iter()
            .map(|q| q.queue_id)
            .collect()
    }

    #[test]
    fn averagely_matches_the_java_examples() {
        use AllocateStrategy::Averagely as A;
        // 8 queues, 3 consumers: 3 + 3 + 2 (Java: mod 2 -> first two get 3).
        assert_eq!(ids(A, 0, 8, 3), vec![0, 1, 2]);
        assert_eq!(ids(A, 1, 8, 3), vec![3, 4, 5]);
        assert_eq!(ids(A, 2, 8, 3), vec![6, 7]);
        // 4 queues, 3 consumers: 2 + 1 + 1.
        assert_eq!(ids(A, 0, 4, 3), vec![0, 1]);
        assert_eq!(ids(A, 1, 4, 3), vec![2]);
        assert_eq!(ids(A, 2, 4, 3), vec![3]);
        // More consumers than queues: the extra ones get nothing.
        assert_eq!(ids(A, 1, 2, 4), vec![1]);
        assert!(ids(A, 3, 2, 4).is_empty());
        // Even split.
        assert_eq!(ids(A, 1, 8, 2), vec![4, 5, 6, 7]);
    }

    #[test]
    fn by_circle_matches_the_java_examples() {
        use AllocateStrategy::AveragelyByCircle as C;
        assert_eq!(ids(C, 0, 8, 3), vec![0, 3, 6]);
        assert_eq!(ids(C, 1, 8, 3), vec![1, 4, 7]);
        assert_eq!(ids(C, 2, 8, 3), vec![2, 5]);
        assert!(ids(C, 3, 2, 4).is_empty());
    }

    #[test]
    fn every_split_is_a_disjoint_cover() {
        for s in [
            AllocateStrategy::Averagely,
            AllocateStrategy::AveragelyByCircle,
        ] {
            for n in 0..20 {
                for c in 1..8 {
                    let mut all: Vec<i32> = (0..c).flat_map(|me| ids(s, me, n, c)).collect();
                    all.sort();
                    assert_eq!(all, (0..n).collect::<Vec<_>>(), "{s:?} n={n} c={c}");
                }
            }
        }
        assert!(AllocateStrategy::Averagely
            .allocate("stranger", &mqs(4), &cids(2))
            .is_empty());
    }

    #[test]
    fn sorting_is_by_broker_then_queue_and_by_string() {
        let (q, c) = sorted(
            vec![
                MessageQueue::new("T", "b", 0),
                MessageQueue::new("T", "a", 1),
                MessageQueue::new("T", "a", 0),
            ],
            vec!["10.0.0.2@x".into(), "10.0.0.10@y".into()],
        );
        assert_eq!(
            q.iter()
                .map(|m| (m.broker_name.as_str(), m.queue_id))
                .collect::<Vec<_>>(),
            vec![("a", 0), ("a", 1), ("b", 0)]
        );
        assert_eq!(c, vec!["10.0.0.10@y".to_string(), "10.0.0.2@x".to_string()]);
    }
}
