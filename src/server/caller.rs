//! Who is asking: [`authenticate`] reads the `Authorization` header once
//! per request (`Bearer TOKEN` or `Basic base64(user:TOKEN)`, see
//! [`Authentication`]) and stores the outcome in the request; the rate
//! limit, the audit log, the [`Caller`] extractor and every handler read
//! that outcome instead of the header. A presented token that is unknown is
//! 401 on every path.

use super::{ApiError, AppState};
use crate::auth::{Authentication, Caller, Denied, Refusal};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Middleware (outermost): reads the `Authorization` header into the
/// request's [`Authentication`].
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let outcome = Authentication::of(
        req.headers().get(AUTHORIZATION).map(|v| v.as_bytes()),
        &state.tokens,
    );
    req.extensions_mut().insert(outcome);
    next.run(req).await
}

/// The request's [`Authentication`] as [`authenticate`] stored it (read
/// from the header if the request did not pass through it).
pub fn authentication(parts: &Parts, state: &AppState) -> Authentication {
    match parts.extensions.get::<Authentication>() {
        Some(a) => a.clone(),
        None => Authentication::of(
            parts.headers.get(AUTHORIZATION).map(|v| v.as_bytes()),
            &state.tokens,
        ),
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        ApiError::Unauthorized(r.to_string())
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::NeedsToken(m) => ApiError::Unauthorized(m),
            Denied::OutOfScope(m) => ApiError::Forbidden(m),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(authentication(parts, state).caller()?)
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

/// The scope of a caller that must hold a token opening some grid unit:
/// 401 without a token, 403 for a token whose scope is not in the data.
pub fn require_unit_scope(
    caller: &Caller,
    store: &crate::index::Store,
) -> Result<crate::auth::Scope, ApiError> {
    require_token(caller)?;
    let scope = caller.scope(store);
    if scope == crate::auth::Scope::Nothing {
        return Err(ApiError::Forbidden("this token opens no grid unit".into()));
    }
    Ok(scope)
}

/// Paths open even with `public_access = false`: `/health` and the web
/// page's own files and basemap (which hold no data; the page asks for a
/// token).
fn always_public(path: &str) -> bool {
    path == "/health"
        || path == "/"
        || path == "/basemap.json"
        || ["/web/", "/styles/", "/fonts/", "/basemap/"]
            .iter()
            .any(|p| path.starts_with(p))
}

/// Middleware: a presented token that is unknown is 401 on every path,
/// public ones included; with `public_access = false` every path but
/// `/health` and the web page's files needs a token.
pub async fn reject_unknown_tokens(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    match authentication(&parts, &state) {
        Authentication::Refused(r) => return ApiError::from(r).into_response(),
        // An `ingest` token posts alarms and does nothing else.
        Authentication::Valid(Caller::Token {
            role: crate::auth::Role::Ingest,
            ..
        }) if !(parts.method == axum::http::Method::POST && parts.uri.path() == "/api/alarms")
            && parts.uri.path() != "/health" =>
        {
            return ApiError::Forbidden("an ingest token may only post alarms".into())
                .into_response();
        }
        Authentication::Absent
            if !state.config.public_access && !always_public(parts.uri.path()) =>
        {
            return ApiError::Unauthorized("this server is closed to anonymous access".into())
                .into_response();
        }
        _ => {}
    }
    next.run(Request::from_parts(parts, body)).await
}
