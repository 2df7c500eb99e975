//! The web map: `GET /`, `/web/*`, `/styles/*` and `/fonts/*`, served from
//! the files embedded in the binary ([`crate::assets`]) (so `riskmap serve` works from any working
//! directory), with content types, entity tags, gzip and cache lifetimes.

use super::ApiError;
use super::tiles::{accepts_gzip, not_modified};
use crate::tiles::cache::gzip;
use axum::Router;
use axum::extract::{Extension, Path};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

use super::AppState;
use crate::assets::{CSP, FILES, INDEX};
#[cfg(test)]
use crate::assets::{SITE_META, site_files, static_page, style};
use crate::basemap::Basemap;

/// One file ready to send.
struct Asset {
    content_type: &'static str,
    cache_control: &'static str,
    identity: Bytes,
    identity_etag: String,
    /// The gzip body and its tag, when compressing saves something.
    gzipped: Option<(Bytes, String)>,
}

/// The embedded files (and the basemap's) by path, and the page's
/// Content-Security-Policy.
struct Assets {
    files: HashMap<&'static str, Asset>,
    csp: HeaderValue,
}

/// The media type of a file, by extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "geojson" => "application/geo+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "pbf" => "application/x-protobuf",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Vendored libraries and glyphs change only with a release: cache them for
/// a day. The page, its code and its style are revalidated every time
/// (cheap: `304` on a matching `ETag`).
fn cache_control(path: &str) -> &'static str {
    if path.starts_with("web/vendor/") || path.starts_with("fonts/") {
        "public, max-age=86400"
    } else {
        "no-cache"
    }
}

/// One file as served: its tags and, when it saves something, its gzip body.
fn asset(path: &str, bytes: Bytes) -> Asset {
    let identity_etag = tag(&bytes, "identity");
    let compressible = !matches!(content_type(path), "image/png");
    let gzipped = compressible
        .then(|| gzip(&bytes).ok())
        .flatten()
        .filter(|z| z.len() + 64 < bytes.len())
        .map(|z| (Bytes::from(z), tag(&bytes, "gzip")));
    Asset {
        content_type: content_type(path),
        cache_control: cache_control(path),
        identity: bytes,
        identity_etag,
        gzipped,
    }
}

/// The basemap's description, its land and its places.
const BASEMAP_JSON: &str = "basemap.json";
const BASEMAP_LAND: &str = "basemap/land.geojson";
const BASEMAP_PLACES: &str = "basemap/places.geojson";

fn tag(bytes: &[u8], encoding: &str) -> String {
    let digest = Sha256::digest(bytes);
    format!("\"{}-{encoding}\"", hex::encode(&digest[..10]))
}

impl Assets {
    /// The embedded files alone, under the built-in policy.
    #[cfg(test)]
    fn load() -> Assets {
        Assets::with_basemap(None)
    }

    /// The embedded files and, if there is one, the basemap's; the page's
    /// policy allows the basemap's raster tile servers.
    fn with_basemap(basemap: Option<&Basemap>) -> Assets {
        let mut files: HashMap<&'static str, Asset> = FILES
            .iter()
            .map(|&(path, bytes)| (path, asset(path, Bytes::from_static(bytes))))
            .collect();
        let mut csp = CSP.to_owned();
        if let Some(b) = basemap {
            let json = b.descriptor().to_string();
            for (path, body) in [
                (BASEMAP_JSON, json),
                (BASEMAP_LAND, b.land.clone()),
                (BASEMAP_PLACES, b.places.clone()),
            ] {
                files.insert(path, asset(path, Bytes::from(body)));
            }
            csp = crate::assets::csp_allowing(&b.origins());
        }
        Assets {
            files,
            csp: HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static(CSP)),
        }
    }

    /// The response for `path` (repository path), honouring
    /// `Accept-Encoding` and `If-None-Match`; `None` if there is no such file.
    fn respond(&self, path: &str, headers: &HeaderMap) -> Option<Response> {
        let asset = self.files.get(path)?;
        let (body, etag, gzipped) = match &asset.gzipped {
            Some((z, t)) if accepts_gzip(headers) => (z.clone(), t.as_str(), true),
            _ => (asset.identity.clone(), asset.identity_etag.as_str(), false),
        };
        let mut resp = if not_modified(headers, etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut r = (StatusCode::OK, body).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            );
            if gzipped {
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            r
        };
        let h = resp.headers_mut();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(asset.cache_control),
        );
        if let Ok(v) = HeaderValue::from_str(etag) {
            h.insert(header::ETAG, v);
        }
        if asset.gzipped.is_some() {
            h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        }
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if path == INDEX {
            h.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        }
        Some(resp)
    }
}

/// Routes of the web map, with the basemap's when there is one.
pub fn routes(basemap: Option<&Basemap>) -> Router<AppState> {
    let assets = Arc::new(Assets::with_basemap(basemap));
    Router::new()
        .route("/", get(index))
        .route("/basemap.json", get(basemap_json))
        .route("/basemap/{file}", get(basemap_file))
        .route("/web/{*path}", get(web_file))
        .route("/styles/{*path}", get(style_file))
        .route("/fonts/{*path}", get(font_file))
        .layer(Extension(assets))
}

fn not_found(what: &str) -> ApiError {
    ApiError::NotFound(format!("no such file: {what}"))
}

