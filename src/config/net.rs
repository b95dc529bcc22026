//! Connection keys shared by the name server and the broker (flattened into both configs, so the
//! keys stay top-level as in RocketMQ's files).

use serde::{Deserialize, Serialize};

use super::{check_min, check_range, ConfigError};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetConfig {
    /// Largest frame accepted (bytes); larger closes the connection. RocketMQ: 16 MiB.
    pub frame_max_length: usize,
    /// Requests one connection may have in flight before it is answered SYSTEM_BUSY.
    pub max_inflight_per_connection: usize,
    /// Close a connection that read no request and wrote no byte for this long (s; 0 = never).
    /// RocketMQ: 120.
    pub server_channel_max_idle_time_seconds: u64,
    /// Bytes queued for one peer above which its connection stops reading requests until the
    /// peer has drained them to `writeBufferLowWaterMark`.
    pub write_buffer_high_water_mark: usize,
    pub write_buffer_low_water_mark: usize,
    /// Bytes that frames still arriving may hold across all connections; a connection whose next
    /// frame would pass it is closed.
    pub incomplete_frames_max_bytes: usize,
    /// Microseconds a network thread that ran out of work keeps watching for its next event
    /// before it sleeps (0 = sleep at once; at most 1000). Not a RocketMQ key: see
    /// `crate::idle_poll` for why (wake-ups of idle cores are dear on many VMs).
    pub idle_poll_micros: u64,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            frame_max_length: 16 * 1024 * 1024,
            max_inflight_per_connection: 1024,
            server_channel_max_idle_time_seconds: 120,
            write_buffer_high_water_mark: 4 * 1024 * 1024,
            write_buffer_low_water_mark: 2 * 1024 * 1024,
            incomplete_frames_max_bytes: 128 * 1024 * 1024,
            idle_poll_micros: 50,
        }
    }
}

impl NetConfig {
    /// `idlePollMicros` as a duration.
    pub fn idle_poll(&self) -> std::time::Duration {
        std::time::Duration::from_micros(self.idle_poll_micros)
    }

    /// The low water mark is at most the high one, and incomplete frames may hold at least one
    /// whole frame.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_range("idlePollMicros", self.idle_poll_micros, 0..=1000)?;
        check_min(
            "maxInflightPerConnection",
            self.max_inflight_per_connection,
            1,
        )?;
        check_min(
            "writeBufferHighWaterMark",
            self.write_buffer_high_water_mark,
            1,
        )?;
        check_range(
            "writeBufferLowWaterMark",
            self.write_buffer_low_water_mark,
            0..=self.write_buffer_high_water_mark,
        )?;
        check_min(
            "incompleteFramesMaxBytes",
            self.incomplete_frames_max_bytes,
            self.frame_max_length + 4,
        )
    }
}
