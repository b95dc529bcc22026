//! Who may change things: admin actions (POST/DELETE under `/api/`) need the configured
//! `dashboardAdminPassword`, sent as HTTP basic auth (any user name) or an `X-Admin-Password`
//! header. With no password configured they are allowed only when the dashboard binds a loopback
//! address (then only local users reach it). Reads are open. With ACL on (`aclEnable=true`)
//! admin actions need a login instead and run as the logged-in ACL account (see `login`).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::HttpRequest;

use super::api::error::ApiError;
use super::login::Sessions;
use crate::admin::AdminClient;

/// The admin-action rule of one dashboard.
#[derive(Clone)]
pub struct AdminGuard {
    pub password: Option<String>,
    pub loopback: bool,
    /// Set when ACL is on: admin actions need a logged-in session.
    pub sessions: Option<Arc<Sessions>>,
}

/// Decode the password of a `Basic base64(user:password)` header value.
fn basic_password(value: &str) -> Option<String> {
    let b64 = value.strip_prefix("Basic ")?.trim();
    let raw = base64_decode(b64)?;
    let text = String::from_utf8(raw).ok()?;
    Some(text.split_once(':')?.1.to_string())
}

/// Standard base64 (with or without padding); `None` on a bad character.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

impl AdminGuard {
    /// The admin client `req` may perform an admin action with: with ACL on, the logged-in
    /// account's (401 without a live session); else `default` once [`AdminGuard::check`] passes.
    pub fn authorize(
        &self,
        req: &HttpRequest,
        default: &AdminClient,
    ) -> Result<AdminClient, ApiError> {
        match &self.sessions {
            Some(sessions) => sessions.of(req).map(|(_, admin)| admin).ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "ACL is on: log in with an ACL account (access key and secret key) first",
                )
            }),
            None => self.check(req).map(|()| default.clone()),
        }
    }

    /// `Ok` when `req` may perform an admin action; else 401 (no or wrong password) or 403
    /// (no password configured on a non-loopback dashboard).
    pub fn check(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let Some(expected) = self.password.as_deref().filter(|p| !p.is_empty()) else {
            if self.loopback {
                return Ok(());
            }
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "admin actions are disabled: the dashboard listens on a non-loopback address and \
                 no dashboardAdminPassword is configured",
            ));
        };
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let given = header("x-admin-password")
            .or_else(|| header("authorization").and_then(|v| basic_password(&v)));
        if given.as_deref() == Some(expected) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "admin action needs the dashboard admin password (HTTP basic auth or the \
                 X-Admin-Password header)",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn passwords_and_loopback() {
        let open = AdminGuard {
            password: None,
            loopback: true,
            sessions: None,
        };
        assert!(open
            .check(&TestRequest::default().to_http_request())
            .is_ok());
        let public = AdminGuard {
            password: None,
            loopback: false,
            sessions: None,
        };
        let e = public
            .check(&TestRequest::default().to_http_request())
            .unwrap_err();
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        let locked = AdminGuard {
            password: Some("s3cret".into()),
            loopback: true,
            sessions: None,
        };
        let none = TestRequest::default().to_http_request();
        assert_eq!(
            locked.check(&none).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        // "admin:s3cret"
        let basic = TestRequest::default()
            .insert_header(("Authorization", "Basic YWRtaW46czNjcmV0"))
            .to_http_request();
        assert!(locked.check(&basic).is_ok());
        let hdr = TestRequest::default()
            .insert_header(("X-Admin-Password", "wrong"))
            .to_http_request();
        assert!(locked.check(&hdr).is_err());
    }
}
