//! Tag filtering (docs/protocol.md §4.3, §5.7).
//!
//! A pull is filtered twice: first by the consume queue's 32-bit tag hash (cheap, no commit-log
//! read), then by the exact tag string on the message (hash collisions). [`TagFilter`] answers both
//! questions from one parsed expression. The filter is rebuilt from `subString` rather than trusting
//! the client's `codeSet`, because the C++/Python client omits `codeSet` or fills it with
//! `atoi(tag)` instead of the Java hash, and would otherwise match nothing; for Java clients the
//! result is identical.
//!
//! The tag hash is the one the store writes into consume-queue units (`protocol::message`).

use std::collections::BTreeSet;

use crate::protocol::body::heartbeat::EXPRESSION_TAG;
use crate::protocol::body::SubscriptionData;

/// The "everything" expression.
pub const SUB_ALL: &str = "*";

pub use crate::protocol::message::{java_string_hash as java_hash, tags_code};

/// A parsed TAG expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagFilter {
    /// `*` or empty: every message.
    All,
    /// Only messages with one of these tags (an empty set matches nothing, as in Java).
    Tags {
        tags: BTreeSet<String>,
        codes: BTreeSet<i32>,
    },
}

impl TagFilter {
    /// Parse `*`/empty as all, otherwise split on `||`, trim, and drop empty parts.
    pub fn parse(expression: &str) -> TagFilter {
        let e = expression.trim();
        if e.is_empty() || e == SUB_ALL {
            return TagFilter::All;
        }
        let tags: BTreeSet<String> = e
            .split("||")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        let codes = tags.iter().map(|t| java_hash(t)).collect();
        TagFilter::Tags { tags, codes }
    }

    /// The filter of a registered subscription; `None` for a non-TAG (SQL92) expression.
    pub fn from_subscription(sub: &SubscriptionData) -> Option<TagFilter> {
        let ty = sub.expression_type.trim();
        if ty.is_empty() || ty.eq_ignore_ascii_case(EXPRESSION_TAG) {
            Some(TagFilter::parse(&sub.sub_string))
        } else {
            None
        }
    }

    pub fn is_all(&self) -> bool {
        matches!(self, TagFilter::All)
    }

    /// The first check: does a consume-queue unit's tags code (low 32 bits) pass?
    pub fn matches_code(&self, tags_code: i64) -> bool {
        match self {
            TagFilter::All => true,
            TagFilter::Tags { codes, .. } => codes.contains(&(tags_code as i32)),
        }
    }

    /// The exact check on the message's TAGS property.
    pub fn matches_tag(&self, tag: Option<&str>) -> bool {
        match self {
            TagFilter::All => true,
            TagFilter::Tags { tags, .. } => tag.is_some_and(|t| tags.contains(t)),
        }
    }
}

/// Build the `SubscriptionData` a Java client would send for `topic` and `expression` (used when a
/// pull carries its own subscription, PullSysFlag SUBSCRIPTION).
pub fn build_subscription(topic: &str, expression: &str, sub_version: i64) -> SubscriptionData {
    let filter = TagFilter::parse(expression);
    let (sub_string, tags_set, code_set) = match filter {
        TagFilter::All => (SUB_ALL.to_string(), BTreeSet::new(), BTreeSet::new()),
        TagFilter::Tags { tags, codes } => (expression.to_string(), tags, codes),
    };
    SubscriptionData {
        code_set,
        sub_string,
        sub_version,
        tags_set,
        topic: topic.to_string(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_matches_known_values() {
        assert_eq!(java_hash(""), 0);
        assert_eq!(java_hash("TagA"), 2598919); // docs/protocol.md §5.7 example
        assert_eq!(java_hash("hello"), 99162322);
        // Wrapping and a non-BMP char (two UTF-16 units): "Aa" and "BB" collide in Java.
        assert_eq!(java_hash("Aa"), java_hash("BB"));
        assert_eq!(java_hash("polygenelubricants"), i32::MIN);
        assert_eq!(java_hash("😀"), 0xD83D * 31 + 0xDE00);
        assert_eq!(tags_code(Some("polygenelubricants")), i32::MIN as i64);
        assert_eq!(tags_code(None), 0);
        assert_eq!(tags_code(Some("")), 0);
    }

    #[test]
    fn parse_rules() {
        assert!(TagFilter::parse("*").is_all());
        assert!(TagFilter::parse("").is_all());
        assert!(TagFilter::parse("  * ").is_all());
        let TagFilter::Tags { tags, codes } = TagFilter::parse(" a || b |||| c||") else {
            panic!("not tags")
        };
        assert_eq!(tags.into_iter().collect::<Vec<_>>(), vec!["a", "b", "c"]);
        assert!(codes.contains(&java_hash("a")));
        // Nothing left after dropping empties: matches nothing (Java's behaviour).
        let none = TagFilter::parse("||");
        assert!(!none.is_all());
        assert!(!none.matches_code(0) && !none.matches_tag(Some("x")));
    }

    #[test]
    fn matching_by_code_and_by_tag() {
        let f = TagFilter::parse("TagA||TagB");
        assert!(f.matches_code(java_hash("TagA") as i64));
        // Only the low 32 bits count (the CQ stores the code sign-extended).
        assert!(f.matches_code(java_hash("TagB") as i64 & 0xFFFF_FFFF));
        assert!(
            !f.matches_code(0),
            "an untagged message does not match a tag filter"
        );
        assert!(!f.matches_code(java_hash("TagC") as i64));
        // A hash collision passes the first check and fails the second.
        let g = TagFilter::parse("Aa");
        assert!(g.matches_code(java_hash("BB") as i64));
        assert!(!g.matches_tag(Some("BB")));
        assert!(g.matches_tag(Some("Aa")));
        assert!(!g.matches_tag(None));
        assert!(TagFilter::All.matches_tag(None) && TagFilter::All.matches_code(12345));
    }

    #[test]
    fn from_subscription_ignores_client_codes_and_rejects_sql() {
        let mut s = SubscriptionData {
            sub_string: "TagA".into(),
            ..Default::default()
        };
        // No codeSet from a C++ client: still filters correctly.
        assert!(TagFilter::from_subscription(&s)
            .unwrap()
            .matches_code(java_hash("TagA") as i64));
        s.expression_type = "tag".into();
        assert!(TagFilter::from_subscription(&s).is_some());
        s.expression_type = "SQL92".into();
        assert!(TagFilter::from_subscription(&s).is_none());
    }

    #[test]
    fn build_subscription_like_java_filter_api() {
        let s = build_subscription("T", "TagA || TagB", 7);
        assert_eq!(s.sub_string, "TagA || TagB");
        assert_eq!(s.tags_set.len(), 2);
        assert!(s.code_set.contains(&2598919));
        assert_eq!(s.expression_type, "TAG");
        let all = build_subscription("T", "", 8);
        assert_eq!(all.sub_string, "*");
        assert!(all.tags_set.is_empty() && all.code_set.is_empty());
        assert_eq!(all.sub_version, 8);
    }
}