/// Serves `prefix/rest` or 404.
fn serve(assets: &Assets, prefix: &str, rest: &str, headers: &HeaderMap) -> Response {
    let path = format!("{prefix}/{rest}");
    assets
        .respond(&path, headers)
        .unwrap_or_else(|| not_found(&path).into_response())
}

/// `GET /`: the page.
async fn index(Extension(assets): Extension<Arc<Assets>>, headers: HeaderMap) -> Response {
    serve(&assets, "web", "index.html", &headers)
}

/// `GET /basemap.json`: what the page draws beneath the risk map (404
/// when the basemap is off).
async fn basemap_json(Extension(assets): Extension<Arc<Assets>>, headers: HeaderMap) -> Response {
    assets.respond(BASEMAP_JSON, &headers).unwrap_or_else(|| {
        ApiError::NotFound("the basemap is off ([basemap] enabled = false)".into()).into_response()
    })
}

/// `GET /basemap/land.geojson` and `/basemap/places.geojson`.
async fn basemap_file(
    Extension(assets): Extension<Arc<Assets>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    serve(&assets, "basemap", &file, &headers)
}

/// `GET /web/*`.
async fn web_file(
    Extension(assets): Extension<Arc<Assets>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    serve(&assets, "web", &path, &headers)
}

/// `GET /styles/*`.
async fn style_file(
    Extension(assets): Extension<Arc<Assets>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    serve(&assets, "styles", &path, &headers)
}

/// `GET /fonts/*`: the licence, and glyph ranges as
/// `/fonts/{fontstack}/{range}.pbf`, where MapLibre names a comma-separated
/// stack and the first font of it that has the range answers.
async fn font_file(
    Extension(assets): Extension<Arc<Assets>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = assets.respond(&format!("fonts/{path}"), &headers) {
        return r;
    }
    let Some((fontstack, range)) = path.rsplit_once('/') else {
        return not_found(&format!("fonts/{path}")).into_response();
    };
    fontstack
        .split(',')
        .map(str::trim)
        .find_map(|font| assets.respond(&format!("fonts/{font}/{range}"), &headers))
        .unwrap_or_else(|| not_found(&format!("fonts/{path}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_under(dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                files_under(&p, out);
            } else if p.file_name().is_some_and(|n| n != "README.md") {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }

    /// A file added under `web/`, `styles/` or `fonts/` must be embedded,
    /// or the page would ask for something the server does not have.
    #[test]
    fn every_file_on_disk_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut on_disk = Vec::new();
        for dir in ["web", "styles", "fonts"] {
            files_under(&root.join(dir), &mut on_disk);
        }
        let embedded: Vec<String> = FILES
            .iter()
            .map(|(p, _)| root.join(p).to_string_lossy().into_owned())
            .collect();
        for f in &on_disk {
            assert!(embedded.contains(f), "{f} is not in assets::FILES");
        }
        assert_eq!(on_disk.len(), FILES.len());
    }

    #[test]
    fn the_static_page_names_its_config_and_keeps_the_policy() {
        let html = static_page("site.json").unwrap_or_default();
        assert!(html.contains(r#"<meta name="riskmap-site" content="site.json">"#));
        let csp = format!(r#"<meta http-equiv="Content-Security-Policy" content="{CSP}">"#);
        let (head, _) = html.split_once("<script").unwrap_or_default();
        assert!(head.contains(&csp), "the policy precedes every script");
        let served = std::str::from_utf8(FILES[0].1).unwrap_or_default();
        assert!(
            !served.contains(SITE_META),
            "the served page stays as it is"
        );
        let tags = format!("\n  {csp}\n  <meta name=\"riskmap-site\" content=\"site.json\">");
        assert_eq!(
            html.replacen(&tags, "", 1),
            served,
            "only the two tags are added"
        );
        assert!(
            static_page("a\"b")
                .unwrap_or_default()
                .contains(r#"content="a&quot;b""#)
        );
        let site: Vec<&str> = site_files().map(|(p, _)| p).collect();
        assert_eq!(site.len(), FILES.len());
        assert!(site.contains(&"index.html") && !site.contains(&INDEX));
        assert!(
            site.iter()
                .all(|p| !p.starts_with('/') && !p.contains(".."))
        );
        assert!(!style().is_empty());
    }

    #[test]
    fn types_and_caching() {
        assert_eq!(content_type("web/index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("web/js/main.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("fonts/A/0-255.pbf"), "application/x-protobuf");
        assert_eq!(
            cache_control("web/vendor/maplibre-gl.js"),
            "public, max-age=86400"
        );
        assert_eq!(cache_control("web/js/main.js"), "no-cache");
    }

    #[test]
    fn conditional_and_gzip() {
        let assets = Assets::load();
        let plain = HeaderMap::new();
        let r = assets.respond("web/index.html", &plain);
        let etag = r
            .as_ref()
            .and_then(|r| r.headers().get(header::ETAG))
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_default();
        assert!(etag.ends_with("-identity\""), "{etag}");
        let mut again = HeaderMap::new();
        again.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("")),
        );
        let r = assets.respond("web/index.html", &again);
        assert_eq!(r.map(|r| r.status()), Some(StatusCode::NOT_MODIFIED));
        let mut gz = HeaderMap::new();
        gz.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let r = assets.respond("web/vendor/maplibre-gl.js", &gz);
        let enc = r
            .as_ref()
            .and_then(|r| r.headers().get(header::CONTENT_ENCODING))
            .cloned();
        assert_eq!(enc, Some(HeaderValue::from_static("gzip")));
        assert!(assets.respond("web/nope.js", &plain).is_none());
    }
}
