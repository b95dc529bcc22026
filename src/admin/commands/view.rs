//! How commands show shared things: a message in RocketMQ's `printMsg` layout (and its `--json`
//! form), a client version number as its `MQVersion` name.

use std::collections::BTreeMap;

use serde::Serialize;

use super::format::human_ms;
use super::Ctx;
use crate::client::broker_api::PullStatus;
use crate::protocol::body::MessageQueue;
use crate::protocol::message::{properties, MessageExt};

/// `MQVersion.getVersionDesc`: `V4_9_8` for 409. Versions before 4.0.0 print as numbers.
pub fn version_desc(v: i32) -> String {
    // V4_0_0_SNAPSHOT is ordinal 212; from there each x.y.z has a SNAPSHOT and a release entry.
    const V4_0_0_SNAPSHOT: i32 = 212;
    if v < V4_0_0_SNAPSHOT {
        return v.to_string();
    }
    let idx = (v - V4_0_0_SNAPSHOT) / 2;
    let snapshot = (v - V4_0_0_SNAPSHOT) % 2 == 0;
    format!(
        "V{}_{}_{}{}",
        4 + idx / 100,
        idx / 10 % 10,
        idx % 10,
        if snapshot { "_SNAPSHOT" } else { "" }
    )
}

/// A message as `--json` prints it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub msg_id: String,
    pub offset_msg_id: String,
    pub topic: String,
    pub tags: Option<String>,
    pub keys: Option<String>,
    pub queue_id: i32,
    pub queue_offset: i64,
    pub commit_log_offset: i64,
    pub reconsume_times: i32,
    pub born_timestamp: i64,
    pub store_timestamp: i64,
    pub born_host: String,
    pub store_host: String,
    pub sys_flag: i32,
    pub properties: BTreeMap<String, String>,
    /// The body as UTF-8 (lossy).
    pub body: String,
}

impl MessageView {
    pub fn of(m: &MessageExt) -> MessageView {
        MessageView {
            msg_id: m.msg_id(),
            offset_msg_id: m.offset_msg_id(),
            topic: m.topic.clone(),
            tags: m.tags().map(str::to_string),
            keys: m.property(properties::KEYS).map(str::to_string),
            queue_id: m.queue_id,
            queue_offset: m.queue_offset,
            commit_log_offset: m.commit_log_offset,
            reconsume_times: m.reconsume_times,
            born_timestamp: m.born_timestamp,
            store_timestamp: m.store_timestamp,
            born_host: m.born_host.to_string(),
            store_host: m.store_host.to_string(),
            sys_flag: m.sys_flag,
            properties: properties::iter(&m.properties)
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: String::from_utf8_lossy(&m.body).into_owned(),
        }
    }

    /// Java's `Map.toString()` of the properties (sorted here).
    pub fn properties_text(&self) -> String {
        let kv: Vec<String> = self
            .properties
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("{{{}}}", kv.join(", "))
    }
}

/// Write the body where RocketMQ's tool does (`<tmp>/rocketmq/msgbodys/<msgId>`); the path, or
/// the reason it could not be written.
fn body_file(m: &MessageExt) -> String {
    let dir = std::env::temp_dir().join("rocketmq").join("msgbodys");
    let path = dir.join(m.msg_id());
    match std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, &m.body)) {
        Ok(()) => path.display().to_string(),
        Err(e) => format!("(not written: {e})"),
    }
}

/// The `%-20s %s` detail block of one message (Java `QueryMsgByIdSubCommand.printMsg`).
pub fn print_detail(ctx: &mut Ctx, m: &MessageExt) {
    let v = MessageView::of(m);
    let null = |o: &Option<String>| o.clone().unwrap_or_else(|| "null".into());
    let rows = [
        ("OffsetID:", v.offset_msg_id.clone()),
        ("Topic:", v.topic.clone()),
        ("Tags:", format!("[{}]", null(&v.tags))),
        ("Keys:", format!("[{}]", null(&v.keys))),
        ("Queue ID:", v.queue_id.to_string()),
        ("Queue Offset:", v.queue_offset.to_string()),
        ("CommitLog Offset:", v.commit_log_offset.to_string()),
        ("Reconsume Times:", v.reconsume_times.to_string()),
        ("Born Timestamp:", human_ms(v.born_timestamp)),
        ("Store Timestamp:", human_ms(v.store_timestamp)),
        ("Born Host:", v.born_host.clone()),
        ("Store Host:", v.store_host.clone()),
        ("System Flag:", v.sys_flag.to_string()),
        ("Properties:", v.properties_text()),
        ("Message Body Path:", body_file(m)),
    ];
    for (k, val) in rows {
        ctx.line(format!("{k:<20} {val}"));
    }
}

/// A charset a message body can be printed in (`queryMsgById -f`, Java's `Charset.forName`
/// for the charsets every JVM has that map bytes to text without tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyCharset {
    Utf8,
    Latin1,
    Ascii,
}

impl BodyCharset {
    /// By Java name or alias, case-insensitive.
    pub fn parse(name: &str) -> crate::admin::Result<Self> {
        let n = name.trim().to_ascii_uppercase().replace('_', "-");
        match n.as_str() {
            "UTF-8" | "UTF8" => Ok(BodyCharset::Utf8),
            "ISO-8859-1" | "ISO8859-1" | "LATIN1" | "ISO-LATIN-1" => Ok(BodyCharset::Latin1),
            "US-ASCII" | "ASCII" => Ok(BodyCharset::Ascii),
            _ => Err(crate::admin::AdminError::Invalid(format!(
                "charset {name} is not supported (UTF-8, ISO-8859-1 or US-ASCII)"
            ))),
        }
    }

