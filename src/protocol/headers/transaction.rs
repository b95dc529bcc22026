//! Transaction headers: the producer's commit/rollback (37, oneway) and the broker's check-back
//! (39, oneway, broker -> producer). Kept together because the check-back is answered by an
//! END_TRANSACTION carrying the offsets it was given.

use super::command_header;

command_header! {
    /// END_TRANSACTION (37) request.
    pub struct EndTransactionRequestHeader {
        /// Must equal the half message's `PGROUP`.
        producer_group: String = "producerGroup",
        /// The half message's queue offset (send response `queueOffset`).
        tran_state_table_offset: i64 = "tranStateTableOffset",
        /// The half message's physical offset (from the send response `msgId`).
        commit_log_offset: i64 = "commitLogOffset",
        /// 0 = unknown, 8 = commit, 12 = rollback (MessageSysFlag values).
        commit_or_rollback: i32 = "commitOrRollback",
        from_transaction_check: Option<bool> = "fromTransactionCheck",
        /// The client msg id (UNIQ_KEY).
        msg_id: String = "msgId",
        transaction_id: Option<String> = "transactionId",
        bname: Option<String> = "bname",
    }
}

command_header! {
    /// CHECK_TRANSACTION_STATE (39), broker -> producer.
    pub struct CheckTransactionStateRequestHeader {
        tran_state_table_offset: i64 = "tranStateTableOffset",
        commit_log_offset: i64 = "commitLogOffset",
        /// UNIQ_KEY of the half message.
        msg_id: Option<String> = "msgId",
        transaction_id: Option<String> = "transactionId",
        /// Offset msg id of the half message.
        offset_msg_id: Option<String> = "offsetMsgId",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::codes::message_sys_flag;
    use crate::protocol::error::ProtocolError;
    use crate::protocol::header::{CommandHeader, ExtFields};

    #[test]
    fn check_back_answer_round_trips() {
        let h = EndTransactionRequestHeader {
            producer_group: "pg".into(),
            tran_state_table_offset: 3,
            commit_log_offset: 4096,
            commit_or_rollback: message_sys_flag::TRANSACTION_COMMIT_TYPE,
            from_transaction_check: Some(true),
            msg_id: "UNIQ".into(),
            transaction_id: Some("UNIQ".into()),
            bname: None,
        };
        let mut e = ExtFields::default();
        h.to_ext(&mut e);
        assert_eq!(e.get("commitOrRollback").map(String::as_str), Some("8"));
        assert_eq!(EndTransactionRequestHeader::from_ext(&e).unwrap(), h);
        e.remove("msgId");
        assert_eq!(
            EndTransactionRequestHeader::from_ext(&e),
            Err(ProtocolError::MissingField("msgId"))
        );
    }
}
