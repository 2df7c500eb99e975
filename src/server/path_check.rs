//! Middleware: a request path that is not UTF-8 once percent-decoded. On a
//! path that needs a token an anonymous caller gets 401 (authentication is
//! checked before anything else) and a grid manager 403 (scope before
//! parameters, as for any code outside its scope); otherwise 400 JSON,
//! before any handler's path extractor answers it in its own words.

use super::{ApiError, AppState};
use crate::auth::{Caller, Role};
use crate::model::LayerId;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;

fn decodes(text: &str) -> bool {
    percent_decode_str(text).decode_utf8().is_ok()
}

/// Whether `path` (raw, percent-encoded) needs a token whatever its
/// parameters: the grid managers' API, reload, and the private OGC
/// collections.
pub fn needs_token(path: &str) -> bool {
    if path.starts_with("/api/cells")
        || path.starts_with("/api/admin")
        || path.starts_with("/api/hidden-dangers")
        || path.starts_with("/api/alarms")
    {
        return true;
    }
    path.strip_prefix("/ogc/collections/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|id| {
            percent_decode_str(id)
                .decode_utf8()
                .ok()?
                .parse::<LayerId>()
                .ok()
        })
        .is_some_and(LayerId::is_private)
}

/// The middleware.
pub async fn check_path(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if decodes(req.uri().path()) {
        return next.run(req).await;
    }
    let (mut parts, _body) = req.into_parts();
    let caller = Caller::from_request_parts(&mut parts, &state).await;
    if let Err(e) = caller {
        return e.into_response();
    }
    let role = caller.ok().and_then(|c| c.role());
    let path = parts.uri.path();
    if needs_token(path) {
        match role {
            None => {
                return ApiError::Unauthorized("this resource needs a token".into())
                    .into_response();
            }
            // Scope and role come before parameters: a grid manager's code
            // or private id that cannot be read is outside its scope, and
            // reload is for admins only.
            Some(Role::GridManager) => {
                return ApiError::Forbidden("outside this token's grid unit".into())
                    .into_response();
            }
            Some(r) if path.starts_with("/api/admin") && r != Role::Admin => {
                return ApiError::Forbidden("this needs an admin token".into()).into_response();
            }
            Some(_) => {}
        }
    }
    ApiError::BadRequest("the request path is not valid UTF-8 once percent-decoded".into())
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_paths() {
        assert!(needs_token("/api/cells/%FF"));
        assert!(needs_token("/api/admin/reload"));
        assert!(needs_token("/ogc/collections/enterprises/items/%FF"));
        assert!(needs_token("/ogc/collections/hazard_sources"));
        assert!(!needs_token("/ogc/collections/cells/items/%FF"));
        assert!(!needs_token("/ogc/collections/%FF/items"));
        assert!(!needs_token("/api/search"));
        assert!(!decodes("/api/cells/%FF%FE"));
        assert!(decodes("/api/cells/%E9%87%91"));
    }
}
