//! The broker's dispatch table: request code -> handler file. Runs on the connection's arbiter.
//! Counts requests in flight so a graceful shutdown can wait for them, and records each request's
//! latency (`stats::rpc`, atomics). With `aclEnable=true` every request passes the ACL check
//! (`handlers::acl::admit`, a lock-free rules load) before it is routed; the few checks that
//! need the store run around the handler (`acl::before`, `acl::after`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures::future::LocalBoxFuture;
use futures::FutureExt;

use super::context::BrokerCtx;
use super::handlers::{
    acl, admin, broker_config, broker_stats, client, client_call, clone_offset, consume_queue,
    consumer_offset, delete_group, end_transaction, epoch_cache, lock, producers, pull, query,
    queue_offset, reset_offset, role_changed, runtime_info, send, send_back, sync, topic_consumers,
    HandlerResult,
};
use super::heartbeat::ConnectionGone;
use crate::actors::net::{ConnInfo, Dispatch};
use crate::error::ServiceError;
use crate::protocol::codes::request_code as code;
use crate::protocol::RemotingCommand;

pub struct BrokerDispatch {
    ctx: Arc<BrokerCtx>,
    inflight: Arc<AtomicUsize>,
}

impl BrokerDispatch {
    pub fn new(ctx: Arc<BrokerCtx>, inflight: Arc<AtomicUsize>) -> Self {
        BrokerDispatch { ctx, inflight }
    }
}

struct InflightGuard(Arc<AtomicUsize>);

impl Drop for InflightGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn route(
    ctx: &Arc<BrokerCtx>,
    req: &RemotingCommand,
    conn: &ConnInfo,
    received: Instant,
) -> HandlerResult {
    match req.code {
        code::SEND_MESSAGE | code::SEND_MESSAGE_V2 | code::SEND_BATCH_MESSAGE => {
            send::handle(ctx, req, conn, received).await
        }
        code::PULL_MESSAGE => pull::handle(ctx, req).await,
        code::QUERY_MESSAGE => query::query(ctx, req),
        code::VIEW_MESSAGE_BY_ID => query::view(ctx, req),
        code::QUERY_CONSUMER_OFFSET => consumer_offset::query(ctx, req),
        code::UPDATE_CONSUMER_OFFSET => consumer_offset::update(ctx, req),
        code::GET_MAX_OFFSET
        | code::GET_MIN_OFFSET
        | code::SEARCH_OFFSET_BY_TIMESTAMP
        | code::GET_EARLIEST_MSG_STORETIME => queue_offset::handle(ctx, req),
        code::HEART_BEAT => client::heartbeat(ctx, req, conn).await,
        code::UNREGISTER_CLIENT => client::unregister(ctx, req, conn).await,
        code::GET_CONSUMER_LIST_BY_GROUP => client::consumer_list(ctx, req).await,
        code::CONSUMER_SEND_MSG_BACK => send_back::handle(ctx, req).await,
        code::END_TRANSACTION => end_transaction::handle(ctx, req, conn),
        code::LOCK_BATCH_MQ => lock::lock(ctx, req),
        code::UNLOCK_BATCH_MQ => lock::unlock(ctx, req),
        code::UPDATE_AND_CREATE_TOPIC => admin::create_topic(ctx, req),
        code::DELETE_TOPIC_IN_BROKER => admin::delete_topic(ctx, req),
        code::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP => admin::create_group(ctx, req),
        code::GET_ALL_TOPIC_CONFIG => admin::all_topic_config(ctx, req),
        code::GET_BROKER_RUNTIME_INFO => runtime_info::handle(ctx, req).await,
        code::GET_BROKER_EPOCH_CACHE => epoch_cache::handle(ctx, req),
        code::GET_TOPIC_STATS_INFO => admin::topic_stats(ctx, req),
        code::GET_CONSUMER_CONNECTION_LIST => admin::consumer_connections(ctx, req).await,
        code::GET_CONSUME_STATS => admin::consume_stats(ctx, req).await,
        code::VIEW_BROKER_STATS_DATA => broker_stats::view(ctx, req),
        code::GET_BROKER_CONSUME_STATS => broker_stats::broker_consume_stats(ctx, req),
        code::GET_ALL_CONSUMER_OFFSET => sync::all_consumer_offsets(ctx, req),
        code::GET_ALL_DELAY_OFFSET => sync::all_delay_offsets(ctx, req).await,
        code::GET_ALL_SUBSCRIPTIONGROUP_CONFIG => sync::all_subscription_groups(ctx, req),
        code::GET_BROKER_CONFIG => broker_config::get(ctx, req),
        code::UPDATE_BROKER_CONFIG => broker_config::update(ctx, req).await,
        code::GET_PRODUCER_CONNECTION_LIST => producers::connections(ctx, req).await,
        code::GET_ALL_PRODUCER_INFO => producers::all(ctx, req).await,
        code::DELETE_SUBSCRIPTIONGROUP => delete_group::handle(ctx, req),
        code::INVOKE_BROKER_TO_RESET_OFFSET => reset_offset::handle(ctx, req).await,
        code::QUERY_TOPIC_CONSUME_BY_WHO => topic_consumers::consume_by_who(ctx, req).await,
        code::QUERY_CONSUME_TIME_SPAN => topic_consumers::time_span_of(ctx, req),
        code::GET_SYSTEM_TOPIC_LIST_FROM_BROKER => topic_consumers::system_topics(ctx, req),
        code::QUERY_CONSUME_QUEUE => consume_queue::handle(ctx, req),
        code::CLONE_GROUP_OFFSET => clone_offset::handle(ctx, req),
        code::UPDATE_AND_CREATE_ACL_CONFIG => acl::update_account(ctx, req).await,
        code::DELETE_ACL_CONFIG => acl::delete_account(ctx, req).await,
        code::GET_BROKER_CLUSTER_ACL_INFO => acl::version_info(ctx, req),
        code::UPDATE_GLOBAL_WHITE_ADDRS_CONFIG => acl::update_global_white(ctx, req).await,
        code::GET_BROKER_CLUSTER_ACL_CONFIG => acl::config(ctx, req),
        code::NOTIFY_BROKER_ROLE_CHANGED => role_changed::handle(ctx, req),
        code::GET_CONSUMER_RUNNING_INFO | code::CONSUME_MESSAGE_DIRECTLY => {
            client_call::handle(ctx, req).await
        }
        other => Err(ServiceError::NotSupported(other)),
    }
}

