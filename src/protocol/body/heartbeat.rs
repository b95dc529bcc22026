//! `HeartbeatData` (HEART_BEAT body, docs/protocol.md §4.3) and the enums it carries.
//!
//! Written like Java writes it (fastjson: getter names, alphabetical order, enums by name), but read
//! far more leniently, because real clients differ (clients.md): the C++/Python client sends the
//! enums as **ordinals**, `subVersion` as a string, and may omit `subscriptionDataSet`, `unitMode`,
//! `classFilterMode`, `tagsSet` and `codeSet`; ali-ons omits `expressionType`. So every field has a
//! default, `null` is accepted everywhere, and the enums accept a name, an ordinal or an ordinal in a
//! string. The enums are hand-rolled by one macro rather than serde-derived because serde cannot
//! take "name or number" for a unit enum.

use std::collections::BTreeSet;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fastjson::lenient;

/// Declares a Java enum mirror: variants in ordinal order with their Java names.
macro_rules! java_enum {
    ($(#[$doc:meta])* $name:ident, default $def:ident { $($variant:ident = $jname:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($variant,)*
        }

        impl $name {
            const ALL: &'static [($name, &'static str)] = &[$(($name::$variant, $jname),)*];

            /// The Java enum constant's name.
            pub fn name(self) -> &'static str {
                Self::ALL[self as usize].1
            }

            /// The Java enum constant's ordinal.
            pub fn ordinal(self) -> i32 {
                self as i32
            }

            /// Look a constant up by its Java name.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().find(|(_, n)| *n == name).map(|(v, _)| *v)
            }

            /// Look a constant up by its Java ordinal.
            pub fn from_ordinal(ordinal: i64) -> Option<Self> {
                usize::try_from(ordinal).ok().and_then(|i| Self::ALL.get(i)).map(|(v, _)| *v)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::$def
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                use serde::de::Error;
                let v = serde_json::Value::deserialize(d)?;
                let found = match &v {
                    serde_json::Value::Null => Some(Self::default()),
                    serde_json::Value::Number(n) => n.as_i64().and_then(Self::from_ordinal),
                    serde_json::Value::String(s) => {
                        let s = s.trim();
                        Self::from_name(s)
                            .or_else(|| s.parse::<i64>().ok().and_then(Self::from_ordinal))
                    }
                    _ => None,
                };
                found.ok_or_else(|| {
                    D::Error::custom(format!("{v} is not a {} name or ordinal", stringify!($name)))
                })
            }
        }
    };
}

java_enum!(
    /// `ConsumeType`: pull (`CONSUME_ACTIVELY`) or push (`CONSUME_PASSIVELY`) consumer.
    ConsumeType, default ConsumePassively {
        ConsumeActively = "CONSUME_ACTIVELY",
        ConsumePassively = "CONSUME_PASSIVELY",
    }
);

java_enum!(
    /// `MessageModel`.
    MessageModel, default Clustering {
        Broadcasting = "BROADCASTING",
        Clustering = "CLUSTERING",
    }
);

java_enum!(
    /// `ConsumeFromWhere`, including the deprecated constants (they keep the ordinals right).
    ConsumeFromWhere, default ConsumeFromLastOffset {
        ConsumeFromLastOffset = "CONSUME_FROM_LAST_OFFSET",
        ConsumeFromLastOffsetAndFromMinWhenBootFirst = "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
        ConsumeFromMinOffset = "CONSUME_FROM_MIN_OFFSET",
        ConsumeFromMaxOffset = "CONSUME_FROM_MAX_OFFSET",
        ConsumeFromFirstOffset = "CONSUME_FROM_FIRST_OFFSET",
        ConsumeFromTimestamp = "CONSUME_FROM_TIMESTAMP",
    }
);

/// `SubscriptionData`: one topic a consumer group subscribes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionData {
    #[serde(deserialize_with = "lenient::bool")]
    pub class_filter_mode: bool,
    /// Java `String.hashCode` of each tag, as computed by the client.
    #[serde(deserialize_with = "lenient::i32_set")]
    pub code_set: BTreeSet<i32>,
    /// `TAG` or `SQL92`; ali-ons omits it, which means `TAG`.
    #[serde(deserialize_with = "expression_type")]
    pub expression_type: String,
    #[serde(deserialize_with = "lenient::string")]
    pub sub_string: String,
    /// The subscription's version (client ms timestamp); a newer one replaces an older one.
    #[serde(deserialize_with = "lenient::i64")]
    pub sub_version: i64,
    #[serde(deserialize_with = "lenient::string_set")]
    pub tags_set: BTreeSet<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub topic: String,
}

/// The default expression type.
pub const EXPRESSION_TAG: &str = "TAG";

fn expression_type<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = lenient::string(d)?;
    Ok(if s.is_empty() {
        EXPRESSION_TAG.to_string()
    } else {
        s
    })
}

