//! The audit log: one JSON line per token request to `/api/cells*` with
//! time, token name, role, path and status.

use crate::auth::Caller;
use crate::server::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// An append-only JSON-lines file.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    lock: Mutex<()>,
}

impl AuditLog {
    /// A log appending to `path` (created on first write).
    pub fn new(path: PathBuf) -> Self {
        AuditLog {
            path,
            lock: Mutex::new(()),
        }
    }

    /// Appends one record; failures are logged, never fatal to the request.
    pub fn record(&self, name: &str, role: &str, path: &str, status: u16) {
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let line = serde_json::json!({
            "time": time,
            "token": name,
            "role": role,
            "path": path,
            "status": status,
        })
        .to_string();
        let Ok(_guard) = self.lock.lock() else {
            return;
        };
        let result = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = result {
            tracing::error!(path = %self.path.display(), "cannot write the audit log: {e}");
        }
    }
}

/// Middleware recording token requests (valid tokens only; unknown ones are
/// recorded as `unknown`).
pub async fn audit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(log) = state.audit.clone() else {
        return next.run(req).await;
    };
    let presented = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| state.tokens.authenticate(t.trim()));
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let resp = next.run(req).await;
    if let Some(who) = presented {
        let (name, role) = match who {
            Some(Caller::Token { name, role, .. }) => (name, role.as_str()),
            _ => ("unknown".to_string(), "none"),
        };
        log.record(&name, role, &path, resp.status().as_u16());
    }
    resp
}
