//! The message properties string (docs/protocol.md §5.4): `name\x01value` entries joined by `\x02`.
//!
//! Producers send it in the send header, the broker stores it verbatim inside the CommitLog record
//! (after adding `CLUSTER` and stripping `WAIT`), and consumers parse it back. The parser is as
//! lenient as Java's: malformed entries are skipped, never an error, because a single bad entry
//! written by some client must not make a stored message unreadable.

/// Separates a property's name from its value.
pub const NAME_VALUE_SEPARATOR: char = '\u{1}';
/// Separates two properties.
pub const PROPERTY_SEPARATOR: char = '\u{2}';
/// The longest properties string (UTF-8 bytes) the stored layout can carry (i16 length).
pub const MAX_PROPERTIES_LEN: usize = 32767;

pub const TAGS: &str = "TAGS";
pub const KEYS: &str = "KEYS";
pub const WAIT: &str = "WAIT";
pub const DELAY: &str = "DELAY";
pub const RETRY_TOPIC: &str = "RETRY_TOPIC";
pub const REAL_TOPIC: &str = "REAL_TOPIC";
pub const REAL_QID: &str = "REAL_QID";
pub const TRAN_MSG: &str = "TRAN_MSG";
pub const PGROUP: &str = "PGROUP";
pub const MIN_OFFSET: &str = "MIN_OFFSET";
pub const MAX_OFFSET: &str = "MAX_OFFSET";
pub const BUYER_ID: &str = "BUYER_ID";
pub const ORIGIN_MESSAGE_ID: &str = "ORIGIN_MESSAGE_ID";
pub const TRANSFER_FLAG: &str = "TRANSFER_FLAG";
pub const CORRECTION_FLAG: &str = "CORRECTION_FLAG";
pub const MQ2_FLAG: &str = "MQ2_FLAG";
pub const RECONSUME_TIME: &str = "RECONSUME_TIME";
pub const MSG_REGION: &str = "MSG_REGION";
pub const TRACE_ON: &str = "TRACE_ON";
pub const UNIQ_KEY: &str = "UNIQ_KEY";
pub const MAX_RECONSUME_TIMES: &str = "MAX_RECONSUME_TIMES";
pub const CONSUME_START_TIME: &str = "CONSUME_START_TIME";
pub const TRAN_PREPARED_QUEUE_OFFSET: &str = "TRAN_PREPARED_QUEUE_OFFSET";
pub const TRANSACTION_CHECK_TIMES: &str = "TRANSACTION_CHECK_TIMES";
pub const CHECK_IMMUNITY_TIME_IN_SECONDS: &str = "CHECK_IMMUNITY_TIME_IN_SECONDS";
pub const INSTANCE_ID: &str = "INSTANCE_ID";
pub const CORRELATION_ID: &str = "CORRELATION_ID";
pub const REPLY_TO_CLIENT: &str = "REPLY_TO_CLIENT";
pub const TTL: &str = "TTL";
pub const ARRIVE_TIME: &str = "ARRIVE_TIME";
pub const PUSH_REPLY_TIME: &str = "PUSH_REPLY_TIME";
pub const MSG_TYPE: &str = "MSG_TYPE";
pub const CLUSTER: &str = "CLUSTER";
pub const INNER_MULTI_DISPATCH: &str = "INNER_MULTI_DISPATCH";
pub const INNER_MULTI_QUEUE_OFFSET: &str = "INNER_MULTI_QUEUE_OFFSET";

/// Separator of several keys inside the `KEYS` property.
pub const KEY_SEPARATOR: char = ' ';

/// An ordered list of properties. Order is kept as read so that decode then encode reproduces the
/// input (Java's HashMap order is arbitrary anyway, clients never depend on it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    entries: Vec<(String, String)>,
}

impl Properties {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parse leniently: entries shorter than 3 characters or without a name separator after the
    /// first character are ignored; a later duplicate name replaces the earlier value.
    pub fn decode(s: &str) -> Self {
        let mut p = Properties::new();
        for (name, value) in iter(s) {
            p.insert(name, value);
        }
        p
    }

