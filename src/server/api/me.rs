//! `GET /api/me`: who the presented token is — its name, role and scope —
//! so that a client (the web page) shows only the actions the server will
//! allow and can frame the token's grid unit.

use crate::auth::{Caller, Role, Scope};
use crate::index::envelope_of;
use crate::server::{ApiError, AppState, require_token};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The hidden-danger actions a role may take (the scope and the record's
/// status decide the rest; see `dangers.rs`).
fn actions(role: Role) -> &'static [&'static str] {
    // Not a `match`: roles that take no part in the loop answer `[]`.
    if role == Role::GridManager {
        &["report", "start", "rectify", "extend"]
    } else if matches!(role, Role::Planner | Role::Admin) {
        &["report", "start", "rectify", "extend", "close", "reject"]
    } else {
        &[]
    }
}

/// `GET /api/me`: `{name, role, actions, scope}`; `scope` is `null` for a
/// token that sees everything, else `{code, name, level, bbox}`.
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    require_token(&caller)?;
    let Caller::Token { name, role, .. } = &caller else {
        return Err(ApiError::Unauthorized("this resource needs a token".into()));
    };
    let snap = state.current();
    let store = &snap.store;
    let scope: Value = match caller.scope(store) {
        Scope::Unit(u) => {
            let unit = store.unit(u);
            let r = envelope_of(&unit.geometry);
            let (lo, hi) = (r.lower(), r.upper());
            json!({
                "code": unit.code,
                "name": unit.name,
                "level": unit.level.as_str(),
                "bbox": [lo[0], lo[1], hi[0], hi[1]],
            })
        }
        Scope::Nothing => {
            return Err(ApiError::Forbidden("this token opens no grid unit".into()));
        }
        Scope::All | Scope::Public => Value::Null,
    };
    let body = json!({
        "name": name,
        "role": role.as_str(),
        "actions": actions(*role),
        "scope": scope,
    });
    Ok(Json(body).into_response())
}
