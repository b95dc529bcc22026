//! Why an admin request failed (config updates, producer lookups, consume-queue dumps, requests
//! relayed to a client), for the broker and the name server alike. `crate::error` maps each case
//! to its RocketMQ code: a black-listed config key is NO_PERMISSION, a relayed request the
//! client did not answer in time CONSUME_MSG_TIMEOUT, the rest SYSTEM_ERROR.

use crate::config::update::UpdateError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// UPDATE_BROKER_CONFIG / UPDATE_NAMESRV_CONFIG refused (black list, unknown key, bad value).
    #[error("{0}")]
    Config(#[from] UpdateError),
    /// The accepted config could not be written to disk (nothing was applied).
    #[error("cannot persist the config: {0}")]
    Persist(String),
    /// GET_PRODUCER_CONNECTION_LIST for a group with no live producer (Java's remark).
    #[error("the producer group[{0}] not exist")]
    ProducerGroupNotExist(String),
    /// QUERY_CONSUME_QUEUE on a queue the store does not have (Java's remark).
    #[error("{queue_id}@{topic} is not exist!")]
    ConsumeQueueNotExist { topic: String, queue_id: i32 },
    /// QUERY_CONSUME_QUEUE from an index the queue does not hold (Java's remark).
    #[error("Index {index} of {queue_id}@{topic} is not exist!")]
    IndexNotExist {
        topic: String,
        queue_id: i32,
        index: i64,
    },
    /// INVOKE_BROKER_TO_RESET_OFFSET cannot be computed.
    #[error("{0}")]
    Reset(#[from] crate::actors::broker::logic::reset_offset::ResetError),
    /// A request the broker relays to a client (307, 309) got no answer: the client is not
    /// connected, its connection closed, or it did not answer in time.
    #[error("{0}")]
    ClientCall(String),
    /// The relayed request (307, 309) got no answer in time: CONSUME_MSG_TIMEOUT, as Java's
    /// `callConsumer` answers a `RemotingTimeoutException`.
    #[error("{0}")]
    ClientTimeout(String),
}

impl AdminError {
    /// Whether this is RocketMQ's NO_PERMISSION case (a black-listed key).
    pub fn is_no_permission(&self) -> bool {
        matches!(self, AdminError::Config(UpdateError::BlackListed(_)))
    }
}
