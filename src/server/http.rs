//! HTTP caching and compression for JSON answers: the [`json_cache`]
//! middleware gives every `200` JSON response (OGC API and `/api`) an entity
//! tag derived from the `data_version` and the request, answers a matching
//! `If-None-Match` with `304`, and gzips the body when the client accepts it
//! — streamed bodies stay streamed, compressed chunk by chunk.
//!
//! The tag covers what the body depends on: the data version, the method and
//! target, the host and forwarded headers (links are absolute), the
//! `Authorization` header (private collections and scopes) and the encoding,
//! so gzip and identity bodies have different tags. Tags are weak (`W/`):
//! an items page's `timeStamp` changes between two identical answers.

use super::AppState;
use super::tiles::accepts_gzip;
use crate::ogc::links::BaseUrl;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::io::Write;

/// The absolute base URL the client used: `X-Forwarded-Proto` and
/// `X-Forwarded-Host` when present, else `http` and the `Host` header.
pub fn base_url(headers: &HeaderMap) -> BaseUrl {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    BaseUrl::from_headers(h("x-forwarded-proto"), h("x-forwarded-host"), h("host"))
}

/// Whether a content type is JSON (`application/json`, `…+json`).
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// Whether `If-None-Match` names `etag` or `*` (weak comparison: `W/` is
/// ignored on both sides).
pub fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    let opaque = etag.trim_start_matches("W/");
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == opaque || t == "*")
}

/// The entity tag of a JSON answer to `headers`/`target` under
/// `data_version`, for the identity or the gzip body.
pub fn json_etag(
    data_version: &str,
    method: &str,
    target: &str,
    headers: &HeaderMap,
    gzip: bool,
) -> String {
    let mut h = Sha256::new();
    for part in [data_version, method, target] {
        h.update(part.as_bytes());
        h.update(b"\0");
    }
    for name in [
        header::HOST.as_str(),
        "x-forwarded-host",
        "x-forwarded-proto",
        header::AUTHORIZATION.as_str(),
    ] {
        for v in headers.get_all(name) {
            h.update(v.as_bytes());
            h.update(b"\x01");
        }
        h.update(b"\0");
    }
    let enc = if gzip { "gzip" } else { "identity" };
    format!("W/\"{}-{enc}\"", hex::encode(&h.finalize()[..10]))
}

/// Adds `names` to the response's `Vary` header (once each).
pub fn add_vary(headers: &mut HeaderMap, names: &[&str]) {
    let mut all: Vec<String> = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    for n in names {
        if !all.iter().any(|a| a.eq_ignore_ascii_case(n)) {
            all.push((*n).to_string());
        }
    }
    if let Ok(v) = HeaderValue::from_str(&all.join(", ")) {
        headers.insert(header::VARY, v);
    }
}

/// A body gzipped as it streams: each chunk goes through one encoder and
/// whatever compressed output it yields is sent on; the trailer ends it.
pub fn gzip_stream(body: Body) -> Body {
    let encoder = GzEncoder::new(Vec::new(), Compression::fast());
    let chunks = futures_util::stream::unfold(
        (body.into_data_stream(), Some(encoder)),
        |(mut stream, encoder)| async move {
            let mut enc = encoder?;
            loop {
                match stream.next().await {
                    Some(Ok(chunk)) => {
                        if enc.write_all(&chunk).is_err() {
                            return None;
                        }
                        let out = std::mem::take(enc.get_mut());
                        if !out.is_empty() {
                            return Some((Ok(Bytes::from(out)), (stream, Some(enc))));
                        }
                    }
                    Some(Err(e)) => return Some((Err(e), (stream, None))),
                    None => {
                        let out = enc.finish().ok()?;
                        return Some((Ok(Bytes::from(out)), (stream, None)));
                    }
                }
            }
        },
    );
    Body::from_stream(chunks)
}

