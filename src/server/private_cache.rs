//! Middleware: responses that depend on the caller's token. On the routes
//! whose body changes with the token (`/api/cells*`, `/api/search`, the OGC
//! API) every response says `Vary: Authorization`, so no cache hands one
//! caller's answer to another; an answer to a token holder is also
//! `Cache-Control: private, no-store` (no cache stores it).

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Whether what `path` answers can differ from one token to another.
pub fn token_dependent(path: &str) -> bool {
    path.starts_with("/api/cells") || path == "/api/search" || path.starts_with("/ogc")
}

/// Adds `Authorization` to `Vary` unless it is there.
fn vary_on_authorization(headers: &mut HeaderMap) {
    let mut present: Vec<String> = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if present
        .iter()
        .any(|v| v == "*" || v.eq_ignore_ascii_case("authorization"))
    {
        return;
    }
    present.push("Authorization".into());
    if let Ok(v) = HeaderValue::from_str(&present.join(", ")) {
        headers.insert(header::VARY, v);
    }
}

/// Makes `Cache-Control` `private, no-store` unless it already says
/// `no-store`. Not stored at all, rather than stored privately: Qt's HTTP
/// cache (QGIS, other Qt clients) keys on the URL alone and ignores `Vary`,
/// so a stored answer to one token would be handed to the next caller of
/// the same URL, token or not.
fn make_private(headers: &mut HeaderMap) {
    let no_store = headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|cc| cc.to_ascii_lowercase().contains("no-store"));
    if !no_store {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
}

/// The middleware. Unknown tokens never get here (401 before).
pub async fn private_cache(req: Request, next: Next) -> Response {
    let dependent = token_dependent(req.uri().path());
    let with_token = req.headers().contains_key(header::AUTHORIZATION);
    let mut resp = next.run(req).await;
    if dependent {
        vary_on_authorization(resp.headers_mut());
        if with_token {
            make_private(resp.headers_mut());
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn vary_and_cache_control() {
        let mut h = headers(&[(header::VARY, "Accept-Encoding")]);
        vary_on_authorization(&mut h);
        assert_eq!(h[header::VARY], "Accept-Encoding, Authorization");
        vary_on_authorization(&mut h);
        assert_eq!(h[header::VARY], "Accept-Encoding, Authorization");
        let mut h = HeaderMap::new();
        make_private(&mut h);
        assert_eq!(h[header::CACHE_CONTROL], "private, no-store");
        let mut h = headers(&[(header::CACHE_CONTROL, "public, max-age=60")]);
        make_private(&mut h);
        assert_eq!(h[header::CACHE_CONTROL], "private, no-store");
        let mut h = headers(&[(header::CACHE_CONTROL, "no-store")]);
        make_private(&mut h);
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        assert!(token_dependent("/api/cells/350502001001"));
        assert!(token_dependent("/api/search"));
        assert!(!token_dependent("/api/ranking"));
    }
}
