//! CORS: any origin may call the server (tokens travel in the
//! `Authorization` header, never in cookies), send the headers the page and
//! GIS clients use, and read `ETag` and `Location`. [`layer`] answers
//! preflights and decorates every other answer; [`decorate`] is what it adds
//! to an answer that is not a preflight, for answers made outside the router
//! ([`super::fast_tiles`]).

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use tower_http::cors::{Any, CorsLayer};

/// Request headers a cross-origin caller may send.
const ALLOWED: [HeaderName; 4] = [
    header::AUTHORIZATION,
    header::IF_NONE_MATCH,
    header::IF_MATCH,
    header::CONTENT_TYPE,
];

/// Response headers a cross-origin caller may read.
const EXPOSED: [HeaderName; 2] = [header::ETAG, header::LOCATION];

/// `Access-Control-Expose-Headers`: [`EXPOSED`] as the layer writes it.
const EXPOSED_VALUE: &str = "etag,location";

/// The `Vary` the layer adds to every answer (its default: the request
/// headers a preflight reads).
const VARY_VALUE: &str = "origin, access-control-request-method, access-control-request-headers";

/// The CORS layer of the router.
pub fn layer() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_headers(ALLOWED)
        .expose_headers(EXPOSED)
}

/// Adds to `headers` what [`layer`] adds to the answer of a request that
/// is not a preflight (`OPTIONS`): its `Vary` after any there, any origin,
/// the exposed headers.
pub fn decorate(headers: &mut HeaderMap) {
    headers.append(header::VARY, HeaderValue::from_static(VARY_VALUE));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED_VALUE),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, Response, StatusCode};
    use tower::{Layer, ServiceExt};

    /// The headers `layer` gives the answer (200, with a `Vary` of its own)
    /// to `req`.
    async fn through_layer(req: Request<Body>) -> HeaderMap {
        let inner = tower::service_fn(|_req: Request<Body>| async {
            let mut resp = Response::new(Body::empty());
            resp.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Authorization"));
            *resp.status_mut() = StatusCode::OK;
            Ok::<_, std::convert::Infallible>(resp)
        });
        match layer().layer(inner).oneshot(req).await {
            Ok(resp) => resp.headers().clone(),
            Err(never) => match never {},
        }
    }

    fn decorated() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::VARY, HeaderValue::from_static("Authorization"));
        decorate(&mut h);
        h
    }

    /// Every header with all its values in order, by name.
    fn all(h: &HeaderMap) -> Vec<(String, Vec<String>)> {
        let mut names: Vec<String> = h.keys().map(|k| k.as_str().to_string()).collect();
        names.sort();
        names
            .into_iter()
            .map(|n| {
                let values = h
                    .get_all(n.as_str())
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .collect();
                (n, values)
            })
            .collect()
    }

    #[tokio::test]
    async fn decorate_adds_what_the_layer_adds() {
        for (method, origin) in [
            ("GET", None),
            ("GET", Some("http://example.org")),
            ("HEAD", Some("null")),
            ("POST", Some("https://a.example")),
        ] {
            let mut req = Request::builder().method(method).uri("/tiles/1/0/0.mvt");
            if let Some(o) = origin {
                req = req.header(header::ORIGIN, o);
            }
            let req = req.body(Body::empty()).unwrap_or_default();
            assert_eq!(
                all(&through_layer(req).await),
                all(&decorated()),
                "{method} {origin:?}"
            );
        }
    }
}