    /// The properties string; entries with empty names are skipped.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(
            self.entries
                .iter()
                .map(|(k, v)| k.len() + v.len() + 2)
                .sum(),
        );
        for (k, v) in &self.entries {
            if k.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push(PROPERTY_SEPARATOR);
            }
            out.push_str(k);
            out.push(NAME_VALUE_SEPARATOR);
            out.push_str(v);
        }
        out
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Set `name`, replacing an existing value in place.
    pub fn insert(&mut self, name: &str, value: &str) {
        match self.entries.iter_mut().find(|(k, _)| k == name) {
            Some(e) => e.1 = value.to_string(),
            None => self.entries.push((name.to_string(), value.to_string())),
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        let i = self.entries.iter().position(|(k, _)| k == name)?;
        Some(self.entries.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The `KEYS` property split on spaces (empty tokens dropped).
    pub fn keys(&self) -> Vec<&str> {
        self.get(KEYS)
            .map(|k| k.split(KEY_SEPARATOR).filter(|t| !t.is_empty()).collect())
            .unwrap_or_default()
    }
}

/// Iterate the well-formed `(name, value)` entries of a properties string without allocating.
pub fn iter(s: &str) -> impl Iterator<Item = (&str, &str)> {
    s.split(PROPERTY_SEPARATOR).filter_map(|entry| {
        // At least 3 characters (Java's rule); 12 bytes always hold 3 (no counting per entry).
        if entry.len() < 3 || (entry.len() < 12 && entry.chars().count() < 3) {
            return None;
        }
        match entry.find(NAME_VALUE_SEPARATOR) {
            Some(i) if i > 0 => Some((&entry[..i], &entry[i + 1..])),
            _ => None,
        }
    })
}

/// Find one property's value in a properties string without building a map (hot paths: the
/// store reads `TAGS`, `KEYS` and `UNIQ_KEY` of every appended record). Last occurrence wins, as
/// in [`Properties::decode`].
///
/// One pass matching each entry's start against `name` and the separator: such an entry is
/// well-formed by [`iter`]'s rules when `name` has 2 or more characters and no separator (it is
/// at least 3 characters, its first separator right after the name), so nothing is counted or
/// searched per entry. Other names take [`iter`]'s path.
pub fn find<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    let mut found = None;
    if name.chars().nth(1).is_none() || name.contains(NAME_VALUE_SEPARATOR) {
        for (k, v) in iter(s) {
            if k == name {
                found = Some(v);
            }
        }
        return found;
    }
    for entry in s.split(PROPERTY_SEPARATOR) {
        let value = entry
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(NAME_VALUE_SEPARATOR));
        if value.is_some() {
            found = value;
        }
    }
    found
}

/// [`find`] by way of [`iter`] (the reference it is checked against).
#[cfg(test)]
fn find_by_iter<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    iter(s).filter(|(k, _)| *k == name).last().map(|(_, v)| v)
}

/// The properties the store's dispatcher reads from every record, borrowed from the string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchProps<'a> {
    pub tags: Option<&'a str>,
    pub keys: Option<&'a str>,
    pub uniq_key: Option<&'a str>,
}

impl<'a> DispatchProps<'a> {
    /// The keys to index, without allocating: a non-empty `UNIQ_KEY`, then each non-empty
    /// space-separated `KEYS` token.
    pub fn index_keys(&self) -> impl Iterator<Item = &'a str> {
        let keys = self.keys.unwrap_or_default().split(KEY_SEPARATOR);
        self.uniq_key
            .into_iter()
            .chain(keys)
            .filter(|k| !k.is_empty())
    }
}

/// `TAGS`, `KEYS` and `UNIQ_KEY` in one pass over a properties string, with the same results as
/// three calls to [`find`] (last occurrence wins, malformed entries skipped). An entry that starts
/// with one of these names and the name separator is well-formed by [`iter`]'s rules, so no other
/// entry needs its characters counted.
pub fn dispatch_props(s: &str) -> DispatchProps<'_> {
    let mut p = DispatchProps::default();
    for entry in s.split(PROPERTY_SEPARATOR) {
        let (slot, name) = match entry.as_bytes().first() {
            Some(b'T') => (&mut p.tags, TAGS),
            Some(b'K') => (&mut p.keys, KEYS),
            Some(b'U') => (&mut p.uniq_key, UNIQ_KEY),
            _ => continue,
        };
        let value = entry
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(NAME_VALUE_SEPARATOR));
        if value.is_some() {
            *slot = value;
        }
    }
    p
}

/// Join a batch record's own properties with the batch-level ones (docs/protocol.md §5.2): the separator is added
/// only when both sides are non-empty and the first does not already end with it.
pub fn join(own: &str, batch: &str) -> String {
    let mut out = String::with_capacity(own.len() + batch.len() + 1);
    out.push_str(own);
    if !own.is_empty() && !batch.is_empty() && !own.ends_with(PROPERTY_SEPARATOR) {
        out.push(PROPERTY_SEPARATOR);
    }
    out.push_str(batch);
    out
}