impl Dispatch for BrokerDispatch {
    fn dispatch(
        &self,
        req: RemotingCommand,
        conn: &ConnInfo,
    ) -> LocalBoxFuture<'static, Option<RemotingCommand>> {
        let received = Instant::now();
        self.inflight.fetch_add(1, Ordering::AcqRel);
        let guard = InflightGuard(self.inflight.clone());
        let ctx = self.ctx.clone();
        let conn = conn.clone();
        async move {
            let _guard = guard;
            let failed = |e: ServiceError| {
                tracing::debug!(code = req.code, error = %e, "request failed");
                e.into_response(&req)
            };
            let resp = match acl::admit(&ctx, &req, &conn) {
                Ok(None) => route(&ctx, &req, &conn, received)
                    .await
                    .unwrap_or_else(failed),
                Ok(Some(key)) => match acl::before(&ctx, &req, &key) {
                    Ok(()) => {
                        let resp = route(&ctx, &req, &conn, received).await;
                        acl::after(&ctx, &req, Some(&key), resp.unwrap_or_else(failed))
                    }
                    Err(e) => failed(e),
                },
                Err(e) => failed(e),
            };
            let ms = received.elapsed().as_millis() as u64;
            ctx.stats
                .rpc
                .observe(req.code, resp.code, req.is_oneway(), ms);
            (!req.is_oneway()).then_some(resp)
        }
        .boxed_local()
    }

    fn connection_closed(&self, conn: &ConnInfo) {
        self.ctx.heartbeat.do_send(ConnectionGone(conn.id));
    }
}
