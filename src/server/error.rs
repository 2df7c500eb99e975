//! [`ApiError`]: every HTTP error as `{"code":…,"description":…}`. 4xx say
//! what was wrong; 5xx say nothing internal.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The challenge every 401 carries: a token as `Bearer`, or as the
/// password of `Basic` credentials (what QGIS and GDAL store).
pub const WWW_AUTHENTICATE: &str = "Bearer, Basic realm=\"riskmap\"";

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a malformed parameter.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no or unknown token on a token path.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: valid token, out of scope or role.
    #[error("{0}")]
    Forbidden(String),
    /// 404: unknown path, collection, feature or code.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with the record's state.
    #[error("{0}")]
    Conflict(String),
    /// 412: `If-Match` names a state the record is no longer in.
    #[error("{0}")]
    PreconditionFailed(String),
    /// 428: a write that needs `If-Match` came without it.
    #[error("{0}")]
    PreconditionRequired(String),
    /// 500: something failed inside; logged, not shown.
    #[error("internal error")]
    Internal(String),
    /// 503 with `Retry-After`: a bounded resource is busy; try again soon.
    #[error("{0}")]
    Busy(String),
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "InvalidParameterValue",
            ApiError::Unauthorized(_) => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound(_) => "NotFound",
            ApiError::Conflict(_) => "Conflict",
            ApiError::PreconditionFailed(_) => "PreconditionFailed",
            ApiError::PreconditionRequired(_) => "PreconditionRequired",
            ApiError::Internal(_) => "InternalError",
            ApiError::Busy(_) => "ServiceUnavailable",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let status = self.status();
        let body = json!({"code": self.code(), "description": self.to_string()});
        let mut resp = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(WWW_AUTHENTICATE),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}