impl Default for SubscriptionData {
    fn default() -> Self {
        SubscriptionData {
            class_filter_mode: false,
            code_set: BTreeSet::new(),
            expression_type: EXPRESSION_TAG.to_string(),
            sub_string: String::new(),
            sub_version: 0,
            tags_set: BTreeSet::new(),
            topic: String::new(),
        }
    }
}

/// `ConsumerData`: one consumer group a client belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerData {
    pub consume_from_where: ConsumeFromWhere,
    pub consume_type: ConsumeType,
    #[serde(deserialize_with = "lenient::string")]
    pub group_name: String,
    pub message_model: MessageModel,
    #[serde(deserialize_with = "lenient::list")]
    pub subscription_data_set: Vec<SubscriptionData>,
    #[serde(deserialize_with = "lenient::bool")]
    pub unit_mode: bool,
}

/// `ProducerData`: one producer group a client belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ProducerData {
    #[serde(deserialize_with = "lenient::string")]
    pub group_name: String,
}

/// `HeartbeatData`: the HEART_BEAT body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct HeartbeatData {
    /// A JSON string (or `null`/absent, which the broker then refuses as blank): every client
    /// sends `ip@instance` text, so a number here is a broken client, not a dialect.
    #[serde(rename = "clientID", deserialize_with = "client_id")]
    pub client_id: String,
    #[serde(rename = "consumerDataSet", deserialize_with = "lenient::list")]
    pub consumer_data_set: Vec<ConsumerData>,
    #[serde(rename = "producerDataSet", deserialize_with = "lenient::list")]
    pub producer_data_set: Vec<ProducerData>,
}

fn client_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    use serde::de::Error;
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(String::new()),
        Some(serde_json::Value::String(s)) => Ok(s),
        Some(v) => Err(D::Error::custom(format!(
            "clientID must be a string, got {v}"
        ))),
    }
}

