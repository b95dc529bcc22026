//! `RegisterBrokerBody`: what a broker sends the name server with REGISTER_BROKER (103).
//!
//! Two encodings exist (docs/protocol.md §4.4): plain JSON, and, when the header says `compressed`,
//! a zlib stream holding length-prefixed parts (data version JSON, a topic count, one
//! `"name read write perm filterType"` line per topic, the filter-server list JSON). Both decode
//! to the same struct; the compressed form loses `order` and `topicSysFlag`, as in RocketMQ.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use super::topic::{DataVersion, TopicConfig};
use crate::protocol::ProtocolError;

/// The largest inflated body we accept (a broker with ~100k topics fits easily).
const MAX_INFLATED: u64 = 64 * 1024 * 1024;

/// `TopicConfigSerializeWrapper`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicConfigSerializeWrapper {
    pub data_version: DataVersion,
    pub topic_config_table: BTreeMap<String, TopicConfig>,
}

/// `RegisterBrokerBody`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RegisterBrokerBody {
    pub filter_server_list: Vec<String>,
    pub topic_config_serialize_wrapper: TopicConfigSerializeWrapper,
}

fn bad(why: impl Into<String>) -> ProtocolError {
    ProtocolError::MalformedBody(format!("register-broker body: {}", why.into()))
}

impl RegisterBrokerBody {
    /// Decode either form; `compressed` comes from the request header.
    pub fn decode(body: &[u8], compressed: bool) -> Result<Self, ProtocolError> {
        if !compressed {
            if body.is_empty() {
                return Ok(Self::default());
            }
            return serde_json::from_slice(body).map_err(|e| bad(e.to_string()));
        }
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(body)
            .take(MAX_INFLATED)
            .read_to_end(&mut raw)
            .map_err(|e| bad(format!("inflate failed: {e}")))?;
        let mut cur = Cursor { buf: &raw, pos: 0 };
        let data_version: DataVersion =
            serde_json::from_slice(cur.chunk()?).map_err(|e| bad(format!("data version: {e}")))?;
        let count = cur.i32()?;
        if count < 0 {
            return Err(bad("negative topic count"));
        }
        let mut table = BTreeMap::new();
        for _ in 0..count {
            let line =
                std::str::from_utf8(cur.chunk()?).map_err(|_| bad("topic line is not UTF-8"))?;
            let t =
                parse_topic_line(line).ok_or_else(|| bad(format!("bad topic line '{line}'")))?;
            table.insert(t.topic_name.clone(), t);
        }
        let filter_server_list = if cur.pos < raw.len() {
            serde_json::from_slice(cur.chunk()?).map_err(|e| bad(format!("filter servers: {e}")))?
        } else {
            Vec::new()
        };
        Ok(RegisterBrokerBody {
            filter_server_list,
            topic_config_serialize_wrapper: TopicConfigSerializeWrapper {
                data_version,
                topic_config_table: table,
            },
        })
    }

    /// The plain JSON form.
    pub fn encode_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("serializable")
    }

    /// The compressed form (what a broker with `compressedRegister=true` sends).
    pub fn encode_compressed(&self) -> Vec<u8> {
        let mut raw = Vec::new();
        let put = |raw: &mut Vec<u8>, bytes: &[u8]| {
            raw.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
            raw.extend_from_slice(bytes);
        };
        let w = &self.topic_config_serialize_wrapper;
        put(
            &mut raw,
            &serde_json::to_vec(&w.data_version).expect("serializable"),
        );
        raw.extend_from_slice(&(w.topic_config_table.len() as i32).to_be_bytes());
        for t in w.topic_config_table.values() {
            let line = format!(
                "{} {} {} {} {}",
                t.topic_name, t.read_queue_nums, t.write_queue_nums, t.perm, t.topic_filter_type
            );
            put(&mut raw, line.as_bytes());
        }
        put(
            &mut raw,
            &serde_json::to_vec(&self.filter_server_list).expect("serializable"),
        );
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&raw).expect("in-memory write");
        enc.finish().expect("in-memory write")
    }
}

fn parse_topic_line(line: &str) -> Option<TopicConfig> {
    let parts: Vec<&str> = line.split(' ').collect();
    if parts.len() < 4 {
        return None;
    }
    Some(TopicConfig {
        topic_name: parts[0].to_string(),
        read_queue_nums: parts[1].parse().ok()?,
        write_queue_nums: parts[2].parse().ok()?,
        perm: parts[3].parse().ok()?,
        topic_filter_type: parts.get(4).unwrap_or(&"SINGLE_TAG").to_string(),
        ..Default::default()
    })
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn i32(&mut self) -> Result<i32, ProtocolError> {
        let b = self
            .buf
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| bad("truncated length"))?;
        self.pos += 4;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn chunk(&mut self) -> Result<&'a [u8], ProtocolError> {
        let len = self.i32()?;
        let len = usize::try_from(len).map_err(|_| bad("negative length"))?;
        let end = self
            .pos
            .checked_add(len)
            .ok_or_else(|| bad("length overflow"))?;
        let b = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| bad("truncated part"))?;
        self.pos = end;
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RegisterBrokerBody {
        let mut table = BTreeMap::new();
        for (name, q) in [("TopicTest", 4), ("TBW102", 8)] {
            table.insert(name.to_string(), TopicConfig::new(name, q));
        }
        RegisterBrokerBody {
            filter_server_list: vec![],
            topic_config_serialize_wrapper: TopicConfigSerializeWrapper {
                data_version: DataVersion {
                    state_version: 0,
                    counter: 12,
                    timestamp: 1_700_000_000_000,
                },
                topic_config_table: table,
            },
        }
    }

    #[test]
    fn json_form_matches_java_shape() {
        let j = r#"{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":12,"timestamp":1700000000000},
          "topicConfigTable":{"TopicTest":{"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG",
          "topicName":"TopicTest","topicSysFlag":0,"writeQueueNums":4},"TBW102":{"order":false,"perm":6,"readQueueNums":8,
          "topicFilterType":"SINGLE_TAG","topicName":"TBW102","topicSysFlag":0,"writeQueueNums":8}}}}"#;
        assert_eq!(
            RegisterBrokerBody::decode(j.as_bytes(), false).unwrap(),
            sample()
        );
    }

    #[test]
    fn compressed_form_round_trips() {
        let b = sample();
        let z = b.encode_compressed();
        assert_eq!(&z[..1], &[0x78], "zlib header");
        assert_eq!(RegisterBrokerBody::decode(&z, true).unwrap(), b);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(RegisterBrokerBody::decode(b"\x78\x9c garbage", true).is_err());
        assert!(RegisterBrokerBody::decode(b"{not json", false).is_err());
        // A valid zlib stream with a length that runs past the end.
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&[0, 0, 0, 99, b'{']).unwrap();
        assert!(RegisterBrokerBody::decode(&enc.finish().unwrap(), true).is_err());
    }
}