/// Remove every entry named `name` from a properties string (the broker strips `WAIT`).
pub fn strip(s: &str, name: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for entry in s.split(PROPERTY_SEPARATOR) {
        let is_name = entry
            .find(NAME_VALUE_SEPARATOR)
            .is_some_and(|i| &entry[..i] == name);
        if is_name || entry.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(PROPERTY_SEPARATOR);
        }
        out.push_str(entry);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_in_insertion_order() {
        let mut p = Properties::new();
        p.insert(TAGS, "TagA");
        p.insert(KEYS, "k1 k2");
        p.insert(TAGS, "TagB");
        assert_eq!(p.encode(), "TAGS\u{1}TagB\u{2}KEYS\u{1}k1 k2");
        assert_eq!(p.keys(), vec!["k1", "k2"]);
        assert_eq!(p.remove(TAGS).as_deref(), Some("TagB"));
        assert_eq!(p.encode(), "KEYS\u{1}k1 k2");
    }

    #[test]
    fn parser_is_lenient() {
        let s = "\u{1}x\u{2}ab\u{2}A\u{1}\u{2}TAGS\u{1}t\u{2}\u{2}noseparator\u{2}K\u{1}v\u{1}w";
        let p = Properties::decode(s);
        assert_eq!(p.get(TAGS), Some("t"));
        assert_eq!(p.get("K"), Some("v\u{1}w"));
        assert_eq!(p.get("A"), None, "'A\\x01' is shorter than 3 chars");
        assert_eq!(p.len(), 2);
        assert_eq!(find(s, TAGS), Some("t"));
        assert_eq!(find(s, "nothing"), None);
    }

    #[test]
    fn join_and_strip() {
        assert_eq!(join("A\u{1}1", "B\u{1}2"), "A\u{1}1\u{2}B\u{1}2");
        assert_eq!(join("A\u{1}1\u{2}", "B\u{1}2"), "A\u{1}1\u{2}B\u{1}2");
        assert_eq!(join("", "B\u{1}2"), "B\u{1}2");
        assert_eq!(join("A\u{1}1", ""), "A\u{1}1");
        assert_eq!(
            strip("WAIT\u{1}true\u{2}TAGS\u{1}a\u{2}WAIT\u{1}x", WAIT),
            "TAGS\u{1}a"
        );
    }

    #[test]
    fn dispatch_props_in_one_pass() {
        let s = "TAGS\u{1}TagA\u{2}KEYS\u{1}k1  k2 \u{2}UNIQ_KEY\u{1}U1";
        let p = dispatch_props(s);
        assert_eq!(
            (p.tags, p.keys, p.uniq_key),
            (Some("TagA"), Some("k1  k2 "), Some("U1"))
        );
        assert_eq!(p.index_keys().collect::<Vec<_>>(), ["U1", "k1", "k2"]);
        // Missing keys, and the empty string.
        let none = dispatch_props("A\u{1}1\u{2}TAGSX\u{1}2\u{2}KEY\u{1}3\u{2}UNIQ\u{1}4");
        assert_eq!(none, DispatchProps::default());
        assert_eq!(dispatch_props(""), DispatchProps::default());
        assert_eq!(none.index_keys().count(), 0);
        // Empty values are present but yield no index key; a trailing separator is harmless.
        let empty = dispatch_props("TAGS\u{1}\u{2}KEYS\u{1}\u{2}UNIQ_KEY\u{1}\u{2}");
        assert_eq!(
            (empty.tags, empty.keys, empty.uniq_key),
            (Some(""), Some(""), Some(""))
        );
        assert_eq!(empty.index_keys().count(), 0);
        // Last occurrence wins; the value may hold the name separator; names are case-sensitive.
        let dup = dispatch_props("KEYS\u{1}a\u{2}tags\u{1}x\u{2}KEYS\u{1}b\u{1}c\u{2}\u{2}");
        assert_eq!((dup.keys, dup.tags), (Some("b\u{1}c"), None));
        assert_eq!(dup.index_keys().collect::<Vec<_>>(), ["b\u{1}c"]);
        let only_keys = dispatch_props("KEYS\u{1} x ");
        assert_eq!(only_keys.index_keys().collect::<Vec<_>>(), ["x"]);
    }

    proptest! {
        #[test]
        fn round_trip(entries in proptest::collection::vec(("[A-Z_]{2,8}", "[a-zA-Z0-9 ._-]{0,12}"), 0..8)) {
            let mut p = Properties::new();
            for (k, v) in &entries {
                p.insert(k, v);
            }
            let s = p.encode();
            prop_assert_eq!(Properties::decode(&s), p);
        }

        #[test]
        fn dispatch_props_agrees_with_find(s in "(TAGS|KEYS|UNIQ_KEY|K|T|U|x|\u{1}|\u{2}| |é){0,24}") {
            let p = dispatch_props(&s);
            prop_assert_eq!(p.tags, find(&s, TAGS));
            prop_assert_eq!(p.keys, find(&s, KEYS));
            prop_assert_eq!(p.uniq_key, find(&s, UNIQ_KEY));
        }

        #[test]
        fn find_agrees_with_iter(
            s in "(TAGS|DELAY|KEYS|K|é|éé|x|\u{1}|\u{2}| |3){0,24}",
            name in "(TAGS|DELAY|K|é|éé|x|x\u{1}|KEYS)",
        ) {
            prop_assert_eq!(find(&s, &name), find_by_iter(&s, &name));
            let decoded = Properties::decode(&s);
            prop_assert_eq!(find(&s, &name), decoded.get(&name));
        }

        #[test]
        fn never_panics(s in "\\PC{0,64}") {
            let _ = Properties::decode(&s);
            let _ = strip(&s, "X");
        }
    }
}