impl HeartbeatData {
    /// Decode a HEART_BEAT body: a JSON object (serde would also take an array as a struct, and
    /// `[]` would then pass as an empty heartbeat). Unknown properties are ignored.
    pub fn decode(body: &[u8]) -> Result<Self, crate::protocol::ProtocolError> {
        let malformed = |why: String| {
            crate::protocol::ProtocolError::MalformedBody(format!("heartbeat: {why}"))
        };
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => {}
            _ => return Err(malformed("the body must be a JSON object".into())),
        }
        serde_json::from_slice(body).map_err(|e| malformed(e.to_string()))
    }

    /// Encode as Java does.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("serializable")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAVA: &str = r#"{"clientID":"192.168.1.5@12345#987654321",
 "consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY",
   "groupName":"cg1","messageModel":"CLUSTERING",
   "subscriptionDataSet":[{"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG",
      "subString":"TagA","subVersion":1700000000000,"tagsSet":["TagA"],"topic":"TopicTest"},
     {"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":1700000000001,
      "tagsSet":[],"topic":"%RETRY%cg1"}],
   "unitMode":false}],
 "producerDataSet":[{"groupName":"pg1"},{"groupName":"CLIENT_INNER_PRODUCER"}]}"#;

    #[test]
    fn java_heartbeat_decodes_and_reencodes_in_java_order() {
        let h = HeartbeatData::decode(JAVA.as_bytes()).unwrap();
        assert_eq!(h.client_id, "192.168.1.5@12345#987654321");
        let c = &h.consumer_data_set[0];
        assert_eq!(c.consume_type, ConsumeType::ConsumePassively);
        assert_eq!(c.message_model, MessageModel::Clustering);
        assert_eq!(
            c.consume_from_where,
            ConsumeFromWhere::ConsumeFromLastOffset
        );
        let s = &c.subscription_data_set[0];
        assert_eq!(s.code_set, BTreeSet::from([2598919]));
        assert_eq!(s.sub_version, 1_700_000_000_000);
        assert_eq!(s.tags_set, BTreeSet::from(["TagA".to_string()]));
        assert_eq!(h.producer_data_set[1].group_name, "CLIENT_INNER_PRODUCER");
        // Our output is the Java text with the whitespace removed.
        let compact: String = JAVA.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(String::from_utf8(h.encode()).unwrap(), compact);
    }

    #[test]
    fn cpp_heartbeat_with_ordinals_string_versions_and_missing_fields() {
        let j = r#"{"clientID":"10.0.0.2@4242","consumerDataSet":[
            {"consumeFromWhere":4,"consumeType":0,"groupName":"g","messageModel":"1",
             "subscriptionDataSet":[{"subString":"a || b","subVersion":"1700000000123","topic":"T"}]},
            {"consumeFromWhere":"5","consumeType":1,"groupName":"g2","messageModel":0}],
            "producerDataSet":[]}"#;
        let h = HeartbeatData::decode(j.as_bytes()).unwrap();
        let c = &h.consumer_data_set[0];
        assert_eq!(c.consume_type, ConsumeType::ConsumeActively);
        assert_eq!(c.message_model, MessageModel::Clustering);
        assert_eq!(
            c.consume_from_where,
            ConsumeFromWhere::ConsumeFromFirstOffset
        );
        assert!(!c.unit_mode);
        let s = &c.subscription_data_set[0];
        assert_eq!(s.sub_version, 1_700_000_000_123);
        assert_eq!(s.expression_type, "TAG");
        assert!(s.code_set.is_empty() && s.tags_set.is_empty() && !s.class_filter_mode);
        let c2 = &h.consumer_data_set[1];
        assert_eq!(
            c2.consume_from_where,
            ConsumeFromWhere::ConsumeFromTimestamp
        );
        assert_eq!(c2.message_model, MessageModel::Broadcasting);
        assert!(c2.subscription_data_set.is_empty());
    }

    #[test]
    fn ali_ons_and_null_shapes() {
        let j = r#"{"clientID":"c","consumerDataSet":[{"consumeFromWhere":null,"consumeType":null,
            "groupName":"g","messageModel":null,"subscriptionDataSet":null,"unitMode":null},
            {"groupName":"g3","subscriptionDataSet":[{"classFilterMode":"false","codeSet":["65",66,null],
              "expressionType":null,"subString":"A||B","subVersion":17,"tagsSet":["A",null,"B"],"topic":"T"}]}],
            "producerDataSet":null}"#;
        let h = HeartbeatData::decode(j.as_bytes()).unwrap();
        let c = &h.consumer_data_set[0];
        assert_eq!(c.consume_type, ConsumeType::ConsumePassively);
        assert_eq!(c.message_model, MessageModel::Clustering);
        assert!(c.subscription_data_set.is_empty());
        let s = &h.consumer_data_set[1].subscription_data_set[0];
        assert_eq!(s.expression_type, "TAG");
        assert_eq!(s.code_set, BTreeSet::from([65, 66]));
        assert_eq!(s.tags_set.len(), 2);
        assert!(h.producer_data_set.is_empty());
        // jsoncpp's FastWriter ends the body with a newline; codeSet may hold atoi(tag) zeros.
        let cpp = "{\"clientID\":\"c\",\"consumerDataSet\":[{\"groupName\":\"g\",\"subscriptionDataSet\":[{\"codeSet\":[0],\"subString\":\"TagA\",\"subVersion\":\"5\",\"tagsSet\":[\"TagA\"],\"topic\":\"T\"}]}]}\n";
        let h = HeartbeatData::decode(cpp.as_bytes()).unwrap();
        assert_eq!(
            h.consumer_data_set[0].subscription_data_set[0].sub_version,
            5
        );
        // An empty body object is a valid (empty) heartbeat.
        assert_eq!(
            HeartbeatData::decode(b"{}").unwrap(),
            HeartbeatData::default()
        );
    }

    #[test]
    fn bad_enum_values_are_errors() {
        for bad in [r#""CONSUME_SOMETIMES""#, "7", "-1", r#""x""#, "true"] {
            let j = format!(r#"{{"consumerDataSet":[{{"consumeType":{bad}}}]}}"#);
            assert!(HeartbeatData::decode(j.as_bytes()).is_err(), "{bad}");
        }
        assert!(HeartbeatData::decode(b"[").is_err());
    }

    #[test]
    fn non_object_bodies_and_non_string_client_ids_are_errors() {
        for bad in [&b"[]"[..], b" [ ]", b"", b"null", b"1", b"\"x\""] {
            let e = HeartbeatData::decode(bad).unwrap_err().to_string();
            assert!(e.contains("JSON object"), "{e}");
        }
        for bad in ["1234", "12.5", "true", "[]", "{}"] {
            let j = format!(r#"{{"clientID":{bad}}}"#);
            let e = HeartbeatData::decode(j.as_bytes()).unwrap_err().to_string();
            assert!(e.contains("clientID must be a string"), "{e}");
        }
        let h = HeartbeatData::decode(br#" {"clientID":null}"#).unwrap();
        assert_eq!(h.client_id, "");
    }

    #[test]
    fn enum_names_and_ordinals_match_java() {
        assert_eq!(ConsumeFromWhere::ConsumeFromFirstOffset.ordinal(), 4);
        assert_eq!(
            ConsumeFromWhere::from_ordinal(5),
            Some(ConsumeFromWhere::ConsumeFromTimestamp)
        );
        assert_eq!(ConsumeFromWhere::from_ordinal(6), None);
        assert_eq!(MessageModel::Clustering.name(), "CLUSTERING");
        assert_eq!(MessageModel::Clustering.ordinal(), 1);
        assert_eq!(
            ConsumeType::from_name("CONSUME_ACTIVELY"),
            Some(ConsumeType::ConsumeActively)
        );
        assert_eq!(
            serde_json::to_string(&ConsumeFromWhere::ConsumeFromLastOffsetAndFromMinWhenBootFirst)
                .unwrap(),
            r#""CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST""#
        );
    }
}
