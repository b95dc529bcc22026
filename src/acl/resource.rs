//! Which resources a request touches and the permission each needs: a pure function of the
//! request, as RocketMQ's `PlainAccessValidator.parse`, plus the requests RocketMQ leaves
//! unchecked (issue 14: batch and reply sends, query offsets, locks).
//!
//! Groups are `%RETRY%<group>` resources (RocketMQ's keying), topics are their names. A retry
//! topic named as a send's topic is the group it belongs to (RocketMQ takes the producer group
//! field instead, which Java's inner producer fills with `CLIENT_INNER_PRODUCER`; the topic says
//! whose retry queue is written, so we check that group).

use super::perm::{PUB, SUB};
use super::rules::{group_resource, RETRY_PREFIX};
use crate::protocol::body::{HeartbeatData, LockBatchRequestBody};
use crate::protocol::codes::request_code as code;
use crate::protocol::RemotingCommand;

/// A resource (topic name or `%RETRY%<group>`) and the perm bits it needs.
pub type Need = (String, u8);

/// Whether a resource key names a group.
pub fn is_group(resource: &str) -> bool {
    resource.starts_with(RETRY_PREFIX)
}

/// A resource as RocketMQ prints it in a denial (`topic:X` / `group:G`).
pub fn describe(resource: &str) -> String {
    match resource.strip_prefix(RETRY_PREFIX) {
        Some(g) => format!("group:{g}"),
        None => format!("topic:{resource}"),
    }
}

fn push(out: &mut Vec<Need>, resource: Option<&str>, p: u8) {
    if let Some(r) = resource.filter(|r| !r.is_empty()) {
        out.push((r.to_string(), p));
    }
}

fn push_group(out: &mut Vec<Need>, group: Option<&str>, p: u8) {
    if let Some(g) = group.filter(|g| !g.is_empty()) {
        out.push((group_resource(g), p));
    }
}

/// A send's topic: retry topics need SUB on their group, others PUB.
fn send_need(out: &mut Vec<Need>, topic: Option<&str>) {
    match topic {
        Some(t) if is_group(t) => push(out, Some(t), SUB),
        t => push(out, t, PUB),
    }
}

