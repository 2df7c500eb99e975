//! The audit log: one JSON line per token request to `/api/cells*` with
//! time, token name, role, path and status.

use crate::auth::{Authentication, Caller, Refusal};
use crate::server::AppState;
use crate::server::caller::authentication;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// An append-only JSON-lines file, bounded: past `max_bytes` it is rotated
/// to `NAME.1` (one generation kept), so a client sending made-up tokens
/// cannot fill the disk.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    max_bytes: u64,
    lock: Mutex<()>,
}

impl AuditLog {
    /// A log appending to `path` (created on first write), rotated past
    /// `max_bytes`.
    pub fn new(path: PathBuf, max_bytes: u64) -> Self {
        AuditLog {
            path,
            max_bytes,
            lock: Mutex::new(()),
        }
    }

    /// `NAME.1`, where a full log goes.
    fn rotated(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".1");
        PathBuf::from(name)
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
        let full = std::fs::metadata(&self.path)
            .is_ok_and(|m| m.len() + line.len() as u64 + 1 > self.max_bytes);
        if full && let Err(e) = std::fs::rename(&self.path, self.rotated()) {
            tracing::error!(path = %self.path.display(), "cannot rotate the audit log: {e}");
        }
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

/// Whether requests to `path` are audited: the token routes `/api/cells*`.
fn audited(path: &str) -> bool {
    path == "/api/cells"
        || path.starts_with("/api/cells/")
        || path == "/api/hidden-dangers"
        || path.starts_with("/api/hidden-dangers/")
}

/// Middleware recording every request to `/api/cells*` that presents a
/// credential, with the response's status: a valid token under its name and
/// role, a refused one as `unknown` (a well-formed but unknown token) or
/// `malformed`, role `none`. It runs outside the 401 for refused tokens, so
/// failed attempts are recorded too; requests without a credential are not
/// token requests and are not recorded.
pub async fn record_token_requests(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let Some(log) = state.audit.clone() else {
        return next.run(req).await;
    };
    if !audited(req.uri().path()) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let who = authentication(&parts, &state);
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let resp = next.run(Request::from_parts(parts, body)).await;
    let status = resp.status().as_u16();
    match who {
        Authentication::Absent | Authentication::Valid(Caller::Anonymous) => {}
        Authentication::Valid(Caller::Token { name, role, .. }) => {
            log.record(&name, role.as_str(), &path, status);
        }
        Authentication::Refused(Refusal::UnknownToken) => {
            log.record("unknown", "none", &path, status);
        }
        Authentication::Refused(Refusal::Malformed(_)) => {
            log.record("malformed", "none", &path, status);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::AuditLog;

    #[test]
    fn the_log_is_rotated_past_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::new(path.clone(), 1000);
        for i in 0..100 {
            log.record("unknown", "none", &format!("/api/cells/{i}"), 401);
        }
        let now = std::fs::metadata(&path).unwrap().len();
        let old = std::fs::metadata(dir.path().join("audit.jsonl.1"))
            .unwrap()
            .len();
        assert!(now <= 1000 && old <= 1000, "{now} {old}");
        assert!(old > 900, "the rotated file was full: {old}");
        // Every line whole, the newest last.
        let text = std::fs::read_to_string(&path).unwrap();
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["path"], "/api/cells/99");
        for l in text.lines() {
            serde_json::from_str::<serde_json::Value>(l).unwrap();
        }
    }
}
