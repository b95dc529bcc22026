//! The input rules every broker entry point applies before a name or a count reaches the store:
//! topic and group names (RocketMQ's `^[%|a-zA-Z0-9_-]+$`, topics up to 127 characters, groups up
//! to 255), queue counts (at most [`MAX_QUEUE_NUMS`] per topic) and topic permissions.
//!
//! One function per rule, each returning an [`InvalidInput`] whose text names the offending field
//! and the limit; `ServiceError` maps it to SYSTEM_ERROR as RocketMQ's `TopicValidator` does.

use std::fmt;

use thiserror::Error;

/// Longest legal topic name (RocketMQ `TopicValidator.TOPIC_MAX_LENGTH`).
pub const TOPIC_MAX_LENGTH: usize = 127;
/// Longest legal group name (RocketMQ `Validators.CHARACTER_MAX_LENGTH`).
pub const GROUP_MAX_LENGTH: usize = 255;
/// Most queues a topic may have (read or write), retry topics included. Every path that sets a
/// queue count checks it against this one limit.
pub const MAX_QUEUE_NUMS: i32 = 1024;
/// Every permission bit a topic may carry: PERM_READ | PERM_WRITE | PERM_INHERIT.
pub const PERM_MASK: i32 = 0x4 | 0x2 | 0x1;

/// What kind of name a rule was applied to (it appears in the remark).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Topic,
    Group,
}

impl NameKind {
    fn max_len(self) -> usize {
        match self {
            NameKind::Topic => TOPIC_MAX_LENGTH,
            NameKind::Group => GROUP_MAX_LENGTH,
        }
    }
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Topic => "topic",
            NameKind::Group => "group",
        })
    }
}

/// A request input that breaks one of the rules above.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidInput {
    #[error("The specified {0} is blank.")]
    BlankName(NameKind),
    #[error(
        "The specified {kind}[{name}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"
    )]
    IllegalChars { kind: NameKind, name: String },
    #[error("The specified {kind}[{name}] is longer than {kind} max length {max}.", max = kind.max_len())]
    NameTooLong { kind: NameKind, name: String },
    /// A queue count outside `min..=MAX_QUEUE_NUMS`; `field` is the request field's name.
    #[error("{field} {value} is illegal: it must be between {min} and {MAX_QUEUE_NUMS}")]
    QueueNums {
        field: &'static str,
        value: i32,
        min: i32,
    },
    #[error("perm {0} is illegal: it must combine PERM_READ(4), PERM_WRITE(2) and PERM_INHERIT(1), i.e. be between 0 and 7")]
    Perm(i32),
}

/// A legal name of `kind`: non-blank, only `[%|a-zA-Z0-9_-]`, not longer than the kind's limit.
/// Such a name is a single plain path component, so it can never leave the store directory.
pub fn check_name(kind: NameKind, name: &str) -> Result<(), InvalidInput> {
    if name.trim().is_empty() {
        return Err(InvalidInput::BlankName(kind));
    }
    let legal = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'%' | b'|' | b'_' | b'-');
    // Cap what is echoed back: the remark must stay small whatever the client sent.
    let shown = || name.chars().take(kind.max_len() + 1).collect::<String>();
    if !name.bytes().all(legal) {
        return Err(InvalidInput::IllegalChars {
            kind,
            name: shown(),
        });
    }
    if name.len() > kind.max_len() {
        return Err(InvalidInput::NameTooLong {
            kind,
            name: shown(),
        });
    }
    Ok(())
}

/// [`check_name`] for a topic.
pub fn check_topic(topic: &str) -> Result<(), InvalidInput> {
    check_name(NameKind::Topic, topic)
}

/// [`check_name`] for a consumer or producer group.
pub fn check_group(group: &str) -> Result<(), InvalidInput> {
    check_name(NameKind::Group, group)
}

/// A topic's read or write queue count: `1..=MAX_QUEUE_NUMS`.
pub fn check_queue_nums(field: &'static str, value: i32) -> Result<(), InvalidInput> {
    check_count(field, value, 1)
}

/// A group's `retryQueueNums`: `0..=MAX_QUEUE_NUMS` (0 turns retries off, as in RocketMQ).
pub fn check_retry_queue_nums(value: i32) -> Result<(), InvalidInput> {
    check_count("retryQueueNums", value, 0)
}

fn check_count(field: &'static str, value: i32, min: i32) -> Result<(), InvalidInput> {
    if (min..=MAX_QUEUE_NUMS).contains(&value) {
        Ok(())
    } else {
        Err(InvalidInput::QueueNums { field, value, min })
    }
}

/// A topic permission made only of READ, WRITE and INHERIT bits.
pub fn check_perm(perm: i32) -> Result<(), InvalidInput> {
    if perm & !PERM_MASK == 0 {
        Ok(())
    } else {
        Err(InvalidInput::Perm(perm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(check_topic("Topic_1-%|x"), Ok(()));
        assert_eq!(
            check_topic("   "),
            Err(InvalidInput::BlankName(NameKind::Topic))
        );
        for bad in ["a b", "a.b", "tö", "../x", "a/b", "..", ".", "a\0b"] {
            let e = check_topic(bad).unwrap_err();
            assert!(matches!(e, InvalidInput::IllegalChars { .. }), "{bad}");
            assert!(e.to_string().contains("illegal characters"), "{e}");
        }
        assert_eq!(check_topic(&"a".repeat(127)), Ok(()));
        let e = check_topic(&"a".repeat(128)).unwrap_err();
        assert!(e.to_string().contains("max length 127"), "{e}");
        assert_eq!(check_group(&"g".repeat(255)), Ok(()));
        let e = check_group(&"g".repeat(256)).unwrap_err();
        assert!(e.to_string().contains("group max length 255"), "{e}");
        let e = check_group("../../escaped").unwrap_err();
        assert!(e
            .to_string()
            .starts_with("The specified group[../../escaped]"));
        // The remark never echoes an unbounded name.
        let e = check_group(&format!("{}!", "x".repeat(100_000))).unwrap_err();
        assert!(e.to_string().len() < 400);
    }

    #[test]
    fn queue_counts_and_perm() {
        assert_eq!(check_queue_nums("readQueueNums", 1), Ok(()));
        assert_eq!(check_queue_nums("readQueueNums", 1024), Ok(()));
        for bad in [0, -1, 1025, i32::MAX, i32::MIN] {
            let e = check_queue_nums("writeQueueNums", bad).unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains("writeQueueNums") && text.contains("1024"),
                "{text}"
            );
        }
        assert_eq!(check_retry_queue_nums(0), Ok(()));
        assert!(check_retry_queue_nums(-1).is_err());
        assert!(check_retry_queue_nums(i32::MAX)
            .unwrap_err()
            .to_string()
            .contains("retryQueueNums"));
        for ok in 0..=7 {
            assert_eq!(check_perm(ok), Ok(()));
        }
        for bad in [-1, 8, 255, i32::MIN] {
            assert!(check_perm(bad).unwrap_err().to_string().contains("perm"));
        }
    }
}
