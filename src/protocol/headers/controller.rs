//! Controller-mode headers (RocketMQ 5, RIP-44): what brokers send to the controller (heartbeat,
//! broker id, registration, election, SyncStateSet changes) and what the controller pushes back
//! (NOTIFY_BROKER_ROLE_CHANGED). Wire keys are RocketMQ 5's field names, so a Java broker or
//! admin tool talks to our controller and our broker to a Java controller.
//!
//! Fields Java declares as boxed and nullable are `Option` here; the controller decides what an
//! absent value means (e.g. a heartbeat without `brokerId` is CONTROLLER_INVALID_REQUEST).

use super::command_header;

command_header! {
    /// BROKER_HEARTBEAT (904) request, sent by a controller-mode broker every
    /// `brokerHeartbeatInterval` to every controller.
    pub struct BrokerHeartbeatRequestHeader {
        cluster_name: String = "clusterName",
        broker_addr: String = "brokerAddr",
        broker_name: String = "brokerName",
        broker_id: Option<i64> = "brokerId",
        /// The broker's last master epoch (from its epoch file).
        epoch: Option<i32> = "epoch",
        max_offset: Option<i64> = "maxOffset",
        confirm_offset: Option<i64> = "confirmOffset",
        /// How long the controller may go without a heartbeat before the broker counts as dead.
        heartbeat_timeout_mills: Option<i64> = "heartbeatTimeoutMills",
        /// Lower is preferred in elections.
        election_priority: Option<i32> = "electionPriority",
    }
}

command_header! {
    /// CONTROLLER_ALTER_SYNC_STATE_SET (1001) request; the body is the new `SyncStateSet`.
    pub struct AlterSyncStateSetRequestHeader {
        broker_name: String = "brokerName",
        master_broker_id: i64 = "masterBrokerId",
        master_epoch: i32 = "masterEpoch",
        invoke_time: Option<i64> = "invokeTime",
    }
}

command_header! {
    /// CONTROLLER_ALTER_SYNC_STATE_SET response.
    pub struct AlterSyncStateSetResponseHeader {
        new_sync_state_set_epoch: i32 = "newSyncStateSetEpoch",
    }
}

command_header! {
    /// CONTROLLER_ELECT_MASTER (1002) request. With `designateElect` the controller makes
    /// `brokerId` the master (admin use); otherwise it elects by its policy.
    pub struct ElectMasterRequestHeader {
        cluster_name: String = "clusterName",
        broker_name: String = "brokerName",
        broker_id: i64 = "brokerId",
        designate_elect: Option<bool> = "designateElect",
        invoke_time: Option<i64> = "invokeTime",
    }
}

command_header! {
    /// CONTROLLER_ELECT_MASTER response (also filled on CONTROLLER_MASTER_STILL_EXIST).
    pub struct ElectMasterResponseHeader {
        master_broker_id: Option<i64> = "masterBrokerId",
        master_address: Option<String> = "masterAddress",
        master_epoch: Option<i32> = "masterEpoch",
        sync_state_set_epoch: Option<i32> = "syncStateSetEpoch",
    }
}

command_header! {
    /// CONTROLLER_REGISTER_BROKER (1003) request: a broker with an id announces its address.
    pub struct RegisterBrokerToControllerRequestHeader {
        cluster_name: String = "clusterName",
        broker_name: String = "brokerName",
        broker_id: i64 = "brokerId",
        broker_address: String = "brokerAddress",
        invoke_time: Option<i64> = "invokeTime",
    }
}

command_header! {
    /// CONTROLLER_REGISTER_BROKER response: the set's current master, if any.
    pub struct RegisterBrokerToControllerResponseHeader {
        cluster_name: Option<String> = "clusterName",
        broker_name: Option<String> = "brokerName",
        master_broker_id: Option<i64> = "masterBrokerId",
        master_address: Option<String> = "masterAddress",
        master_epoch: Option<i32> = "masterEpoch",
        sync_state_set_epoch: Option<i32> = "syncStateSetEpoch",
    }
}

command_header! {
    /// CONTROLLER_GET_REPLICA_INFO (1004) request.
    pub struct GetReplicaInfoRequestHeader {
        broker_name: String = "brokerName",
    }
}

command_header! {
    /// CONTROLLER_GET_REPLICA_INFO response; the body is the set's `SyncStateSet`.
    pub struct GetReplicaInfoResponseHeader {
        master_broker_id: Option<i64> = "masterBrokerId",
        master_address: Option<String> = "masterAddress",
        master_epoch: Option<i32> = "masterEpoch",
    }
}

command_header! {
    /// CONTROLLER_GET_METADATA_INFO (1005) response: who leads the controller group.
    pub struct GetMetaDataResponseHeader {
        group: Option<String> = "group",
        controller_leader_id: Option<String> = "controllerLeaderId",
        controller_leader_address: Option<String> = "controllerLeaderAddress",
        is_leader: bool = "isLeader",
        /// The peers as configured (`controllerDLegerPeers`).
        peers: Option<String> = "peers",
    }
}

command_header! {
    /// NOTIFY_BROKER_ROLE_CHANGED (1008) request, pushed by the controller to the brokers of a
    /// set after its master changed.
    pub struct NotifyBrokerRoleChangedRequestHeader {
        master_address: Option<String> = "masterAddress",
        master_epoch: i32 = "masterEpoch",
        sync_state_set_epoch: i32 = "syncStateSetEpoch",
        master_broker_id: Option<i64> = "masterBrokerId",
    }
}

