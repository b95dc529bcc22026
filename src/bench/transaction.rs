//! `mqbench producer --transaction`: each message is sent as a half message (see
//! [`super::load::MessageFactory`]: sysFlag TRANSACTION_PREPARED, `TRAN_MSG=true`,
//! `PGROUP=<group>`) and, on its SUCCESS answer, committed with END_TRANSACTION (37, oneway) on the
//! same connection. The header is built by the client library's
//! [`end_after_send`](crate::client::transaction::end_after_send) (commit-log offset decoded from
//! the answer's offset msg id), as a [`TransactionProducer`](crate::client::transaction) does
//! after a local transaction that answered Commit. The commits are counted and printed at the
//! end of the run; the reported TPS and RT are those of the half sends.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::client::message::{MessageQueue, SendResult, SendStatus};
use crate::client::transaction::{end_after_send, LocalTransactionState};
use crate::protocol::codes::request_code;
use crate::protocol::headers::SendMessageResponseHeader;
use crate::protocol::message::properties::{self, UNIQ_KEY};
use crate::protocol::RemotingCommand;
use crate::remoting::client::RemotingClient;

/// The END_TRANSACTION commit for the half message whose request properties were `props`
/// (its UNIQ_KEY is the transaction id) and whose SUCCESS answer is `answer`.
pub fn commit_request(
    group: &str,
    topic: &str,
    props: &str,
    answer: &RemotingCommand,
) -> Result<RemotingCommand, String> {
    let h = answer
        .header::<SendMessageResponseHeader>()
        .map_err(|e| format!("send answer header: {e}"))?;
    let msg_id = properties::find(props, UNIQ_KEY)
        .ok_or("half message without UNIQ_KEY")?
        .to_string();
    let send = SendResult {
        status: SendStatus::SendOk,
        msg_id,
        offset_msg_id: h.msg_id,
        queue: MessageQueue::new(topic, "", h.queue_id),
        queue_offset: h.queue_offset,
    };
    let end =
        end_after_send(group, &send, LocalTransactionState::Commit).map_err(|e| e.to_string())?;
    Ok(RemotingCommand::request_with(
        request_code::END_TRANSACTION,
        &end,
    ))
}

/// Counts of the commits of a run.
#[derive(Debug, Default)]
pub struct Commits {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    first_error: parking_lot::Mutex<Option<String>>,
}

impl Commits {
    /// Commit the half message answered by `answer`, oneway on `c` (the broker that stored it).
    pub async fn commit(
        &self,
        c: &RemotingClient,
        group: &str,
        topic: &str,
        props: &str,
        answer: &RemotingCommand,
    ) {
        let outcome = match commit_request(group, topic, props, answer) {
            Ok(req) => c.oneway(req).await.map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {
                self.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                self.first_error.lock().get_or_insert(e);
            }
        }
    }

    /// The end-of-run line.
    pub fn line(&self) -> String {
        let mut s = format!(
            "transaction: {} END_TRANSACTION commits sent, {} failed",
            self.sent.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed)
        );
        if let Some(e) = self.first_error.lock().as_ref() {
            s.push_str(&format!(" (first: {e})"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::codes::{message_sys_flag, response_code};
    use crate::protocol::headers::EndTransactionRequestHeader;
    use crate::protocol::message::encode_offset_msg_id;

    #[test]
    fn commit_carries_the_answer_offsets_and_the_uniq_key() {
        let id = encode_offset_msg_id("127.0.0.1:10911".parse().unwrap(), 123_456);
        let h = SendMessageResponseHeader {
            msg_id: id.clone(),
            queue_id: 2,
            queue_offset: 77,
            ..Default::default()
        };
        let mut answer = RemotingCommand::request_with(response_code::SUCCESS, &h);
        answer.flag = 1; // a response
        let props =
            "bornUs\u{1}1\u{2}TRAN_MSG\u{1}true\u{2}PGROUP\u{1}PG\u{2}UNIQ_KEY\u{1}ABC\u{2}";
        let req = commit_request("PG", "T", props, &answer).unwrap();
        assert_eq!(req.code, request_code::END_TRANSACTION);
        let e = req.header::<EndTransactionRequestHeader>().unwrap();
        assert_eq!(e.producer_group, "PG");
        assert_eq!(e.tran_state_table_offset, 77);
        assert_eq!(e.commit_log_offset, 123_456);
        assert_eq!(
            e.commit_or_rollback,
            message_sys_flag::TRANSACTION_COMMIT_TYPE
        );
        assert_eq!(e.from_transaction_check, Some(false));
        assert_eq!(e.msg_id, "ABC");
        assert_eq!(e.transaction_id.as_deref(), Some("ABC"));
        assert!(commit_request("PG", "T", "bornUs\u{1}1", &answer).is_err());
    }
}
