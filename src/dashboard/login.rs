//! ACL logins: with `aclEnable=true` admin actions run as an ACL account the user logs in with
//! (access key and secret key), so the brokers' rules decide what the user may do, exactly as for
//! `mqadmin` with that account. A login is checked by one signed, cheap request any account may
//! make (GET_MAX_OFFSET) to a broker: the broker verifies the signature, so a wrong secret
//! or an unknown key is refused there with RocketMQ's message. A good login gets a random session
//! token (sent back in the `X-Session` header), kept in memory and dropped after
//! [`IDLE_LIMIT`] without use; the secret never leaves the server again.
//!
//! Routes: `GET /api/session` (whether ACL is on, who is logged in), `POST /api/login`,
//! `POST /api/logout`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use parking_lot::Mutex;
use serde::Deserialize;

use super::api::error::ApiError;
use super::api::{broker_sets, ok};
use super::server::AppState;
use crate::acl::sign::Credentials;
use crate::admin::{AdminClient, AdminError};
use crate::protocol::codes::{request_code as rq, response_code as rc};
use crate::protocol::headers::GetMaxOffsetRequestHeader;
use crate::protocol::RemotingCommand;

/// A session unused this long is gone.
pub const IDLE_LIMIT: Duration = Duration::from_secs(30 * 60);
/// Sessions kept at most (the oldest is dropped first).
pub const MAX_SESSIONS: usize = 1024;
/// The request header carrying the session token.
pub const SESSION_HEADER: &str = "x-session";

struct Session {
    access_key: String,
    admin: AdminClient,
    last_used: Instant,
}

/// The logged-in accounts of one dashboard.
pub struct Sessions {
    namesrv: String,
    timeout: Duration,
    /// How the sessions' admin clients connect (the dashboard's own `tlsEnable` side).
    tls: Option<crate::tls::TlsClient>,
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    pub fn new(namesrv: &str, timeout: Duration, tls: Option<crate::tls::TlsClient>) -> Sessions {
        Sessions {
            namesrv: namesrv.to_string(),
            timeout,
            tls,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The account and admin client of the session `req` names, if it is live.
    pub fn of(&self, req: &HttpRequest) -> Option<(String, AdminClient)> {
        let token = req.headers().get(SESSION_HEADER)?.to_str().ok()?;
        let mut map = self.map.lock();
        let s = map.get_mut(token)?;
        if s.last_used.elapsed() > IDLE_LIMIT {
            map.remove(token);
            return None;
        }
        s.last_used = Instant::now();
        Some((s.access_key.clone(), s.admin.clone()))
    }

    fn insert(&self, access_key: String, admin: AdminClient) -> String {
        let token = hex::encode(rand::random::<[u8; 24]>());
        let mut map = self.map.lock();
        map.retain(|_, s| s.last_used.elapsed() <= IDLE_LIMIT);
        if map.len() >= MAX_SESSIONS {
            let oldest = map
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(t, _)| t.clone());
            if let Some(t) = oldest {
                map.remove(&t);
            }
        }
        let session = Session {
            access_key,
            admin,
            last_used: Instant::now(),
        };
        map.insert(token.clone(), session);
        token
    }

    fn remove(&self, req: &HttpRequest) {
        if let Some(t) = req
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
        {
            self.map.lock().remove(t);
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginBody {
    access_key: String,
    secret_key: String,
}

type ApiResult = Result<actix_web::HttpResponse, ApiError>;

async fn session(state: web::Data<AppState>, req: HttpRequest) -> ApiResult {
    let acl = state.guard.sessions.as_ref();
    let who = acl.and_then(|s| s.of(&req)).map(|(ak, _)| ak);
    Ok(ok(
        &serde_json::json!({ "aclEnable": acl.is_some(), "accessKey": who }),
    ))
}

async fn login(state: web::Data<AppState>, body: web::Json<LoginBody>) -> ApiResult {
    let Some(sessions) = state.guard.sessions.as_ref() else {
        return Err(ApiError::bad_request(
            "ACL is off: admin actions use the dashboard admin password",
        ));
    };
    let (ak, sk) = (body.access_key.trim(), body.secret_key.trim());
    if ak.is_empty() || sk.is_empty() {
        return Err(ApiError::bad_request(
            "accessKey and secretKey are required",
        ));
    }
    let creds = Credentials::new(ak, sk);
    let admin = AdminClient::signed(&sessions.namesrv, sessions.timeout, Some(creds))?
        .with_tls(sessions.tls.clone());
    let sets = broker_sets(&state.admin.cluster_info().await?);
    let Some((_, addr)) = sets.first() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no broker is registered to check the account against",
        ));
    };
    if let Some(refusal) = acl_refusal(&admin, addr).await? {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            format!("login refused by {addr}: {refusal}"),
        ));
    }
    let token = sessions.insert(ak.to_string(), admin);
    tracing::info!(access_key = ak, "dashboard login");
    Ok(ok(&serde_json::json!({ "token": token, "accessKey": ak })))
}

async fn logout(state: web::Data<AppState>, req: HttpRequest) -> ApiResult {
    if let Some(s) = state.guard.sessions.as_ref() {
        s.remove(&req);
    }
    Ok(ok(&serde_json::json!({ "loggedOut": true })))
}

/// The remark of RocketMQ's ACL refusals.
const ACL_EXCEPTION: &str = "org.apache.rocketmq.acl.common.AclException";

/// Ask `addr` for a queue's max offset (GET_MAX_OFFSET: any signed account may, it names no
/// group and needs no perm) signed by `admin`'s account; the broker's ACL refusal if it refused.
/// Any other answer (even an error of the request itself) means the signature was accepted.
async fn acl_refusal(admin: &AdminClient, addr: &str) -> Result<Option<String>, AdminError> {
    let h = GetMaxOffsetRequestHeader {
        topic: "TBW102".into(),
        queue_id: 0,
        bname: None,
    };
    let resp = admin
        .call(addr, RemotingCommand::request_with(rq::GET_MAX_OFFSET, &h))
        .await?;
    let remark = resp.remark.unwrap_or_default();
    Ok((resp.code == rc::SYSTEM_ERROR && remark.starts_with(ACL_EXCEPTION)).then_some(remark))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/session", web::get().to(session))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout));
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn sessions_by_token_and_logout() {
        let s = Sessions::new("127.0.0.1:9876", Duration::from_secs(1), None);
        let admin = AdminClient::new("127.0.0.1:9876").unwrap();
        let token = s.insert("ak".into(), admin);
        let with = |t: &str| {
            TestRequest::default()
                .insert_header((SESSION_HEADER, t))
                .to_http_request()
        };
        assert_eq!(s.of(&with(&token)).map(|(ak, _)| ak).as_deref(), Some("ak"));
        assert!(s.of(&with("nope")).is_none());
        assert!(s.of(&TestRequest::default().to_http_request()).is_none());
        s.remove(&with(&token));
        assert!(s.of(&with(&token)).is_none());
    }
}