command_header! {
    /// CLEAN_BROKER_DATA (1011) request (admin): forget ids of a broker set, or the whole set.
    pub struct CleanControllerBrokerDataRequestHeader {
        cluster_name: Option<String> = "clusterName",
        broker_name: String = "brokerName",
        /// `;`-separated broker ids; absent = the whole set.
        broker_controller_ids_to_clean: Option<String> = "brokerControllerIdsToClean",
        is_clean_living_broker: Option<bool> = "isCleanLivingBroker",
        invoke_time: Option<i64> = "invokeTime",
    }
}

command_header! {
    /// CONTROLLER_GET_NEXT_BROKER_ID (1012) request.
    pub struct GetNextBrokerIdRequestHeader {
        cluster_name: String = "clusterName",
        broker_name: String = "brokerName",
    }
}

command_header! {
    /// CONTROLLER_GET_NEXT_BROKER_ID response.
    pub struct GetNextBrokerIdResponseHeader {
        cluster_name: Option<String> = "clusterName",
        broker_name: Option<String> = "brokerName",
        next_broker_id: Option<i64> = "nextBrokerId",
    }
}

command_header! {
    /// CONTROLLER_APPLY_BROKER_ID (1013) request: claim `appliedBrokerId`; `registerCheckCode`
    /// (RocketMQ: `address;timestamp`) lets the same broker re-apply idempotently.
    pub struct ApplyBrokerIdRequestHeader {
        cluster_name: String = "clusterName",
        broker_name: String = "brokerName",
        applied_broker_id: i64 = "appliedBrokerId",
        register_check_code: String = "registerCheckCode",
    }
}

command_header! {
    /// CONTROLLER_APPLY_BROKER_ID response.
    pub struct ApplyBrokerIdResponseHeader {
        cluster_name: Option<String> = "clusterName",
        broker_name: Option<String> = "brokerName",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::header::{CommandHeader, ExtFields};
    use crate::protocol::ProtocolError;

    use crate::protocol::header::ext_of as ext;

    fn round_trip<H: CommandHeader + PartialEq + std::fmt::Debug>(h: &H) {
        let mut out = ExtFields::default();
        h.to_ext(&mut out);
        assert_eq!(&H::from_ext(&out).unwrap(), h);
    }

    #[test]
    fn heartbeat_reads_java_keys_and_nullable_fields() {
        let h = BrokerHeartbeatRequestHeader::from_ext(&ext(&[
            ("clusterName", "c"),
            ("brokerAddr", "127.0.0.1:10911"),
            ("brokerName", "b"),
            ("brokerId", "2"),
            ("epoch", "3"),
            ("maxOffset", "100"),
            ("heartbeatTimeoutMills", "1000"),
            ("electionPriority", "null"),
        ]))
        .unwrap();
        assert_eq!(
            (h.broker_id, h.epoch, h.max_offset),
            (Some(2), Some(3), Some(100))
        );
        assert_eq!((h.confirm_offset, h.election_priority), (None, None));
        assert_eq!(h.heartbeat_timeout_mills, Some(1000));
        round_trip(&h);
        assert_eq!(
            BrokerHeartbeatRequestHeader::from_ext(&ext(&[("clusterName", "c")])),
            Err(ProtocolError::MissingField("brokerAddr"))
        );
    }

    #[test]
    fn controller_headers_round_trip_with_java_names() {
        let alter = AlterSyncStateSetRequestHeader {
            broker_name: "b".into(),
            master_broker_id: 1,
            master_epoch: 4,
            invoke_time: Some(7),
        };
        let mut out = ExtFields::default();
        alter.to_ext(&mut out);
        assert_eq!(out.get("masterBrokerId").map(String::as_str), Some("1"));
        assert_eq!(out.get("masterEpoch").map(String::as_str), Some("4"));
        round_trip(&alter);
        round_trip(&ElectMasterRequestHeader {
            cluster_name: "c".into(),
            broker_name: "b".into(),
            broker_id: -1,
            designate_elect: Some(false),
            invoke_time: None,
        });
        round_trip(&RegisterBrokerToControllerResponseHeader {
            master_broker_id: Some(1),
            master_address: Some("a:1".into()),
            master_epoch: Some(2),
            sync_state_set_epoch: Some(3),
            ..Default::default()
        });
        round_trip(&NotifyBrokerRoleChangedRequestHeader {
            master_address: Some("a:1".into()),
            master_epoch: 2,
            sync_state_set_epoch: 5,
            master_broker_id: Some(1),
        });
        round_trip(&ApplyBrokerIdRequestHeader {
            cluster_name: "c".into(),
            broker_name: "b".into(),
            applied_broker_id: 3,
            register_check_code: "a:1;42".into(),
        });
        round_trip(&CleanControllerBrokerDataRequestHeader {
            broker_name: "b".into(),
            broker_controller_ids_to_clean: Some("1;2".into()),
            is_clean_living_broker: Some(true),
            ..Default::default()
        });
    }

    #[test]
    fn metadata_response_uses_is_leader_key() {
        let m = GetMetaDataResponseHeader {
            group: Some("g".into()),
            controller_leader_id: Some("n1".into()),
            controller_leader_address: Some("127.0.0.1:9878".into()),
            is_leader: true,
            peers: Some("n0-127.0.0.1:1;n1-127.0.0.1:2".into()),
        };
        let mut out = ExtFields::default();
        m.to_ext(&mut out);
        assert_eq!(out.get("isLeader").map(String::as_str), Some("true"));
        round_trip(&m);
        let r = GetNextBrokerIdResponseHeader::from_ext(&ext(&[("nextBrokerId", "1")])).unwrap();
        assert_eq!(r.next_broker_id, Some(1));
    }
}
