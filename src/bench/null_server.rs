//! The TCP side of `mqbench null-broker`: a tokio listener, one task per connection reading
//! frames with the remoting codec ([`RemotingCodec`]) and writing the answers of
//! [`NullBroker::answer`] in request order. Answers are buffered while more requests are already
//! readable and flushed when the connection has nothing more to read, so a pipelined client gets
//! them in few writes. A connection that sends an undecodable frame is closed (its stream position
//! cannot be trusted), as the broker does. Runs on the runtime `src/bin/mqbench.rs` builds
//! (`--threads` workers).

use std::sync::Arc;

use futures::{FutureExt, SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;

use super::args::NullBrokerArgs;
use super::null_broker::NullBroker;
use crate::protocol::frame::{CodecError, RemotingCodec};
use crate::protocol::RemotingCommand;

/// Bind `args.listen`, call `ready` with the bound address, then serve until the process ends.
pub async fn run(args: NullBrokerArgs, ready: impl FnOnce(String)) -> Result<(), String> {
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("bind {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let broker = Arc::new(NullBroker::new(addr, args.size)?);
    ready(format!("null-broker listening on {addr}"));
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(broker.clone(), stream));
            }
            // Out of file descriptors and the like: the connection is lost, the listener is not.
            Err(e) => {
                eprintln!("null-broker: accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// Answer the requests of one connection, in order, until it closes or sends a bad frame.
async fn serve(broker: Arc<NullBroker>, stream: TcpStream) {
    if let Err(e) = answer_all(&broker, Framed::new(stream, RemotingCodec::default())).await {
        if !matches!(e, CodecError::Io(_)) {
            eprintln!("null-broker: closing a connection: {e}");
        }
    }
}

async fn flush(conn: &mut Framed<TcpStream, RemotingCodec>) -> Result<(), CodecError> {
    SinkExt::<RemotingCommand>::flush(conn).await
}

async fn answer_all(
    broker: &NullBroker,
    mut conn: Framed<TcpStream, RemotingCodec>,
) -> Result<(), CodecError> {
    loop {
        // A request already readable is answered into the buffer; otherwise flush, then wait.
        let next = match conn.next().now_or_never() {
            Some(next) => next,
            None => {
                flush(&mut conn).await?;
                conn.next().await
            }
        };
        let Some(req) = next else {
            return flush(&mut conn).await;
        };
        if let Some(resp) = broker.answer(&req?) {
            conn.feed(resp).await?;
        }
    }
}
