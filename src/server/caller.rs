//! The [`Caller`] extractor: `Authorization: Bearer TOKEN` → who is asking.
//! A presented token that is unknown is 401 on every path.

use super::{ApiError, AppState};
use crate::auth::Caller;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(AUTHORIZATION) else {
            return Ok(Caller::Anonymous);
        };
        let text = value
            .to_str()
            .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized("expected `Authorization: Bearer TOKEN`".into())
            })?;
        state
            .tokens
            .authenticate(token)
            .ok_or_else(|| ApiError::Unauthorized("unknown token".into()))
    }
}

/// Requires a valid token (401 otherwise).
pub fn require_token(caller: &Caller) -> Result<(), ApiError> {
    if caller.is_authenticated() {
        Ok(())
    } else {
        Err(ApiError::Unauthorized("this resource needs a token".into()))
    }
}

/// Paths open even with `public_access = false`: `/health` and the web
/// page's own files (which hold no data; the page asks for a token).
fn always_public(path: &str) -> bool {
    path == "/health"
        || path == "/"
        || ["/web/", "/styles/", "/fonts/"]
            .iter()
            .any(|p| path.starts_with(p))
}

/// Middleware: a presented token that is unknown is 401 on every path,
/// public ones included; with `public_access = false` every path but
/// `/health` and the web page's files needs a token.
pub async fn reject_unknown_tokens(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (mut parts, body) = req.into_parts();
    if !state.config.public_access
        && !parts.headers.contains_key(AUTHORIZATION)
        && !always_public(parts.uri.path())
    {
        return ApiError::Unauthorized("this server is closed to anonymous access".into())
            .into_response();
    }
    if parts.headers.contains_key(AUTHORIZATION)
        && let Err(e) = Caller::from_request_parts(&mut parts, &state).await
    {
        return e.into_response();
    }
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
}