/// Middleware for JSON routes: entity tags, `304`, gzip (see the module
/// documentation).
pub async fn json_cache(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let gzip = accepts_gzip(req.headers());
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    let tag = json_etag(
        &state.current().data_version,
        req.method().as_str(),
        &target,
        req.headers(),
        gzip,
    );
    let conditional = req.headers().clone();
    let readonly = matches!(req.method().as_str(), "GET" | "HEAD");
    let resp = next.run(req).await;
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json);
    // Writes, and responses with their own validator (a hidden-danger
    // record's ETag for If-Match), pass unchanged.
    if resp.status() != StatusCode::OK
        || !json
        || !readonly
        || resp.headers().contains_key(header::CONTENT_ENCODING)
        || resp.headers().contains_key(header::ETAG)
    {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        parts.headers.insert(header::ETAG, v);
    }
    add_vary(&mut parts.headers, &["Accept-Encoding", "Authorization"]);
    if etag_matches(&conditional, &tag) {
        // The body (and a streamed page's producer) is dropped unread.
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        for name in [
            header::ETAG,
            header::VARY,
            header::CACHE_CONTROL,
            header::CONTENT_LOCATION,
        ] {
            if let Some(v) = parts.headers.get(&name) {
                not_modified.headers_mut().insert(name, v.clone());
            }
        }
        return not_modified;
    }
    if !gzip {
        return Response::from_parts(parts, body);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    Response::from_parts(parts, gzip_stream(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn tags_depend_on_version_request_caller_and_encoding() {
        let anon = headers(&[("host", "a")]);
        let t = json_etag("v1", "GET", "/ogc/collections", &anon, false);
        assert!(t.starts_with("W/\"") && t.ends_with("-identity\""), "{t}");
        assert_ne!(t, json_etag("v2", "GET", "/ogc/collections", &anon, false));
        assert_ne!(
            t,
            json_etag("v1", "GET", "/ogc/collections?f=json", &anon, false)
        );
        assert_ne!(t, json_etag("v1", "GET", "/ogc/collections", &anon, true));
        let token = headers(&[("host", "a"), ("authorization", "Bearer x")]);
        assert_ne!(t, json_etag("v1", "GET", "/ogc/collections", &token, false));
        let other_host = headers(&[("host", "b")]);
        assert_ne!(
            t,
            json_etag("v1", "GET", "/ogc/collections", &other_host, false)
        );
        let opaque = t.trim_start_matches("W/");
        assert!(etag_matches(&headers(&[("if-none-match", opaque)]), &t));
        assert!(etag_matches(
            &headers(&[("if-none-match", &format!("\"x\", {t}"))]),
            &t
        ));
        assert!(etag_matches(&headers(&[("if-none-match", "*")]), &t));
        assert!(!etag_matches(&headers(&[("if-none-match", "\"x\"")]), &t));
    }

    #[test]
    fn json_types_and_vary() {
        for t in [
            "application/json",
            "application/geo+json",
            "application/schema+json",
            "application/vnd.oai.openapi+json;version=3.0",
        ] {
            assert!(is_json(t), "{t}");
        }
        assert!(!is_json("text/csv; charset=utf-8"));
        let mut h = headers(&[("vary", "Authorization")]);
        add_vary(&mut h, &["Accept-Encoding", "authorization"]);
        assert_eq!(h.get("vary").unwrap(), "Authorization, Accept-Encoding");
    }

    #[test]
    fn a_gzipped_stream_inflates_to_the_original() {
        let chunks: Vec<Result<Bytes, std::io::Error>> = (0..50)
            .map(|i| {
                Ok(Bytes::from(format!(
                    "{{\"n\":{i},\"pad\":\"{}\"}},",
                    "x".repeat(i * 100)
                )))
            })
            .collect();
        let original: String = (0..50)
            .map(|i| format!("{{\"n\":{i},\"pad\":\"{}\"}},", "x".repeat(i * 100)))
            .collect();
        let body = Body::from_stream(futures_util::stream::iter(chunks));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let zipped = rt
            .block_on(axum::body::to_bytes(gzip_stream(body), usize::MAX))
            .unwrap();
        assert!(zipped.len() < original.len() / 5);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&zipped[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, original);
    }
}