/// The resources `req` needs. An error is a body that cannot be read (the request is refused,
/// as RocketMQ turns a parse failure into an `AclException`).
pub fn needs(req: &RemotingCommand) -> Result<Vec<Need>, String> {
    let mut out = Vec::new();
    let ext = |k: &str| req.ext(k);
    match req.code {
        code::SEND_MESSAGE => send_need(&mut out, ext("topic")),
        code::SEND_MESSAGE_V2
        | code::SEND_BATCH_MESSAGE
        | code::SEND_REPLY_MESSAGE
        | code::SEND_REPLY_MESSAGE_V2 => send_need(&mut out, ext("b").or(ext("topic"))),
        code::CONSUMER_SEND_MSG_BACK => push_group(&mut out, ext("group"), SUB),
        code::PULL_MESSAGE => {
            push(&mut out, ext("topic"), SUB);
            push_group(&mut out, ext("consumerGroup"), SUB);
        }
        code::QUERY_MESSAGE => push(&mut out, ext("topic"), SUB),
        code::HEART_BEAT => {
            let hb = HeartbeatData::decode(&req.body).map_err(|e| e.to_string())?;
            for c in &hb.consumer_data_set {
                push_group(&mut out, Some(&c.group_name), SUB);
                for s in &c.subscription_data_set {
                    push(&mut out, Some(&s.topic), SUB);
                }
            }
        }
        // The consumer group only, as RocketMQ: producer groups are not ACL resources (a
        // producer's account has no group perms to show), so its unregister needs the signature.
        code::UNREGISTER_CLIENT => push_group(&mut out, ext("consumerGroup"), SUB),
        code::GET_CONSUMER_LIST_BY_GROUP => push_group(&mut out, ext("consumerGroup"), SUB),
        code::UPDATE_CONSUMER_OFFSET | code::QUERY_CONSUMER_OFFSET => {
            push_group(&mut out, ext("consumerGroup"), SUB);
            push(&mut out, ext("topic"), SUB);
        }
        code::LOCK_BATCH_MQ | code::UNLOCK_BATCH_MQ => {
            // Same JSON shape for both.
            let body = LockBatchRequestBody::decode(&req.body).map_err(|e| e.to_string())?;
            push_group(&mut out, Some(&body.consumer_group), SUB);
            for mq in &body.mq_set {
                push(&mut out, Some(&mq.topic), SUB);
            }
        }
        _ => {}
    }
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(code: i32, ext: &[(&str, &str)], body: &str) -> RemotingCommand {
        let mut r = RemotingCommand::request(code).with_body(body.as_bytes().to_vec());
        for (k, v) in ext {
            r.set_ext(k, v);
        }
        r
    }

    fn n(list: &[(&str, u8)]) -> Vec<Need> {
        list.iter().map(|(r, p)| (r.to_string(), *p)).collect()
    }

    #[test]
    fn sends() {
        let r = req(10, &[("topic", "T"), ("producerGroup", "pg")], "");
        assert_eq!(needs(&r).unwrap(), n(&[("T", PUB)]));
        let r = req(310, &[("b", "T2"), ("a", "pg")], "");
        assert_eq!(needs(&r).unwrap(), n(&[("T2", PUB)]));
        let r = req(320, &[("b", "T3")], "");
        assert_eq!(needs(&r).unwrap(), n(&[("T3", PUB)]));
        let r = req(
            310,
            &[("b", "%RETRY%cg"), ("a", "CLIENT_INNER_PRODUCER")],
            "",
        );
        assert_eq!(needs(&r).unwrap(), n(&[("%RETRY%cg", SUB)]));
    }

    #[test]
    fn consumer_side() {
        let r = req(11, &[("topic", "T"), ("consumerGroup", "cg")], "");
        assert_eq!(needs(&r).unwrap(), n(&[("T", SUB), ("%RETRY%cg", SUB)]));
        let r = req(36, &[("group", "cg"), ("offset", "1")], "");
        assert_eq!(needs(&r).unwrap(), n(&[("%RETRY%cg", SUB)]));
        let r = req(12, &[("topic", "T"), ("key", "k")], "");
        assert_eq!(needs(&r).unwrap(), n(&[("T", SUB)]));
        for c in [14, 15] {
            let r = req(c, &[("topic", "T"), ("consumerGroup", "cg")], "");
            assert_eq!(needs(&r).unwrap(), n(&[("%RETRY%cg", SUB), ("T", SUB)]));
        }
        let r = req(35, &[("clientID", "x"), ("consumerGroup", "cg")], "");
        assert_eq!(needs(&r).unwrap(), n(&[("%RETRY%cg", SUB)]));
        let r = req(35, &[("clientID", "x"), ("producerGroup", "pg")], "");
        assert_eq!(needs(&r).unwrap(), vec![]);
        let r = req(38, &[("consumerGroup", "cg")], "");
        assert_eq!(needs(&r).unwrap(), n(&[("%RETRY%cg", SUB)]));
    }

    #[test]
    fn bodies() {
        let hb = r#"{"clientID":"c","consumerDataSet":[{"groupName":"cg","subscriptionDataSet":[{"topic":"T"},{"topic":"%RETRY%cg"}]}],"producerDataSet":[{"groupName":"pg"}]}"#;
        let r = req(34, &[], hb);
        assert_eq!(
            needs(&r).unwrap(),
            n(&[("%RETRY%cg", SUB), ("T", SUB), ("%RETRY%cg", SUB)])
        );
        let lock = r#"{"clientId":"c","consumerGroup":"cg","mqSet":[{"topic":"T","brokerName":"b","queueId":0},{"topic":"T","brokerName":"b","queueId":1}]}"#;
        for c in [41, 42] {
            let r = req(c, &[], lock);
            assert_eq!(needs(&r).unwrap(), n(&[("%RETRY%cg", SUB), ("T", SUB)]));
        }
        assert!(needs(&req(34, &[], "[]")).is_err());
        assert!(needs(&req(41, &[], "nope")).is_err());
        assert_eq!(needs(&req(30, &[("topic", "T")], "")).unwrap(), vec![]);
        assert_eq!(describe("%RETRY%g"), "group:g");
        assert_eq!(describe("t"), "topic:t");
    }
}
