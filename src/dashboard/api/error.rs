//! `ApiError`: how a dashboard API call fails, always answered as JSON
//! `{"error": text, "code": RocketMQ response code or null, "remark": broker remark or null}`
//! with an HTTP status saying whose fault it was. The one place admin errors become HTTP.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::admin::AdminError;
use crate::client::ClientError;
use crate::protocol::codes::response_code as rc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub code: Option<i32>,
    pub remark: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    code: Option<i32>,
    remark: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            code: None,
            remark: None,
        }
    }

    /// A request the dashboard itself refuses (missing or bad parameter).
    pub fn bad_request(error: impl Into<String>) -> ApiError {
        Self::new(StatusCode::BAD_REQUEST, error)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(Body {
            error: &self.error,
            code: self.code,
            remark: self.remark.as_deref(),
        })
    }
}

/// Broker refusals keep their RocketMQ code and remark; "not found" codes are 404, NO_PERMISSION
/// 403, other refusals 400; the network failing (or a broker answering garbage) is 502.
impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> ApiError {
        let text = e.to_string();
        match e {
            AdminError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, text),
            AdminError::Invalid(_) => ApiError::bad_request(text),
            AdminError::Client(ClientError::Broker { code, remark, .. }) => {
                let status = match code {
                    rc::TOPIC_NOT_EXIST
                    | rc::SUBSCRIPTION_GROUP_NOT_EXIST
                    | rc::QUERY_NOT_FOUND => StatusCode::NOT_FOUND,
                    rc::NO_PERMISSION => StatusCode::FORBIDDEN,
                    _ => StatusCode::BAD_REQUEST,
                };
                ApiError {
                    status,
                    error: text,
                    code: Some(code),
                    remark: Some(remark),
                }
            }
            AdminError::Client(ClientError::TopicNotExist(_)) => ApiError {
                status: StatusCode::NOT_FOUND,
                error: text,
                code: Some(rc::TOPIC_NOT_EXIST),
                remark: None,
            },
            AdminError::Client(_) => ApiError::new(StatusCode::BAD_GATEWAY, text),
        }
    }
}

/// What every handler returns.
pub type ApiResult = Result<HttpResponse, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_refusals_keep_code_and_remark() {
        let e: ApiError =
            AdminError::refused(rc::TOPIC_NOT_EXIST, Some("topic[x] not exist")).into();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.code, Some(17));
        assert_eq!(e.remark.as_deref(), Some("topic[x] not exist"));
        let e: ApiError = AdminError::refused(1, Some("boom")).into();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e: ApiError = AdminError::Invalid("x".into()).into();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }
}
