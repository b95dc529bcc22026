//! `RemotingClient` against an in-process name server on port 0.

use std::time::Duration;

use actormq::config::NamesrvConfig;
use actormq::protocol::RemotingCommand;
use actormq::remoting::client::{ClientError, RemotingClient};

#[actix_rt::test]
async fn calls_match_by_opaque_and_time_out_cleanly() {
    let cfg = NamesrvConfig {
        listen_addr: "127.0.0.1".into(),
        listen_port: 0,
        ..Default::default()
    };
    let ns = actormq::actors::namesrv::start(&cfg).await.unwrap();
    let addr = ns.local_addr.to_string();
    let c = RemotingClient::connect(&addr, Duration::from_secs(3), None)
        .await
        .unwrap();

    // Many concurrent calls on one connection, each answered to its own caller.
    let mut calls = Vec::new();
    for i in 0..200 {
        let c = c.clone();
        calls.push(async move {
            let mut req = RemotingCommand::request(105);
            req.set_ext("topic", format!("t{i}"));
            c.call(req, Duration::from_secs(5)).await.unwrap()
        });
    }
    for (i, r) in futures::future::join_all(calls)
        .await
        .into_iter()
        .enumerate()
    {
        assert_eq!(r.code, 17);
        assert!(r.remark.unwrap().contains(&format!("t{i}")));
    }

    // A oneway request gets no answer and does not disturb the next call.
    let mut ow = RemotingCommand::request(106);
    ow.set_ext("x", "y");
    c.oneway(ow).await.unwrap();
    let r = c
        .call(RemotingCommand::request(106), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(r.code, 0);

    // Connecting to a closed port fails with a clear error.
    let e = RemotingClient::connect("127.0.0.1:1", Duration::from_secs(1), None).await;
    assert!(matches!(e, Err(ClientError::Connect { .. })));
}