    /// `body` as text; bytes the charset cannot map become U+FFFD, as Java's decoder does.
    pub fn decode(self, body: &[u8]) -> String {
        match self {
            BodyCharset::Utf8 => String::from_utf8_lossy(body).into_owned(),
            BodyCharset::Latin1 => body.iter().map(|&b| b as char).collect(),
            BodyCharset::Ascii => body
                .iter()
                .map(|&b| if b < 0x80 { b as char } else { '\u{FFFD}' })
                .collect(),
        }
    }
}

/// The detail block followed by the per-group track lines (or `WARN: No Consumer`).
pub async fn print_detail_and_track(ctx: &mut Ctx, m: &MessageExt) {
    print_detail_body_and_track(ctx, m, None).await
}

/// [`print_detail_and_track`] with a `Message Body:` line after the detail when `body` names a
/// charset (RocketMQ 5's `queryMsgById -f`).
pub async fn print_detail_body_and_track(ctx: &mut Ctx, m: &MessageExt, body: Option<BodyCharset>) {
    print_detail(ctx, m);
    if let Some(cs) = body {
        ctx.line(format!("{:<20} {}", "Message Body:", cs.decode(&m.body)));
    }
    match ctx.admin.message_track(m).await {
        Ok(tracks) if tracks.is_empty() => ctx.line("\n\nWARN: No Consumer"),
        Ok(tracks) => {
            ctx.line("\n");
            for t in tracks {
                ctx.line(t.to_string());
            }
        }
        Err(e) => ctx.line(format!("\n\nWARN: message track failed: {e}")),
    }
}

/// `-g group -d clientId`: have that consumer run its listener on `m` (CONSUME_MESSAGE_DIRECTLY
/// through the broker that stores it) and print the result.
pub async fn push_to_client(
    ctx: &mut Ctx,
    m: &MessageExt,
    group: &str,
    client_id: &str,
    json: bool,
) -> crate::admin::Result<()> {
    let r = ctx
        .admin
        .consume_message_directly(
            &m.store_host.to_string(),
            group,
            client_id,
            &m.offset_msg_id(),
        )
        .await?;
    if json {
        ctx.json(&r);
    } else {
        let result = serde_json::to_value(r.consume_result).expect("serializable");
        ctx.line(format!(
            "ConsumeMessageDirectlyResult [order={}, autoCommit={}, consumeResult={}, remark={}, spentTimeMills={}]",
            r.order,
            r.auto_commit,
            result.as_str().unwrap_or_default(),
            r.remark.as_deref().unwrap_or("null"),
            r.spent_time_mills
        ));
    }
    Ok(())
}

/// Java's `PullStatus` name.
pub fn pull_status_name(s: PullStatus) -> &'static str {
    match s {
        PullStatus::Found => "FOUND",
        PullStatus::NoNewMsg => "NO_NEW_MSG",
        PullStatus::NoMatchedMsg => "NO_MATCHED_MSG",
        PullStatus::OffsetIllegal => "OFFSET_ILLEGAL",
    }
}

/// Java `MessageQueue.toString()`.
pub fn mq_text(mq: &MessageQueue) -> String {
    format!(
        "MessageQueue [topic={}, brokerName={}, queueId={}]",
        mq.topic, mq.broker_name, mq.queue_id
    )
}

/// One `MSGID: <id> <MessageExt> BODY: <body>` line (Java `PrintMessageSubCommand.printMessage`).
pub fn msg_line(m: &MessageExt, print_body: bool) -> String {
    let v = MessageView::of(m);
    let ext = format!(
        "MessageExt [queueId={}, storeSize={}, queueOffset={}, sysFlag={}, bornTimestamp={}, bornHost={}, storeTimestamp={}, storeHost={}, msgId={}, commitLogOffset={}, bodyCRC={}, reconsumeTimes={}, preparedTransactionOffset={}, toString()=Message{{topic='{}', flag={}, properties={}, body=[{} bytes]}}]",
        m.queue_id, m.store_size, m.queue_offset, m.sys_flag, m.born_timestamp, v.born_host,
        m.store_timestamp, v.store_host, v.offset_msg_id, m.commit_log_offset, m.body_crc,
        m.reconsume_times, m.prepared_transaction_offset, m.topic, m.flag, v.properties_text(),
        m.body.len()
    );
    let body = if print_body {
        v.body
    } else {
        "NOT PRINT BODY".to_string()
    };
    format!("MSGID: {} {ext} BODY: {body}", v.msg_id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_names_follow_mqversion() {
        assert_eq!(super::version_desc(409), "V4_9_8");
        assert_eq!(super::version_desc(212), "V4_0_0_SNAPSHOT");
        assert_eq!(super::version_desc(413), "V5_0_0");
        assert_eq!(super::version_desc(5), "5");
    }
}

#[cfg(test)]
mod charset_tests {
    use super::BodyCharset;

    #[test]
    fn charsets_by_java_name_and_decoding() {
        assert_eq!(BodyCharset::parse("utf8").unwrap(), BodyCharset::Utf8);
        assert_eq!(
            BodyCharset::parse("ISO-8859-1").unwrap(),
            BodyCharset::Latin1
        );
        assert!(BodyCharset::parse("EBCDIC").is_err());
        assert_eq!(BodyCharset::Latin1.decode(&[0x68, 0xe9]), "h\u{e9}");
        assert_eq!(BodyCharset::Ascii.decode(&[0x68, 0xe9]), "h\u{FFFD}");
        assert_eq!(BodyCharset::Utf8.decode("h\u{e9}".as_bytes()), "h\u{e9}");
    }
}
